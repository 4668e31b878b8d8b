//! `GET /media`: upgrades to the Media Streams websocket and hands the socket, adapted
//! to a `Stream`/`Sink` of [`WsFrame`], to a call session task.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio_util::sync::CancellationToken;

use super::AppState;
use crate::call::{self, CallDeps, WsFrame};

/// Accept the upgrade; each socket becomes one call task.
pub async fn upgrade(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    let Some(deps) = state.call_deps() else {
        let why = format!("not ready: {}", state.readiness.waiting_for());
        return (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
    };
    // The transport cap sits well above the codec's limit, so an oversized frame is
    // counted and dropped by the codec instead of killing the connection.
    let cap = state.max_frame_bytes.saturating_mul(16).max(1 << 20);
    ws.max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| handle(socket, deps, state.shutdown.clone()))
}

async fn handle(socket: WebSocket, deps: CallDeps, shutdown: CancellationToken) {
    let (sink, stream) = socket.split();
    let inbound = stream.map(|m| match m {
        Ok(Message::Text(t)) => WsFrame::Text(t.to_string()),
        Ok(Message::Binary(b)) => WsFrame::Binary(b.to_vec()),
        Ok(Message::Ping(p)) => WsFrame::Ping(p.to_vec()),
        Ok(Message::Pong(p)) => WsFrame::Pong(p.to_vec()),
        Ok(Message::Close(_)) | Err(_) => WsFrame::Close,
    });
    let outbound = sink.with(|f: WsFrame| async move {
        Ok::<_, axum::Error>(match f {
            WsFrame::Text(t) => Message::Text(t.into()),
            WsFrame::Binary(b) => Message::Binary(b.into()),
            WsFrame::Ping(p) => Message::Ping(p.into()),
            WsFrame::Pong(p) => Message::Pong(p.into()),
            WsFrame::Close => Message::Close(None),
        })
    });
    call::run(Box::pin(inbound), Box::pin(outbound), deps, shutdown).await;
}
