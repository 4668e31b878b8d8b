//! Production-mode security over real HTTP and websockets: every refusal (unsigned or
//! wrongly signed webhooks and handshakes, missing, forged, expired, foreign and
//! replayed stream tokens, forged `From`, idle sockets, the call and pending caps,
//! operator authentication) and card-number masking in the record.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use switchboard::agents::testing::ScriptedModel;
use switchboard::call::VoiceStack;
use switchboard::speech::fakes::ToneTts;
use switchboard::telephony::compute_signature;

use crate::harness::{production_toml, FakeTwilio, TestServer, ADMIN_TOKEN};

const TWILIO_TOKEN: &str = "test-twilio-auth-token";
const TWILIO_ENV: &str = "SB_IT_TWILIO_AUTH_TOKEN";

/// Production mode: `public_url` set to the test server's own address.
fn production(extra: &str) -> String {
    production_toml(TWILIO_ENV, TWILIO_TOKEN, extra, "")
}

async fn prod_server(extra: &str) -> TestServer {
    TestServer::start(200, &production(extra)).await
}

fn form(call_sid: &str, from: &str) -> Vec<(String, String)> {
    vec![
        ("AccountSid".into(), "ACtest".into()),
        ("CallSid".into(), call_sid.into()),
        ("From".into(), from.into()),
        ("To".into(), "+18005550100".into()),
    ]
}

