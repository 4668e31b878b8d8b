//! The recognition stream: opened beside the loop (what the machine sends meanwhile
//! waits in a bounded backlog), its events fed to the machine, its input never awaited
//! (a full queue drops and counts).

use std::time::Duration;

use super::*;

impl<K: Sink<WsFrame> + Unpin> Session<K> {
    /// The recognition stream is open (or could not be): pass on what waited for it.
    pub(super) fn on_stt_opened(&mut self, opened: Result<SttStream, SpeechError>) {
        match opened {
            Ok(stream) => {
                self.stt = Some(stream);
                for input in std::mem::take(&mut self.stt_backlog) {
                    self.stt_send(input);
                }
            }
            Err(e) => {
                warn!(error = %e, "speech recognition unavailable for this call");
                self.report.stt_dropped += self.stt_backlog.len() as u64;
                self.stt_backlog.clear();
            }
        }
    }

    pub(super) fn on_stt(&mut self, event: Option<SttEvent>) {
        match event {
            Some(SttEvent::Partial { text, .. }) => self.feed(Input::SttPartial { text }),
            Some(SttEvent::Tentative { text, .. }) => self.feed(Input::SttTentative { text }),
            Some(SttEvent::Final {
                text,
                confidence,
                continued,
                ..
            }) => self.feed(Input::SttFinal {
                text,
                confidence,
                continued,
            }),
            Some(SttEvent::Failed { reason }) => {
                // No recogniser left for this turn: an empty final, so the call goes on
                // (the agents ask the caller to repeat) instead of waiting.
                warn!(%reason, "the turn could not be transcribed");
                self.feed(Input::SttFinal {
                    text: String::new(),
                    confidence: 0.0,
                    continued: false,
                });
            }
            Some(SttEvent::Decoded {
                queue_ms,
                decode_ms,
                speculative,
            }) => self.feed(Input::SttDecoded {
                queue: Duration::from_millis(queue_ms),
                decode: Duration::from_millis(decode_ms),
                speculative,
            }),
            Some(SttEvent::SpeechStarted { .. } | SttEvent::SpeechEnded { .. }) => {}
            None => {
                warn!("speech recognition stream ended");
                self.stt = None;
            }
        }
    }

    pub(super) fn stt_send(&mut self, input: SttInput) {
        let Some(stt) = self.stt.as_ref() else {
            if self.stt_opening.is_some() && self.stt_backlog.len() < STT_INPUT_CAPACITY {
                self.stt_backlog.push(input);
            } else if self.stt_opening.is_some() {
                self.report.stt_dropped += 1;
            }
            return;
        };
        if let Err(e) = stt.input.try_send(input) {
            self.report.stt_dropped += 1;
            debug!(error = %e, "STT input dropped");
        }
    }
}
