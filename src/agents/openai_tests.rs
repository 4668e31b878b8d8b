//! Tests of the OpenAI-compatible client against a local fake server speaking the
//! exact chat-completions SSE wire format.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{json, Value};

use super::*;
use crate::agents::model::ToolCall;

#[derive(Clone)]
enum Reply {
    Sse(Vec<String>),
    Status(u16),
    HangBody,
}

/// (Authorization header, JSON body) of each request the fake server saw.
type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

#[derive(Clone, Default)]
struct Fake {
    script: Arc<Mutex<VecDeque<Reply>>>,
    seen: Seen,
}

async fn handler(State(f): State<Fake>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    f.seen.lock().unwrap().push((auth, body));
    let reply = f
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Reply::Status(500));
    match reply {
        Reply::Status(s) => (
            StatusCode::from_u16(s).unwrap(),
            "{\"error\":{\"message\":\"scripted\"}}",
        )
            .into_response(),
        Reply::Sse(chunks) => {
            let s = futures::stream::iter(
                chunks
                    .into_iter()
                    .map(|c| Ok::<_, Infallible>(Bytes::from(c))),
            );
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(s))
                .unwrap()
        }
        Reply::HangBody => {
            let s = futures::stream::pending::<Result<Bytes, Infallible>>();
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(s))
                .unwrap()
        }
    }
}

async fn serve(script: Vec<Reply>) -> (String, Fake) {
    let fake = Fake {
        script: Arc::new(Mutex::new(script.into())),
        ..Default::default()
    };
    let app = Router::new()
        .route("/v1/chat/completions", post(handler))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (format!("http://{addr}/v1"), fake)
}

fn config(base_url: &str, model: &str) -> OpenAiConfig {
    OpenAiConfig {
        base_url: base_url.into(),
        model: model.into(),
        api_key_env: None,
        temperature: Some(0.2),
        max_tokens: None,
        connect_timeout: Duration::from_secs(10),
        first_token_timeout: Duration::from_secs(10),
        total_timeout: Duration::from_secs(30),
        max_retries: 2,
        backoff: Duration::from_millis(1),
    }
}

fn data(v: Value) -> String {
    format!("data: {v}\n\n")
}

