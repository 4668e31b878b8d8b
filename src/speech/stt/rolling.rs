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
//! Speculative finals: on `Pause` (the caller went quiet) the utterance so far is
//! decoded at once and its text emitted as [`SttEvent::Tentative`]; if the next `Flush` comes
//! with nothing but silence since, that decode is the final — it ran during the
//! endpoint wait instead of after it. A `Resume` (speech again) aborts and drops it.
//! Each final is preceded by [`SttEvent::Decoded`] (time waiting for a decode slot,
//! decode time, and whether the decode was speculative).
//!
//! Rules: at most one decode per stream is in flight; decodes run on the blocking
//! pool; a deployment-wide [`Semaphore`] (`RollingConfig::decode_slots`) bounds
//! concurrent decodes across calls — finals wait for a slot, partials are skipped
//! when none is free (the machine is busy). Audio keeps being accepted meanwhile.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// Decode like [`Transcriber::transcribe`], giving up early (with an error) once
    /// `abort` is set — a speculative decode the caller talked over. The default
    /// ignores `abort`.
    fn transcribe_abortable(
        &self,
        s: &mut Self::Session,
        pcm: &[f32],
        abort: &Arc<AtomicBool>,
    ) -> Result<Transcript, SpeechError> {
        let _ = abort;
        self.transcribe(s, pcm)
    }
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
        spec: None,
        spec_seq: 0,
        spec_final: None,
    };
    tokio::spawn(driver.run(in_rx));
    Ok(SttStream { input, events })
}

enum JobKind {
    Partial {
        generation: u64,
        end: u64,
    },
    Final(Utterance),
    /// The speculative decode `seq` (see [`Speculation`]).
    Speculative {
        seq: u64,
    },
}

/// What a flushed utterance still needs for its final.
enum FinalWork {
    Decode(Vec<f32>),
    /// Decoded already (speculatively, or nothing to decode).
    Decoded(Result<Transcript, SpeechError>, DecodeTiming),
}

/// Where a decode's time went.
#[derive(Debug, Clone, Copy, Default)]
struct DecodeTiming {
    queued: Duration,
    decoded: Duration,
    speculative: bool,
}

/// A decode of the current utterance started when the caller went quiet.
struct Speculation {
    seq: u64,
    /// Samples of the utterance buffer it covers.
    len: usize,
    state: SpecState,
    abort: Arc<AtomicBool>,
}

enum SpecState {
    Due,
    Running,
    Done(Result<Transcript, SpeechError>, DecodeTiming),
}

struct Utterance {
    start: u64,
    end: u64,
    started: bool,
    /// Starts with the audio of the utterance before a `Continue`.
    continued: bool,
}

