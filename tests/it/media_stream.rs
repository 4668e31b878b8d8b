//! The foundation path end to end over a real websocket: connected → start → media →
//! mark → stop, paced μ-law greeting, marks round-tripping, malformed input survived
//! and counted, and the call record served afterwards.

use std::time::Duration;

use base64::Engine;
use futures::SinkExt;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::harness::{FakeTwilio, TestServer, B64};

/// Read outbound messages until `n` media frames arrived, echoing marks like Twilio
/// does when playback reaches them. Returns (arrival time, payload) per frame and the
/// marks seen.
async fn play(tw: &mut FakeTwilio, n: usize) -> (Vec<(Instant, Vec<u8>)>, Vec<String>) {
    let mut frames = Vec::new();
    let mut marks = Vec::new();
    while frames.len() < n {
        let msg = tw.recv().await.expect("socket closed early");
        assert_eq!(msg["streamSid"], tw.stream_sid.as_str(), "{msg}");
        match msg["event"].as_str() {
            Some("media") => {
                let payload = B64
                    .decode(msg["media"]["payload"].as_str().unwrap())
                    .unwrap();
                frames.push((Instant::now(), payload));
            }
            Some("mark") => {
                let name = msg["mark"]["name"].as_str().unwrap().to_string();
                tw.mark(&name).await;
                marks.push(name);
            }
            other => panic!("unexpected outbound event {other:?}: {msg}"),
        }
    }
    (frames, marks)
}