fn text_chunks() -> Vec<String> {
    vec![
        data(
            json!({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}),
        ),
        data(
            json!({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}),
        ),
        data(
            json!({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo!"},"finish_reason":null}]}),
        ),
        data(
            json!({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}),
        ),
        "data: [DONE]\n\n".into(),
    ]
}

fn request(agent: &str, tools: &[&str]) -> ChatRequest {
    ChatRequest {
        agent: agent.into(),
        model: String::new(),
        messages: vec![
            ChatMessage::System {
                content: "be brief".into(),
            },
            ChatMessage::User {
                content: "hi".into(),
            },
        ],
        tools: tools
            .iter()
            .map(|n| ToolSpec {
                name: n.to_string(),
                description: format!("{n} tool"),
                parameters: json!({"type":"object"}),
            })
            .collect(),
        temperature: None,
    }
}

async fn collect(model: &OpenAiModel, req: ChatRequest) -> Vec<Result<ChatEvent, ModelError>> {
    match model.stream(req).await {
        Ok(s) => s.collect().await,
        Err(e) => vec![Err(e)],
    }
}

#[tokio::test]
async fn streams_text_deltas_and_finish() {
    let (url, fake) = serve(vec![Reply::Sse(text_chunks())]).await;
    let model = OpenAiModel::with_key(config(&url, "small"), Some("sk-test".into())).unwrap();
    let events: Vec<ChatEvent> = collect(&model, request("triage", &[]))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        events,
        vec![
            ChatEvent::TextDelta("Hel".into()),
            ChatEvent::TextDelta("lo!".into()),
            ChatEvent::Finish(FinishReason::Stop)
        ]
    );
    let seen = fake.seen.lock().unwrap();
    assert_eq!(seen[0].0.as_deref(), Some("Bearer sk-test"));
    assert_eq!(seen[0].1["stream"], true);
    assert_eq!(seen[0].1["model"], "small");
    assert!((seen[0].1["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    assert!(
        seen[0].1.get("tools").is_none(),
        "no tools key when there are none"
    );
    assert_eq!(
        seen[0].1["messages"][0],
        json!({"role":"system","content":"be brief"})
    );
}

#[tokio::test]
async fn tool_call_arguments_arrive_in_pieces() {
    let raw = [
        data(json!({"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"transfer_to_billing","arguments":""}}]},"finish_reason":null}]})),
        data(json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"reason\":\"dou"}}]},"finish_reason":null}]})),
        data(json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ble charge\",\"trigger\":\"intent\"}"}}]},"finish_reason":null}]})),
        data(json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"lookup_customer","arguments":"{}"}}]},"finish_reason":null}]})),
        data(json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})),
        "data: [DONE]\n\n".to_string(),
    ]
    .concat();
    // Split the wire bytes at awkward places (mid-line, mid-JSON).
    let chunks = vec![
        raw[..37].to_string(),
        raw[37..250].to_string(),
        raw[250..].to_string(),
    ];
    let (url, _) = serve(vec![Reply::Sse(chunks)]).await;
    let model = OpenAiModel::with_key(config(&url, "m"), None).unwrap();
    let events: Vec<ChatEvent> = collect(&model, request("triage", &["transfer_to_billing"]))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let mut args = ["".to_string(), "".to_string()];
    let mut names = vec![];
    for e in &events[..events.len() - 1] {
        let ChatEvent::ToolCallDelta {
            index,
            id,
            name,
            arguments,
        } = e
        else {
            panic!("unexpected {e:?}")
        };
        if let Some(n) = name {
            names.push((*index, id.clone().unwrap(), n.clone()));
        }
        args[*index].push_str(arguments);
    }
    assert_eq!(
        names,
        vec![
            (0, "call_a".into(), "transfer_to_billing".into()),
            (1, "call_b".into(), "lookup_customer".into())
        ]
    );
    assert_eq!(
        serde_json::from_str::<Value>(&args[0]).unwrap(),
        json!({"reason":"double charge","trigger":"intent"})
    );
    assert_eq!(args[1], "{}");
    assert_eq!(
        events.last(),
        Some(&ChatEvent::Finish(FinishReason::ToolCalls))
    );
}

