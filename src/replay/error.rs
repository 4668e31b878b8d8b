//! Errors of the replay tool: bad scenario files, unreadable audio, and failures
//! talking to the server. Expectation mismatches are not errors (see `expect`).

use std::path::PathBuf;

/// Why a scenario could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("scenario {path}: {message}")]
    Scenario { path: PathBuf, message: String },
    #[error("caller audio {path}: {message}")]
    Audio { path: PathBuf, message: String },
    #[error("websocket {url}: {message}")]
    Connect { url: String, message: String },
    #[error("media stream: {0}")]
    Stream(String),
    #[error("call record {url}: {message}")]
    Record { url: String, message: String },
    #[error("in-process server: {0}")]
    Server(String),
    #[error("writing {path}: {message}")]
    Output { path: PathBuf, message: String },
    #[error("call did not finish within {0} s")]
    Timeout(u64),
}
