//! The IO side of a simulated call: the websocket to the server, the clock that
//! drives [`CallSim::tick`], and the HTTP calls for readiness and call records.
//!
//! **Realtime** ticks every 20 ms of wall time (drift-free deadlines), exactly
//! like a phone line. **Fast** ticks without waiting whenever that cannot change
//! what the server sees ([`CallSim::fast_ready`]): the server's endpointing
//! counts 20 ms frames, not wall time, so caller speech and the silence after it
//! are sent back to back while the bot is quiet, and bot audio is played the
//! moment it arrives (marks are echoed at once). Everything else — waiting for
//! the server to think, talking over the bot — runs at real-time pace, so a reply
//! never arrives "early" relative to the line. In fast mode a turn's latency
//! (end of caller input → first bot audio, wall clock) therefore excludes the
//! server's endpointing silence, which was delivered instantly: it measures
//! processing time. Realtime latency is what a caller would experience.

use std::time::Duration;

use futures::{FutureExt, SinkExt, StreamExt};
use serde_json::Value;
use tokio::time::{sleep, sleep_until, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::MaybeTlsStream;

use crate::audio::frames::FRAME_DURATION;

use super::error::ReplayError;
use super::runner::Credentials;
use super::sim::CallSim;
use super::Speed;

/// Where the server is: the HTTP base for `/twiml` and `/calls`. The media stream's
/// URL comes from the server's TwiML, as on Twilio ([`twiml_stream`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub http_base: String,
}

impl Target {
    /// From `ws://host:port/media` (or `wss://…`): `/calls` lives beside `/media`.
    pub fn from_ws_url(url: &str) -> Result<Target, ReplayError> {
        let bad = |message: &str| ReplayError::Connect {
            url: url.to_string(),
            message: message.to_string(),
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        let scheme = match parsed.scheme() {
            "ws" => "http",
            "wss" => "https",
            _ => return Err(bad("the URL must start with ws:// or wss://")),
        };
        let host = parsed.host_str().ok_or_else(|| bad("no host"))?;
        let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
        let path = parsed.path().trim_end_matches('/');
        let prefix = path.strip_suffix("/media").unwrap_or("");
        Ok(Target {
            http_base: format!("{scheme}://{host}{port}{prefix}"),
        })
    }
}

/// Ask the server's `/twiml` for the call, as Twilio does when the call comes in (form
/// signed with `X-Twilio-Signature` when the Twilio token is known), and return the
/// `<Stream url>` and its `<Parameter>`s: what Twilio connects to and copies into
/// `start.customParameters`, including the stream token. `params` are the webhook's
/// form fields (`CallSid`, `From`, `To`, …).
pub async fn twiml_stream(
    http: &reqwest::Client,
    target: &Target,
    params: &[(String, String)],
    creds: &Credentials,
) -> Result<(String, Vec<(String, String)>), ReplayError> {
    let url = format!("{}/twiml", target.http_base);
    let err = |message: String| ReplayError::Connect {
        url: url.clone(),
        message,
    };
    let mut req = http.post(&url).form(params);
    if let Some(token) = &creds.twilio_auth_token {
        req = req.header(
            "X-Twilio-Signature",
            crate::telephony::compute_signature(token, &url, params),
        );
    }
    let resp = req.send().await.map_err(|e| err(e.to_string()))?;
    let status = resp.status();
    let body = resp.text().await.map_err(|e| err(e.to_string()))?;
    if !status.is_success() {
        return Err(err(format!("{status}: {body}")));
    }
    crate::telephony::twiml::parse_stream(&body)
        .ok_or_else(|| err(format!("no <Connect><Stream> in {body:?}")))
}

/// Run one call over the media stream at `ws_url` (the TwiML's `<Stream url>`) to its
/// end (stop sent, socket closed, or `call_timeout`). The handshake is signed over that
/// URL when the Twilio token is known, as Twilio does.
pub async fn drive(
    ws_url: &str,
    creds: &Credentials,
    sim: &mut CallSim,
    speed: Speed,
    call_timeout: Duration,
) -> Result<(), ReplayError> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let bad_url = |message: String| ReplayError::Connect {
        url: ws_url.to_string(),
        message,
    };
    let mut request = ws_url
        .into_client_request()
        .map_err(|e| bad_url(e.to_string()))?;
    if let Some(token) = &creds.twilio_auth_token {
        let sig = crate::telephony::compute_signature(token, ws_url, &[]);
        let value = sig
            .parse()
            .map_err(|_| bad_url("bad signature header".into()))?;
        request.headers_mut().insert("X-Twilio-Signature", value);
    }
    let (ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| bad_url(e.to_string()))?;
    if let MaybeTlsStream::Plain(tcp) = ws.get_ref() {
        // 20 ms frames must not wait for Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
    }
    let (mut tx, mut rx) = ws.split();
    let t0 = Instant::now();
    let give_up = t0 + call_timeout;
    let mut outbox = sim.open(t0);
    let mut next_tick = t0 + FRAME_DURATION;
    loop {
        for text in outbox.drain(..) {
            if tx.send(Message::text(text)).await.is_err() {
                sim.on_closed();
                break;
            }
        }
        if sim.is_done() {
            break;
        }
        // Handle whatever the server already sent before deciding about time.
        if let Some(item) = rx.next().now_or_never() {
            outbox = on_item(sim, item);
            continue;
        }
        let now = Instant::now();
        if now >= give_up {
            outbox = sim.abort();
            continue;
        }
        if speed == Speed::Fast && sim.fast_ready(now) {
            outbox = sim.tick(now);
            next_tick = now + FRAME_DURATION;
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            biased;
            item = rx.next() => outbox = on_item(sim, item),
            _ = sleep_until(next_tick.min(give_up)) => {
                let now = Instant::now();
                if now >= give_up {
                    continue;
                }
                outbox = sim.tick(now);
                next_tick = match speed {
                    // Keep the 20 ms grid; after a long stall, restart it.
                    Speed::Realtime if now < next_tick + Duration::from_millis(200) => {
                        next_tick + FRAME_DURATION
                    }
                    _ => now + FRAME_DURATION,
                };
            }
        }
    }
    let _ = tx.send(Message::Close(None)).await;
    Ok(())
}

