//! A chain of speech synthesisers (`[speech] tts` then `tts_fallback`): a sentence the
//! first cannot start speaking — an error, or no audio within its first-audio timeout
//! — is synthesised by the next, so a failing provider costs the caller at most that
//! timeout of silence. A provider whose stream fails in the middle of a sentence ends
//! that sentence there (what was heard is not repeated) and counts as a failure, so the
//! next sentence goes to the next provider. Each provider has a circuit breaker
//! ([`crate::breaker`]): while open, sentences go straight to the next one.
//!
//! Providers may run at different rates; the chain speaks at the first one's rate and
//! resamples the others to it. Switches are logged and counted
//! (`switchboard_speech_fallbacks_total`).

use std::sync::Arc;
use std::time::Duration;

use futures::{stream, StreamExt};
use tokio::time::Instant;

use crate::audio::resample::StreamResampler;
use crate::breaker::{Breaker, BreakerConfig};
use crate::speech::{SpeechError, TextToSpeech, TtsStream};

/// One synthesiser of the chain.
pub struct TtsLink {
    pub tts: Arc<dyn TextToSpeech>,
    /// From the request to its first audio; longer counts as a failure.
    pub first_audio_timeout: Duration,
    pub breaker: Arc<Breaker>,
}

/// The primary synthesiser and its fallbacks, tried in order.
pub struct FallbackTts {
    links: Vec<TtsLink>,
    name: String,
}

impl FallbackTts {
    /// `tts[0]` is the primary; each gets `first_audio_timeout` and a breaker.
    pub fn new(
        tts: Vec<Arc<dyn TextToSpeech>>,
        first_audio_timeout: Duration,
        breaker: BreakerConfig,
    ) -> Self {
        let name = tts
            .iter()
            .map(|t| t.name().to_string())
            .collect::<Vec<_>>()
            .join(" > ");
        Self {
            links: tts
                .into_iter()
                .map(|tts| TtsLink {
                    tts,
                    first_audio_timeout,
                    breaker: Arc::new(Breaker::new(breaker)),
                })
                .collect(),
            name,
        }
    }

    fn switched(&self, i: usize, reason: &str) {
        let (from, to) = (self.links[i].tts.name(), self.links[i + 1].tts.name());
        tracing::warn!(from, to, reason, "speech synthesis falls back");
        crate::metrics::speech_fallbacks()
            .with_label_values(&["tts", from, to, reason])
            .inc();
    }
}

fn reason(e: &SpeechError) -> &'static str {
    match e {
        SpeechError::Timeout(_) => "timeout",
        SpeechError::Provider(_) => "provider",
        SpeechError::Closed => "closed",
        _ => "error",
    }
}

#[async_trait::async_trait]
impl TextToSpeech for FallbackTts {
    fn name(&self) -> &str {
        &self.name
    }

    fn sample_rate(&self) -> u32 {
        self.links[0].tts.sample_rate()
    }

    async fn synthesize(&self, text: &str) -> Result<TtsStream, SpeechError> {
        self.synthesize_with(text, false).await
    }

    async fn synthesize_opening(&self, text: &str) -> Result<TtsStream, SpeechError> {
        self.synthesize_with(text, true).await
    }
}

impl FallbackTts {
    /// The chain for one sentence; `opening` asks each voice for its quick first chunk.
    async fn synthesize_with(&self, text: &str, opening: bool) -> Result<TtsStream, SpeechError> {
        let rate = self.sample_rate();
        let mut last_error = SpeechError::Provider("no synthesiser".into());
        let n = self.links.len();
        for (i, link) in self.links.iter().enumerate() {
            let is_last = i + 1 == n;
            if !is_last && !link.breaker.allow(Instant::now()) {
                self.switched(i, "breaker_open");
                continue;
            }
            let opened = tokio::time::timeout(link.first_audio_timeout, async {
                let mut s = if opening {
                    link.tts.synthesize_opening(text).await?
                } else {
                    link.tts.synthesize(text).await?
                };
                loop {
                    match s.next().await {
                        Some(Ok(pcm)) if pcm.is_empty() => continue,
                        Some(Ok(pcm)) => return Ok((pcm, s)),
                        Some(Err(e)) => return Err(e),
                        None => return Err(SpeechError::Provider("no audio".into())),
                    }
                }
            })
            .await
            .unwrap_or_else(|_| {
                Err(SpeechError::Timeout(
                    link.first_audio_timeout.as_millis() as u64
                ))
            });
            match opened {
                Ok((first, rest)) => {
                    link.breaker.success();
                    let breaker = link.breaker.clone();
                    let audio = stream::iter([Ok(first)]).chain(rest).map(move |chunk| {
                        if chunk.is_err() {
                            breaker.failure(Instant::now());
                        }
                        chunk
                    });
                    return Ok(resampled(audio.boxed(), link.tts.sample_rate(), rate));
                }
                Err(e) => {
                    link.breaker.failure(Instant::now());
                    if !is_last {
                        self.switched(i, reason(&e));
                    }
                    last_error = e;
                }
            }
        }
        Err(last_error)
    }
}

