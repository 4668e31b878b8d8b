//! Cloud speech faults at the HTTP level, through the real call loop: the voice (OpenAI
//! `/v1/audio/speech`) or the recogniser (OpenAI `/v1/audio/transcriptions`) is a
//! server that refuses connections, never answers, sends headers and then nothing,
//! answers HTTP 500, sends a malformed body, or drops the connection mid-response. A
//! fallback (a tone voice, a scripted recogniser) takes over: the caller hears the bot
//! within 2 s, and the turn's words reach the agents.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use serde_json::json;
use switchboard::agents::testing::ScriptedModel;
use switchboard::agents::RuntimeConfig;
use switchboard::breaker::BreakerConfig;
use switchboard::speech::fakes::{ScriptedStt, ToneTts};
use switchboard::speech::http::HttpPolicy;
use switchboard::speech::stt::fallback::FallbackStt;
use switchboard::speech::stt::openai::{OpenAiStt, OpenAiSttConfig};
use switchboard::speech::tts::fallback::FallbackTts;
use switchboard::speech::tts::openai::{OpenAiTts, OpenAiTtsConfig};
use switchboard::speech::{SpeechToText, TextToSpeech};

use crate::harness::{
    delayed_body, faulty_server, scripted_stack, FakeTwilio, Fault, TestServer, FAULTS,
};

/// What the faulty speech server answers (the faults that answer): audio for the
/// voice, JSON for the recogniser.
fn speech_answer(fault: Fault, speech: bool) -> axum::response::Response {
    let ok = |b: Body| axum::response::Response::builder().body(b).unwrap();
    match fault {
        Fault::SlowFirstByte => ok(delayed_body(
            vec![Ok(vec![0; 4800])],
            Duration::from_secs(30),
        )),
        Fault::Status500 => axum::response::Response::builder()
            .status(500)
            .body(Body::from("internal"))
            .unwrap(),
        // No audio at all (voice); not the JSON asked for (recogniser).
        Fault::Malformed => ok(Body::from(if speech { "" } else { "<html>oops" })),
        Fault::DisconnectMidResponse => ok(delayed_body(
            vec![
                Ok(vec![0; 4800]),
                Err(std::io::Error::other("connection lost")),
            ],
            Duration::from_millis(30),
        )),
        Fault::Refuse | Fault::Hang => unreachable!("no answer"),
    }
}

fn policy() -> HttpPolicy {
    HttpPolicy {
        connect_timeout: Duration::from_millis(500),
        first_byte_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        max_attempts: 1,
        backoff: Duration::from_millis(10),
    }
}

async fn voice_fault(fault: Fault) {
    let base = faulty_server(fault, "/v1/audio/speech", |f| speech_answer(f, true)).await;
    let primary = OpenAiTts::new(OpenAiTtsConfig {
        base_url: base,
        api_key: "sk-test".into(),
        policy: policy(),
        ..Default::default()
    })
    .unwrap();
    let voice: Arc<dyn TextToSpeech> = Arc::new(FallbackTts::new(
        vec![Arc::new(primary), Arc::new(ToneTts::default())],
        Duration::from_millis(1000),
        BreakerConfig::default(),
    ));
    let model = Arc::new(ScriptedModel::new("scripted"));
    model.say("triage", "I can help with that.");
    let stt = ScriptedStt::new(["I have a question about my bill"]);
    let server = TestServer::start_with(0, "", |store| {
        let mut v = scripted_stack(
            store,
            model.clone(),
            Arc::new(stt.clone()),
            RuntimeConfig::default(),
        );
        v.tts = voice.clone();
        v
    })
    .await;
    let mut tw = FakeTwilio::connect(&server, "CAvoice").await;
    tw.connected().await;
    tw.start("+15551230001").await;
    // The greeting: the failing voice costs at most its first-audio timeout.
    let greeting = tw.listen_for(Duration::from_secs(3), 1).await;
    let first = greeting
        .first
        .unwrap_or_else(|| panic!("{fault:?}: no greeting"));
    assert!(
        first < Duration::from_millis(2000),
        "{fault:?}: greeting after {first:?}"
    );
    tw.listen_for(Duration::from_secs(4), 10_000).await;
    // The reply: the fallback voice speaks it.
    let reply = tw.talk_then_listen(25, Duration::from_secs(4), 10).await;
    assert!(
        reply.frames >= 10,
        "{fault:?}: the reply was spoken ({reply:?})"
    );
    tw.stop().await;
    server.finished_call("CAvoice").await;
    server.shutdown.cancel();
}

async fn recogniser_fault(fault: Fault) {
    let base = faulty_server(fault, "/v1/audio/transcriptions", |f| {
        speech_answer(f, false)
    })
    .await;
    let primary = OpenAiStt::new(OpenAiSttConfig {
        base_url: base,
        api_key: "sk-test".into(),
        timeout: Duration::from_secs(5),
        max_retries: 0,
        ..Default::default()
    })
    .unwrap();
    let backup = ScriptedStt::new(["I was charged twice for my subscription"]);
    let stt: Arc<dyn SpeechToText> = Arc::new(FallbackStt::new(
        vec![Arc::new(primary), Arc::new(backup.clone())],
        Duration::from_millis(1500),
        BreakerConfig::default(),
    ));
    let model = Arc::new(ScriptedModel::new("scripted"));
    model.call(
        "triage",
        "transfer_to_billing",
        json!({"reason": "duplicate charge", "trigger": "intent"}),
    );
    model.say("billing", "I can see two charges on March twelfth.");
    let server = TestServer::start_with(0, "", |store| {
        let mut v = scripted_stack(
            store,
            model.clone(),
            Arc::new(ScriptedStt::new(Vec::<String>::new())),
            RuntimeConfig::default(),
        );
        v.stt = Some(stt.clone());
        v
    })
    .await;
    let mut tw = FakeTwilio::connect(&server, "CAears").await;
    tw.connected().await;
    tw.start("+15551230001").await;
    tw.listen_for(Duration::from_secs(5), 10_000).await;
    let reply = tw.talk_then_listen(25, Duration::from_secs(5), 10).await;
    let first = reply
        .first
        .unwrap_or_else(|| panic!("{fault:?}: no reply ({reply:?})"));
    // The endpoint (~0.5 s) plus at most the 1.5 s final timeout.
    assert!(
        first < Duration::from_millis(2500),
        "{fault:?}: reply after {first:?}"
    );
    tw.stop().await;
    let call = server.finished_call("CAears").await;
    assert_eq!(
        call["agents"],
        json!(["triage", "billing"]),
        "{fault:?}: {call}"
    );
    assert!(
        backup.audio_samples() > 8000,
        "{fault:?}: the words reached the fallback"
    );
    backup.assert_consumed();
    server.shutdown.cancel();
}

#[tokio::test]
async fn every_voice_fault_is_covered_by_the_fallback_voice() {
    for fault in FAULTS {
        voice_fault(fault).await;
    }
}

#[tokio::test]
async fn every_recogniser_fault_is_covered_by_the_fallback_recogniser() {
    for fault in FAULTS {
        recogniser_fault(fault).await;
    }
}
