//! The OpenAI-compatible client against a real server: llama.cpp (llama-cpp-python's
//! server) with SmolLM2-135M-Instruct, started by `scripts/llama-server.sh` (the test
//! command does; `SB_TEST_LLAMA_URL`). Streaming text, finish reasons (`stop`,
//! `length`), an HTTP error, the first-token and total timeouts, and a cancelled
//! stream that does not hold the server up. Tool-call streaming stays covered by the
//! fake server (`agents::openai_tests`): a 135M model does not call tools reliably.
//!
//! Without the variable these tests say so and pass, unless `SB_REQUIRE_LLAMA=1` (set
//! by the test command), where its absence fails them.

use std::time::{Duration, Instant};

use futures::StreamExt;
use switchboard::agents::model::{
    ChatEvent, ChatMessage, ChatModel, ChatRequest, FinishReason, ModelError,
};
use switchboard::agents::openai::{OpenAiConfig, OpenAiModel};

fn server() -> Option<String> {
    match std::env::var("SB_TEST_LLAMA_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var("SB_REQUIRE_LLAMA").is_err(),
                "SB_REQUIRE_LLAMA is set but SB_TEST_LLAMA_URL is not: start it with scripts/llama-server.sh"
            );
            eprintln!("skipped: no llama.cpp server (run scripts/test.sh, or eval \"$(scripts/llama-server.sh start)\")");
            None
        }
    }
}

fn model(base_url: &str, tune: impl FnOnce(&mut OpenAiConfig)) -> OpenAiModel {
    let mut config = OpenAiConfig {
        base_url: base_url.into(),
        model: "smollm2".into(),
        api_key_env: None,
        temperature: Some(0.0),
        max_tokens: Some(48),
        connect_timeout: Duration::from_secs(5),
        first_token_timeout: Duration::from_secs(60),
        total_timeout: Duration::from_secs(120),
        max_retries: 0,
        backoff: Duration::from_millis(10),
    };
    tune(&mut config);
    OpenAiModel::new(config).unwrap()
}

fn request(text: &str) -> ChatRequest {
    ChatRequest {
        agent: "triage".into(),
        model: String::new(),
        messages: vec![
            ChatMessage::System {
                content: "You are a helpful phone support agent. Answer in one short sentence."
                    .into(),
            },
            ChatMessage::User {
                content: text.into(),
            },
        ],
        tools: vec![],
        temperature: None,
    }
}

/// Every event of one completion: (text, text deltas, finish, error).
async fn complete(
    m: &OpenAiModel,
    r: ChatRequest,
) -> (String, usize, Option<FinishReason>, Option<ModelError>) {
    let mut s = match m.stream(r).await {
        Ok(s) => s,
        Err(e) => return (String::new(), 0, None, Some(e)),
    };
    let (mut text, mut deltas, mut finish) = (String::new(), 0, None);
    while let Some(ev) = s.next().await {
        match ev {
            Ok(ChatEvent::TextDelta(t)) => {
                text.push_str(&t);
                deltas += 1;
            }
            Ok(ChatEvent::Finish(f)) => finish = Some(f),
            Ok(_) => {}
            Err(e) => return (text, deltas, finish, Some(e)),
        }
    }
    (text, deltas, finish, None)
}

#[tokio::test]
async fn a_real_server_streams_text_and_finishes() {
    let Some(url) = server() else { return };
    let m = model(&url, |_| {});
    let (text, deltas, finish, err) = complete(&m, request("Hello, my internet is down.")).await;
    assert!(err.is_none(), "{err:?}");
    assert!(deltas > 1, "streamed in pieces: {deltas} deltas, {text:?}");
    assert!(!text.trim().is_empty());
    assert!(
        matches!(finish, Some(FinishReason::Stop | FinishReason::Length)),
        "{finish:?}"
    );
}

#[tokio::test]
async fn a_reply_cut_by_max_tokens_finishes_with_length() {
    let Some(url) = server() else { return };
    let m = model(&url, |c| c.max_tokens = Some(3));
    let (text, _, finish, err) = complete(
        &m,
        request("Tell me a long story about a router that would not connect."),
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(finish, Some(FinishReason::Length), "{text:?}");
}

#[tokio::test]
async fn a_wrong_path_is_an_http_status_error() {
    let Some(url) = server() else { return };
    let m = model(&format!("{}/nope", url.trim_end_matches("/v1")), |_| {});
    let (_, _, _, err) = complete(&m, request("Hello")).await;
    assert!(
        matches!(err, Some(ModelError::Status { status: 404, .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn first_token_and_total_timeouts_end_the_request() {
    let Some(url) = server() else { return };
    let first = model(&url, |c| c.first_token_timeout = Duration::from_millis(1));
    let (_, _, _, err) = complete(&first, request("Hello")).await;
    assert!(matches!(err, Some(ModelError::Timeout(1))), "{err:?}");
    // The stream starts, then the whole-reply deadline ends it part-way.
    let total = model(&url, |c| {
        c.max_tokens = Some(1000);
        c.total_timeout = Duration::from_millis(250);
    });
    // A prompt this model answers at length, sampled greedily so the answer does not
    // change from run to run (a short sampled answer could finish inside the deadline).
    let mut long = request("Write a very long essay about fiber internet.");
    long.temperature = Some(0.0);
    let t0 = Instant::now();
    let (text, deltas, finish, err) = complete(&total, long).await;
    assert!(
        matches!(err, Some(ModelError::Timeout(250))),
        "{err:?} {finish:?} after {deltas} deltas: {text:?}"
    );
    assert!(deltas > 0, "it had started streaming");
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
}

#[tokio::test]
async fn a_cancelled_stream_does_not_hold_the_server_up() {
    let Some(url) = server() else { return };
    let long = model(&url, |c| c.max_tokens = Some(2000));
    let mut s = long
        .stream(request("Write a very long essay about fiber internet."))
        .await
        .unwrap();
    // Read a little, then hang up (the runner drops the stream on barge-in).
    for _ in 0..3 {
        s.next().await;
    }
    drop(s);
    let m = model(&url, |c| c.max_tokens = Some(8));
    let t0 = Instant::now();
    let (text, _, finish, err) = complete(&m, request("Say hi.")).await;
    assert!(err.is_none() && finish.is_some(), "{err:?} {text:?}");
    assert!(
        t0.elapsed() < Duration::from_secs(30),
        "the next request waited {:?}: the cancelled one kept generating",
        t0.elapsed()
    );
}
