//! An OpenAI-compatible chat-completions client (OpenAI, vLLM, Ollama, llama.cpp
//! server): streamed completions over SSE with text and incremental tool-call
//! deltas, per-agent configuration, timeouts, and retries with exponential backoff
//! on connect errors, 429 and 5xx before the first streamed byte.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::{json, Value};
use tokio::time::{timeout_at, Instant};

use crate::agents::model::{
    ChatEvent, ChatMessage, ChatModel, ChatRequest, ChatStream, FinishReason, ModelError, ToolSpec,
};

/// OpenAI's public endpoint.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// How one agent talks to an OpenAI-compatible server.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiConfig {
    /// Base URL up to and including `/v1` (e.g. `http://localhost:11434/v1` for Ollama).
    pub base_url: String,
    /// Model name sent when the request does not carry one.
    pub model: String,
    /// Environment variable holding the API key (none for local servers).
    pub api_key_env: Option<String>,
    /// Default sampling temperature.
    pub temperature: Option<f32>,
    /// Most tokens one reply may have (`max_tokens`); `None` = the server's limit.
    pub max_tokens: Option<u32>,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// From sending the request to the first streamed byte of the body.
    pub first_token_timeout: Duration,
    /// From sending the request to the end of the stream.
    pub total_timeout: Duration,
    /// Retries after the first attempt (connect errors, 429, 5xx only).
    pub max_retries: u32,
    /// First backoff; doubled on each retry.
    pub backoff: Duration,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            base_url: OPENAI_BASE_URL.into(),
            model: "gpt-4o-mini".into(),
            api_key_env: Some("OPENAI_API_KEY".into()),
            temperature: None,
            max_tokens: None,
            connect_timeout: Duration::from_secs(5),
            first_token_timeout: Duration::from_secs(15),
            total_timeout: Duration::from_secs(60),
            max_retries: 2,
            backoff: Duration::from_millis(250),
        }
    }
}

/// A chat model served by an OpenAI-compatible HTTP API.
#[derive(Debug, Clone)]
pub struct OpenAiModel {
    client: reqwest::Client,
    config: OpenAiConfig,
    api_key: Option<String>,
}

impl OpenAiModel {
    /// Builds the client; the API key is read now from `api_key_env` (missing → error).
    pub fn new(config: OpenAiConfig) -> Result<Self, ModelError> {
        let api_key = match &config.api_key_env {
            Some(var) if !var.is_empty() => Some(std::env::var(var).map_err(|_| {
                ModelError::Config(format!(
                    "environment variable {var} (API key for {}) is not set",
                    config.base_url
                ))
            })?),
            _ => None,
        };
        Self::with_key(config, api_key)
    }

