//! The operator console and the softphone socket over real HTTP and websockets,
//! without a browser: the softphone protocol (Opus both ways, marks, hang-up) places
//! a call on the carrier path; the console's pages, login cookie, recording and live
//! events; and who may use them.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use switchboard::audio::opus::{OpusDecoder, OpusEncoder, OPUS_RATE};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{production_toml, FakeTwilio, TestServer, ADMIN_TOKEN};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Open `/phone/ws` as the page would (its own `Origin`), or the refusal's status.
async fn phone_socket(server: &TestServer, origin: &str, cookie: Option<&str>) -> Result<Ws, u16> {
    let mut req = format!("ws://{}/phone/ws", server.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("Origin", origin.parse().unwrap());
    if let Some(c) = cookie {
        req.headers_mut().insert("Cookie", c.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// The page's microphone: `ms` of a tone (or of silence, `amplitude` 0) as numbered
/// 20 ms Opus packets from `seq`.
fn mic_packets(ms: usize, seq: u16, amplitude: f32) -> Vec<Vec<u8>> {
    let n = OPUS_RATE as usize * ms / 1000;
    let tone: Vec<f32> = (0..n)
        .map(|i| amplitude * (i as f32 * 440.0 * std::f32::consts::TAU / OPUS_RATE as f32).sin())
        .collect();
    let mut enc = OpusEncoder::new(OPUS_RATE).unwrap();
    enc.push(&tone)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut f = (seq.wrapping_add(i as u16)).to_be_bytes().to_vec();
            f.extend(p);
            f
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn the_softphone_protocol_places_a_call_on_the_carrier_path() {
    // A 1.5 s greeting tone, no recogniser: the call path of a carrier's call.
    let server = TestServer::start(1500, "").await;
    let origin = format!("http://{}", server.addr);
    let mut ws = phone_socket(&server, &origin, None).await.unwrap();
    let first = ws.next().await.unwrap().unwrap();
    let started: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(started["event"], "started");
    let sid = started["callSid"].as_str().unwrap().to_string();
    assert!(sid.starts_with("WB"), "{sid}");

    // The greeting arrives as numbered Opus packets, marks after their audio; the
    // page echoes each mark once it has played, and talks meanwhile.
    let mut dec = OpusDecoder::new(OPUS_RATE).unwrap();
    let (mut packets, mut marks, mut seq_expected) = (0usize, 0usize, 0u16);
    let mut mic = mic_packets(2000, 0, 0.0).into_iter();
    loop {
        let msg = match tokio::time::timeout(Duration::from_millis(800), ws.next()).await {
            Ok(Some(Ok(m))) => m,
            _ => break, // the greeting is over
        };
        match msg {
            Message::Binary(b) => {
                assert_eq!(u16::from_be_bytes([b[0], b[1]]), seq_expected);
                seq_expected = seq_expected.wrapping_add(1);
                assert_eq!(dec.decode(&b[2..]).unwrap().len(), 960, "20 ms at 48 kHz");
                packets += 1;
                if let Some(p) = mic.next() {
                    ws.send(Message::Binary(p.into())).await.unwrap();
                }
            }
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                assert_eq!(v["event"], "mark", "{v}");
                marks += 1;
                ws.send(Message::Text(t)).await.unwrap();
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        (70..=76).contains(&packets),
        "1.5 s of greeting: {packets} packets"
    );
    assert!(marks >= 2, "{marks}");
    // Then the caller speaks (a tone), after the greeting.
    for p in mic_packets(1000, packets as u16, 0.3) {
        ws.send(Message::Binary(p.into())).await.unwrap();
    }
    ws.send(Message::Text(r#"{"event":"dtmf","digit":"5"}"#.into()))
        .await
        .unwrap();
    ws.send(Message::Text(r#"{"event":"hangup"}"#.into()))
        .await
        .unwrap();

    let call = server.finished_call(&sid).await;
    assert_eq!(call["codec"], "opus");
    assert_eq!(call["transport"], "browser-websocket");
    assert_eq!(call["from"], "browser");
    assert_eq!(call["outcome"], "completed", "the page hung up: {call:#}");
    assert_eq!(
        call["trace"]["playout"]["marksHeard"],
        call["trace"]["playout"]["marksSent"]
    );
    assert!(call["framesIn"].as_u64().unwrap() >= 115, "{call:#}");
    assert_eq!(call["trace"]["protocol"]["dtmf"], 1, "{call:#}");

    // The recording: the page's tone on the left, the greeting on the right.
    let resp = reqwest::get(server.url(&format!("/calls/{sid}/recording.wav")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "audio/wav");
    let wav = resp.bytes().await.unwrap();
    let reader = hound::WavReader::new(std::io::Cursor::new(wav.to_vec())).unwrap();
    assert_eq!(reader.spec().channels, 2);
    let s: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
    let loud = |ch: usize| {
        s.iter()
            .skip(ch)
            .step_by(2)
            .filter(|x| x.abs() > 1000)
            .count()
    };
    assert!(loud(0) > 4000, "caller (left): {}", loud(0));
    assert!(loud(1) > 8000, "greeting (right): {}", loud(1));
    // On one timeline: the caller's tone starts where the greeting ends, as heard
    // (to within the page's codec delays: it sent a packet per greeting packet).
    let frames: Vec<(i16, i16)> = s.chunks(2).map(|c| (c[0], c[1])).collect();
    let greeting_end = frames.iter().rposition(|f| f.1.abs() > 1000).unwrap() as i64;
    let caller_start = frames.iter().position(|f| f.0.abs() > 1000).unwrap() as i64;
    let ms = (caller_start - greeting_end) * 1000 / 8000;
    assert!(
        (-60..200).contains(&ms),
        "the caller starts {ms} ms after the greeting's end"
    );
    // Ranges, for seeking in the page's player.
    let part = reqwest::Client::new()
        .get(server.url(&format!("/calls/{sid}/recording.wav")))
        .header("Range", "bytes=0-43")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().len(), 44);
}

#[tokio::test]
async fn a_page_on_another_site_cannot_open_the_softphone() {
    let server = TestServer::start(0, "").await;
    assert_eq!(
        phone_socket(&server, "http://evil.example", None)
            .await
            .err(),
        Some(403)
    );
    let other_port = format!("http://127.0.0.1:{}", server.addr.port() + 1);
    assert_eq!(
        phone_socket(&server, &other_port, None).await.err(),
        Some(403)
    );
}

async fn status(server: &TestServer, path: &str, cookie: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(server.url(path));
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn in_production_the_console_and_the_softphone_need_the_operator() {
    let server = TestServer::start(0, &production_toml("SB_IT_CONSOLE_TW", "tw", "", "")).await;
    // Without a session: the sign-in form (401), never the data.
    for path in ["/console", "/console/calls/CA1", "/phone"] {
        let (code, body) = status(&server, path, None).await;
        assert_eq!(code, 401, "{path}");
        assert!(body.contains("action=\"/console/login\""), "{path}: {body}");
    }
    for path in [
        "/console/events",
        "/console/calls/CA1/events",
        "/calls/CA1/recording.wav",
    ] {
        assert_eq!(status(&server, path, None).await.0, 401, "{path}");
    }
    let origin = format!("http://{}", server.addr);
    assert_eq!(phone_socket(&server, &origin, None).await.err(), Some(401));

    // A wrong token is refused; the right one becomes an HttpOnly cookie.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = |token: &'static str, next: &'static str| {
        client
            .post(server.url("/console/login"))
            .form(&[("token", token), ("next", next)])
            .send()
    };
    assert_eq!(login("guess", "/console").await.unwrap().status(), 401);
    let ok = login(ADMIN_TOKEN, "/console/calls/CA1").await.unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()["location"], "/console/calls/CA1");
    let set = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    // Only our own paths as the place to return to.
    let away = login(ADMIN_TOKEN, "//evil.example/").await.unwrap();
    assert_eq!(away.headers()["location"], "/console");
    let cookie = set.split(';').next().unwrap().to_string();

    let (code, page) = status(&server, "/console/calls/CA1", Some(&cookie)).await;
    assert_eq!(code, 200);
    assert!(page.contains(r#"src="/calls/CA1/recording.wav""#));
    assert_eq!(status(&server, "/console", Some(&cookie)).await.0, 200);
    assert_eq!(status(&server, "/phone", Some(&cookie)).await.0, 200);
    assert_eq!(
        status(&server, "/calls/CA1/recording.wav", Some(&cookie))
            .await
            .0,
        404,
        "no such call"
    );
    assert_eq!(
        status(&server, "/console/calls/CA1%3Cx", Some(&cookie))
            .await
            .0,
        404
    );
    assert!(phone_socket(&server, &origin, Some(&cookie)).await.is_ok());
}

/// Read server-sent events until one named `name`; its data.
async fn next_event(
    body: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
    name: &str,
) -> String {
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let event = block
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or("");
            let data: String = block
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            if event == name {
                return data;
            }
        }
        let chunk = body.next().await.expect("stream ended").unwrap();
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

#[tokio::test(start_paused = true)]
async fn the_events_of_a_call_that_never_was_end_instead_of_polling_forever() {
    let server = TestServer::start(0, "").await;
    let resp = reqwest::get(server.url("/console/calls/CAnever/events"))
        .await
        .unwrap();
    let mut body = resp.bytes_stream();
    let mut buf = String::new();
    let end = next_event(&mut body, &mut buf, "end").await;
    assert_eq!(end, r#"{"missing":true}"#);
    assert!(body.next().await.is_none());
    let bad = reqwest::get(server.url("/console/calls/CA%3Cx/events"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 404);
}

#[tokio::test(start_paused = true)]
async fn a_calls_live_events_follow_its_record_to_the_end() {
    let server = TestServer::start(200, "").await;
    let mut tw = FakeTwilio::connect(&server, "CA900").await;
    tw.connected().await;
    tw.start("+15551230001").await;
    // Once the call has its record (a stream for a SID without one ends on its own).
    while server.get_json("/calls/CA900").await.0 != 200 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let resp = reqwest::get(server.url("/console/calls/CA900/events"))
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.bytes_stream();
    let mut buf = String::new();
    let live: Value =
        serde_json::from_str(&next_event(&mut body, &mut buf, "record").await).unwrap();
    assert_eq!(live["callSid"], "CA900");
    assert!(live["endedAt"].is_null(), "live first: {live}");
    assert_eq!(live["codec"], "pcmu");
    tw.stop().await;
    let mut last = live;
    while last["endedAt"].is_null() {
        last = serde_json::from_str(&next_event(&mut body, &mut buf, "record").await).unwrap();
    }
    assert_eq!(last["outcome"], "completed");
    next_event(&mut body, &mut buf, "end").await;
    assert!(body.next().await.is_none(), "the stream closes after `end`");

    // The list's events carry the call too.
    let resp = reqwest::get(server.url("/console/events")).await.unwrap();
    let mut body = resp.bytes_stream();
    let mut buf = String::new();
    let calls: Value =
        serde_json::from_str(&next_event(&mut body, &mut buf, "calls").await).unwrap();
    assert_eq!(calls[0]["callSid"], "CA900");
}
