//! `GET /media`: checks and upgrades the Media Streams websocket and hands the socket,
//! adapted to a `Stream`/`Sink` of [`WsFrame`], to a call session task.
//!
//! Before the upgrade: readiness, the handshake's `X-Twilio-Signature` (production
//! mode) and the client's pending-upgrade cap (429). After it: the concurrent-call cap
//! (close 1013 with a reason). The session then refuses a stream without a valid
//! stream token or `start` (close 1008) before any audio is sent.

use std::net::SocketAddr;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::admission::{CallSlot, PendingSlot, Refusal};
use super::AppState;
use crate::call::{self, CallDeps, WsFrame};

/// Accept the upgrade; each socket becomes one call task.
pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(deps) = state.call_deps() else {
        let why = format!("not ready: {}", state.readiness.waiting_for());
        return (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
    };
    if let Err(resp) = state
        .security
        .check_twilio(&state.metrics, &headers, &uri, &[], true)
    {
        return resp;
    }
    let pending = match state.admission.pending(peer.ip()) {
        Ok(slot) => slot,
        Err(refusal) => {
            state.metrics.refused.with_label_values(&[refusal.kind()]).inc();
            warn!(client = %peer.ip(), "too many media sockets without a start from one client");
            return (
                StatusCode::TOO_MANY_REQUESTS,
                "too many pending media streams",
            )
                .into_response();
        }
    };
    let slot = state.admission.call();
    // The transport cap sits well above the codec's limit, so an oversized frame is
    // counted and dropped by the codec instead of killing the connection.
    let cap = state.max_frame_bytes.saturating_mul(16).max(1 << 20);
    let shutdown = state.shutdown.clone();
    let metrics = state.metrics.clone();
    ws.max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| async move {
            match slot {
                Ok(slot) => handle(socket, deps, slot, pending, shutdown).await,
                Err(refusal) => {
                    metrics.refused.with_label_values(&[refusal.kind()]).inc();
                    warn!("refused a media stream: at the concurrent call cap");
                    refuse(socket, refusal).await;
                }
            }
        })
}

/// Close a socket we will not serve, with code 1013 (try again later) and a reason.
async fn refuse(mut socket: WebSocket, refusal: Refusal) {
    let reason = match refusal {
        Refusal::AtCapacity => "server at capacity",
        Refusal::TooManyPending => "too many pending media streams",
    };
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 1013,
            reason: reason.into(),
        })))
        .await;
}

async fn handle(
    socket: WebSocket,
    deps: CallDeps,
    slot: CallSlot,
    pending: PendingSlot,
    shutdown: CancellationToken,
) {
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
            WsFrame::Reject { code, reason } => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
        })
    });
    call::run(
        Box::pin(inbound),
        Box::pin(outbound),
        deps,
        Some(Box::new(pending)),
        shutdown,
    )
    .await;
    drop(slot);
}
