//! The `ChatModel` seam: a streaming chat-completions-shaped interface every agent
//! brain implements (the embedded policy, OpenAI-compatible servers, scripted fakes).
//!
//! The shapes mirror OpenAI chat completions so a real LLM and the embedded brain
//! are interchangeable: messages in, a stream of text deltas, tool-call deltas and a
//! finish reason out.

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

/// One message of the conversation as a model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage {
    System {
        content: String,
    },
    User {
        content: String,
    },
    Assistant {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    Tool {
        tool_call_id: String,
        content: String,
    },
}

/// A complete tool call requested by a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// JSON-encoded arguments object.
    pub arguments: String,
}

/// A tool the model may call, with JSON-schema parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

/// Everything a model needs for one completion.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Name of the agent making the request (the embedded brain uses it to find the
    /// agent's intents and templates; remote models ignore it).
    pub agent: String,
    /// Provider-side model name (e.g. "gpt-4o-mini").
    pub model: String,
    pub messages: Vec<ChatMessage>,
    pub tools: Vec<ToolSpec>,
    pub temperature: Option<f32>,
}

/// Why a completion stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    ToolCalls,
    Length,
    ContentFilter,
    Other,
}

/// One streamed event of a completion.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    /// A piece of the reply text.
    TextDelta(String),
    /// A piece of a tool call; `index` groups deltas of the same call, `id` and `name`
    /// arrive in the first delta of a call, `arguments` are JSON text fragments.
    ToolCallDelta {
        index: usize,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
    /// The end of the completion. Always the last event of a successful stream.
    Finish(FinishReason),
    /// A model of the agent's chain failed before replying and the next one serves
    /// this request ([`crate::agents::fallback`]); `reason` is a short word
    /// (`connect`, `timeout`, `status`, `malformed`, `breaker_open`).
    Switched {
        from: String,
        to: String,
        reason: String,
    },
}

/// Errors from a chat model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("http error: {0}")]
    Http(String),
    #[error("provider returned status {status}: {body}")]
    Status { status: u16, body: String },
    #[error("timed out after {0} ms")]
    Timeout(u64),
    #[error("malformed response: {0}")]
    Protocol(String),
    #[error("configuration error: {0}")]
    Config(String),
    #[error("model error: {0}")]
    Other(String),
}

/// A stream of completion events.
pub type ChatStream = BoxStream<'static, Result<ChatEvent, ModelError>>;

/// A chat model: the brain behind one or more agents.
#[async_trait::async_trait]
pub trait ChatModel: Send + Sync {
    /// Short name for traces ("embedded", "openai:gpt-4o-mini", ...).
    fn name(&self) -> String;
    /// Start a streamed completion.
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, ModelError>;
}
