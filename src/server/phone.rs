//! The browser softphone: `GET /phone` (the page), `GET /phone/worklet.js` (its
//! playback AudioWorklet) and `GET /phone/ws`, the page's websocket.
//!
//! Each softphone socket becomes one call on the same path as a carrier's: the
//! socket is admitted like a media socket (drain, readiness, per-client caps), a
//! Media Streams session runs the call, and [`BrowserBridge`] stands where the
//! carrier would, turning the page's Opus into 20 ms μ-law `media` messages and the
//! session's replies back into Opus (protocol: [`crate::telephony::browser`]).
//! The call record says `codec: opus`, `transport: browser-websocket`.
//!
//! Who may use it: operators (the console's cookie or bearer token; loopback in
//! development mode), from this server's own pages only (the `Origin` check keeps a
//! page on another site from calling out with the operator's browser).

// The checks refuse with the HTTP response itself (as `security` does); a boxed
// response would only move the allocation.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tracing::{debug, info, warn};

use super::console::{here, html_page, login_page};
use super::media::{admit, transport_cap, Admitted};
use super::security::same_origin;
use super::AppState;
use crate::call::{self, WsFrame};
use crate::store::calls::CallMedia;
use crate::telephony::browser::{BrowserBridge, ToPage};
use crate::telephony::stream_token;

const PHONE_HTML: &str = include_str!("web/phone.html");
const WORKLET_JS: &str = include_str!("web/phone-worklet.js");

/// Messages queued between the bridge and the call session, each way.
const BRIDGE_QUEUE: usize = 256;

/// Longest one message may take to reach the page before the page is taken for gone
/// (as the session's own send timeout for a carrier).
const PAGE_SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Largest binary message taken from the page: one 2-byte sequence number and an Opus
/// packet (at most 1275 bytes a frame, RFC 6716 §3.4, for up to 120 ms; the page sends
/// 20 ms packets of about 80 bytes). Larger messages are counted and dropped.
const MAX_PAGE_FRAME: usize = 2 + 6 * 1275;

/// `GET /phone[?autostart=1]`: the softphone page (the login form without a session).
pub async fn page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    match state
        .security
        .check_operator(&state.metrics, &headers, Some(peer))
    {
        Ok(()) => html_page(PHONE_HTML.to_string()),
        Err(_) => login_page(&state, &here(&uri), None),
    }
}

/// `GET /phone/worklet.js`: the AudioWorklet that plays the bot's voice.
pub async fn worklet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        WORKLET_JS,
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct CallQuery {
    /// The number the call says it is from (a customer on file, to try their
    /// calls); `browser` when absent.
    from: Option<String>,
}

/// `GET /phone/ws`: one softphone call.
pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<CallQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let admitted = admit(&state, peer, &headers, || {
        state
            .security
            .check_operator(&state.metrics, &headers, Some(peer))?;
        if !same_origin(&headers, &state.security.public_url) {
            state
                .metrics
                .refused
                .with_label_values(&["cross_origin"])
                .inc();
            return Err((StatusCode::FORBIDDEN, "cross-origin softphone socket").into_response());
        }
        Ok(())
    });
    let Admitted { deps, gate, live } = match admitted {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let from = q
        .from
        .filter(|f| {
            (1..=20).contains(&f.len()) && f.chars().all(|c| c.is_ascii_digit() || c == '+')
        })
        .unwrap_or_else(|| "browser".into());
    let call_sid = format!("WB{}", super::random_hex(16));
    let token = state.stream_tokens.issue(
        &call_sid,
        &from,
        "softphone",
        crate::call::identity::unix_now(),
        &super::random_hex(12),
    );
    let cap = transport_cap(&state);
    let shutdown = state.shutdown.clone();
    ws.max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| async move {
            let params = [
                (stream_token::PARAMETER.to_string(), token),
                ("From".to_string(), from),
            ];
            let session = move |inbound, outbound| {
                call::run_with_media(
                    inbound,
                    outbound,
                    deps,
                    Some(Box::new(gate)),
                    shutdown,
                    CallMedia::browser_opus(),
                )
            };
            bridge(socket, &call_sid, &params, session).await;
            drop(live);
        })
}

