//! One phone call's tokio task: reads Media Streams frames from the socket, paces the
//! bot's audio back out, and keeps the call record.
//!
//! The task `select!`s over inbound frames, the playout clock and shutdown. All
//! protocol logic lives in sans-IO pieces ([`crate::telephony::Decoder`],
//! [`super::playout::Playout`]); this file only moves bytes and time between them.
//! Errors on one call are counted and logged; they never touch another call.

use std::path::PathBuf;
use std::sync::Arc;

use futures::{Sink, SinkExt, Stream, StreamExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, info_span, warn, Instrument};

use super::playout::{Chunk, Playout, Send};
use super::recorder::Recorder;
use super::transport::WsFrame;
use crate::audio::mulaw;
use crate::metrics::Metrics;
use crate::store::calls::{CallUpdate, NewCall, Outcome};
use crate::store::Store;
use crate::telephony::{self, Decoder, Inbound, Limits, Outbound, StartMeta};

/// What every call needs from the process; cheap to clone.
#[derive(Clone)]
pub struct CallDeps {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub settings: Arc<CallSettings>,
}

/// Per-call settings derived from configuration at start-up.
#[derive(Debug, Clone)]
pub struct CallSettings {
    pub limits: Limits,
    pub frames_per_mark: usize,
    pub playout_lead_frames: usize,
    pub max_errors: u64,
    /// Directory for caller recordings (`None` = don't record).
    pub recordings_dir: Option<PathBuf>,
    /// μ-law greeting played when the call starts, with its text.
    pub greeting: Option<(Vec<u8>, String)>,
}

/// How the session loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The carrier sent `stop`.
    Stopped,
    /// The socket closed or failed without `stop`.
    Lost,
    /// The server is shutting down.
    Shutdown,
    /// Too many errors, or a fatal one: we closed the call.
    Closed,
}

/// Run one call over a websocket until it ends.
pub async fn run<S, K>(inbound: S, outbound: K, deps: CallDeps, shutdown: CancellationToken)
where
    S: Stream<Item = WsFrame> + Unpin,
    K: Sink<WsFrame> + Unpin,
{
    let span = info_span!(
        "call",
        call_sid = tracing::field::Empty,
        stream_sid = tracing::field::Empty
    );
    let mut session = Session::new(deps, outbound, span.clone());
    session.run(inbound, shutdown).instrument(span).await;
}

struct Session<K> {
    deps: CallDeps,
    out: K,
    span: tracing::Span,
    decoder: Decoder,
    playout: Playout,
    start: Option<StartMeta>,
    recorder: Option<Recorder>,
    frames_in: u64,
    frames_out: u64,
    errors: u64,
    utterance: u64,
    marks_sent: u64,
    marks_heard: u64,
    /// Everything the caller has heard the bot say (confirmed by mark echoes).
    heard_text: String,
    socket_ok: bool,
}

impl<K: Sink<WsFrame> + Unpin> Session<K> {
    fn new(deps: CallDeps, out: K, span: tracing::Span) -> Self {
        let decoder = Decoder::new(deps.settings.limits.clone());
        let playout = Playout::new(deps.settings.playout_lead_frames);
        Self {
            deps,
            out,
            span,
            decoder,
            playout,
            start: None,
            recorder: None,
            frames_in: 0,
            frames_out: 0,
            errors: 0,
            utterance: 0,
            marks_sent: 0,
            marks_heard: 0,
            heard_text: String::new(),
            socket_ok: true,
        }
    }

