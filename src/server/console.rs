//! The operator console: pages served by the binary (assets embedded at build time)
//! over the call records.
//!
//! | route | what |
//! |---|---|
//! | `GET /console` | recent and live calls, filter and search |
//! | `GET /console/calls/{callSid}` | one call as a timeline, with its recording |
//! | `GET /console/events` | server-sent events: `calls` (recent records) on change |
//! | `GET /console/calls/{callSid}/events` | server-sent events: `record` on change, `end` |
//! | `GET /calls/{callSid}/recording.wav` | the stereo recording (caller left, bot right; ranges) |
//! | `GET/POST /console/login` | the operator token into an `HttpOnly` cookie |
//!
//! Everything is behind the operator authentication ([`Security::check_operator`]:
//! bearer token or the login cookie; loopback in development mode). Live updates
//! poll the store (so a console on one replica sees calls on every replica sharing
//! the database) and stop when the server shuts down. Records are masked as
//! `GET /calls` masks them.
//!
//! [`Security::check_operator`]: super::security::Security::check_operator

// The checks refuse with the HTTP response itself (as `security` does); a boxed
// response would only move the allocation.
#![allow(clippy::result_large_err)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Form, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use futures::{stream, Stream, StreamExt};
use serde::Deserialize;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::routes::{redacted_value, ListQuery};
use super::security::{constant_time_eq, session_cookie, OPERATOR_COOKIE, SESSION_TTL_S};
use super::AppState;

const CONSOLE_HTML: &str = include_str!("web/console.html");
const CALL_HTML: &str = include_str!("web/call.html");

/// How often live views read the store.
const CALL_POLL: Duration = Duration::from_millis(750);
const LIST_POLL: Duration = Duration::from_secs(2);

/// Polls of a call's events that may find no record before the stream ends (a call
/// refused before its record existed, or a SID that never was): about 15 s.
const MISSING_POLLS: u32 = 20;

