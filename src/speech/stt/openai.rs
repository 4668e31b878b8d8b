//! Cloud STT over the OpenAI-compatible `POST /v1/audio/transcriptions` endpoint.
//!
//! The endpoint is batch-only, so the stream buffers audio since the last `Flush`
//! and uploads it as a 16 kHz 16-bit WAV (`multipart/form-data`: `file`, `model`,
//! `language`, `prompt`, `response_format=json`) when the turn ends; after a `Continue` the
//! previous utterance is uploaded again with the new audio. No partials. Requests
//! have a timeout and are retried with exponential backoff on connection errors,
//! timeouts, HTTP 429 and 5xx; other 4xx errors fail at once. A failed turn yields an
//! empty `Final` (logged) so the call carries on.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::speech::stt::continuation::Continuation;
use crate::speech::{SpeechError, SpeechToText, SttEvent, SttInput, SttStream};

/// Settings for an OpenAI-compatible transcription endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiSttConfig {
    /// Base URL without the `/v1/...` path, e.g. `https://api.openai.com`.
    pub base_url: String,
    pub api_key: String,
    /// Model name, e.g. `whisper-1` or `gpt-4o-mini-transcribe`.
    pub model: String,
    /// ISO-639-1 language hint.
    pub language: Option<String>,
    /// Text the model reads as preceding context (the agents' domain words), if any.
    pub prompt: Option<String>,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First retry delay (doubles each retry).
    pub backoff: Duration,
}

impl Default for OpenAiSttConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com".into(),
            api_key: String::new(),
            model: "gpt-4o-mini-transcribe".into(),
            language: Some("en".into()),
            prompt: None,
            timeout: Duration::from_secs(15),
            max_retries: 2,
            backoff: Duration::from_millis(250),
        }
    }
}

/// [`SpeechToText`] client for `/v1/audio/transcriptions`.
#[derive(Debug, Clone)]
pub struct OpenAiStt {
    cfg: OpenAiSttConfig,
    http: reqwest::Client,
}

impl OpenAiStt {
    pub fn new(cfg: OpenAiSttConfig) -> Result<Self, SpeechError> {
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.timeout)
            .build()
            .map_err(|e| SpeechError::Provider(format!("http client: {e}")))?;
        Ok(Self { cfg, http })
    }

    /// Transcribe one utterance of 16 kHz PCM (with timeout and retries).
    pub async fn transcribe(&self, pcm: &[f32]) -> Result<String, SpeechError> {
        let url = format!(
            "{}/v1/audio/transcriptions",
            self.cfg.base_url.trim_end_matches('/')
        );
        let wav = wav_bytes(pcm)?;
        let boundary = format!("switchboard-{:016x}", pcm.len() as u64 ^ 0x5eed_5eed);
        let body = multipart_body(&boundary, &self.cfg, &wav);
        let mut attempt = 0;
        loop {
            let req = self
                .http
                .post(&url)
                .bearer_auth(&self.cfg.api_key)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body.clone())
                .timeout(self.cfg.timeout);
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_success() {
                        let v: serde_json::Value = resp.json().await.map_err(|e| {
                            SpeechError::Provider(format!("transcription response: {e}"))
                        })?;
                        return v
                            .get("text")
                            .and_then(|t| t.as_str())
                            .map(|t| t.trim().to_string())
                            .ok_or_else(|| SpeechError::Provider("response has no `text`".into()));
                    }
                    let detail = resp.text().await.unwrap_or_default();
                    let err = SpeechError::Provider(format!(
                        "transcription HTTP {status}: {}",
                        detail.chars().take(200).collect::<String>()
                    ));
                    if status.as_u16() == 429 || status.is_server_error() {
                        err
                    } else {
                        return Err(err);
                    }
                }
                Err(e) if e.is_timeout() => {
                    SpeechError::Timeout(self.cfg.timeout.as_millis() as u64)
                }
                Err(e) => SpeechError::Provider(format!("transcription request: {e}")),
            };
            if attempt >= self.cfg.max_retries {
                return Err(outcome);
            }
            let delay = self.cfg.backoff * 2u32.saturating_pow(attempt);
            tracing::warn!(error = %outcome, attempt, ?delay, "transcription failed; retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

/// 16-bit mono 16 kHz WAV file bytes.
pub fn wav_bytes(pcm: &[f32]) -> Result<Vec<u8>, SpeechError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cur = std::io::Cursor::new(Vec::with_capacity(44 + pcm.len() * 2));
    let err = |e: hound::Error| SpeechError::Provider(format!("wav encode: {e}"));
    let mut w = hound::WavWriter::new(&mut cur, spec).map_err(err)?;
    for &x in pcm {
        w.write_sample((x.clamp(-1.0, 1.0) * 32767.0) as i16)
            .map_err(err)?;
    }
    w.finalize().map_err(err)?;
    Ok(cur.into_inner())
}