/// POST /twiml as Twilio would, signed with `token` (None = unsigned).
async fn post_twiml(
    server: &TestServer,
    params: &[(String, String)],
    token: Option<&str>,
) -> (u16, String) {
    let url = format!("{}/twiml", server.public_base());
    let mut req = reqwest::Client::new()
        .post(server.url("/twiml"))
        .form(params);
    if let Some(t) = token {
        req = req.header("X-Twilio-Signature", compute_signature(t, &url, params));
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// The `<Parameter>`s of a signed /twiml answer for this call.
async fn issued(server: &TestServer, call_sid: &str, from: &str) -> Vec<(String, String)> {
    let (status, body) = post_twiml(server, &form(call_sid, from), Some(TWILIO_TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    let (url, params) = switchboard::telephony::twiml::parse_stream(&body).unwrap();
    assert_eq!(url, format!("{}/media", server.public_ws_base()));
    assert!(params.iter().any(|(k, _)| k == "StreamToken"), "{body}");
    params
}

async fn get(server: &TestServer, path: &str, bearer: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(server.url(path));
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn record(server: &TestServer, call_sid: &str) -> Value {
    for _ in 0..300 {
        let (status, v) = get(server, &format!("/calls/{call_sid}"), Some(ADMIN_TOKEN)).await;
        if status == 200 && !v["outcome"].is_null() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("call {call_sid} never finished");
}

/// A signed stream with these parameters; returns the close and the media count.
async fn stream(
    server: &TestServer,
    call_sid: &str,
    params: &[(String, String)],
    stop_after_media: bool,
) -> (Option<(u16, String)>, usize) {
    let mut tw = FakeTwilio::try_connect(server, call_sid, Some(TWILIO_TOKEN))
        .await
        .expect("signed handshake accepted");
    tw.connected().await;
    tw.start_params(params).await;
    if stop_after_media {
        let first = tw.recv().await.expect("greeting audio");
        assert_eq!(first["event"], "media");
        tw.stop().await;
        let (close, media) = tw.until_close().await;
        (close, media + 1)
    } else {
        tw.until_close().await
    }
}

#[tokio::test]
async fn twiml_needs_a_valid_signature() {
    let server = prod_server("").await;
    let params = form("CA900", "+15551230001");
    assert_eq!(post_twiml(&server, &params, None).await.0, 403, "unsigned");
    assert_eq!(
        post_twiml(&server, &params, Some("wrong-token")).await.0,
        403,
        "wrong signature"
    );
    // A signature over other parameters (the caller's number changed) fails too.
    let url = format!("{}/twiml", server.public_base());
    let sig = compute_signature(TWILIO_TOKEN, &url, &params);
    let tampered = form("CA900", "+15551230002");
    let resp = reqwest::Client::new()
        .post(server.url("/twiml"))
        .header("X-Twilio-Signature", sig)
        .form(&tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403, "tampered parameters");
    issued(&server, "CA900", "+15551230001").await;
    let (_, metrics) = get(&server, "/metrics", None).await;
    let metrics = metrics.as_str().unwrap().to_string();
    assert!(
        metrics.contains("refused_total{reason=\"signature_invalid\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn media_handshake_needs_a_valid_signature() {
    let server = prod_server("").await;
    assert_eq!(
        FakeTwilio::try_connect(&server, "CA901", None).await.err(),
        Some(403)
    );
    assert_eq!(
        FakeTwilio::try_connect(&server, "CA901", Some("wrong-token"))
            .await
            .err(),
        Some(403)
    );
}

#[tokio::test]
async fn a_signed_call_takes_the_caller_from_the_token_only() {
    let server = prod_server("").await;
    let mut params = issued(&server, "CA902", "+15551230001").await;
    // The client claims another customer; the verified token says who is calling.
    for (k, v) in params.iter_mut() {
        if k == "From" {
            *v = "+15551230002".into();
        }
    }
    let (_, media) = stream(&server, "CA902", &params, true).await;
    assert!(media > 0, "an ordinary signed call is greeted");
    let rec = record(&server, "CA902").await;
    assert_eq!(rec["from"], "+15551230001", "{rec}");
    // A served call leaves no personal data in /metrics.
    let (_, metrics) = get(&server, "/metrics", None).await;
    let metrics = metrics.as_str().unwrap();
    assert!(metrics.contains("calls_started_total 1"), "{metrics}");
    assert!(!metrics.contains("5551230001") && !metrics.contains("CA902"));
}

#[tokio::test]
async fn streams_without_a_valid_token_are_refused_before_any_audio() {
    let server = prod_server("").await;
    let good = issued(&server, "CA903", "+15551230001").await;
    let token = good
        .iter()
        .find(|(k, _)| k == "StreamToken")
        .unwrap()
        .1
        .clone();
    let with_token = |t: &str| {
        vec![
            ("From".to_string(), "+15551230001".to_string()),
            ("StreamToken".to_string(), t.to_string()),
        ]
    };
    // Missing token (forged From alone).
    let (close, media) = stream(
        &server,
        "CA903",
        &[("From".into(), "+15551230001".into())],
        false,
    )
    .await;
    assert_eq!(media, 0);
    assert_eq!(close.as_ref().map(|c| c.0), Some(1008), "{close:?}");
    assert!(close.unwrap().1.contains("missing"));
    // Forged: the claims rewritten for another caller, the MAC kept.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let claims = String::from_utf8(b64.decode(parts[1]).unwrap()).unwrap();
    let forged_claims = claims.replace("+15551230001", "+15551230002");
    assert_ne!(claims, forged_claims);
    let forged = format!("v1.{}.{}", b64.encode(forged_claims), parts[2]);
    let (close, media) = stream(&server, "CA903", &with_token(&forged), false).await;
    assert_eq!(media, 0, "forged");
    assert!(close.unwrap().1.contains("signature invalid"), "forged");
    // Issued for another call.
    let (close, media) = stream(&server, "CA999", &with_token(&token), false).await;
    assert_eq!(media, 0);
    assert!(close.unwrap().1.contains("another call"), "foreign token");
    // The real one works once.
    let (_, media) = stream(&server, "CA903", &with_token(&token), true).await;
    assert!(media > 0);
    let before = record(&server, "CA903").await;
    // Replayed after the call ended: refused, and the record is untouched.
    let (close, media) = stream(&server, "CA903", &with_token(&token), false).await;
    assert_eq!(media, 0, "a replayed stream hears nothing");
    assert!(close.unwrap().1.contains("already"), "replay refused");
    let after = record(&server, "CA903").await;
    assert_eq!(
        before, after,
        "a replay never restarts or overwrites a call"
    );
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let server = prod_server("stream_token_ttl_s = 0").await;
    let params = issued(&server, "CA904", "+15551230001").await;
    let (close, media) = stream(&server, "CA904", &params, false).await;
    assert_eq!(media, 0);
    assert!(close.unwrap().1.contains("expired"));
}

#[tokio::test]
async fn a_socket_without_start_is_closed() {
    let server = prod_server("start_timeout_ms = 300").await;
    let mut tw = FakeTwilio::try_connect(&server, "CA905", Some(TWILIO_TOKEN))
        .await
        .unwrap();
    tw.connected().await;
    let t0 = std::time::Instant::now();
    let (close, _) = tw.until_close().await;
    assert!(t0.elapsed() < Duration::from_secs(5));
    let (code, reason) = close.expect("close frame");
    assert_eq!(code, 1008);
    assert!(reason.contains("no valid start"), "{reason}");
}

#[tokio::test]
async fn calls_over_the_cap_are_refused_with_a_reason() {
    let server = prod_server("max_calls = 1").await;
    let params = issued(&server, "CA906", "+15551230001").await;
    let mut first = FakeTwilio::try_connect(&server, "CA906", Some(TWILIO_TOKEN))
        .await
        .unwrap();
    first.connected().await;
    first.start_params(&params).await;
    assert_eq!(first.recv().await.unwrap()["event"], "media");
    // A second authenticated stream is over the cap of 1.
    let params = issued(&server, "CA907", "+15551230002").await;
    let mut second = FakeTwilio::try_connect(&server, "CA907", Some(TWILIO_TOKEN))
        .await
        .unwrap();
    second.connected().await;
    second.start_params(&params).await;
    let (close, media) = second.until_close().await;
    assert_eq!(media, 0);
    assert_eq!(close, Some((1013, "server at capacity".to_string())));
    let (_, metrics) = get(&server, "/metrics", None).await;
    assert!(metrics
        .as_str()
        .unwrap()
        .contains("refused_total{reason=\"at_capacity\"} 1"));
}

#[tokio::test]
async fn unauthenticated_sockets_per_client_are_capped() {
    let server = prod_server("max_pending_per_client = 2").await;
    let _a = FakeTwilio::try_connect(&server, "CA908", Some(TWILIO_TOKEN))
        .await
        .unwrap();
    let _b = FakeTwilio::try_connect(&server, "CA909", Some(TWILIO_TOKEN))
        .await
        .unwrap();
    assert_eq!(
        FakeTwilio::try_connect(&server, "CA910", Some(TWILIO_TOKEN))
            .await
            .err(),
        Some(429)
    );
    drop(_a);
    // The slot frees when the socket ends.
    let mut ok = false;
    for _ in 0..100 {
        if FakeTwilio::try_connect(&server, "CA911", Some(TWILIO_TOKEN))
            .await
            .is_ok()
        {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "a closed socket frees its pending slot");
}

#[tokio::test]
async fn operator_routes_need_the_bearer_token_in_production() {
    let server = prod_server("").await;
    for path in ["/calls", "/calls/CA1"] {
        assert_eq!(
            get(&server, path, None).await.0,
            401,
            "{path} without token"
        );
        assert_eq!(
            get(&server, path, Some("nope")).await.0,
            401,
            "{path} bad token"
        );
    }
    assert_eq!(get(&server, "/calls", Some(ADMIN_TOKEN)).await.0, 200);
    assert_eq!(get(&server, "/calls/CA1", Some(ADMIN_TOKEN)).await.0, 404);
    // The whisper brief is a Twilio webhook: unsigned is refused.
    assert_eq!(get(&server, "/whisper/CA1", None).await.0, 403);
    let url = format!("{}/whisper/CA1", server.public_base());
    let resp = reqwest::Client::new()
        .get(server.url("/whisper/CA1"))
        .header(
            "X-Twilio-Signature",
            compute_signature(TWILIO_TOKEN, &url, &[]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn development_mode_serves_operators_on_loopback() {
    let server = TestServer::start(0, "").await;
    assert_eq!(get(&server, "/calls", None).await.0, 200);
}

#[test]
fn production_mode_needs_the_twilio_token_unless_opted_out() {
    let toml = |extra: &str| {
        format!(
            "[server]\npublic_url = \"https://example.com\"\n{extra}\n[twilio]\n\
             auth_token_env = \"SB_IT_UNSET_TOKEN\"\n[speech]\nstt = \"none\"\ntts = \"none\"\n"
        )
    };
    let config = switchboard::config::Config::from_parts(&toml(""), "test", Vec::new()).unwrap();
    let err = switchboard::app::security(&config).unwrap_err().to_string();
    assert!(err.contains("SB_IT_UNSET_TOKEN"), "{err}");
    assert!(err.contains("allow_unsigned_webhooks"), "{err}");
    let opted = switchboard::config::Config::from_parts(
        &toml("allow_unsigned_webhooks = true"),
        "test",
        Vec::new(),
    )
    .unwrap();
    let sec = switchboard::app::security(&opted).unwrap();
    assert!(sec.enforcing && sec.twilio_auth_token.is_none());
}

#[tokio::test]
async fn a_keyed_card_number_is_masked_in_the_record_and_the_logs() {
    // Capture this test's log lines (every level, through the server's log writer).
    use std::sync::{Arc as StdArc, Mutex};
    #[derive(Clone, Default)]
    struct Buf(StdArc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let logs = Buf::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(switchboard::redact::RedactingWriter(move || sink.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let model = Arc::new(ScriptedModel::new("scripted"));
    model.say(
        "triage",
        "Thanks. Please don't key card numbers on this line.",
    );
    let server = TestServer::start_with(0, &production(""), |store| VoiceStack {
        vad: None,
        stt: None,
        tts: Arc::new(ToneTts::default()),
        runtime: Some(crate::harness::scripted_runtime(
            store,
            model.clone(),
            switchboard::agents::RuntimeConfig::default(),
        )),
        greeting: None,
        transfer: None,
    })
    .await;
    let params = issued(&server, "CA912", "+15551230004").await;
    let mut tw = FakeTwilio::try_connect(&server, "CA912", Some(TWILIO_TOKEN))
        .await
        .unwrap();
    tw.connected().await;
    tw.start_params(&params).await;
    for d in "4111111111111111#".chars() {
        tw.dtmf(&d.to_string()).await;
    }
    // Echo marks (so playout moves on) until the keyed turn is in the record.
    let mut keyed = false;
    for _ in 0..400 {
        if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(25), tw.recv()).await {
            if m["event"] == "mark" {
                tw.mark(m["mark"]["name"].as_str().unwrap()).await;
            }
        }
        let (_, live) = get(&server, "/calls/CA912", Some(ADMIN_TOKEN)).await;
        if live["transcript"].to_string().contains("keypad") {
            keyed = true;
            break;
        }
    }
    assert!(keyed, "the keyed turn reached the record");
    tw.stop().await;
    let rec = record(&server, "CA912").await;
    let text = rec.to_string();
    assert!(!text.contains("4111111111111111"), "{text}");
    assert!(
        text.contains("************1111"),
        "the keyed turn is kept, masked: {text}"
    );
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("call started"), "logs captured: {logged}");
    assert!(!logged.contains("4111111111111111"), "{logged}");
}

#[tokio::test]
async fn the_default_start_timeout_leaves_an_ordinary_call_alone() {
    // Default start_timeout_ms (5 s): a carrier that takes a second to send start.
    let server = prod_server("start_timeout_ms = 5000").await;
    let params = issued(&server, "CA914", "+15551230001").await;
    let mut tw = FakeTwilio::try_connect(&server, "CA914", Some(TWILIO_TOKEN))
        .await
        .unwrap();
    tw.connected().await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    tw.start_params(&params).await;
    assert_eq!(tw.recv().await.unwrap()["event"], "media");
    tw.stop().await;
    assert_eq!(record(&server, "CA914").await["outcome"], "completed");
}

#[tokio::test]
async fn a_second_stream_for_a_live_call_is_refused_and_the_first_goes_on() {
    // Development mode (no tokens): the one-record-per-CallSid rule still holds.
    let server = TestServer::start(400, "").await;
    let mut a = FakeTwilio::connect(&server, "CA920").await;
    a.connected().await;
    a.start("+15551230001").await;
    assert_eq!(a.recv().await.unwrap()["event"], "media");
    let mut b = FakeTwilio::connect(&server, "CA920").await;
    b.stream_sid = "MZsecond".into();
    b.connected().await;
    b.start("+15551230002").await;
    let (close, media) = b.until_close().await;
    assert_eq!(media, 0, "one voice on the line");
    assert_eq!(close.map(|c| c.0), Some(1008));
    // A keeps playing and ends normally; its record is its own.
    assert_eq!(a.recv().await.unwrap()["event"], "media");
    a.stop().await;
    let rec = server.finished_call("CA920").await;
    assert_eq!(rec["outcome"], "completed");
    assert_eq!(rec["streamSid"], "MZCA920");
    assert_eq!(rec["from"], "+15551230001");
}