/// The Content-Security-Policy of one of our pages: only the page's own inline
/// scripts run (by their SHA-256, CSP Level 2), so text that reached the page could
/// never run as script; styles inline; everything else from this origin only.
fn csp(body: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hashes = String::new();
    let mut rest = body;
    while let Some(at) = rest.find("<script>") {
        let inner = &rest[at + "<script>".len()..];
        let Some(end) = inner.find("</script>") else {
            break;
        };
        let digest = Sha256::digest(&inner.as_bytes()[..end]);
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest);
        hashes.push_str(&format!(" 'sha256-{b64}'"));
        rest = &inner[end..];
    }
    format!(
        "default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; \
         media-src 'self' blob:; connect-src 'self'; img-src 'self' data:; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}

/// An HTML page with the console's security headers.
pub(super) fn html_page(body: String) -> Response {
    html_with_status(StatusCode::OK, body)
}

fn html_with_status(status: StatusCode, body: String) -> Response {
    let policy = csp(&body);
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&policy) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// The sign-in form (401), returning to `next` once signed in.
pub(super) fn login_page(state: &AppState, next: &str, error: Option<&str>) -> Response {
    let note = if state.security.admin_token.is_none() {
        "No operator token is configured (<code>[server] admin_token_env</code>): the \
         console is open to this machine only (loopback, development mode)."
    } else {
        "Enter the operator token (the value of the environment variable that \
         <code>[server] admin_token_env</code> names)."
    };
    let error = error
        .map(|e| format!("<p role=\"alert\" class=\"err\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>Switchboard · sign in</title><style>body{{font:15px system-ui,sans-serif;\
         max-width:28rem;margin:4rem auto;color:#1d2733}}input{{font:inherit;padding:.4rem;\
         width:100%;box-sizing:border-box}}button{{font:inherit;margin-top:.6rem;padding:.4rem 1rem}}\
         .err{{color:#b3261e}}</style></head><body><h1>Switchboard console</h1><p>{note}</p>{error}\
         <form method=\"post\" action=\"/console/login\"><label for=\"token\">Operator token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required>\
         <input type=\"hidden\" name=\"next\" value=\"{}\"><button type=\"submit\">Sign in</button>\
         </form></body></html>",
        escape(next)
    );
    html_with_status(StatusCode::UNAUTHORIZED, body)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A call SID as it may appear in a page or a path: Twilio's `CA…`, the
/// softphone's `WB…`, a replay's names; 1–64 of `[A-Za-z0-9_-]`.
fn valid_sid(sid: &str) -> bool {
    (1..=64).contains(&sid.len())
        && sid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn operator(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> Result<(), Response> {
    state
        .security
        .check_operator(&state.metrics, headers, Some(peer))
}

/// Where the sign-in form returns to: the page asked for, query included.
pub(super) fn here(uri: &axum::http::Uri) -> String {
    uri.path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/console".into())
}

/// A place to return to after signing in: a path on this server only (no scheme, no
/// host, nothing a browser would read as `//host`).
fn safe_next(next: Option<String>) -> String {
    next.filter(|n| {
        let b = n.as_bytes();
        b.first() == Some(&b'/')
            && !matches!(b.get(1), Some(b'/' | b'\\'))
            && !n
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    })
    .unwrap_or_else(|| "/console".into())
}

/// `GET /console`.
pub async fn list_page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    match operator(&state, &headers, peer) {
        Ok(()) => html_page(CONSOLE_HTML.to_string()),
        Err(_) => login_page(&state, &here(&uri), None),
    }
}

/// `GET /console/calls/{callSid}`.
pub async fn call_page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(call_sid): Path<String>,
) -> Response {
    if !valid_sid(&call_sid) {
        return (StatusCode::NOT_FOUND, "no such call").into_response();
    }
    match operator(&state, &headers, peer) {
        Ok(()) => html_page(CALL_HTML.replace("{{CALL_SID}}", &call_sid)),
        Err(_) => login_page(&state, &format!("/console/calls/{call_sid}"), None),
    }
}

#[derive(Deserialize)]
pub struct Login {
    token: String,
    next: Option<String>,
}

/// `GET /console/login`.
pub async fn login_form(State(state): State<AppState>) -> Response {
    login_page(&state, "/console", None)
}

/// `POST /console/login`: a right token becomes an `HttpOnly`, `SameSite=Strict`
/// cookie (12 hours), then back to the page asked for.
pub async fn login(State(state): State<AppState>, Form(form): Form<Login>) -> Response {
    let next = safe_next(form.next);
    let ok = state
        .security
        .admin_token
        .as_deref()
        .is_some_and(|t| constant_time_eq(t.as_bytes(), form.token.trim().as_bytes()));
    if !ok {
        state
            .metrics
            .refused
            .with_label_values(&["operator_token_invalid"])
            .inc();
        return login_page(&state, &next, Some("That token is not right."));
    }
    let session = session_cookie(form.token.trim(), crate::call::identity::unix_now());
    let cookie = format!(
        "{OPERATOR_COOKIE}={session}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={SESSION_TTL_S}"
    );
    let mut resp = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /calls/{callSid}/recording.wav`: the call's recording, with range requests
/// (seeking in the page's player). 404 when the call has none (recording off, or
/// deleted by retention).
pub async fn recording(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(call_sid): Path<String>,
    request: Request,
) -> Response {
    if let Err(resp) = operator(&state, request.headers(), peer) {
        return resp;
    }
    let path = match state.store.call(&call_sid).await {
        Ok(Some(rec)) => rec.recording,
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "store error");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Some(path) = path.filter(|p| std::path::Path::new(p).is_file()) else {
        return (StatusCode::NOT_FOUND, "no recording for this call").into_response();
    };
    match ServeFile::new(&path).oneshot(request).await {
        Ok(resp) => {
            let mut resp = resp.map(Body::new);
            let status = resp.status();
            let h = resp.headers_mut();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if status.is_success() {
                h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
            }
            resp
        }
        Err(e) => match e {},
    }
}

fn sse(events: impl Stream<Item = Event> + Send + 'static) -> Response {
    let s = events.map(Ok::<_, Infallible>);
    Sse::new(s)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// Wait `every` (nothing the first time) unless the server shuts down first.
async fn tick(state: &AppState, first: bool, every: Duration) -> bool {
    if first {
        return !state.shutdown.is_cancelled();
    }
    tokio::select! {
        _ = state.shutdown.cancelled() => false,
        _ = tokio::time::sleep(every) => true,
    }
}

/// `GET /console/events[?limit=N]`: `calls` with the recent records (as many as
/// `GET /calls?limit=N` lists) whenever they change.
pub async fn list_events(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Err(resp) = operator(&state, &headers, peer) {
        return resp;
    }
    let limit = q.limit(state.calls_list_limit);
    let events = stream::unfold(
        (state, String::new(), true),
        move |(state, last, first)| async move {
            let mut last = last;
            let mut first = first;
            loop {
                if !tick(&state, first, LIST_POLL).await {
                    return None;
                }
                first = false;
                let Ok(calls) = state.store.recent_calls(limit).await else {
                    continue;
                };
                let text = redacted_value(&calls).to_string();
                if text != last {
                    let event = Event::default().event("calls").data(text.clone());
                    return Some((event, (state, text, false)));
                }
                last = text;
            }
        },
    );
    sse(events)
}

/// Where a call's event stream is.
enum Watch {
    Running {
        last: String,
        first: bool,
        /// Polls in a row that found no record.
        missing: u32,
    },
    Ended,
    Done,
}

/// `GET /console/calls/{callSid}/events`: `record` whenever the call's record
/// changes, then `end` once it has ended.
pub async fn call_events(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(call_sid): Path<String>,
) -> Response {
    if let Err(resp) = operator(&state, &headers, peer) {
        return resp;
    }
    if !valid_sid(&call_sid) {
        return (StatusCode::NOT_FOUND, "no such call").into_response();
    }
    let start = Watch::Running {
        last: String::new(),
        first: true,
        missing: 0,
    };
    let events = stream::unfold((state, call_sid, start), |(state, sid, watch)| async move {
        let (mut last, mut first, mut missing) = match watch {
            Watch::Running {
                last,
                first,
                missing,
            } => (last, first, missing),
            Watch::Ended => {
                let event = Event::default().event("end").data("{}");
                return Some((event, (state, sid, Watch::Done)));
            }
            Watch::Done => return None,
        };
        loop {
            if !tick(&state, first, CALL_POLL).await {
                return None;
            }
            first = false;
            let rec = match state.store.call(&sid).await {
                Ok(Some(rec)) => rec,
                Ok(None) => {
                    missing += 1;
                    if missing >= MISSING_POLLS {
                        // Never created (refused, or no such call): say so and stop.
                        let event = Event::default().event("end").data(r#"{"missing":true}"#);
                        return Some((event, (state, sid, Watch::Done)));
                    }
                    continue;
                }
                Err(_) => continue,
            };
            missing = 0;
            let ended = rec.ended_at.is_some();
            let text = redacted_value(&rec).to_string();
            if text != last {
                let event = Event::default().event("record").data(text.clone());
                let next = if ended {
                    Watch::Ended
                } else {
                    Watch::Running {
                        last: text,
                        first: false,
                        missing: 0,
                    }
                };
                return Some((event, (state, sid, next)));
            }
            last = text;
        }
    });
    sse(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_call_sids_reach_a_page_or_a_path() {
        assert!(valid_sid("CA0123abcd"));
        assert!(valid_sid("WBdeadbeef"));
        assert!(valid_sid("replay-cheaper_plan"));
        assert!(!valid_sid(""));
        assert!(!valid_sid("CA1<script>"));
        assert!(!valid_sid("../etc"));
        assert!(!valid_sid(&"C".repeat(65)));
    }

    #[test]
    fn signing_in_returns_only_to_a_path_on_this_server() {
        let next = |n: &str| safe_next(Some(n.to_string()));
        assert_eq!(next("/console/calls/CA1"), "/console/calls/CA1");
        assert_eq!(
            next("/phone?autostart=1&from=%2B1555"),
            "/phone?autostart=1&from=%2B1555"
        );
        for evil in [
            "//evil.example/",
            "/\\evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "evil",
            "",
        ] {
            assert_eq!(next(evil), "/console", "{evil:?}");
        }
        assert_eq!(safe_next(None), "/console");
    }

    #[test]
    fn only_the_pages_own_scripts_may_run() {
        let policy = csp("<p>x</p><script>alert(1)</script><script>go()</script>");
        // sha256("alert(1)") and sha256("go()"), base64.
        assert!(
            policy.contains("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"),
            "{policy}"
        );
        assert_eq!(policy.matches("'sha256-").count(), 2);
        let scripts = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!scripts.contains("unsafe-inline"), "{scripts}");
    }

    #[test]
    fn the_login_page_escapes_what_it_echoes() {
        assert_eq!(
            escape(r#"<a href="x">'"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;"
        );
    }
}