    async fn run<S: Stream<Item = WsFrame> + Unpin>(
        &mut self,
        mut inbound: S,
        shutdown: CancellationToken,
    ) {
        let end = loop {
            let now = Instant::now();
            let deadline = self
                .playout
                .next_deadline(now.into_std())
                .map(Instant::from_std);
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break End::Shutdown,
                frame = inbound.next() => match frame {
                    None | Some(WsFrame::Close) => break End::Lost,
                    Some(frame) => {
                        if let Some(end) = self.on_frame(frame).await {
                            break end;
                        }
                    }
                },
                _ = sleep_until_opt(deadline), if deadline.is_some() => {
                    self.pump_playout().await;
                }
            }
            if !self.socket_ok {
                break End::Lost;
            }
        };
        self.finish(end).await;
    }

    async fn on_frame(&mut self, frame: WsFrame) -> Option<End> {
        let decoded = match frame {
            WsFrame::Text(text) => self.decoder.decode_text(&text),
            WsFrame::Binary(bytes) => self.decoder.decode_binary(&bytes),
            WsFrame::Ping(p) => {
                self.send(WsFrame::Pong(p)).await;
                return None;
            }
            WsFrame::Pong(_) | WsFrame::Close => return None,
        };
        match decoded {
            Ok(event) => self.on_event(event).await,
            Err(e) => {
                self.errors += 1;
                self.deps
                    .metrics
                    .protocol_errors
                    .with_label_values(&[e.kind()])
                    .inc();
                warn!(error = %e, kind = e.kind(), "dropped inbound message");
                if e.is_fatal() || self.errors >= self.deps.settings.max_errors {
                    warn!(errors = self.errors, "closing call after protocol errors");
                    return Some(End::Closed);
                }
                None
            }
        }
    }

    async fn on_event(&mut self, event: Inbound) -> Option<End> {
        match event {
            Inbound::Connected { .. } => debug!("carrier connected"),
            Inbound::Start(start) => self.on_start(start).await,
            Inbound::Media(media) => {
                self.frames_in += 1;
                self.deps.metrics.frames_in.inc();
                if let Some(rec) = self.recorder.as_mut() {
                    let pcm = mulaw::decode_slice(&media.payload);
                    if let Err(e) = rec.write(&pcm) {
                        warn!(error = %e, "recording failed; recording stops");
                        self.recorder = None;
                    }
                }
            }
            Inbound::Mark(mark) => {
                if let Some(heard) = self.playout.on_mark(&mark.name) {
                    debug!(utterance = heard.utterance, text = %heard.text, drained = heard.drained, "heard");
                    self.marks_heard += 1;
                    if !heard.text.is_empty() {
                        if !self.heard_text.is_empty() {
                            self.heard_text.push(' ');
                        }
                        self.heard_text.push_str(&heard.text);
                    }
                }
            }
            Inbound::Dtmf(d) => info!(digit = %d.digit, "dtmf"),
            Inbound::Stop(_) => return Some(End::Stopped),
            Inbound::Unknown { event } => {
                self.deps.metrics.unknown_events.inc();
                debug!(%event, "ignored unknown event");
            }
        }
        None
    }

    async fn on_start(&mut self, start: StartMeta) {
        self.span.record("call_sid", start.call_sid.as_str());
        self.span.record("stream_sid", start.stream_sid.as_str());
        let param = |k: &str| start.custom_parameters.get(k).cloned().unwrap_or_default();
        let new = NewCall {
            call_sid: start.call_sid.clone(),
            stream_sid: start.stream_sid.clone(),
            account_sid: start.account_sid.clone(),
            from: param("From"),
            to: param("To"),
        };
        self.deps.metrics.calls_started.inc();
        self.deps.metrics.calls_active.inc();
        if let Err(e) = self.deps.store.call_started(new).await {
            warn!(error = %e, "could not create call record");
        }
        if let Some(dir) = &self.deps.settings.recordings_dir {
            match Recorder::create(dir, &start.call_sid) {
                Ok(r) => self.recorder = Some(r),
                Err(e) => warn!(error = %e, "cannot record this call"),
            }
        }
        info!(from = %param("From"), to = %param("To"), "call started");
        self.start = Some(start);
        if let Some((audio, text)) = self.deps.settings.greeting.clone() {
            self.speak(&audio, &text);
        }
        self.pump_playout().await;
    }

    /// Queue μ-law audio as chunks of `frames_per_mark` frames, spreading the text
    /// over the chunks in proportion to their audio so marks map to heard words.
    fn speak(&mut self, audio: &[u8], text: &str) {
        self.utterance += 1;
        let chunk_bytes =
            self.deps.settings.frames_per_mark.max(1) * crate::audio::frames::FRAME_BYTES;
        let pieces = split_text(text, audio.len().div_ceil(chunk_bytes).max(1));
        for (bytes, words) in audio.chunks(chunk_bytes).zip(pieces) {
            self.playout.push(Chunk {
                utterance: self.utterance,
                text: words,
                audio: bytes.to_vec(),
            });
        }
    }

    async fn pump_playout(&mut self) {
        let Some(stream_sid) = self.start.as_ref().map(|s| s.stream_sid.clone()) else {
            return;
        };
        for item in self.playout.poll(Instant::now().into_std()) {
            let msg = match item {
                Send::Media(payload) => {
                    self.frames_out += 1;
                    self.deps.metrics.frames_out.inc();
                    Outbound::Media {
                        stream_sid: stream_sid.clone(),
                        payload,
                    }
                }
                Send::Mark(name) => {
                    self.marks_sent += 1;
                    Outbound::Mark {
                        stream_sid: stream_sid.clone(),
                        name,
                    }
                }
            };
            self.send(WsFrame::Text(telephony::encode(&msg))).await;
        }
    }

    async fn send(&mut self, frame: WsFrame) {
        if self.socket_ok && self.out.send(frame).await.is_err() {
            self.socket_ok = false;
        }
    }

    async fn finish(&mut self, end: End) {
        let recording = self.recorder.take().and_then(|r| match r.finish() {
            Ok(path) => Some(path.display().to_string()),
            Err(e) => {
                warn!(error = %e, "recording could not be finalised");
                None
            }
        });
        if end != End::Lost {
            let _ = self.out.send(WsFrame::Close).await;
        }
        let Some(start) = self.start.take() else {
            info!(?end, "socket ended before start");
            return;
        };
        self.deps.metrics.calls_active.dec();
        let outcome = match end {
            End::Stopped => Outcome::Completed,
            End::Lost | End::Shutdown | End::Closed => Outcome::Hangup,
        };
        let stats = serde_json::to_value(self.decoder.stats()).unwrap_or_default();
        let update = CallUpdate {
            frames_in: self.frames_in,
            frames_out: self.frames_out,
            errors: self.errors,
            trace: serde_json::json!({
                "protocol": stats,
                "playout": {
                    "marksSent": self.marks_sent,
                    "marksHeard": self.marks_heard,
                    "heardText": self.heard_text,
                },
            }),
            recording,
            outcome: Some(outcome),
            ..Default::default()
        };
        if let Err(e) = self.deps.store.call_updated(&start.call_sid, update).await {
            warn!(error = %e, "could not finish call record");
        }
        info!(
            ?end,
            frames_in = self.frames_in,
            frames_out = self.frames_out,
            errors = self.errors,
            "call ended"
        );
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Split `text` into `n` pieces of whole words, as evenly as the words allow.
fn split_text(text: &str, n: usize) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    (0..n)
        .map(|i| {
            let (a, b) = (i * words.len() / n, (i + 1) * words.len() / n);
            words[a..b].join(" ")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split_text;

    #[test]
    fn split_text_covers_every_word_once() {
        let parts = split_text("one two three four five", 2);
        assert_eq!(parts, vec!["one two", "three four five"]);
        assert_eq!(split_text("a b", 4).join(" ").split_whitespace().count(), 2);
        assert_eq!(split_text("", 3), vec!["", "", ""]);
    }
}
