//! Cloud STT over Deepgram's streaming websocket (`/v1/listen`).
//!
//! Wire format: connect to `wss://api.deepgram.com/v1/listen?encoding=linear16&
//! sample_rate=16000&channels=1&interim_results=true&vad_events=true&...` with
//! `Authorization: Token KEY`; send audio as binary frames of 16-bit little-endian
//! PCM; send `{"type":"Finalize"}` to flush, `{"type":"KeepAlive"}` when idle and
//! `{"type":"CloseStream"}` at the end. The server sends JSON: `Results` (with
//! `is_final`, `speech_final`, `from_finalize`, `start`, `duration` and
//! `channel.alternatives[0].transcript/confidence`), `SpeechStarted`
//! (`timestamp`), `UtteranceEnd` (`last_word_end`) and `Metadata`.
//!
//! Mapping: interim results become `Partial` (finalised text of the turn + the
//! interim words); `is_final` results accumulate; our `Flush` sends `Finalize` and
//! the `Final` is emitted when the `from_finalize` result arrives (or after
//! `finalize_timeout`, with whatever was finalised). `SpeechStarted` comes from
//! Deepgram's VAD event or the first transcript, `SpeechEnded` follows the `Final`.
//! Connecting has a timeout and retries with exponential backoff.

use std::collections::VecDeque;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::speech::{SpeechError, SpeechToText, SttEvent, SttInput, SttStream};

/// Settings for Deepgram streaming recognition.
#[derive(Debug, Clone)]
pub struct DeepgramConfig {
    /// Listen endpoint, `wss://api.deepgram.com/v1/listen` in production.
    pub url: String,
    pub api_key: String,
    pub model: String,
    pub language: String,
    /// Extra query parameters (`("endpointing", "300")`, ...).
    pub extra_params: Vec<(String, String)>,
    /// Domain words to boost: sent as `keyterm` to Nova-3 models (phrases kept whole),
    /// as `keywords` (single words) to older ones.
    pub vocabulary: Vec<String>,
    pub connect_timeout: Duration,
    /// Connection retries after the first attempt.
    pub connect_retries: u32,
    /// First retry delay (doubles each retry).
    pub backoff: Duration,
    /// How long to wait for the answer to `Finalize` before finalising locally.
    pub finalize_timeout: Duration,
    /// Send `KeepAlive` after this long without audio (Deepgram closes idle streams after 10 s).
    pub keepalive: Duration,
}

impl Default for DeepgramConfig {
    fn default() -> Self {
        Self {
            url: "wss://api.deepgram.com/v1/listen".into(),
            api_key: String::new(),
            model: "nova-2".into(),
            language: "en-US".into(),
            extra_params: vec![("utterance_end_ms".into(), "1000".into())],
            vocabulary: Vec::new(),
            connect_timeout: Duration::from_secs(5),
            connect_retries: 2,
            backoff: Duration::from_millis(250),
            finalize_timeout: Duration::from_secs(2),
            keepalive: Duration::from_secs(5),
        }
    }
}

