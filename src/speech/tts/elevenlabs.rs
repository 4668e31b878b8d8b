//! ElevenLabs streaming TTS: `POST {base}/v1/text-to-speech/{voice_id}/stream
//! ?output_format=pcm_{rate}` with the `xi-api-key` header; the body is raw signed
//! 16-bit little-endian mono PCM at that rate, streamed as it is generated.
//! Timeouts and retries come from [`HttpPolicy`].

use serde::Serialize;

use crate::speech::http::{pcm16_stream, HttpPolicy};
use crate::speech::{SpeechError, TextToSpeech, TtsStream};

/// Settings for [`ElevenLabsTts`].
#[derive(Debug, Clone)]
pub struct ElevenLabsConfig {
    /// e.g. `https://api.elevenlabs.io`.
    pub base_url: String,
    pub api_key: String,
    pub voice_id: String,
    pub model_id: String,
    /// PCM rate requested through `output_format` (16000, 22050, 24000 or 44100).
    pub sample_rate: u32,
    pub stability: Option<f32>,
    pub similarity_boost: Option<f32>,
    pub policy: HttpPolicy,
}

impl Default for ElevenLabsConfig {
    fn default() -> Self {
        ElevenLabsConfig {
            base_url: "https://api.elevenlabs.io".into(),
            api_key: String::new(),
            voice_id: String::new(),
            model_id: "eleven_flash_v2_5".into(),
            sample_rate: 16_000,
            stability: None,
            similarity_boost: None,
            policy: HttpPolicy::default(),
        }
    }
}

#[derive(Serialize)]
struct VoiceSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    stability: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    similarity_boost: Option<f32>,
}

#[derive(Serialize)]
struct StreamRequest<'a> {
    text: &'a str,
    model_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    voice_settings: Option<VoiceSettings>,
}

/// ElevenLabs streaming client.
pub struct ElevenLabsTts {
    cfg: ElevenLabsConfig,
    client: reqwest::Client,
}

impl ElevenLabsTts {
    pub fn new(cfg: ElevenLabsConfig) -> Result<Self, SpeechError> {
        if ![16_000, 22_050, 24_000, 44_100].contains(&cfg.sample_rate) {
            return Err(SpeechError::Provider(format!(
                "ElevenLabs has no pcm_{} output format",
                cfg.sample_rate
            )));
        }
        if cfg.voice_id.is_empty() {
            return Err(SpeechError::Provider(
                "ElevenLabs voice_id is not set".into(),
            ));
        }
        let client = cfg.policy.client()?;
        Ok(ElevenLabsTts { cfg, client })
    }
}

#[async_trait::async_trait]
impl TextToSpeech for ElevenLabsTts {
    fn name(&self) -> &str {
        "elevenlabs"
    }

    fn sample_rate(&self) -> u32 {
        self.cfg.sample_rate
    }

    async fn synthesize(&self, text: &str) -> Result<TtsStream, SpeechError> {
        let base = self.cfg.base_url.trim_end_matches('/');
        let mut url = reqwest::Url::parse(&format!("{base}/v1/text-to-speech/"))
            .map_err(|e| SpeechError::Provider(format!("bad ElevenLabs base url: {e}")))?;
        url.path_segments_mut()
            .map_err(|_| SpeechError::Provider("bad ElevenLabs base url".into()))?
            .pop_if_empty()
            .push(&self.cfg.voice_id)
            .push("stream");
        url.query_pairs_mut()
            .append_pair("output_format", &format!("pcm_{}", self.cfg.sample_rate));
        let settings =
            (self.cfg.stability.is_some() || self.cfg.similarity_boost.is_some()).then(|| {
                VoiceSettings {
                    stability: self.cfg.stability,
                    similarity_boost: self.cfg.similarity_boost,
                }
            });
        let body = StreamRequest {
            text,
            model_id: &self.cfg.model_id,
            voice_settings: settings,
        };
        let body = serde_json::to_vec(&body).map_err(|e| SpeechError::Provider(e.to_string()))?;
        let resp = self
            .cfg
            .policy
            .send("elevenlabs tts", || {
                self.client
                    .post(url.clone())
                    .header("xi-api-key", &self.cfg.api_key)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(reqwest::header::ACCEPT, "audio/pcm")
                    .body(body.clone())
            })
            .await?;
        Ok(pcm16_stream(
            "elevenlabs tts",
            resp,
            self.cfg.policy.read_timeout,
        ))
    }
}
