//! Plain HTTP routes: TwiML, health, readiness, call records, metrics.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use tracing::warn;

use super::AppState;
use crate::telephony::{signature, twiml};

/// Form fields of Twilio's voice webhook that we pass on to the media stream.
const FORWARDED_PARAMS: &[&str] = &["From", "To", "CallSid"];

/// `POST /twiml`: tell Twilio to connect the call to our media websocket, passing the
/// caller's number and call SID as stream parameters.
pub async fn twiml(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let base = public_base(&state.public_url, &headers);
    if let Some(token) = &state.twilio_auth_token {
        let url = format!("{base}/twiml");
        let given = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !signature::validate(token, &url, &form, given) {
            warn!(%url, "rejected /twiml request with a bad X-Twilio-Signature");
            return (StatusCode::FORBIDDEN, "invalid signature").into_response();
        }
    }
    let ws_base = base
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    let params: Vec<(String, String)> = form
        .into_iter()
        .filter(|(k, _)| FORWARDED_PARAMS.contains(&k.as_str()))
        .collect();
    let body = twiml::connect_stream(&format!("{ws_base}/media"), &params);
    ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// `https://host` from config, else from the request's Host header.
fn public_base(configured: &str, headers: &HeaderMap) -> String {
    if !configured.is_empty() {
        return configured.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("https");
    format!("{proto}://{host}")
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 once models and providers are loaded, 503 with the reason before.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.readiness.is_ready() {
        (StatusCode::OK, "ready").into_response()
    } else {
        let why = state.readiness.waiting_for();
        (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}")).into_response()
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<usize>,
}

/// `GET /calls?limit=N`: recent calls, newest first.
pub async fn list_calls(State(state): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    let limit = q.limit.unwrap_or(state.calls_list_limit).min(1000);
    match state.store.recent_calls(limit).await {
        Ok(calls) => Json(calls).into_response(),
        Err(e) => internal(e),
    }
}

/// `GET /calls/{callSid}`: one call record.
pub async fn get_call(State(state): State<AppState>, Path(call_sid): Path<String>) -> Response {
    match state.store.call(&call_sid).await {
        Ok(Some(call)) => Json(call).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "no such call"})),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

/// `GET|POST /whisper/{callSid}`: TwiML read to the person who answers a transfer,
/// before the caller is connected: the brief the agent wrote for them.
pub async fn whisper(State(state): State<AppState>, Path(call_sid): Path<String>) -> Response {
    let brief = match state.store.call(&call_sid).await {
        Ok(Some(call)) => call.trace["voice"]["escalation"]["brief"]
            .as_str()
            .map(str::to_string),
        Ok(None) => None,
        Err(e) => return internal(e),
    };
    let text = brief.unwrap_or_else(|| "Incoming transfer from the support line.".to_string());
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>{}</Say></Response>",
        crate::telephony::twiml::escape_xml(&text)
    );
    ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    warn!(error = %e, "store error");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(serde_json::json!({"error": e.to_string()})),
    )
        .into_response()
}
