//! The per-call speech synthesis task: takes sentences to speak in order, streams each
//! through the configured [`TextToSpeech`], converts the audio to 8 kHz μ-law and
//! hands it back to the session as it arrives.
//!
//! Cancellation is by utterance: [`TtsHandle::cancel_through`] makes the worker drop
//! queued sentences of that utterance (and older ones) and stop the one in progress
//! between chunks, so a barge-in never waits for synthesis to finish.
//!
//! A sentence the voice cannot speak at all is never silence: the first of a reply is
//! replaced by the recorded apology ([`super::last_resort`]), and after
//! [`super::last_resort::GIVE_UP_AFTER`] such replies the recorded goodbye plays and
//! [`TtsOutput::GiveUp`] asks the session to end the call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc;
use tracing::warn;

use crate::agents::TurnId;
use crate::audio::frames::PHONE_RATE;
use crate::audio::mulaw;
use crate::audio::resample::StreamResampler;
use crate::speech::TextToSpeech;

/// A sentence to synthesize.
#[derive(Debug, Clone)]
pub struct SpeakJob {
    pub utterance: TurnId,
    pub seq: u32,
    pub text: String,
}

/// Audio coming back from the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum TtsOutput {
    Audio {
        utterance: TurnId,
        seq: u32,
        mulaw: Vec<u8>,
    },
    /// The sentence is finished (also sent after an error, with whatever audio came).
    Done { utterance: TurnId, seq: u32 },
    /// The voice has failed too often: the recorded goodbye was sent as this
    /// utterance's audio; end the call after it.
    GiveUp { utterance: TurnId },
}

/// The session's handle on its worker.
pub struct TtsHandle {
    jobs: mpsc::UnboundedSender<SpeakJob>,
    /// Utterances with ids below this are cancelled (0: none).
    cancelled: Arc<AtomicU64>,
}

impl TtsHandle {
    pub fn speak(&self, job: SpeakJob) {
        let _ = self.jobs.send(job);
    }

    /// Cancel `utterance` and everything queued before it.
    pub fn cancel_through(&self, utterance: TurnId) {
        self.cancelled.fetch_max(utterance.0 + 1, Ordering::SeqCst);
    }
}

/// Start a worker for one call. It ends when the handle is dropped.
pub fn spawn(tts: Arc<dyn TextToSpeech>, out: mpsc::UnboundedSender<TtsOutput>) -> TtsHandle {
    let (jobs, mut rx) = mpsc::unbounded_channel::<SpeakJob>();
    let cancelled = Arc::new(AtomicU64::new(0));
    let flag = cancelled.clone();
    tokio::spawn(async move {
        let mut failures = Failures::default();
        while let Some(job) = rx.recv().await {
            if is_cancelled(&flag, &job) {
                continue;
            }
            // A reply the voice already failed: its other sentences are not tried (the
            // apology stood in for the whole reply).
            let spoke = failures.apologised != Some(job.utterance)
                && synthesize(tts.as_ref(), &job, &out, &flag).await;
            if spoke {
                failures.spoken();
            } else if !is_cancelled(&flag, &job) {
                failures.unspoken(&job, &out);
            }
            if !is_cancelled(&flag, &job) {
                let _ = out.send(TtsOutput::Done {
                    utterance: job.utterance,
                    seq: job.seq,
                });
            }
        }
    });
    TtsHandle { jobs, cancelled }
}

/// Replies in a row the voice could not speak.
#[derive(Default)]
struct Failures {
    replies: u32,
    /// The utterance already given the apology (its other sentences are skipped).
    apologised: Option<TurnId>,
}

impl Failures {
    /// A sentence was spoken: the voice works again.
    fn spoken(&mut self) {
        self.replies = 0;
    }

    /// `job` produced no audio at all: say the recorded line instead.
    fn unspoken(&mut self, job: &SpeakJob, out: &mpsc::UnboundedSender<TtsOutput>) {
        if self.apologised == Some(job.utterance) {
            return;
        }
        self.apologised = Some(job.utterance);
        self.replies += 1;
        let lines = super::last_resort::LastResort::get();
        let give_up = self.replies >= super::last_resort::GIVE_UP_AFTER;
        let line = if give_up {
            &lines.goodbye
        } else {
            &lines.sorry
        };
        warn!(
            give_up,
            "the voice could not speak a reply; playing the recorded line"
        );
        for chunk in line.chunks(1600) {
            let _ = out.send(TtsOutput::Audio {
                utterance: job.utterance,
                seq: job.seq,
                mulaw: chunk.to_vec(),
            });
        }
        if give_up {
            let _ = out.send(TtsOutput::GiveUp {
                utterance: job.utterance,
            });
        }
    }
}

fn is_cancelled(flag: &AtomicU64, job: &SpeakJob) -> bool {
    flag.load(Ordering::SeqCst) > job.utterance.0
}

/// Speak `job`; whether any audio was sent.
async fn synthesize(
    tts: &dyn TextToSpeech,
    job: &SpeakJob,
    out: &mpsc::UnboundedSender<TtsOutput>,
    flag: &AtomicU64,
) -> bool {
    let spoken = job.text.clone();
    // The first sentence of a reply is the one the caller waits for.
    let opened = if job.seq == 0 {
        tts.synthesize_opening(&spoken).await
    } else {
        tts.synthesize(&spoken).await
    };
    let mut stream = match opened {
        Ok(s) => s,
        Err(e) => {
            warn!(error = %e, text = %job.text, "speech synthesis failed");
            return false;
        }
    };
    let mut resampler = match StreamResampler::new(tts.sample_rate(), PHONE_RATE) {
        Ok(r) => r,
        Err(e) => {
            warn!(error = %e, "cannot resample synthesized speech");
            return false;
        }
    };
    let mut sent = false;
    let send = |pcm: Vec<f32>| -> bool {
        if !pcm.is_empty() {
            let mulaw = mulaw::encode_from_f32(&pcm);
            let _ = out.send(TtsOutput::Audio {
                utterance: job.utterance,
                seq: job.seq,
                mulaw,
            });
            return true;
        }
        false
    };
    while let Some(chunk) = stream.next().await {
        if is_cancelled(flag, job) {
            return true; // dropping the stream cancels synthesis
        }
        match chunk.map(|pcm| resampler.push(&pcm)) {
            Ok(Ok(pcm)) => sent |= send(pcm),
            Ok(Err(e)) => warn!(error = %e, "resampling failed"),
            Err(e) => {
                warn!(error = %e, "speech synthesis stream failed");
                break;
            }
        }
    }
    if let Ok(tail) = resampler.flush() {
        sent |= send(tail);
    }
    sent
}
