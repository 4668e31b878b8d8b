//! A chain of recognisers (`[speech] stt` then `stt_fallback`) behind one recognition
//! stream per call.
//!
//! A relay task forwards the call's audio to the current recogniser and keeps the
//! audio of the utterance in progress (since the last final). When the recogniser
//! fails — it cannot open, its stream closes, it reports the turn failed, or no final
//! comes within `final_timeout` of the end of the turn (`Flush`) — the next one is opened,
//! given the kept audio and the `Flush`, and its final is passed on: the caller's words
//! are recognised once, by whichever recogniser can, never lost. A late final from the
//! abandoned recogniser is never passed on (its stream is dropped). Each recogniser
//! has a circuit breaker ([`crate::breaker`]): while open, new calls start on the next.
//! Switches are logged and counted (`switchboard_speech_fallbacks_total`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::breaker::{Breaker, BreakerConfig};
use crate::speech::{SpeechError, SpeechToText, SttEvent, SttInput, SttStream, STT_RATE};

/// Audio kept for a replay to the next recogniser: at most this many seconds.
const KEPT_SECONDS: usize = 40;

/// The primary recogniser and its fallbacks, tried in order.
pub struct FallbackStt {
    links: Arc<Vec<(Arc<dyn SpeechToText>, Arc<Breaker>)>>,
    final_timeout: Duration,
    name: String,
}

impl FallbackStt {
    /// `stt[0]` is the primary. `final_timeout`: from the end of a turn to its final.
    pub fn new(
        stt: Vec<Arc<dyn SpeechToText>>,
        final_timeout: Duration,
        breaker: BreakerConfig,
    ) -> Self {
        let name = stt
            .iter()
            .map(|s| s.name().to_string())
            .collect::<Vec<_>>()
            .join(" > ");
        Self {
            links: Arc::new(
                stt.into_iter()
                    .map(|s| (s, Arc::new(Breaker::new(breaker))))
                    .collect(),
            ),
            final_timeout,
            name,
        }
    }
}

/// Open the first recogniser from `from` on whose breaker allows it (the last always
/// is tried); its index and stream.
async fn open_from(
    links: &[(Arc<dyn SpeechToText>, Arc<Breaker>)],
    from: usize,
    switched: &(dyn Fn(usize, &str) + Send + Sync),
) -> Result<(usize, SttStream), SpeechError> {
    let mut last = SpeechError::Provider("no recogniser".into());
    for (i, (stt, breaker)) in links.iter().enumerate().skip(from) {
        let is_last = i + 1 == links.len();
        if !is_last && !breaker.allow(Instant::now()) {
            switched(i, "breaker_open");
            continue;
        }
        match stt.open().await {
            Ok(stream) => return Ok((i, stream)),
            Err(e) => {
                breaker.failure(Instant::now());
                if !is_last {
                    switched(i, "open");
                }
                last = e;
            }
        }
    }
    Err(last)
}

#[async_trait::async_trait]
impl SpeechToText for FallbackStt {
    fn name(&self) -> &str {
        &self.name
    }

