//! Streaming recognition for batch recognisers by re-decoding the growing utterance.
//!
//! A [`Transcriber`] turns one utterance into text (Whisper is one). [`open`] wraps
//! it in an [`SttStream`]: audio since the last `Flush` accumulates; `SpeechStarted`
//! is emitted on the first audio; every `partial_interval_ms` of new audio the whole
//! buffer is decoded again and a `Partial` emitted; on `Flush` the buffer is decoded
//! once more into a `Final`, followed by `SpeechEnded`. After a `Continue`, the last
//! flushed utterance's audio starts the buffer again, so the next final covers both
//! (`continued: true`).
//!
//! Rules: at most one decode per stream is in flight; decodes run on the blocking
//! pool; a deployment-wide [`Semaphore`] (`RollingConfig::decode_slots`) bounds
//! concurrent decodes across calls — finals wait for a slot, partials are skipped
//! when none is free (the machine is busy). Audio keeps being accepted meanwhile.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;

use crate::speech::stt::continuation::Continuation;
use crate::speech::{SpeechError, SttEvent, SttInput, SttStream};

const SAMPLE_RATE: u64 = crate::speech::STT_RATE as u64;

/// Text of one decoded utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    /// Recognised text (empty when nothing was said).
    pub text: String,
    /// Confidence in `[0, 1]`.
    pub confidence: f32,
}

/// A batch recogniser: whole utterance in, text out (blocking).
pub trait Transcriber: Send + Sync + 'static {
    /// Per-stream scratch state (decoder buffers).
    type Session: Send + 'static;
    /// Make a session for one stream.
    fn session(&self) -> Result<Self::Session, SpeechError>;
    /// Decode 16 kHz mono PCM.
    fn transcribe(&self, s: &mut Self::Session, pcm: &[f32]) -> Result<Transcript, SpeechError>;
}

/// Partial-result cadence and concurrency limits.
#[derive(Debug, Clone)]
pub struct RollingConfig {
    /// Re-decode after this much new audio; 0 disables partials.
    pub partial_interval_ms: u64,
    /// No partial before the utterance is at least this long.
    pub min_partial_ms: u64,
    /// Deployment-wide decode slots shared by every stream (clones share them).
    pub decode_slots: Arc<Semaphore>,
    /// Capacity of the input channel (see [`crate::speech::STT_INPUT_CAPACITY`]).
    pub channel_capacity: usize,
}

impl Default for RollingConfig {
    fn default() -> Self {
        Self {
            partial_interval_ms: 600,
            min_partial_ms: 600,
            decode_slots: Arc::new(Semaphore::new(1)),
            channel_capacity: crate::speech::STT_INPUT_CAPACITY,
        }
    }
}

fn ms(samples: u64) -> u64 {
    samples * 1000 / SAMPLE_RATE
}

fn samples(ms: u64) -> usize {
    (ms * SAMPLE_RATE / 1000) as usize
}

/// Open a stream over `t`; the session is created on the blocking pool.
pub async fn open<T: Transcriber>(t: Arc<T>, cfg: RollingConfig) -> Result<SttStream, SpeechError> {
    let tt = t.clone();
    let session = tokio::task::spawn_blocking(move || tt.session())
        .await
        .map_err(|e| SpeechError::Model(format!("session task failed: {e}")))??;
    let (input, in_rx) = mpsc::channel(cfg.channel_capacity.max(1));
    let (ev_tx, events) = mpsc::channel(256);
    let driver = Driver {
        t,
        cfg,
        session: Some(session),
        ev: ev_tx,
        buf: Vec::new(),
        buf_start: 0,
        total: 0,
        started: false,
        decoded_len: 0,
        generation: 0,
        last_partial: String::new(),
        finals: VecDeque::new(),
        continuation: Continuation::default(),
    };
    tokio::spawn(driver.run(in_rx));
    Ok(SttStream { input, events })
}

enum JobKind {
    Partial { generation: u64, end: u64 },
    Final(Utterance),
}

struct Utterance {
    start: u64,
    end: u64,
    started: bool,
    /// Starts with the audio of the utterance before a `Continue`.
    continued: bool,
}

type JobOutput<S> = (Option<S>, Result<Transcript, SpeechError>);

struct Driver<T: Transcriber> {
    t: Arc<T>,
    cfg: RollingConfig,
    session: Option<T::Session>,
    ev: mpsc::Sender<SttEvent>,
    /// Audio of the current utterance.
    buf: Vec<f32>,
    /// Stream position (samples) where `buf` starts.
    buf_start: u64,
    /// Samples pushed since the stream opened.
    total: u64,
    started: bool,
    /// `buf.len()` at the last partial decode.
    decoded_len: usize,
    /// Bumped on every flush, so late partials of a finished utterance are dropped.
    generation: u64,
    last_partial: String,
    /// Flushed utterances waiting for their final decode.
    finals: VecDeque<(Vec<f32>, Utterance)>,
    /// The last utterance, for `Continue`.
    continuation: Continuation,
}

