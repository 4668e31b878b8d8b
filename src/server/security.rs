//! Who may do what: Twilio webhook signatures, the `/media` handshake signature and
//! operator authentication, in the two modes of [`crate::config::ServerConfig::enforcing`].
//!
//! | mode | Twilio webhooks and `/media` handshake | operator routes |
//! |------|-----------------------------------------|-----------------|
//! | development (no `public_url`) | unchecked (unless `[twilio] validate_signatures`) | loopback clients, or a valid bearer token |
//! | production (`public_url` set) | `X-Twilio-Signature` required (opt-out: `allow_unsigned_webhooks`) | `Authorization: Bearer $ADMIN_API_TOKEN` only |
//!
//! Signatures are Twilio's (<https://www.twilio.com/docs/usage/security>): HMAC-SHA1
//! over the URL Twilio requested, rebuilt from `public_url` plus the request's path and
//! query, followed by the POST parameters sorted by name; see
//! [`crate::telephony::signature`]. Tokens are compared in constant time.

use std::net::SocketAddr;

use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tracing::warn;

use crate::metrics::Metrics;
use crate::telephony::signature;

/// The server's security settings, fixed at start-up.
#[derive(Debug, Clone, Default)]
pub struct Security {
    /// Production mode (`public_url` set).
    pub enforcing: bool,
    /// `public_url` without a trailing slash; empty in development mode.
    pub public_url: String,
    /// Twilio auth token; `Some` = webhook and handshake signatures are checked.
    pub twilio_auth_token: Option<String>,
    /// Operator bearer token (`None` = no bearer accepted).
    pub admin_token: Option<String>,
}

impl Security {
    /// The base URL (`scheme://host`) this request was made to: `public_url`, else
    /// from the request's headers (development mode).
    pub fn base_url(&self, headers: &HeaderMap) -> String {
        if self.public_url.is_empty() {
            host_base(headers)
        } else {
            self.public_url.clone()
        }
    }

    /// Check `X-Twilio-Signature` on a Twilio webhook (`params` = POST form, `&[]` for
    /// GET and the websocket handshake), or pass when signatures are not checked.
    /// `Err` is the 403 to send.
    #[allow(clippy::result_large_err)]
    pub fn check_twilio(
        &self,
        metrics: &Metrics,
        headers: &HeaderMap,
        uri: &Uri,
        params: &[(String, String)],
        websocket: bool,
    ) -> Result<(), Response> {
        let Some(token) = &self.twilio_auth_token else {
            return Ok(());
        };
        let given = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let mut urls = vec![format!("{}{path_and_query}", self.base_url(headers))];
        if websocket {
            // Twilio signs the handshake over the `<Stream url>` (wss://…); accept the
            // https:// spelling of the same URL too.
            urls.push(websocket_url(&urls[0]));
        }
        if !given.is_empty()
            && urls
                .iter()
                .any(|u| signature::validate(token, u, params, given))
        {
            return Ok(());
        }
        let reason = if given.is_empty() {
            "signature_missing"
        } else {
            "signature_invalid"
        };
        metrics.refused.with_label_values(&[reason]).inc();
        warn!(path = uri.path(), reason, "refused a Twilio request");
        Err((StatusCode::FORBIDDEN, "invalid X-Twilio-Signature").into_response())
    }

    /// Allow an operator request: a valid bearer token, or in development mode a
    /// loopback client. `Err` is the 401/403 to send.
    #[allow(clippy::result_large_err)]
    pub fn check_operator(
        &self,
        metrics: &Metrics,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
    ) -> Result<(), Response> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if let (Some(given), Some(expected)) = (bearer, &self.admin_token) {
            if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
                return Ok(());
            }
        }
        // The console's pages carry a session in a cookie set by `/console/login` (a
        // browser cannot add a header to a page load or an `<audio>` source).
        let cookie = operator_cookie(headers);
        if let (Some(given), Some(key)) = (cookie.as_deref(), &self.admin_token) {
            if session_valid(key, given, crate::call::identity::unix_now()) {
                return Ok(());
            }
        }
        if !self.enforcing && is_local(headers, peer) {
            return Ok(());
        }
        let reason = if bearer.is_some() || cookie.is_some() {
            "operator_token_invalid"
        } else {
            "operator_unauthenticated"
        };
        metrics.refused.with_label_values(&[reason]).inc();
        let mut resp = (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"error": "operator authentication required"})),
        )
            .into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        Err(resp)
    }
}

/// Name of the cookie holding the operator token (set by `POST /console/login`).
pub const OPERATOR_COOKIE: &str = "switchboard_operator";

/// The operator token from the request's `Cookie` headers, if any.
pub fn operator_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == OPERATOR_COOKIE)
        .map(|(_, value)| value.trim().to_string())
}

/// How long a console session lasts (seconds).
pub const SESSION_TTL_S: u64 = 12 * 3600;