type JobOutput<S> = (Option<S>, Result<Transcript, SpeechError>, DecodeTiming);

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
    /// Flushed utterances waiting for their final.
    finals: VecDeque<(FinalWork, Utterance)>,
    /// The last utterance, for `Continue`.
    continuation: Continuation,
    /// The speculative final decode of the current utterance, since the last `Pause`.
    spec: Option<Speculation>,
    spec_seq: u64,
    /// A flushed utterance whose final is the speculative decode `seq`, still running
    /// (nothing the caller does afterwards touches it).
    spec_final: Option<(u64, Utterance)>,
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
                    Some(SttInput::Pause) => self.on_pause(),
                    Some(SttInput::Resume) => self.on_resume(),
                    None => input_open = false,
                },
                out = async { job.as_mut().map(|(h, _)| h).expect("guarded by is_some").await },
                    if job.is_some() =>
                {
                    let Some((_, kind)) = job.take() else { continue };
                    let (session, result, timing) = match out {
                        Ok(o) => o,
                        Err(e) => (None, Err(SpeechError::Model(format!("decode task failed: {e}"))), DecodeTiming::default()),
                    };
                    if session.is_some() {
                        self.session = session;
                    }
                    if !self.on_result(kind, result, timing).await {
                        return;
                    }
                }
            }
        }
    }

    /// Start the next decode if any is due: queued finals first, then a speculative
    /// final, then a partial.
    fn next_job(&mut self) -> Option<(JoinHandle<JobOutput<T::Session>>, JobKind)> {
        if let Some((work, utt)) = self.finals.pop_front() {
            let pcm = match work {
                FinalWork::Decoded(result, timing) => {
                    // Nothing left to decode: answer through the same path.
                    let h = tokio::spawn(async move { (None, result, timing) });
                    return Some((h, JobKind::Final(utt)));
                }
                FinalWork::Decode(pcm) if pcm.is_empty() => {
                    let h = tokio::spawn(async { (None, Ok(empty()), DecodeTiming::default()) });
                    return Some((h, JobKind::Final(utt)));
                }
                FinalWork::Decode(pcm) => pcm,
            };
            let slots = self.cfg.decode_slots.clone();
            let h = self.spawn_decode(pcm, async move { slots.acquire_owned().await.ok() }, None);
            return Some((h, JobKind::Final(utt)));
        }
        if let Some(spec) = self
            .spec
            .as_mut()
            .filter(|s| matches!(s.state, SpecState::Due))
        {
            spec.state = SpecState::Running;
            let (seq, abort) = (spec.seq, spec.abort.clone());
            let pcm = self.buf[..spec.len.min(self.buf.len())].to_vec();
            let slots = self.cfg.decode_slots.clone();
            let h = self.spawn_decode(
                pcm,
                async move { slots.acquire_owned().await.ok() },
                Some(abort),
            );
            return Some((h, JobKind::Speculative { seq }));
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
        let h = self.spawn_decode(self.buf.clone(), async move { Some(permit) }, None);
        Some((h, kind))
    }

    /// Decode `pcm` on the blocking pool once `permit` is granted; a speculative
    /// decode passes its `abort` flag.
    fn spawn_decode<P>(
        &mut self,
        pcm: Vec<f32>,
        permit: P,
        abort: Option<Arc<AtomicBool>>,
    ) -> JoinHandle<JobOutput<T::Session>>
    where
        P: std::future::Future<Output = Option<tokio::sync::OwnedSemaphorePermit>> + Send + 'static,
    {
        let t = self.t.clone();
        let session = self.session.take();
        tokio::spawn(async move {
            let asked = Instant::now();
            let _permit = permit.await;
            let queued = asked.elapsed();
            let speculative = abort.is_some();
            let blocking = tokio::task::spawn_blocking(move || {
                let mut session = match session {
                    Some(s) => s,
                    None => match t.session() {
                        Ok(s) => s,
                        Err(e) => return (None, Err(e), Duration::ZERO),
                    },
                };
                let started = Instant::now();
                // Voided while it waited for a slot: give the slot straight back.
                if abort.as_ref().is_some_and(|a| a.load(Ordering::SeqCst)) {
                    let void = SpeechError::Model("speculative decode voided".into());
                    return (Some(session), Err(void), Duration::ZERO);
                }
                let r = match &abort {
                    Some(abort) => t.transcribe_abortable(&mut session, &pcm, abort),
                    None => t.transcribe(&mut session, &pcm),
                };
                (Some(session), r, started.elapsed())
            });
            match blocking.await {
                Ok((session, r, decoded)) => (
                    session,
                    r,
                    DecodeTiming {
                        queued,
                        decoded,
                        speculative,
                    },
                ),
                Err(e) => (
                    None,
                    Err(SpeechError::Model(format!("decode panicked: {e}"))),
                    DecodeTiming::default(),
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
        // Only silence came after the pause: the speculative decode is the final.
        match self.spec.take() {
            Some(Speculation {
                state: SpecState::Done(Ok(t), timing),
                ..
            }) => self
                .finals
                .push_back((FinalWork::Decoded(Ok(t), timing), utt)),
            Some(spec) if matches!(spec.state, SpecState::Running) => {
                self.spec_final = Some((spec.seq, utt));
            }
            _ => self.finals.push_back((FinalWork::Decode(pcm), utt)),
        }
        self.buf_start = self.total;
        self.started = false;
        self.decoded_len = 0;
        self.generation += 1;
        self.last_partial.clear();
    }

    /// The caller went quiet: decode what they said so far, in case the turn is over.
    fn on_pause(&mut self) {
        if let Some(old) = self.spec.take() {
            old.abort.store(true, Ordering::SeqCst);
        }
        if self.buf.is_empty() {
            return;
        }
        self.spec_seq += 1;
        self.spec = Some(Speculation {
            seq: self.spec_seq,
            len: self.buf.len(),
            state: SpecState::Due,
            abort: Arc::new(AtomicBool::new(false)),
        });
    }

    /// The caller spoke again: the speculative decode no longer covers the utterance.
    fn on_resume(&mut self) {
        if let Some(spec) = self.spec.take() {
            spec.abort.store(true, Ordering::SeqCst);
        }
    }

    /// The audio that follows continues the last utterance: decode them together.
    fn on_continue(&mut self) {
        if let Some(spec) = self.spec.take() {
            spec.abort.store(true, Ordering::SeqCst);
        }
        if let Some(start) = self.continuation.on_continue(&mut self.buf) {
            self.buf_start = start;
            self.decoded_len = 0;
        }
    }

    async fn on_result(
        &mut self,
        kind: JobKind,
        result: Result<Transcript, SpeechError>,
        timing: DecodeTiming,
    ) -> bool {
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
            JobKind::Speculative { seq } => {
                if self.spec_final.as_ref().is_some_and(|(s, _)| *s == seq) {
                    let (_, utt) = self.spec_final.take().expect("checked");
                    return self.emit_final(utt, result, timing).await;
                }
                let Some(spec) = self.spec.as_mut().filter(|s| s.seq == seq) else {
                    // Voided by a `Resume` or a later `Pause` meanwhile (whose own
                    // decode, if any, stays due).
                    return true;
                };
                let text = result.as_ref().map(|t| t.text.clone()).unwrap_or_default();
                let end = self.buf_start + spec.len as u64;
                spec.state = SpecState::Done(result, timing);
                if text.is_empty() {
                    return true;
                }
                let ev = SttEvent::Tentative {
                    text,
                    at_ms: ms(end),
                };
                self.ev.send(ev).await.is_ok()
            }
            JobKind::Final(utt) => self.emit_final(utt, result, timing).await,
        }
    }

    /// `Decoded`, `Final` and (for a turn that had speech) `SpeechEnded` for `utt`.
    async fn emit_final(
        &mut self,
        utt: Utterance,
        result: Result<Transcript, SpeechError>,
        timing: DecodeTiming,
    ) -> bool {
        let t = result.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "final decode failed; returning empty text");
            empty()
        });
        let decoded = SttEvent::Decoded {
            queue_ms: timing.queued.as_millis() as u64,
            decode_ms: timing.decoded.as_millis() as u64,
            speculative: timing.speculative,
        };
        if self.ev.send(decoded).await.is_err() {
            return false;
        }
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

fn empty() -> Transcript {
    Transcript {
        text: String::new(),
        confidence: 0.0,
    }
}

#[cfg(test)]
#[path = "rolling_tests.rs"]
mod tests;