/// `audio` at `from` Hz as a stream at `to` Hz.
fn resampled(audio: TtsStream, from: u32, to: u32) -> TtsStream {
    if from == to {
        return audio;
    }
    let Ok(resampler) = StreamResampler::new(from, to) else {
        return stream::iter([Err(SpeechError::Model(format!(
            "cannot resample {from} Hz to {to} Hz"
        )))])
        .boxed();
    };
    stream::unfold(
        (audio, Some(resampler)),
        |(mut audio, mut resampler)| async move {
            let r = resampler.as_mut()?;
            match audio.next().await {
                Some(Ok(pcm)) => {
                    let out = r.push(&pcm).map_err(|e| SpeechError::Model(e.to_string()));
                    Some((out, (audio, resampler)))
                }
                Some(Err(e)) => Some((Err(e), (audio, None))),
                None => {
                    let tail = r.flush().map_err(|e| SpeechError::Model(e.to_string()));
                    Some((tail, (audio, None)))
                }
            }
        },
    )
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A synthesiser that fails in a chosen way, or speaks 100 ms of tone per chunk.
    struct Fake {
        name: &'static str,
        rate: u32,
        fault: Option<&'static str>,
        calls: AtomicUsize,
    }

    fn fake(name: &'static str, rate: u32, fault: Option<&'static str>) -> Arc<Fake> {
        Arc::new(Fake {
            name,
            rate,
            fault,
            calls: AtomicUsize::new(0),
        })
    }

    #[async_trait::async_trait]
    impl TextToSpeech for Fake {
        fn name(&self) -> &str {
            self.name
        }
        fn sample_rate(&self) -> u32 {
            self.rate
        }
        async fn synthesize(&self, _: &str) -> Result<TtsStream, SpeechError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let chunk = vec![0.25f32; (self.rate / 10) as usize];
            match self.fault {
                None => Ok(stream::iter(vec![Ok(chunk.clone()), Ok(chunk)]).boxed()),
                Some("refuse") => Err(SpeechError::Provider("HTTP 503".into())),
                Some("hang") => Ok(stream::pending().boxed()),
                Some("cut") => Ok(stream::iter(vec![
                    Ok(chunk),
                    Err(SpeechError::Provider("connection reset".into())),
                ])
                .boxed()),
                Some(other) => panic!("{other}"),
            }
        }
    }

    fn chain(tts: &[Arc<Fake>]) -> FallbackTts {
        FallbackTts::new(
            tts.iter()
                .map(|t| t.clone() as Arc<dyn TextToSpeech>)
                .collect(),
            Duration::from_millis(800),
            BreakerConfig::default(),
        )
    }

    async fn samples(t: &FallbackTts) -> Result<(usize, bool), SpeechError> {
        let mut s = t.synthesize("Hello there.").await?;
        let (mut n, mut failed) = (0, false);
        while let Some(c) = s.next().await {
            match c {
                Ok(pcm) => n += pcm.len(),
                Err(_) => failed = true,
            }
        }
        Ok((n, failed))
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_primary_costs_one_timeout_then_is_skipped() {
        let (primary, backup) = (
            fake("primary", 22050, Some("hang")),
            fake("backup", 22050, None),
        );
        let t = chain(&[primary.clone(), backup.clone()]);
        let t0 = Instant::now();
        let (n, failed) = samples(&t).await.unwrap();
        assert_eq!(t0.elapsed(), Duration::from_millis(800));
        assert!(n > 0 && !failed);
        let t1 = Instant::now();
        samples(&t).await.unwrap();
        assert_eq!(
            t1.elapsed(),
            Duration::ZERO,
            "the open breaker skips the wait"
        );
        assert_eq!(primary.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_fallback_at_another_rate_is_resampled_to_the_chain_rate() {
        let t = chain(&[
            fake("primary", 16000, Some("refuse")),
            fake("backup", 8000, None),
        ]);
        assert_eq!(t.sample_rate(), 16000);
        let (n, _) = samples(&t).await.unwrap();
        // 200 ms at 8 kHz = 1600 samples becomes about 3200 at 16 kHz.
        assert!((3000..=3400).contains(&n), "{n}");
    }

    #[tokio::test]
    async fn a_cut_sentence_ends_there_and_the_next_goes_to_the_fallback() {
        let (primary, backup) = (
            fake("primary", 8000, Some("cut")),
            fake("backup", 8000, None),
        );
        let t = chain(&[primary.clone(), backup.clone()]);
        let (n, failed) = samples(&t).await.unwrap();
        assert!(failed && n == 800, "the heard part is not repeated: {n}");
        samples(&t).await.unwrap();
        assert_eq!(backup.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn every_provider_failing_is_an_error() {
        let t = chain(&[
            fake("a", 8000, Some("refuse")),
            fake("b", 8000, Some("refuse")),
        ]);
        assert!(t.synthesize("Hi.").await.is_err());
        assert_eq!(t.name(), "a > b");
    }
}
