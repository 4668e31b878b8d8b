//! Chat-model faults through the real call loop: every agent's primary model is an
//! OpenAI-compatible server that fails in one way — refuses connections, accepts and
//! never answers, sends headers and then nothing, answers HTTP 500, streams malformed
//! events, or drops the connection in the middle of a tool call — with
//! `fallback = { provider = "embedded", name = "intent-router" }`. The caller is
//! answered by the fallback on the expected path (triage → billing), the first reply
//! frame within 2 s of the end of their turn, and the trace and the Prometheus counter
//! name the switch.
//!
//! Uses the embedded brain (MiniLM), fetched by the test command.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use switchboard::config::Config;
use switchboard::speech::fakes::{LevelVadFactory, ScriptedStt, ToneTts};

use crate::harness::{delayed_body, faulty_server, FakeTwilio, Fault, TestServer};

/// What the faulty chat server answers (the faults that answer).
fn chat_answer(fault: Fault) -> axum::response::Response {
    let sse = |chunks: Vec<&str>, delay: Duration| {
        let chunks = chunks
            .into_iter()
            .map(|c| Ok(c.as_bytes().to_vec()))
            .collect();
        axum::response::Response::builder()
            .header("content-type", "text/event-stream")
            .body(delayed_body(chunks, delay))
            .unwrap()
    };
    match fault {
        Fault::SlowFirstByte => sse(
            vec!["data: {\"choices\":[{\"delta\":{\"content\":\"Hi.\"}}]}\n\n"],
            Duration::from_secs(30),
        ),
        Fault::Status500 => axum::response::Response::builder()
            .status(500)
            .body(Body::from("{\"error\":{\"message\":\"internal\"}}"))
            .unwrap(),
        Fault::Malformed => sse(
            vec!["data: {\"choices\": [{\"delta\": {oops\n\n"],
            Duration::ZERO,
        ),
        Fault::DisconnectMidResponse => {
            let first = "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"transfer_to_billing\",\"arguments\":\"{\\\"rea\"}}]}}]}\n\n";
            axum::response::Response::builder()
                .header("content-type", "text/event-stream")
                .body(delayed_body(
                    vec![
                        Ok(first.as_bytes().to_vec()),
                        Err(std::io::Error::other("connection lost")),
                    ],
                    Duration::from_millis(50),
                ))
                .unwrap()
        }
        Fault::Refuse | Fault::Hang => unreachable!("no answer"),
    }
}

/// The repository's prompts with every agent's model at `base_url`, falling back to
/// the embedded brain.
fn prompts_with_primary(dir: &Path, base_url: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let model =
        regex::Regex::new(r#"(?m)^\[model\]\nprovider = "embedded"\nname = "[^"]*"\n"#).unwrap();
    for entry in std::fs::read_dir("prompts").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let replaced = model.replace(
            &text,
            format!(
                "[model]\nprovider = \"openai\"\nname = \"primary-llm\"\nbase_url = \"{base_url}\"\n\
                 fallback = {{ provider = \"embedded\", name = \"intent-router\" }}\n"
            )
            .as_str(),
        );
        std::fs::write(dir.join(path.file_name().unwrap()), replaced.as_ref()).unwrap();
    }
}

async fn call_with(fault: Fault) {
    let base_url = format!(
        "{}/v1",
        faulty_server(fault, "/v1/chat/completions", chat_answer).await
    );
    let prompts = tempfile::tempdir().unwrap();
    prompts_with_primary(prompts.path(), &base_url);
    let toml = format!("[agents]\nprompts_dir = {:?}\n", prompts.path());
    let stt = ScriptedStt::new(["I was charged twice for my subscription last month"]);
    let server = TestServer::start_with(0, &toml, |store| {
        let config = Config::from_parts(&toml, "test", Vec::new()).unwrap();
        let runtime = switchboard::providers::agent_runtime(&config, store).unwrap();
        switchboard::call::VoiceStack {
            vad: Some(Arc::new(LevelVadFactory { threshold: 0.05 })),
            stt: Some(Arc::new(stt.clone())),
            tts: Arc::new(ToneTts::default()),
            runtime: Some(runtime),
            greeting: None,
            transfer: None,
        }
    })
    .await;
    let mut tw = FakeTwilio::connect(&server, "CAfault").await;
    tw.connected().await;
    tw.start("+15551230001").await;
    let heard = tw.talk_then_listen(25, Duration::from_secs(5), 26).await;
    assert!(heard.frames > 25, "{fault:?}: the caller was answered");
    tw.stop().await;
    let call = server.finished_call("CAfault").await;
    let agents: Vec<&str> = call["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(agents, ["triage", "billing"], "{fault:?}: {call}");
    // From the end of the caller's turn (the endpoint) to the first reply frame.
    let voice = &call["trace"]["voice"]["turns"][0];
    let (first_frame, turn_end) = (
        voice["firstFrameMs"].as_f64().unwrap_or(f64::MAX),
        voice["sttFinalMs"].as_f64().unwrap_or(0.0),
    );
    assert!(
        first_frame - turn_end < 2000.0,
        "{fault:?}: first reply frame {first_frame} ms after the end of speech, the turn ended at {turn_end} ms: {voice}"
    );
    let switches = call["trace"]["agents"]["model_switches"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !switches.is_empty(),
        "{fault:?}: the switch is traced: {call}"
    );
    assert_eq!(switches[0]["from"], "openai:primary-llm", "{fault:?}");
    assert_eq!(switches[0]["to"], "embedded", "{fault:?}");
    let reasons: Vec<&str> = switches
        .iter()
        .filter_map(|s| s["reason"].as_str())
        .collect();
    let expected = match fault {
        Fault::Refuse => "connect",
        Fault::Hang | Fault::SlowFirstByte => "timeout",
        Fault::Status500 => "status",
        Fault::Malformed => "malformed",
        Fault::DisconnectMidResponse => "connect",
    };
    assert_eq!(reasons[0], expected, "{fault:?}: {switches:?}");
    // Later requests in the call skip the failing server (the breaker is open).
    if switches.len() > 1 {
        assert_eq!(reasons[1], "breaker_open", "{fault:?}: {switches:?}");
    }
    let (_, metrics) = server.get_text("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("switchboard_model_fallbacks_total")
                && l.contains(&format!("reason=\"{expected}\""))),
        "{fault:?}: counted in Prometheus"
    );
    server.shutdown.cancel();
}

#[tokio::test]
async fn a_refused_primary_model_is_answered_by_the_fallback() {
    call_with(Fault::Refuse).await;
}

#[tokio::test]
async fn a_primary_model_that_never_answers_is_answered_by_the_fallback() {
    call_with(Fault::Hang).await;
}

#[tokio::test]
async fn a_primary_model_slow_to_its_first_byte_is_answered_by_the_fallback() {
    call_with(Fault::SlowFirstByte).await;
}

#[tokio::test]
async fn a_primary_model_answering_500_is_answered_by_the_fallback() {
    call_with(Fault::Status500).await;
}

#[tokio::test]
async fn a_primary_model_streaming_malformed_events_is_answered_by_the_fallback() {
    call_with(Fault::Malformed).await;
}

#[tokio::test]
async fn a_primary_model_cut_mid_tool_call_is_answered_by_the_fallback() {
    call_with(Fault::DisconnectMidResponse).await;
}