    /// Builds the client with an explicit API key.
    pub fn with_key(config: OpenAiConfig, api_key: Option<String>) -> Result<Self, ModelError> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| ModelError::Config(format!("http client: {e}")))?;
        Ok(Self {
            client,
            config,
            api_key,
        })
    }

    fn url(&self) -> String {
        format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        )
    }

    /// The JSON body for a request.
    pub fn body(&self, request: &ChatRequest) -> Value {
        let model = if request.model.is_empty() {
            &self.config.model
        } else {
            &request.model
        };
        let mut body = json!({
            "model": model,
            "messages": request.messages.iter().map(message_json).collect::<Vec<_>>(),
            "stream": true,
        });
        if !request.tools.is_empty() {
            body["tools"] = Value::Array(request.tools.iter().map(tool_json).collect());
        }
        if let Some(t) = request.temperature.or(self.config.temperature) {
            body["temperature"] = json!(t);
        }
        if let Some(n) = self.config.max_tokens {
            body["max_tokens"] = json!(n);
        }
        body
    }

    /// Sends with retries until a 2xx response whose first body chunk arrived.
    async fn open(
        &self,
        body: &Value,
        deadline: Instant,
    ) -> Result<(Bytes, BoxStream<'static, reqwest::Result<Bytes>>), ModelError> {
        let first_ms = self.config.first_token_timeout.as_millis() as u64;
        let mut attempt = 0;
        loop {
            let first_deadline = (Instant::now() + self.config.first_token_timeout).min(deadline);
            let mut rb = self.client.post(self.url()).json(body);
            if let Some(key) = &self.api_key {
                rb = rb.bearer_auth(key);
            }
            let outcome = timeout_at(first_deadline, async {
                let resp = rb.send().await?;
                let status = resp.status();
                if !status.is_success() {
                    let text = resp.text().await.unwrap_or_default();
                    return Ok(Err((status.as_u16(), text)));
                }
                let mut body = resp.bytes_stream().boxed();
                loop {
                    match body.next().await {
                        Some(Ok(b)) if b.is_empty() => continue,
                        Some(Ok(b)) => return Ok(Ok((b, body))),
                        Some(Err(e)) => return Err(e),
                        None => return Ok(Ok((Bytes::new(), body))),
                    }
                }
            })
            .await;
            let retryable = match outcome {
                Err(_) => return Err(ModelError::Timeout(first_ms)),
                Ok(Ok(Ok(opened))) => return Ok(opened),
                Ok(Ok(Err((status, text)))) => {
                    let err = ModelError::Status {
                        status,
                        body: text.chars().take(500).collect(),
                    };
                    (status == 429 || status >= 500, err)
                }
                Ok(Err(e)) if e.is_timeout() => return Err(ModelError::Timeout(first_ms)),
                Ok(Err(e)) => (e.is_connect(), ModelError::Http(e.to_string())),
            };
            match retryable {
                (true, err) if attempt < self.config.max_retries => {
                    let wait = self.config.backoff * 2u32.saturating_pow(attempt);
                    tracing::warn!(error = %err, attempt, wait_ms = wait.as_millis() as u64, "retrying chat completion");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                (_, err) => return Err(err),
            }
        }
    }
}

#[async_trait::async_trait]
impl ChatModel for OpenAiModel {
    fn name(&self) -> String {
        format!("openai:{}", self.config.model)
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, ModelError> {
        let deadline = Instant::now() + self.config.total_timeout;
        let body = self.body(&request);
        let (first, rest) = self.open(&body, deadline).await?;
        let state = SseState {
            body: rest,
            parser: SseParser::default(),
            pending: VecDeque::new(),
            deadline,
            total_ms: self.config.total_timeout.as_millis() as u64,
            done: false,
        };
        let mut state = state;
        if let Err(e) = state.parser.feed(&first, &mut state.pending) {
            state.pending.push_back(Err(e));
        }
        Ok(stream::unfold(state, next_event).boxed())
    }
}

struct SseState {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    parser: SseParser,
    pending: VecDeque<Result<ChatEvent, ModelError>>,
    deadline: Instant,
    total_ms: u64,
    done: bool,
}

async fn next_event(mut s: SseState) -> Option<(Result<ChatEvent, ModelError>, SseState)> {
    loop {
        if let Some(ev) = s.pending.pop_front() {
            if ev.is_err() || matches!(ev, Ok(ChatEvent::Finish(_))) && s.parser.done {
                s.done = true;
                s.pending.clear();
            }
            return Some((ev, s));
        }
        if s.done || s.parser.done {
            return None;
        }
        match timeout_at(s.deadline, s.body.next()).await {
            Err(_) => {
                s.done = true;
                return Some((Err(ModelError::Timeout(s.total_ms)), s));
            }
            Ok(Some(Ok(bytes))) => {
                if let Err(e) = s.parser.feed(&bytes, &mut s.pending) {
                    s.pending.push_back(Err(e));
                }
            }
            Ok(Some(Err(e))) => {
                s.done = true;
                return Some((Err(ModelError::Http(e.to_string())), s));
            }
            Ok(None) => {
                s.parser.feed(b"\n", &mut s.pending).ok();
                if !s.parser.finished {
                    s.done = true;
                    return Some((
                        Err(ModelError::Protocol(
                            "stream ended before a finish reason".into(),
                        )),
                        s,
                    ));
                }
                return None;
            }
        }
    }
}

/// Incremental parser of the chat-completions SSE wire format.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    /// A `finish_reason` was seen (and a `Finish` event emitted).
    pub finished: bool,
    /// `data: [DONE]` was seen.
    pub done: bool,
}