#[tokio::test(start_paused = true)]
async fn greeting_is_paced_marked_and_recorded() {
    let server = TestServer::start(1000, "").await;
    let mut tw = FakeTwilio::connect(&server, "CA100").await;
    tw.connected().await;
    tw.start("+15551230001").await;

    // One second of greeting = 50 frames, in 5 chunks of 10 frames, each with a mark.
    let (frames, marks) = play(&mut tw, 50).await;
    for (_, f) in &frames {
        assert_eq!(f.len(), 160, "every frame is 20 ms of 8 kHz μ-law");
    }
    assert!(
        frames
            .iter()
            .any(|(_, f)| f.iter().any(|b| *b != 0xFF && *b != 0x7F)),
        "greeting is not silence"
    );
    // Strict real-time pacing: frame k leaves 20·k ms after the first.
    let t0 = frames[0].0;
    for (k, (t, _)) in frames.iter().enumerate() {
        let expected = Duration::from_millis(20 * k as u64);
        let got = t.duration_since(t0);
        assert!(
            got.abs_diff(expected) <= Duration::from_millis(1),
            "frame {k} at {got:?}, expected {expected:?}"
        );
    }
    // The last marks follow the last frame; nothing else comes.
    let mut tail = 0;
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_millis(500), tw.recv()).await {
        assert_eq!(msg["event"], "mark", "{msg}");
        tw.mark(msg["mark"]["name"].as_str().unwrap()).await;
        tail += 1;
    }
    assert!(
        tail >= 1 && marks.len() + tail >= 5,
        "{} + {tail} marks",
        marks.len()
    );

    // Caller audio: 25 frames of a recognisable pattern, plus DTMF.
    for i in 0..25u8 {
        tw.media(&[i.wrapping_mul(7) | 0x80; 160]).await;
    }
    tw.dtmf("5").await;
    tw.stop().await;

    let call = server.finished_call("CA100").await;
    assert_eq!(call["callSid"], "CA100");
    assert_eq!(call["streamSid"], "MZCA100");
    assert_eq!(call["from"], "+15551230001");
    assert_eq!(call["to"], "+18005550100");
    assert_eq!(call["outcome"], "completed");
    assert_eq!(call["framesIn"], 25);
    assert_eq!(call["framesOut"], 50);
    assert_eq!(call["errors"], 0);
    assert!(call["endedAt"].is_string());
    // A mark per 10-frame chunk (plus one carrying the sentence's last words); the
    // caller heard all of them.
    assert!(call["trace"]["playout"]["marksSent"].as_u64().unwrap() >= 5);
    assert_eq!(
        call["trace"]["playout"]["marksHeard"],
        call["trace"]["playout"]["marksSent"]
    );
    assert_eq!(
        call["trace"]["playout"]["heardText"],
        "Hello and welcome to the support line"
    );
    let rec = call["recording"].as_str().expect("recording path");
    // Stereo: the caller's 25 frames on the left, the greeting's 50 frames on the
    // right (what the caller heard; the part sent after the caller's last frame is
    // appended against caller silence).
    let reader = hound::WavReader::open(rec).unwrap();
    assert_eq!(reader.spec().sample_rate, 8000);
    assert_eq!(reader.spec().channels, 2);
    let samples: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
    let bot_voiced = samples
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|s| **s != 0)
        .count();
    assert!(samples.len() / 2 >= 50 * 160, "{}", samples.len() / 2);
    assert!(
        bot_voiced > 25 * 160,
        "the greeting is on the right: {bot_voiced}"
    );

    // The record is listed too.
    let (status, list) = server.get_json("/calls").await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["callSid"], "CA100");
    server.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn malformed_input_is_counted_and_the_call_survives() {
    let server = TestServer::start(200, "").await;
    let mut tw = FakeTwilio::connect(&server, "CA200").await;
    // Media before start: counted, call continues.
    tw.send_json(
        json!({"event":"media","streamSid":"MZCA200","sequenceNumber":"1",
        "media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"//8="}}),
    )
    .await;
    tw.connected().await;
    tw.start("+15551230002").await;
    tw.send_raw("{not json").await;
    tw.send_json(
        json!({"event":"media","streamSid":"MZCA200","sequenceNumber":"3",
        "media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"!!!not base64!!!"}}),
    )
    .await;
    tw.ws
        .send(tokio_tungstenite::tungstenite::Message::Binary(
            vec![1u8, 2, 3].into(),
        ))
        .await
        .unwrap();
    tw.send_raw(format!(
        "{{\"event\":\"media\",\"pad\":\"{}\"}}",
        "x".repeat(70_000)
    ))
    .await;
    tw.send_json(json!({"event":"futureThing","streamSid":"MZCA200"}))
        .await;
    // The call still works: audio flows out and in.
    let (frames, _) = play(&mut tw, 10).await;
    assert_eq!(frames.len(), 10);
    tw.media(&[0xFF; 160]).await;
    tw.stop().await;

    let call = server.finished_call("CA200").await;
    assert_eq!(call["outcome"], "completed");
    assert_eq!(call["framesIn"], 1);
    // Media before start is dropped and counted (metrics, protocol stats), but is
    // not an error of the call: a carrier may send it before start.
    assert_eq!(call["errors"], 4, "{call}");
    let (_, metrics) = server.get_text("/metrics").await;
    assert!(
        metrics.contains("switchboard_frames_before_start_total 1"),
        "{metrics}"
    );
    for kind in ["json", "invalid_base64", "binary_frame", "too_large"] {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("switchboard_protocol_errors_total") && l.contains(kind)),
            "no {kind} in metrics:\n{metrics}"
        );
    }
    assert!(
        metrics.contains("switchboard_unknown_events_total 1"),
        "{metrics}"
    );
    server.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_fatal_error_on_one_call_leaves_another_untouched() {
    let server = TestServer::start(400, "").await;
    let mut good = FakeTwilio::connect(&server, "CA301").await;
    good.start("+15551230001").await;
    let mut bad = FakeTwilio::connect(&server, "CA302").await;
    // An unsupported media format is fatal for that call only.
    bad.send_json(json!({"event":"start","sequenceNumber":"1","streamSid":"MZCA302",
        "start":{"accountSid":"AC","streamSid":"MZCA302","callSid":"CA302","tracks":["inbound"],
            "customParameters":{},"mediaFormat":{"encoding":"audio/x-l16","sampleRate":16000,"channels":1}}}))
        .await;
    assert_eq!(bad.recv().await, None, "the bad call is closed");
    let (frames, _) = play(&mut good, 20).await;
    assert_eq!(frames.len(), 20);
    good.stop().await;
    assert_eq!(server.finished_call("CA301").await["outcome"], "completed");
    server.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn socket_loss_ends_the_call_as_hangup() {
    let server = TestServer::start(0, "").await;
    let mut tw = FakeTwilio::connect(&server, "CA400").await;
    tw.start("+15551230003").await;
    tw.media(&[0xFF; 160]).await;
    drop(tw);
    let call = server.finished_call("CA400").await;
    assert_eq!(call["outcome"], "hangup");
    assert_eq!(call["framesIn"], 1);
    server.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn http_routes() {
    // Production mode behind a gateway that checks Twilio's signatures itself.
    std::env::set_var(crate::harness::ADMIN_ENV, crate::harness::ADMIN_TOKEN);
    let server = TestServer::start(
        0,
        &format!(
            "[server]\npublic_url = \"https://bot.example.com\"\nallow_unsigned_webhooks = true\n\
             admin_token_env = \"{}\"\n",
            crate::harness::ADMIN_ENV
        ),
    )
    .await;
    let (status, body) = server.get_text("/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    assert_eq!(server.get_text("/readyz").await.0, 200);
    let (status, v) = server.get_json("/calls/CAnothing").await;
    assert_eq!(status, 404, "{v}");

    let resp = reqwest::Client::new()
        .post(server.url("/twiml"))
        .form(&[
            ("CallSid", "CA9"),
            ("From", "+15551230001"),
            ("To", "+18005550100"),
            ("Secret", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("xml"));
    let xml = resp.text().await.unwrap();
    assert!(
        xml.contains("<Connect><Stream url=\"wss://bot.example.com/media\">"),
        "{xml}"
    );
    assert!(
        xml.contains("<Parameter name=\"From\" value=\"+15551230001\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains("<Parameter name=\"CallSid\" value=\"CA9\"/>"),
        "{xml}"
    );
    assert!(
        !xml.contains("Secret"),
        "only known parameters are forwarded: {xml}"
    );
    let _: Value = json!(null);
    server.shutdown.cancel();
}
