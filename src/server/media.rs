//! `GET /media`: checks and upgrades the Media Streams websocket and hands the socket,
//! adapted to a `Stream`/`Sink` of [`WsFrame`], to a call session task.
//!
//! Before the upgrade: readiness, the handshake's `X-Twilio-Signature` (production
//! mode) and the caps on unauthenticated sockets (429). The session then refuses a
//! stream without a valid stream token or `start` (close 1008), and over the
//! concurrent-call cap (close 1013), before any audio is sent.

// The checks refuse with the HTTP response itself (as `security` does); a boxed
// response would only move the allocation.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::admission::{Admission, CallSlot, PendingSlot};
use super::AppState;
use crate::call::{self, CallDeps, StreamGate, WsFrame};

/// One socket's admission: its pending slot until `start`, then a call slot.
pub(super) struct SocketGate {
    admission: Admission,
    pending: Option<PendingSlot>,
    call: Option<CallSlot>,
}

impl StreamGate for SocketGate {
    fn authenticated(&mut self) -> Result<(), &'static str> {
        self.pending = None;
        if self.call.is_none() {
            self.call = Some(self.admission.call().map_err(|_| "server at capacity")?);
        }
        Ok(())
    }
}

/// A socket that passed the checks before its upgrade: what its call needs, its
/// admission, and its place in the drain (held until the call's record is written).
pub(super) struct Admitted {
    pub deps: CallDeps,
    pub gate: SocketGate,
    pub live: tokio_util::task::task_tracker::TaskTrackerToken,
}

/// The checks every call socket passes before its upgrade, in order: not draining,
/// providers loaded, `authorize` (the route's own: a Twilio signature, an operator),
/// and the cap on sockets without a `start` per client (429).
pub(super) fn admit(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    authorize: impl FnOnce() -> Result<(), Response>,
) -> Result<Admitted, Response> {
    // Counted as live before the drain check: a drain that begins between the two
    // then waits for this call instead of finding none and shutting down under it.
    let live = state.drain.call_token();
    if state.drain.is_draining() {
        state.metrics.refused.with_label_values(&["draining"]).inc();
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            "draining: not taking new calls",
        )
            .into_response());
    }
    let Some(deps) = state.call_deps() else {
        let why = format!("not ready: {}", state.readiness.waiting_for());
        return Err((StatusCode::SERVICE_UNAVAILABLE, why).into_response());
    };
    authorize()?;
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client = state.admission.client(peer.ip(), forwarded);
    let pending = match state.admission.pending(client) {
        Ok(slot) => slot,
        Err(refusal) => {
            state
                .metrics
                .refused
                .with_label_values(&[refusal.kind()])
                .inc();
            warn!(%client, reason = refusal.kind(), "too many media sockets without a start");
            return Err((
                StatusCode::TOO_MANY_REQUESTS,
                "too many pending media streams",
            )
                .into_response());
        }
    };
    let gate = SocketGate {
        admission: state.admission.clone(),
        pending: Some(pending),
        call: None,
    };
    Ok(Admitted { deps, gate, live })
}

/// The largest websocket message and frame accepted at the transport level: well
/// above the codec's limit, so an oversized frame is counted and dropped by the
/// codec instead of killing the connection.
pub(super) fn transport_cap(state: &AppState) -> usize {
    state.max_frame_bytes.saturating_mul(16).max(1 << 20)
}

/// Accept the upgrade; each socket becomes one call task.
pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
    ws: WebSocketUpgrade,
) -> Response {
    let admitted = admit(&state, peer, &headers, || {
        state
            .security
            .check_twilio(&state.metrics, &headers, &uri, &[], true)
    });
    let Admitted { deps, gate, live } = match admitted {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let cap = transport_cap(&state);
    let shutdown = state.shutdown.clone();
    // `live` is held until the call's record is written: the drain waits for it.
    ws.max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| async move {
            handle(socket, deps, gate, shutdown).await;
            drop(live);
        })
}

async fn handle(socket: WebSocket, deps: CallDeps, gate: SocketGate, shutdown: CancellationToken) {
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
        Some(Box::new(gate)),
        shutdown,
    )
    .await;
}