/// Run one softphone call: the session on its own task, the bridge here, until
/// either side ends. Returns once the call's record is written.
async fn bridge<F, Fut>(socket: WebSocket, call_sid: &str, params: &[(String, String)], session: F)
where
    F: FnOnce(
        futures::channel::mpsc::Receiver<WsFrame>,
        futures::channel::mpsc::Sender<WsFrame>,
    ) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut bridge = match BrowserBridge::new(call_sid) {
        Ok(b) => b,
        Err(e) => {
            warn!(error = %e, "softphone: cannot start the Opus codec");
            return;
        }
    };
    let (mut page_out, mut page_in) = socket.split();
    let (mut to_session, session_in) = futures::channel::mpsc::channel::<WsFrame>(BRIDGE_QUEUE);
    let (session_out, mut from_session) = futures::channel::mpsc::channel::<WsFrame>(BRIDGE_QUEUE);
    let task = tokio::spawn(session(session_in, session_out));
    let (opening, started) = bridge.open(params);
    for text in opening {
        let _ = to_session.send(WsFrame::Text(text)).await;
    }
    let mut page_ok = send_page(&mut page_out, started).await;
    info!(call_sid, "softphone call started");
    loop {
        if !page_ok && !bridge.stopped() {
            // The page went away (closed, or stopped taking messages): as a carrier
            // would, end the stream, then wait for the session to finish its record.
            if let Ok(texts) = bridge.page_text(r#"{"event":"hangup"}"#) {
                for t in texts {
                    let _ = to_session.send(WsFrame::Text(t)).await;
                }
            }
        }
        tokio::select! {
            msg = page_in.next(), if page_ok => {
                let to_call = match msg {
                    Some(Ok(Message::Binary(b))) if b.len() > MAX_PAGE_FRAME => {
                        debug!(bytes = b.len(), "softphone: dropped an oversized frame");
                        continue;
                    }
                    Some(Ok(Message::Binary(b))) => bridge.page_audio(&b),
                    Some(Ok(Message::Text(t))) => bridge.page_text(&t),
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => {
                        page_ok = false;
                        continue;
                    }
                };

                match to_call {
                    Ok(texts) => {
                        for t in texts {
                            if to_session.send(WsFrame::Text(t)).await.is_err() {
                                break;
                            }
                        }
                    }
                    Err(e) => debug!(error = %e, kind = e.kind(), "softphone: dropped a message"),
                }
            }
            out = from_session.next() => match out {
                Some(WsFrame::Text(t)) => {
                    let (to_page, echoes) = bridge.session_text(&t);
                    for m in to_page {
                        if page_ok && !send_page(&mut page_out, m).await {
                            page_ok = false;
                        }
                    }
                    for e in echoes {
                        let _ = to_session.send(WsFrame::Text(e)).await;
                    }
                }
                Some(WsFrame::Reject { code, reason }) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    let close = page_out.send(Message::Close(Some(frame)));
                    let _ = tokio::time::timeout(PAGE_SEND_TIMEOUT, close).await;
                    page_ok = false;
                }
                Some(WsFrame::Close) | None => break,
                Some(_) => {}
            },
        }
    }
    if page_ok {
        let ended = serde_json::json!({"event": "ended"}).to_string();
        if send_page(&mut page_out, ToPage::Text(ended)).await {
            let _ =
                tokio::time::timeout(PAGE_SEND_TIMEOUT, page_out.send(Message::Close(None))).await;
        }
    }
    drop(to_session);
    let _ = task.await;
    let s = bridge.stats();
    info!(
        call_sid,
        packets_in = s.packets_in,
        packets_out = s.packets_out,
        concealed = s.concealed,
        dropped = s.dropped,
        "softphone call ended"
    );
}

/// Send one message to the page; `false` when it failed or took longer than
/// [`PAGE_SEND_TIMEOUT`] (the page is then taken for gone).
async fn send_page<S>(out: &mut S, msg: ToPage) -> bool
where
    S: futures::Sink<Message> + Unpin,
{
    let m = match msg {
        ToPage::Text(t) => Message::Text(t.into()),
        ToPage::Binary(b) => Message::Binary(b.into()),
    };
    matches!(
        tokio::time::timeout(PAGE_SEND_TIMEOUT, out.send(m)).await,
        Ok(Ok(()))
    )
}
