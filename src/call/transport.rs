//! The transport-neutral websocket frame a call session reads and writes.
//!
//! The server adapts axum's socket to a `Stream`/`Sink` of [`WsFrame`], tests and the
//! replay client adapt tokio-tungstenite's, so the session never names a websocket
//! library.

/// One websocket frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsFrame {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// A close frame (or the end of the connection).
    Close,
    /// A close frame with a status code (RFC 6455 §7.4: 1008 policy violation, 1013
    /// try again later) and a short reason; sent when a stream is refused.
    Reject {
        code: u16,
        reason: String,
    },
}