impl DeepgramConfig {
    /// Full listen URL with query parameters.
    pub fn listen_url(&self) -> String {
        let mut q = vec![
            ("encoding".to_string(), "linear16".to_string()),
            ("sample_rate".into(), "16000".into()),
            ("channels".into(), "1".into()),
            ("interim_results".into(), "true".into()),
            ("vad_events".into(), "true".into()),
            ("punctuate".into(), "true".into()),
            ("smart_format".into(), "true".into()),
            ("model".into(), self.model.clone()),
            ("language".into(), self.language.clone()),
        ];
        if self.model.starts_with("nova-3") {
            q.extend(
                self.vocabulary
                    .iter()
                    .map(|t| ("keyterm".into(), t.clone())),
            );
        } else {
            let mut words: Vec<&str> = self
                .vocabulary
                .iter()
                .flat_map(|t| t.split_whitespace())
                .filter(|w| w.len() > 2)
                .collect();
            words.sort_unstable();
            words.dedup();
            q.extend(
                words
                    .into_iter()
                    .map(|w| ("keywords".into(), w.to_string())),
            );
        }
        q.extend(self.extra_params.iter().cloned());
        let query: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect();
        format!("{}?{}", self.url, query.join("&"))
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// [`SpeechToText`] client for Deepgram streaming.
#[derive(Debug, Clone)]
pub struct DeepgramStt {
    cfg: DeepgramConfig,
}

impl DeepgramStt {
    pub fn new(cfg: DeepgramConfig) -> Self {
        Self { cfg }
    }

    async fn connect(&self) -> Result<WsStream, SpeechError> {
        let mut attempt = 0;
        loop {
            let err = match self.connect_once().await {
                Ok(ws) => return Ok(ws),
                Err(e) => e,
            };
            if attempt >= self.cfg.connect_retries {
                return Err(err);
            }
            let delay = self.cfg.backoff * 2u32.saturating_pow(attempt);
            tracing::warn!(error = %err, attempt, ?delay, "deepgram connect failed; retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn connect_once(&self) -> Result<WsStream, SpeechError> {
        let mut req = self
            .cfg
            .listen_url()
            .into_client_request()
            .map_err(|e| SpeechError::Provider(format!("deepgram url: {e}")))?;
        let auth = HeaderValue::from_str(&format!("Token {}", self.cfg.api_key))
            .map_err(|_| SpeechError::Provider("API key is not a valid header".into()))?;
        req.headers_mut().insert("Authorization", auth);
        let t = self.cfg.connect_timeout;
        match tokio::time::timeout(t, tokio_tungstenite::connect_async(req)).await {
            Err(_) => Err(SpeechError::Timeout(t.as_millis() as u64)),
            Ok(Err(e)) => Err(SpeechError::Provider(format!("deepgram connect: {e}"))),
            Ok(Ok((ws, _))) => Ok(ws),
        }
    }
}

type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[async_trait::async_trait]
impl SpeechToText for DeepgramStt {
    fn name(&self) -> &str {
        "deepgram"
    }

    async fn open(&self) -> Result<SttStream, SpeechError> {
        let ws = self.connect().await?;
        let (input, in_rx) = mpsc::channel(crate::speech::STT_INPUT_CAPACITY);
        let (ev_tx, events) = mpsc::channel(64);
        tokio::spawn(run(ws, self.cfg.clone(), in_rx, ev_tx));
        Ok(SttStream { input, events })
    }
}

/// Server messages we act on.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum ServerMsg {
    Results {
        #[serde(default)]
        is_final: bool,
        #[serde(default)]
        from_finalize: bool,
        #[serde(default)]
        start: f64,
        #[serde(default)]
        duration: f64,
        channel: Channel,
    },
    SpeechStarted {
        #[serde(default)]
        timestamp: f64,
    },
    UtteranceEnd {
        #[serde(default)]
        last_word_end: f64,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct Channel {
    alternatives: Vec<Alternative>,
}

#[derive(Debug, Deserialize)]
struct Alternative {
    #[serde(default)]
    transcript: String,
    #[serde(default)]
    confidence: f32,
}

fn secs_to_ms(s: f64) -> u64 {
    (s.max(0.0) * 1000.0).round() as u64
}

/// Per-turn recognition state.
#[derive(Default)]
struct Turn {
    start_samples: u64,
    started: bool,
    segments: Vec<(String, f32)>,
}

impl Turn {
    fn committed(&self) -> String {
        let parts: Vec<&str> = self.segments.iter().map(|(t, _)| t.as_str()).collect();
        parts.join(" ")
    }
}

struct Session {
    ev: mpsc::Sender<SttEvent>,
    turn: Turn,
    /// Samples pushed at each `Flush` still waiting for its finalize answer.
    pending: VecDeque<(u64, Instant)>,
    total: u64,
    finalize_timeout: Duration,
}

impl Session {
    async fn emit(&self, ev: SttEvent) -> bool {
        self.ev.send(ev).await.is_ok()
    }

    async fn speech_started(&mut self, at_ms: u64) -> bool {
        if self.turn.started {
            return true;
        }
        self.turn.started = true;
        self.emit(SttEvent::SpeechStarted { at_ms }).await
    }

    /// Emit the `Final` (+ `SpeechEnded`) for the oldest pending flush.
    async fn finalize(&mut self) -> bool {
        let Some((end, _)) = self.pending.pop_front() else {
            return true;
        };
        let turn = std::mem::take(&mut self.turn);
        self.turn.start_samples = end;
        let text = turn.committed();
        let confidence = if turn.segments.is_empty() {
            0.0
        } else {
            turn.segments.iter().map(|(_, c)| c).sum::<f32>() / turn.segments.len() as f32
        };
        let ms = |s: u64| s * 1000 / 16_000;
        let (start_ms, end_ms) = (ms(turn.start_samples), ms(end));
        let mut ok = true;
        if !text.is_empty() && !turn.started {
            ok &= self.emit(SttEvent::SpeechStarted { at_ms: start_ms }).await;
        }
        ok &= self
            .emit(SttEvent::Final {
                text: text.clone(),
                start_ms,
                end_ms,
                confidence,
                continued: false,
            })
            .await;
        if turn.started || !text.is_empty() {
            ok &= self.emit(SttEvent::SpeechEnded { at_ms: end_ms }).await;
        }
        ok
    }

    async fn on_server(&mut self, msg: ServerMsg) -> bool {
        match msg {
            ServerMsg::Results {
                is_final,
                from_finalize,
                start,
                duration,
                channel,
            } => {
                let Some(alt) = channel.alternatives.into_iter().next() else {
                    return true;
                };
                let text = alt.transcript.trim().to_string();
                if !text.is_empty() && !self.speech_started(secs_to_ms(start)).await {
                    return false;
                }
                if is_final {
                    if !text.is_empty() {
                        self.turn.segments.push((text, alt.confidence));
                    }
                    if from_finalize {
                        return self.finalize().await;
                    }
                } else if !text.is_empty() {
                    let committed = self.turn.committed();
                    let text = if committed.is_empty() {
                        text
                    } else {
                        format!("{committed} {text}")
                    };
                    let at_ms = secs_to_ms(start + duration);
                    return self.emit(SttEvent::Partial { text, at_ms }).await;
                }
                true
            }
            ServerMsg::SpeechStarted { timestamp } => {
                self.speech_started(secs_to_ms(timestamp)).await
            }
            ServerMsg::UtteranceEnd { last_word_end } => {
                tracing::debug!(last_word_end, "deepgram utterance end");
                true
            }
            ServerMsg::Other => true,
        }
    }
}

fn pcm16(pcm: &[f32]) -> Vec<u8> {
    pcm.iter()
        .flat_map(|x| ((x.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
        .collect()
}

async fn run(
    ws: WsStream,
    cfg: DeepgramConfig,
    mut input: mpsc::Receiver<SttInput>,
    ev: mpsc::Sender<SttEvent>,
) {
    let (mut sink, mut stream) = ws.split();
    let mut s = Session {
        ev,
        turn: Turn::default(),
        pending: VecDeque::new(),
        total: 0,
        finalize_timeout: cfg.finalize_timeout,
    };
    let mut input_open = true;
    let mut last_sent = Instant::now();
    loop {
        let deadline = s.pending.front().map(|(_, d)| *d);
        let keepalive_at = last_sent + cfg.keepalive;
        tokio::select! {
            msg = input.recv(), if input_open => {
                let out = match msg {
                    Some(SttInput::Audio(pcm)) => {
                        s.total += pcm.len() as u64;
                        Message::Binary(pcm16(&pcm).into())
                    }
                    // Deepgram streams one transcript; a continuation is just more audio.
                    Some(SttInput::Continue | SttInput::Pause | SttInput::Resume) => continue,
                    Some(SttInput::Flush) => {
                        s.pending.push_back((s.total, Instant::now() + s.finalize_timeout));
                        Message::text(r#"{"type":"Finalize"}"#)
                    }
                    None => {
                        input_open = false;
                        Message::text(r#"{"type":"CloseStream"}"#)
                    }
                };
                last_sent = Instant::now();
                if let Err(e) = sink.send(out).await {
                    tracing::warn!(error = %e, "deepgram send failed");
                    break;
                }
            }
            msg = stream.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "deepgram stream error");
                        break;
                    }
                };
                match serde_json::from_str::<ServerMsg>(text.as_str()) {
                    Ok(m) => {
                        if !s.on_server(m).await {
                            return;
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "unparsed deepgram message"),
                }
            }
            _ = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            } => {
                tracing::warn!("deepgram did not answer Finalize in time; finalising locally");
                if !s.finalize().await {
                    return;
                }
            }
            _ = tokio::time::sleep_until(keepalive_at), if input_open => {
                last_sent = Instant::now();
                if sink.send(Message::text(r#"{"type":"KeepAlive"}"#)).await.is_err() {
                    break;
                }
            }
        }
    }
    // Connection gone: answer every outstanding flush with what was finalised.
    while !s.pending.is_empty() {
        if !s.finalize().await {
            return;
        }
    }
}

#[cfg(test)]
#[path = "deepgram_tests.rs"]
mod tests;