    async fn open(&self) -> Result<SttStream, SpeechError> {
        let links = self.links.clone();
        let switched = move |i: usize, reason: &str| {
            let (from, to) = (links_name(&links, i), links_name(&links, i + 1));
            tracing::warn!(%from, %to, reason, "speech recognition falls back");
            crate::metrics::speech_fallbacks()
                .with_label_values(&["stt", &from, &to, reason])
                .inc();
        };
        let (index, current) = open_from(&self.links, 0, &switched).await?;
        let (input, mut rx) = mpsc::channel::<SttInput>(crate::speech::STT_INPUT_CAPACITY);
        let (tx, events) = mpsc::channel::<SttEvent>(64);
        let links = self.links.clone();
        let final_timeout = self.final_timeout;
        tokio::spawn(async move {
            let mut index = index;
            let mut current = current;
            let mut kept: Vec<f32> = Vec::new();
            // The last recogniser missed a turn's deadline and the turn got an empty
            // final: its late final for that turn is not a second answer.
            let mut late_final_owed = false;
            // When the final of a flushed turn is due.
            let mut due: Option<Instant> = None;
            loop {
                let deadline = due.unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
                let failure: &str = tokio::select! {
                    msg = rx.recv() => {
                        let Some(msg) = msg else { return };
                        match &msg {
                            SttInput::Audio(pcm) => {
                                kept.extend_from_slice(pcm);
                                let cap = KEPT_SECONDS * STT_RATE as usize;
                                if kept.len() > cap {
                                    kept.drain(..kept.len() - cap);
                                }
                            }
                            SttInput::Flush => due = Some(Instant::now() + final_timeout),
                            SttInput::Continue | SttInput::Pause | SttInput::Resume => {}
                        }
                        if current.input.try_send(msg).is_ok() {
                            continue;
                        }
                        "input"
                    }
                    ev = current.events.recv() => match ev {
                        Some(SttEvent::Failed { .. }) => "error",
                        Some(ev) => {
                            if matches!(ev, SttEvent::Final { .. }) && std::mem::take(&mut late_final_owed) {
                                continue;
                            }
                            if matches!(ev, SttEvent::Final { .. }) {
                                kept.clear();
                                due = None;
                                links[index].1.success();
                            }
                            if tx.send(ev).await.is_err() {
                                return;
                            }
                            continue;
                        }
                        None => "closed",
                    },
                    _ = tokio::time::sleep_until(deadline), if due.is_some() => "timeout",
                };
                // The current recogniser failed: the next one takes the utterance.
                links[index].1.failure(Instant::now());
                if index + 1 >= links.len() {
                    tracing::warn!(
                        reason = failure,
                        "speech recognition failed and has no fallback left"
                    );
                    if due.take().is_some() {
                        // The turn still gets its (empty) final: the call never waits on it.
                        let _ = tx
                            .send(SttEvent::Final {
                                text: String::new(),
                                start_ms: 0,
                                end_ms: 0,
                                confidence: 0.0,
                                continued: false,
                            })
                            .await;
                        kept.clear();
                        late_final_owed = failure == "timeout";
                    }
                    if failure == "closed" {
                        return;
                    }
                    continue;
                }
                switched(index, failure);
                match open_from(&links, index + 1, &switched).await {
                    Ok((i, stream)) => {
                        index = i;
                        current = stream;
                        if !kept.is_empty() {
                            let _ = current.input.try_send(SttInput::Audio(kept.clone()));
                        }
                        if due.is_some() {
                            let _ = current.input.try_send(SttInput::Flush);
                            due = Some(Instant::now() + final_timeout);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "no fallback recogniser could open");
                        return;
                    }
                }
            }
        });
        Ok(SttStream { input, events })
    }
}

fn links_name(links: &[(Arc<dyn SpeechToText>, Arc<Breaker>)], i: usize) -> String {
    links
        .get(i)
        .map(|(s, _)| s.name().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speech::fakes::{DeafStt, ScriptedStt};

    fn chain(primary: DeafStt, backup: &ScriptedStt) -> FallbackStt {
        FallbackStt::new(
            vec![Arc::new(primary), Arc::new(backup.clone())],
            Duration::from_millis(1500),
            BreakerConfig::default(),
        )
    }

    async fn final_text(s: &mut SttStream) -> String {
        loop {
            match s.events.recv().await.expect("an event") {
                SttEvent::Final { text, .. } => return text,
                _ => continue,
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_recogniser_that_never_answers_hands_the_kept_audio_to_the_next() {
        let backup = ScriptedStt::new(["I was charged twice"]);
        let stt = chain(DeafStt { opens: true }, &backup);
        let mut s = stt.open().await.unwrap();
        s.input
            .send(SttInput::Audio(vec![0.1; 16_000]))
            .await
            .unwrap();
        s.input.send(SttInput::Flush).await.unwrap();
        let t0 = Instant::now();
        assert_eq!(final_text(&mut s).await, "I was charged twice");
        assert_eq!(t0.elapsed(), Duration::from_millis(1500));
        assert_eq!(
            backup.audio_samples(),
            16_000,
            "the caller's words reached the fallback"
        );
        backup.assert_consumed();
    }

    #[tokio::test]
    async fn a_recogniser_that_cannot_open_is_skipped() {
        let backup = ScriptedStt::new(["hello"]);
        let stt = chain(DeafStt { opens: false }, &backup);
        let mut s = stt.open().await.unwrap();
        s.input
            .send(SttInput::Audio(vec![0.1; 1600]))
            .await
            .unwrap();
        s.input.send(SttInput::Flush).await.unwrap();
        assert_eq!(final_text(&mut s).await, "hello");
        assert_eq!(stt.name(), "deaf > scripted");
    }

    #[tokio::test(start_paused = true)]
    async fn with_no_recogniser_left_the_turn_still_gets_an_empty_final() {
        let stt = FallbackStt::new(
            vec![Arc::new(DeafStt { opens: true })],
            Duration::from_millis(1500),
            BreakerConfig::default(),
        );
        let mut s = stt.open().await.unwrap();
        s.input
            .send(SttInput::Audio(vec![0.1; 1600]))
            .await
            .unwrap();
        s.input.send(SttInput::Flush).await.unwrap();
        assert_eq!(final_text(&mut s).await, "");
    }
}
