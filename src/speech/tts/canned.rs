//! A [`TextToSpeech`] that speaks only phrases it was given recordings of: plays the
//! greeting WAV when no speech stack is configured, and serves as a scripted fake in
//! tests (an unknown phrase is an error, so a test cannot silently say something else).

use std::collections::HashMap;
use std::sync::Mutex;

use futures::stream;

use crate::speech::{SpeechError, TextToSpeech, TtsStream};

/// Pre-recorded phrases at one sample rate.
pub struct CannedTts {
    rate: u32,
    phrases: HashMap<String, Vec<f32>>,
    /// Chunk size of the returned stream, in samples.
    chunk: usize,
    spoken: Mutex<Vec<String>>,
}

impl CannedTts {
    pub fn new(rate: u32, phrases: impl IntoIterator<Item = (String, Vec<f32>)>) -> Self {
        Self {
            rate,
            phrases: phrases.into_iter().collect(),
            chunk: (rate / 10) as usize,
            spoken: Mutex::default(),
        }
    }

    /// Phrases synthesized so far, in order.
    pub fn spoken(&self) -> Vec<String> {
        self.spoken.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl TextToSpeech for CannedTts {
    fn name(&self) -> &str {
        "canned"
    }

    fn sample_rate(&self) -> u32 {
        self.rate
    }

    async fn synthesize(&self, text: &str) -> Result<TtsStream, SpeechError> {
        let audio = self
            .phrases
            .get(text.trim())
            .ok_or_else(|| SpeechError::Model(format!("no recording of the phrase {text:?}")))?;
        if let Ok(mut s) = self.spoken.lock() {
            s.push(text.trim().to_string());
        }
        let chunks: Vec<Result<Vec<f32>, SpeechError>> = audio
            .chunks(self.chunk.max(1))
            .map(|c| Ok(c.to_vec()))
            .collect();
        Ok(Box::pin(stream::iter(chunks)))
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn plays_known_phrases_only() {
        let tts = CannedTts::new(8000, [("Hello.".to_string(), vec![0.5; 2000])]);
        let chunks: Vec<_> = tts.synthesize("Hello.").await.unwrap().collect().await;
        assert_eq!(chunks.len(), 3);
        assert_eq!(
            chunks
                .iter()
                .map(|c| c.as_ref().unwrap().len())
                .sum::<usize>(),
            2000
        );
        assert!(tts.synthesize("Goodbye.").await.is_err());
        assert_eq!(tts.spoken(), vec!["Hello."]);
    }
}