impl<T: Transcriber> Driver<T> {
    async fn run(mut self, mut input: mpsc::Receiver<SttInput>) {
        let mut job: Option<(JoinHandle<JobOutput<T::Session>>, JobKind)> = None;
        let mut input_open = true;
        loop {
            if job.is_none() {
                job = self.next_job();
            }
            if job.is_none() && !input_open {
                break;
            }
            tokio::select! {
                // Drain queued audio before looking at a finished decode, so the next
                // decode sees everything received so far.
                biased;
                msg = input.recv(), if input_open => match msg {
                    Some(SttInput::Audio(pcm)) => {
                        if !self.on_audio(pcm).await {
                            return;
                        }
                    }
                    Some(SttInput::Flush) => self.on_flush(),
                    Some(SttInput::Continue) => self.on_continue(),
                    None => input_open = false,
                },
                out = async { job.as_mut().map(|(h, _)| h).expect("guarded by is_some").await },
                    if job.is_some() =>
                {
                    let Some((_, kind)) = job.take() else { continue };
                    let (session, result) = match out {
                        Ok(o) => o,
                        Err(e) => (None, Err(SpeechError::Model(format!("decode task failed: {e}")))),
                    };
                    if session.is_some() {
                        self.session = session;
                    }
                    if !self.on_result(kind, result).await {
                        return;
                    }
                }
            }
        }
    }

    /// Start the next decode if any is due: queued finals first, then a partial.
    fn next_job(&mut self) -> Option<(JoinHandle<JobOutput<T::Session>>, JobKind)> {
        if let Some((pcm, utt)) = self.finals.pop_front() {
            if pcm.is_empty() {
                // Nothing to decode: answer immediately through the same path.
                let h = tokio::spawn(async { (None, Ok(empty())) });
                return Some((h, JobKind::Final(utt)));
            }
            let slots = self.cfg.decode_slots.clone();
            let h = self.spawn_decode(pcm, async move { slots.acquire_owned().await.ok() });
            return Some((h, JobKind::Final(utt)));
        }
        let interval = samples(self.cfg.partial_interval_ms);
        if self.cfg.partial_interval_ms == 0
            || self.buf.len() < samples(self.cfg.min_partial_ms).max(1)
            || self.buf.len() - self.decoded_len < interval
        {
            return None;
        }
        // Partials never wait: skip when every decode slot is taken.
        let permit = self.cfg.decode_slots.clone().try_acquire_owned().ok()?;
        self.decoded_len = self.buf.len();
        let kind = JobKind::Partial {
            generation: self.generation,
            end: self.buf_start + self.buf.len() as u64,
        };
        let h = self.spawn_decode(self.buf.clone(), async move { Some(permit) });
        Some((h, kind))
    }

    fn spawn_decode<P>(&mut self, pcm: Vec<f32>, permit: P) -> JoinHandle<JobOutput<T::Session>>
    where
        P: std::future::Future<Output = Option<tokio::sync::OwnedSemaphorePermit>> + Send + 'static,
    {
        let t = self.t.clone();
        let session = self.session.take();
        tokio::spawn(async move {
            let _permit = permit.await;
            let blocking = tokio::task::spawn_blocking(move || {
                let mut session = match session {
                    Some(s) => s,
                    None => match t.session() {
                        Ok(s) => s,
                        Err(e) => return (None, Err(e)),
                    },
                };
                let r = t.transcribe(&mut session, &pcm);
                (Some(session), r)
            });
            match blocking.await {
                Ok(o) => o,
                Err(e) => (
                    None,
                    Err(SpeechError::Model(format!("decode panicked: {e}"))),
                ),
            }
        })
    }

    async fn on_audio(&mut self, pcm: Vec<f32>) -> bool {
        if pcm.is_empty() {
            return true;
        }
        if !self.started {
            self.started = true;
            let at_ms = ms(self.total);
            if self
                .ev
                .send(SttEvent::SpeechStarted { at_ms })
                .await
                .is_err()
            {
                return false;
            }
        }
        self.total += pcm.len() as u64;
        self.buf.extend_from_slice(&pcm);
        true
    }

    fn on_flush(&mut self) {
        let pcm = std::mem::take(&mut self.buf);
        let utt = Utterance {
            start: self.buf_start,
            end: self.total,
            started: self.started,
            continued: self.continuation.on_flush(&pcm, self.buf_start),
        };
        self.finals.push_back((pcm, utt));
        self.buf_start = self.total;
        self.started = false;
        self.decoded_len = 0;
        self.generation += 1;
        self.last_partial.clear();
    }

    /// The audio that follows continues the last utterance: decode them together.
    fn on_continue(&mut self) {
        if let Some(start) = self.continuation.on_continue(&mut self.buf) {
            self.buf_start = start;
            self.decoded_len = 0;
        }
    }

    async fn on_result(&mut self, kind: JobKind, result: Result<Transcript, SpeechError>) -> bool {
        match kind {
            JobKind::Partial { generation, end } => {
                let text = match result {
                    Ok(t) => t.text,
                    Err(e) => {
                        tracing::warn!(error = %e, "partial decode failed");
                        return true;
                    }
                };
                if generation != self.generation || text.is_empty() || text == self.last_partial {
                    return true;
                }
                self.last_partial = text.clone();
                let ev = SttEvent::Partial {
                    text,
                    at_ms: ms(end),
                };
                self.ev.send(ev).await.is_ok()
            }
            JobKind::Final(utt) => {
                let t = result.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "final decode failed; returning empty text");
                    empty()
                });
                let (start_ms, end_ms) = (ms(utt.start), ms(utt.end));
                let ev = SttEvent::Final {
                    text: t.text,
                    start_ms,
                    end_ms,
                    confidence: t.confidence,
                    continued: utt.continued,
                };
                if self.ev.send(ev).await.is_err() {
                    return false;
                }
                if utt.started {
                    return self
                        .ev
                        .send(SttEvent::SpeechEnded { at_ms: end_ms })
                        .await
                        .is_ok();
                }
                true
            }
        }
    }
}

fn empty() -> Transcript {
    Transcript {
        text: String::new(),
        confidence: 0.0,
    }
}

#[cfg(test)]
#[path = "rolling_tests.rs"]
mod tests;