impl SseParser {
    /// Feeds bytes, appending complete events; malformed data is a `Protocol` error.
    pub fn feed(
        &mut self,
        bytes: &[u8],
        out: &mut VecDeque<Result<ChatEvent, ModelError>>,
    ) -> Result<(), ModelError> {
        self.buf.extend_from_slice(bytes);
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            let data = data.trim();
            if self.done || data.is_empty() {
                continue;
            }
            if data == "[DONE]" {
                self.done = true;
                if !self.finished {
                    self.finished = true;
                    out.push_back(Ok(ChatEvent::Finish(FinishReason::Stop)));
                }
                continue;
            }
            self.chunk(data, out)?;
        }
        Ok(())
    }

    fn chunk(
        &mut self,
        data: &str,
        out: &mut VecDeque<Result<ChatEvent, ModelError>>,
    ) -> Result<(), ModelError> {
        let v: Value = serde_json::from_str(data).map_err(|e| {
            ModelError::Protocol(format!(
                "bad chunk ({e}): {}",
                data.chars().take(200).collect::<String>()
            ))
        })?;
        if let Some(err) = v.get("error") {
            return Err(ModelError::Other(format!(
                "provider error in stream: {err}"
            )));
        }
        let Some(choice) = v.pointer("/choices/0") else {
            return Ok(());
        }; // e.g. a usage-only chunk
        if let Some(delta) = choice.get("delta") {
            if let Some(text) = delta.get("content").and_then(Value::as_str) {
                if !text.is_empty() {
                    out.push_back(Ok(ChatEvent::TextDelta(text.to_string())));
                }
            }
            if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
                for (i, call) in calls.iter().enumerate() {
                    let index = call
                        .get("index")
                        .and_then(Value::as_u64)
                        .map(|x| x as usize)
                        .unwrap_or(i);
                    let id = call.get("id").and_then(Value::as_str).map(str::to_string);
                    let f = call.get("function");
                    let name = f
                        .and_then(|f| f.get("name"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    let arguments = f
                        .and_then(|f| f.get("arguments"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    out.push_back(Ok(ChatEvent::ToolCallDelta {
                        index,
                        id,
                        name,
                        arguments,
                    }));
                }
            }
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            if !self.finished {
                self.finished = true;
                out.push_back(Ok(ChatEvent::Finish(finish_reason(reason))));
            }
        }
        Ok(())
    }
}

fn finish_reason(s: &str) -> FinishReason {
    match s {
        "stop" => FinishReason::Stop,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "length" => FinishReason::Length,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

/// A message in OpenAI's shape.
pub fn message_json(m: &ChatMessage) -> Value {
    match m {
        ChatMessage::System { content } => json!({"role": "system", "content": content}),
        ChatMessage::User { content } => json!({"role": "user", "content": content}),
        ChatMessage::Assistant {
            content,
            tool_calls,
        } => {
            let mut v = json!({"role": "assistant", "content": content});
            if !tool_calls.is_empty() {
                v["tool_calls"] = tool_calls
                    .iter()
                    .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
                    .collect();
            }
            v
        }
        ChatMessage::Tool {
            tool_call_id,
            content,
        } => {
            json!({"role": "tool", "tool_call_id": tool_call_id, "content": content})
        }
    }
}

/// A tool in OpenAI's shape.
pub fn tool_json(t: &ToolSpec) -> Value {
    json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}})
}

#[cfg(test)]
#[path = "openai_tests.rs"]
mod tests;