#[tokio::test]
async fn retries_after_a_500_then_succeeds() {
    let (url, fake) = serve(vec![
        Reply::Status(500),
        Reply::Status(429),
        Reply::Sse(text_chunks()),
    ])
    .await;
    let model = OpenAiModel::with_key(config(&url, "m"), None).unwrap();
    let events = collect(&model, request("triage", &[])).await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    assert_eq!(fake.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn gives_up_after_max_retries_and_never_retries_a_400() {
    let (url, fake) = serve(vec![
        Reply::Status(503),
        Reply::Status(503),
        Reply::Status(503),
    ])
    .await;
    let model = OpenAiModel::with_key(config(&url, "m"), None).unwrap();
    let events = collect(&model, request("triage", &[])).await;
    assert!(
        matches!(events[0], Err(ModelError::Status { status: 503, .. })),
        "{events:?}"
    );
    assert_eq!(fake.seen.lock().unwrap().len(), 3);

    let (url, fake) = serve(vec![Reply::Status(400), Reply::Sse(text_chunks())]).await;
    let model = OpenAiModel::with_key(config(&url, "m"), None).unwrap();
    let events = collect(&model, request("triage", &[])).await;
    assert!(
        matches!(events[0], Err(ModelError::Status { status: 400, .. })),
        "{events:?}"
    );
    assert_eq!(fake.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let model = OpenAiModel::with_key(config(&format!("http://{addr}/v1"), "m"), None).unwrap();
    let events = collect(&model, request("triage", &[])).await;
    assert!(matches!(events[0], Err(ModelError::Http(_))), "{events:?}");
}

#[tokio::test(start_paused = true)]
async fn times_out_when_no_token_arrives() {
    let (url, _) = serve(vec![Reply::HangBody]).await;
    let mut c = config(&url, "m");
    c.first_token_timeout = Duration::from_millis(500);
    let model = OpenAiModel::with_key(c, None).unwrap();
    let events = collect(&model, request("triage", &[])).await;
    assert!(
        matches!(events[0], Err(ModelError::Timeout(500))),
        "{events:?}"
    );
}

#[tokio::test]
async fn malformed_chunk_is_a_protocol_error() {
    let chunks = vec![
        text_chunks()[1].clone(),
        "data: {\"choices\": [oops\n\n".into(),
    ];
    let (url, _) = serve(vec![Reply::Sse(chunks)]).await;
    let model = OpenAiModel::with_key(config(&url, "m"), None).unwrap();
    let events = collect(&model, request("triage", &[])).await;
    assert_eq!(
        events[0].as_ref().unwrap(),
        &ChatEvent::TextDelta("Hel".into())
    );
    assert!(
        matches!(events[1], Err(ModelError::Protocol(_))),
        "{events:?}"
    );
    assert_eq!(events.len(), 2, "nothing after the error");
}

#[tokio::test]
async fn stream_cut_before_finish_is_a_protocol_error() {
    let chunks = vec![text_chunks()[1].clone()];
    let (url, _) = serve(vec![Reply::Sse(chunks)]).await;
    let model = OpenAiModel::with_key(config(&url, "m"), None).unwrap();
    let events = collect(&model, request("triage", &[])).await;
    assert!(
        matches!(events.last(), Some(Err(ModelError::Protocol(_)))),
        "{events:?}"
    );
}

#[tokio::test]
async fn each_agent_sends_its_own_model_and_tools() {
    let (url, fake) = serve(vec![Reply::Sse(text_chunks()), Reply::Sse(text_chunks())]).await;
    let triage = OpenAiModel::with_key(config(&url, "small-fast"), None).unwrap();
    let billing = OpenAiModel::with_key(config(&url, "large-smart"), None).unwrap();
    collect(
        &triage,
        request("triage", &["transfer_to_billing", "transfer_to_human"]),
    )
    .await;
    let mut req = request("billing", &["find_duplicate_charges", "issue_refund"]);
    req.messages.push(ChatMessage::Assistant {
        content: None,
        tool_calls: vec![ToolCall {
            id: "call_1".into(),
            name: "find_duplicate_charges".into(),
            arguments: "{}".into(),
        }],
    });
    req.messages.push(ChatMessage::Tool {
        tool_call_id: "call_1".into(),
        content: "{\"count\":0}".into(),
    });
    collect(&billing, req).await;
    let seen = fake.seen.lock().unwrap();
    let tools = |i: usize| -> Vec<String> {
        seen[i].1["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["function"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(seen[0].1["model"], "small-fast");
    assert_eq!(tools(0), vec!["transfer_to_billing", "transfer_to_human"]);
    assert_eq!(seen[1].1["model"], "large-smart");
    assert_eq!(tools(1), vec!["find_duplicate_charges", "issue_refund"]);
    assert_eq!(seen[1].1["tools"][0]["type"], "function");
    assert_eq!(
        seen[1].1["tools"][0]["function"]["parameters"],
        json!({"type":"object"})
    );
    let msgs = &seen[1].1["messages"];
    assert_eq!(
        msgs[2],
        json!({"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"find_duplicate_charges","arguments":"{}"}}]})
    );
    assert_eq!(
        msgs[3],
        json!({"role":"tool","tool_call_id":"call_1","content":"{\"count\":0}"})
    );
}

#[test]
fn parser_handles_one_byte_at_a_time_and_crlf() {
    let wire = text_chunks().concat().replace('\n', "\r\n");
    let mut p = SseParser::default();
    let mut out = VecDeque::new();
    for b in wire.as_bytes() {
        p.feed(std::slice::from_ref(b), &mut out).unwrap();
    }
    let events: Vec<ChatEvent> = out.into_iter().map(Result::unwrap).collect();
    assert_eq!(events.len(), 3);
    assert!(p.done && p.finished);
}

#[test]
fn missing_api_key_env_is_a_config_error() {
    let mut c = config("http://localhost:1/v1", "m");
    c.api_key_env = Some("SWITCHBOARD_TEST_SURELY_UNSET_KEY".into());
    let err = OpenAiModel::new(c).unwrap_err();
    assert!(err
        .to_string()
        .contains("SWITCHBOARD_TEST_SURELY_UNSET_KEY"));
}
