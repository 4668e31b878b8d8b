//! Plain HTTP routes: TwiML, health, readiness, call records, metrics.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use tracing::warn;

use super::security::websocket_url;
use super::AppState;
use crate::telephony::{stream_token, twiml};

/// Form fields of Twilio's voice webhook that we pass on to the media stream.
const FORWARDED_PARAMS: &[&str] = &["From", "To", "CallSid"];

/// `POST /twiml`: tell Twilio to connect the call to our media websocket. The stream
/// parameters carry the caller's number and call SID, and a stream token binding them
/// to this call (the session trusts only the token).
pub async fn twiml(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(resp) = state
        .security
        .check_twilio(&state.metrics, &headers, &uri, &form, false)
    {
        return resp;
    }
    let ws_base = websocket_url(&state.security.base_url(&headers));
    let field = |k: &str| {
        form.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let call_sid = field("CallSid");
    if call_sid.is_empty() {
        return (StatusCode::BAD_REQUEST, "CallSid is required").into_response();
    }
    let mut params: Vec<(String, String)> = form
        .iter()
        .filter(|(k, _)| FORWARDED_PARAMS.contains(&k.as_str()))
        .cloned()
        .collect();
    let token = state.stream_tokens.issue(
        &call_sid,
        &field("From"),
        &field("To"),
        crate::call::identity::unix_now(),
        &super::random_hex(12),
    );
    params.push((stream_token::PARAMETER.to_string(), token));
    let body = twiml::connect_stream(&format!("{ws_base}/media"), &params);
    ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 once models and providers are loaded, 503 with the reason before.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.drain.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    } else if state.readiness.is_ready() {
        (StatusCode::OK, "ready").into_response()
    } else {
        let why = state.readiness.waiting_for();
        (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}")).into_response()
    }
}

/// `?limit=N` on the call lists: `default` when absent, at most 1000.
#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<usize>,
}

impl ListQuery {
    pub(super) fn limit(&self, default: usize) -> usize {
        self.limit.unwrap_or(default).min(1000)
    }
}

/// Call records as JSON, with personal data masked (records written before masking
/// existed, or by another version, are masked on the way out too). A record's own
/// identity fields stay as stored: `from` is the verified caller, and a long E.164
/// number must not be mistaken for a card.
fn redacted_json(value: impl serde::Serialize) -> Response {
    Json(redacted_value(value)).into_response()
}

/// [`redacted_json`]'s value, for other ways of serving records (the console's
/// server-sent events).
pub(super) fn redacted_value(value: impl serde::Serialize) -> serde_json::Value {
    const IDENTITY: [&str; 5] = ["callSid", "streamSid", "accountSid", "from", "to"];
    fn record(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Array(items) => items.iter_mut().for_each(record),
            serde_json::Value::Object(map) => {
                for (k, val) in map.iter_mut() {
                    if !IDENTITY.contains(&k.as_str()) {
                        crate::redact::global().redact_json(val);
                    }
                }
            }
            other => crate::redact::global().redact_json(other),
        }
    }
    let mut v = serde_json::to_value(value).unwrap_or_default();
    record(&mut v);
    v
}

/// `GET /calls?limit=N`: recent calls, newest first (operators only).
pub async fn list_calls(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Err(resp) = state
        .security
        .check_operator(&state.metrics, &headers, Some(peer))
    {
        return resp;
    }
    let limit = q.limit(state.calls_list_limit);
    match state.store.recent_calls(limit).await {
        Ok(calls) => redacted_json(calls),
        Err(e) => internal(e),
    }
}

/// `GET /calls/{callSid}`: one call record (operators only).
pub async fn get_call(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(call_sid): Path<String>,
) -> Response {
    if let Err(resp) = state
        .security
        .check_operator(&state.metrics, &headers, Some(peer))
    {
        return resp;
    }
    match state.store.call(&call_sid).await {
        Ok(Some(call)) => redacted_json(call),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "no such call"})),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

/// `GET|POST /whisper/{callSid}`: TwiML read to the person who answers a transfer,
/// before the caller is connected: the brief the agent wrote for them. A Twilio
/// webhook: signed in production mode; in development mode loopback clients only
/// (a local tunnel), since the brief is personal data.
pub async fn whisper(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
    method: Method,
    Path(call_sid): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    // POST parameters are signed; a GET is signed over its URL (query included) alone.
    let params: Vec<(String, String)> = if method == Method::POST {
        serde_urlencoded::from_bytes(&body).unwrap_or_default()
    } else {
        Vec::new()
    };
    let sec = &state.security;
    let allowed = if sec.twilio_auth_token.is_some() || sec.enforcing {
        sec.check_twilio(&state.metrics, &headers, &uri, &params, false)
    } else {
        sec.check_operator(&state.metrics, &headers, Some(peer))
    };
    if let Err(resp) = allowed {
        return resp;
    }
    let brief = match state.store.call(&call_sid).await {
        Ok(Some(call)) => call.trace["voice"]["escalation"]["brief"]
            .as_str()
            .map(str::to_string),
        Ok(None) => None,
        Err(e) => return internal(e),
    };
    let text = brief.unwrap_or_else(|| "Incoming transfer from the support line.".to_string());
    let text = crate::redact::global().redact(&text).into_owned();
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