fn session_mac(key: &str, expires: u64) -> String {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    m.update(format!("switchboard console session until {expires}").as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// A console session's cookie value: its expiry (unix seconds) and an HMAC-SHA256 of
/// it keyed by the operator token. The token itself never goes into the cookie, a
/// session ends by itself, and changing the token ends every session.
pub fn session_cookie(key: &str, now_unix: u64) -> String {
    let expires = now_unix.saturating_add(SESSION_TTL_S);
    format!("{expires}.{}", session_mac(key, expires))
}

/// Whether `value` is a session [`session_cookie`] issued under `key` that has not
/// expired.
pub fn session_valid(key: &str, value: &str, now_unix: u64) -> bool {
    let Some((expires, mac)) = value.split_once('.') else {
        return false;
    };
    let Ok(expires) = expires.parse::<u64>() else {
        return false;
    };
    expires > now_unix
        && expires <= now_unix.saturating_add(SESSION_TTL_S)
        && constant_time_eq(mac.as_bytes(), session_mac(key, expires).as_bytes())
}

/// Whether a browser's request comes from one of our own pages: no `Origin` (not a
/// browser), or an `Origin` naming this host. A page on another site must not open
/// the softphone's websocket with the operator's cookie or from loopback.
pub fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if !public_url.is_empty() {
        return origin.trim_end_matches('/') == public_url.trim_end_matches('/');
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let bare = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    !host.is_empty() && bare == Some(host)
}

/// A request from this machine itself: a loopback peer, no proxy headers (a local
/// tunnel agent such as ngrok or cloudflared connects from loopback but adds them),
/// and a loopback `Host`.
pub fn is_local(headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    const PROXY_HEADERS: [&str; 7] = [
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-real-ip",
        "cf-connecting-ip",
        "true-client-ip",
    ];
    if !peer.is_some_and(|p| p.ip().is_loopback()) {
        return false;
    }
    if PROXY_HEADERS.iter().any(|h| headers.contains_key(*h)) {
        return false;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The websocket spelling of an HTTP URL (`https://` → `wss://`, `http://` → `ws://`).
pub fn websocket_url(http_url: &str) -> String {
    http_url
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1)
}

/// `proto://host` from the request (development mode without `public_url`); plain
/// `http` unless a proxy says otherwise.
pub fn host_base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("http");
    format!("{proto}://{host}")
}

/// Equal-length-independent constant-time comparison: both sides are hashed with a
/// fixed key first, so neither the content nor the length leaks through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let digest = |x: &[u8]| {
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(b"switchboard constant-time compare")
            .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
        m.update(x);
        m.finalize().into_bytes()
    };
    let (da, db) = (digest(a), digest(b));
    da.iter()
        .zip(db.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn operator_needs_loopback_in_development_and_a_token_in_production() {
        let m = Metrics::new();
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        let dev = Security {
            admin_token: Some("s3cret".into()),
            ..Default::default()
        };
        assert!(dev
            .check_operator(&m, &HeaderMap::new(), Some(local))
            .is_ok());
        assert!(dev
            .check_operator(&m, &HeaderMap::new(), Some(remote))
            .is_err());
        let good = headers(&[("authorization", "Bearer s3cret")]);
        let bad = headers(&[("authorization", "Bearer nope")]);
        assert!(dev.check_operator(&m, &good, Some(remote)).is_ok());
        assert!(dev.check_operator(&m, &bad, Some(remote)).is_err());
        let prod = Security {
            enforcing: true,
            ..dev
        };
        assert!(prod
            .check_operator(&m, &HeaderMap::new(), Some(local))
            .is_err());
        assert!(prod.check_operator(&m, &good, Some(remote)).is_ok());
        let no_token = Security {
            enforcing: true,
            ..Default::default()
        };
        assert!(no_token.check_operator(&m, &good, Some(local)).is_err());
    }

    #[test]
    fn the_operator_token_is_also_taken_from_the_console_cookie() {
        let sec = Security {
            enforcing: true,
            public_url: "https://sb.example".into(),
            twilio_auth_token: None,
            admin_token: Some("s3cret".into()),
        };
        let metrics = Metrics::new();
        let session = session_cookie("s3cret", crate::call::identity::unix_now());
        let ok = headers(&[(
            "cookie",
            &format!("theme=dark; switchboard_operator={session}"),
        )]);
        assert!(sec.check_operator(&metrics, &ok, None).is_ok());
        // The token itself is no session; nor is a forged or renamed one.
        let raw = headers(&[("cookie", "switchboard_operator=s3cret")]);
        assert!(sec.check_operator(&metrics, &raw, None).is_err());
        let wrong = headers(&[("cookie", "switchboard_operator=99999999999.abc")]);
        assert!(sec.check_operator(&metrics, &wrong, None).is_err());
        let other_name = headers(&[("cookie", &format!("xswitchboard_operator={session}"))]);
        assert!(sec.check_operator(&metrics, &other_name, None).is_err());
    }

    #[test]
    fn sessions_expire_and_die_with_the_token() {
        let s = session_cookie("k1", 1_000);
        assert!(session_valid("k1", &s, 1_000 + SESSION_TTL_S - 1));
        assert!(!session_valid("k1", &s, 1_000 + SESSION_TTL_S), "expired");
        assert!(!session_valid("k2", &s, 1_001), "another token");
        let (exp, mac) = s.split_once('.').unwrap();
        let later = format!("{}.{mac}", exp.parse::<u64>().unwrap() + 1);
        assert!(!session_valid("k1", &later, 1_001), "expiry not forgeable");
        assert!(!session_valid("k1", "garbage", 1_001));
    }

    #[test]
    fn only_our_own_pages_pass_the_origin_check() {
        let local = |origin: &str| {
            same_origin(
                &headers(&[("host", "127.0.0.1:8080"), ("origin", origin)]),
                "",
            )
        };
        assert!(local("http://127.0.0.1:8080"));
        assert!(!local("http://evil.example"));
        assert!(!local("http://127.0.0.1:8081"));
        assert!(
            same_origin(&headers(&[("host", "x")]), ""),
            "no Origin: not a browser"
        );
        let prod =
            |origin: &str| same_origin(&headers(&[("origin", origin)]), "https://sb.example");
        assert!(prod("https://sb.example"));
        assert!(!prod("https://sb.example.evil"));
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