type WsItem = Option<Result<Message, tokio_tungstenite::tungstenite::Error>>;

fn on_item(sim: &mut CallSim, item: WsItem) -> Vec<String> {
    match item {
        Some(Ok(Message::Text(text))) => sim.on_server(text.as_str(), Instant::now()),
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
            sim.on_closed();
            Vec::new()
        }
        Some(Ok(_)) => Vec::new(),
    }
}

/// Wait until `GET /readyz` answers 200 (a server without that route counts as ready).
pub async fn wait_ready(
    http: &reqwest::Client,
    base: &str,
    timeout: Duration,
) -> Result<(), ReplayError> {
    let url = format!("{base}/readyz");
    let give_up = Instant::now() + timeout;
    let mut last = String::from("no answer");
    while Instant::now() < give_up {
        match http.get(&url).send().await {
            Ok(r) if r.status().is_success() || r.status().as_u16() == 404 => return Ok(()),
            Ok(r) => last = format!("{}: {}", r.status(), r.text().await.unwrap_or_default()),
            Err(e) => last = e.to_string(),
        }
        sleep(Duration::from_millis(250)).await;
    }
    Err(ReplayError::Server(format!(
        "{url} not ready after {} s: {last}",
        timeout.as_secs()
    )))
}

/// Fetch `GET /calls/{callSid}`, polling until the record has an outcome or
/// `wait` passes (then the record as it is). Sends the operator token as the bearer
/// token when it is known.
pub async fn fetch_record(
    http: &reqwest::Client,
    base: &str,
    call_sid: &str,
    creds: &Credentials,
    wait: Duration,
) -> Result<Value, ReplayError> {
    let url = format!("{base}/calls/{call_sid}");
    let err = |message: String| ReplayError::Record {
        url: url.clone(),
        message,
    };
    let give_up = Instant::now() + wait;
    loop {
        let mut req = http.get(&url);
        // Operator routes need the bearer token in production mode.
        if let Some(token) = &creds.admin_token {
            req = req.bearer_auth(token);
        }
        let latest = match req.send().await {
            Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                Ok(v) if !v["outcome"].is_null() => return Ok(v),
                Ok(v) => Ok(v),
                Err(e) => Err(err(e.to_string())),
            },
            Ok(r) => Err(err(format!("HTTP {}", r.status()))),
            Err(e) => Err(err(e.to_string())),
        };
        if Instant::now() >= give_up {
            return latest;
        }
        sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_base_is_derived_from_the_media_url() {
        let cases = [
            ("ws://127.0.0.1:8080/media", "http://127.0.0.1:8080"),
            ("wss://abc.ngrok.app/media", "https://abc.ngrok.app"),
            ("ws://h:1/sb/media/", "http://h:1/sb"),
            ("ws://[::1]:9/media", "http://[::1]:9"),
            ("ws://h/other", "http://h"),
        ];
        for (ws, http) in cases {
            assert_eq!(Target::from_ws_url(ws).unwrap().http_base, http, "{ws}");
        }
        assert!(Target::from_ws_url("http://h/media").is_err());
        assert!(Target::from_ws_url("not a url").is_err());
    }
}
