//! The agent runtime's error type.

use crate::agents::model::ModelError;
use crate::store::StoreError;

/// Errors from loading agents or running a conversation.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A prompt file is invalid; `file` names it.
    #[error("{file}: {message}")]
    Prompt { file: String, message: String },
    /// The prompts directory (or a file in it) could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// No `ChatModel` was supplied for an agent.
    #[error("no chat model configured for agent `{0}`")]
    MissingModel(String),
    /// An agent name that is not in the set.
    #[error("unknown agent `{0}`")]
    UnknownAgent(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A chat model failed in a way the runtime could not absorb.
    #[error("model: {0}")]
    Model(#[from] ModelError),
    /// Terminal (REPL) i/o failed.
    #[error("terminal i/o: {0}")]
    Terminal(std::io::Error),
}

impl AgentError {
    /// A prompt-file validation error.
    pub fn prompt(file: impl Into<String>, message: impl Into<String>) -> Self {
        AgentError::Prompt {
            file: file.into(),
            message: message.into(),
        }
    }
}