fn multipart_body(boundary: &str, cfg: &OpenAiSttConfig, wav: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(wav.len() + 512);
    let mut field = |name: &str, value: &str| {
        b.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    field("model", &cfg.model);
    field("response_format", "json");
    if let Some(lang) = &cfg.language {
        field("language", lang);
    }
    if let Some(prompt) = cfg.prompt.as_deref().filter(|p| !p.trim().is_empty()) {
        field("prompt", prompt);
    }
    b.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"turn.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
        )
        .as_bytes(),
    );
    b.extend_from_slice(wav);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    b
}

#[async_trait::async_trait]
impl SpeechToText for OpenAiStt {
    fn name(&self) -> &str {
        "openai"
    }

    async fn open(&self) -> Result<SttStream, SpeechError> {
        let (input, mut rx) = mpsc::channel::<SttInput>(crate::speech::STT_INPUT_CAPACITY);
        let (tx, events) = mpsc::channel(64);
        let client = self.clone();
        tokio::spawn(async move {
            let mut buf: Vec<f32> = Vec::new();
            // The last flushed utterance, re-sent when the next one continues it.
            let mut continuation = Continuation::default();
            let (mut total, mut start) = (0u64, 0u64);
            let ms = |s: u64| s * 1000 / 16_000;
            while let Some(msg) = rx.recv().await {
                match msg {
                    SttInput::Audio(pcm) => {
                        if pcm.is_empty() {
                            continue;
                        }
                        if buf.is_empty() {
                            start = total;
                            let ev = SttEvent::SpeechStarted { at_ms: ms(total) };
                            if tx.send(ev).await.is_err() {
                                return;
                            }
                        }
                        total += pcm.len() as u64;
                        buf.extend_from_slice(&pcm);
                    }
                    SttInput::Continue => {
                        if let Some(s) = continuation.on_continue(&mut buf) {
                            start = s;
                        }
                    }
                    // One request per turn, sent at the flush (no speculative upload).
                    SttInput::Pause | SttInput::Resume => {}
                    SttInput::Flush => {
                        let had_audio = !buf.is_empty();
                        if !had_audio {
                            start = total;
                        }
                        let text = if had_audio {
                            match client.transcribe(&buf).await {
                                Ok(text) => text,
                                Err(e) => {
                                    tracing::warn!(error = %e, "cloud transcription failed");
                                    continuation.on_flush(&buf, start);
                                    buf.clear();
                                    let failed = SttEvent::Failed {
                                        reason: e.to_string(),
                                    };
                                    if tx.send(failed).await.is_err() {
                                        return;
                                    }
                                    continue;
                                }
                            }
                        } else {
                            String::new()
                        };
                        let continued = continuation.on_flush(&buf, start);
                        buf.clear();
                        let confidence = if text.is_empty() { 0.0 } else { 1.0 };
                        let (start_ms, end_ms) = (ms(start), ms(total));
                        let fin = SttEvent::Final {
                            text,
                            start_ms,
                            end_ms,
                            confidence,
                            continued,
                        };
                        if tx.send(fin).await.is_err() {
                            return;
                        }
                        if had_audio
                            && tx
                                .send(SttEvent::SpeechEnded { at_ms: end_ms })
                                .await
                                .is_err()
                        {
                            return;
                        }
                    }
                }
            }
        });
        Ok(SttStream { input, events })
    }
}

#[cfg(test)]
#[path = "openai_tests.rs"]
mod tests;
