//! OpenAI-compatible streaming TTS: `POST {base}/v1/audio/speech` with
//! `response_format: "pcm"`, whose body is raw 24 kHz signed 16-bit little-endian
//! mono PCM streamed as it is generated. Works with OpenAI and with compatible
//! servers (set `base_url`). Timeouts and retries come from [`HttpPolicy`].

use serde::Serialize;

use crate::speech::http::{pcm16_stream, HttpPolicy};
use crate::speech::{SpeechError, TextToSpeech, TtsStream};

/// Sample rate of `response_format: "pcm"`.
pub const OPENAI_PCM_RATE: u32 = 24_000;

/// Settings for [`OpenAiTts`].
#[derive(Debug, Clone)]
pub struct OpenAiTtsConfig {
    /// Base URL without the `/v1` suffix, e.g. `https://api.openai.com`.
    pub base_url: String,
    pub api_key: String,
    pub model: String,
    pub voice: String,
    /// Style instructions (supported by `gpt-4o-mini-tts`); the same for every agent.
    pub instructions: Option<String>,
    pub speed: Option<f32>,
    pub policy: HttpPolicy,
}

impl Default for OpenAiTtsConfig {
    fn default() -> Self {
        OpenAiTtsConfig {
            base_url: "https://api.openai.com".into(),
            api_key: String::new(),
            model: "gpt-4o-mini-tts".into(),
            voice: "alloy".into(),
            instructions: None,
            speed: None,
            policy: HttpPolicy::default(),
        }
    }
}

#[derive(Serialize)]
struct SpeechRequest<'a> {
    model: &'a str,
    input: &'a str,
    voice: &'a str,
    response_format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    speed: Option<f32>,
}

/// OpenAI-compatible `/v1/audio/speech` client.
pub struct OpenAiTts {
    cfg: OpenAiTtsConfig,
    client: reqwest::Client,
}

impl OpenAiTts {
    pub fn new(cfg: OpenAiTtsConfig) -> Result<Self, SpeechError> {
        let client = cfg.policy.client()?;
        Ok(OpenAiTts { cfg, client })
    }
}

#[async_trait::async_trait]
impl TextToSpeech for OpenAiTts {
    fn name(&self) -> &str {
        "openai"
    }

    fn sample_rate(&self) -> u32 {
        OPENAI_PCM_RATE
    }

    async fn synthesize(&self, text: &str) -> Result<TtsStream, SpeechError> {
        let url = format!(
            "{}/v1/audio/speech",
            self.cfg.base_url.trim_end_matches('/')
        );
        let body = SpeechRequest {
            model: &self.cfg.model,
            input: text,
            voice: &self.cfg.voice,
            response_format: "pcm",
            instructions: self.cfg.instructions.as_deref(),
            speed: self.cfg.speed,
        };
        let body = serde_json::to_vec(&body).map_err(|e| SpeechError::Provider(e.to_string()))?;
        let resp = self
            .cfg
            .policy
            .send("openai tts", || {
                self.client
                    .post(&url)
                    .bearer_auth(&self.cfg.api_key)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
            })
            .await?;
        Ok(pcm16_stream(
            "openai tts",
            resp,
            self.cfg.policy.read_timeout,
        ))
    }
}

#[cfg(test)]
#[path = "cloud_tests.rs"]
mod tests;
