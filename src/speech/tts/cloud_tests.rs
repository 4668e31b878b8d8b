//! Cloud TTS clients against local fakes (axum on port 0) speaking each wire format:
//! OpenAI `/v1/audio/speech` (pcm, 24 kHz) and ElevenLabs `/v1/text-to-speech/{id}/stream`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::*;
use crate::speech::tts::elevenlabs::{ElevenLabsConfig, ElevenLabsTts};

/// What the fake does for one request.
enum Reply {
    Status(u16),
    /// Stream the chunks the test pushes into this channel (ends when it is dropped).
    Live(mpsc::Receiver<Vec<u8>>),
    /// Send these bytes and finish.
    Pcm(Vec<u8>),
    /// Never answer.
    Hang,
}

#[derive(Debug, Clone)]
struct Seen {
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: serde_json::Value,
}

#[derive(Clone)]
struct Fake {
    replies: Arc<Mutex<Vec<Reply>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn handle(
    State(f): State<Fake>,
    path: Option<Path<String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = path
        .map(|Path(v)| format!("/v1/text-to-speech/{v}/stream"))
        .unwrap_or_else(|| "/v1/audio/speech".into());
    f.seen.lock().unwrap().push(Seen {
        path,
        query,
        headers,
        body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    });
    let reply = {
        let mut r = f.replies.lock().unwrap();
        if r.is_empty() {
            Reply::Status(500)
        } else {
            r.remove(0)
        }
    };
    match reply {
        Reply::Status(s) => {
            (StatusCode::from_u16(s).unwrap(), "{\"error\":\"scripted\"}").into_response()
        }
        Reply::Pcm(b) => (StatusCode::OK, [("content-type", "audio/pcm")], b).into_response(),
        Reply::Live(rx) => {
            let s = futures::stream::unfold(rx, |mut rx| async move {
                rx.recv()
                    .await
                    .map(|b| (Ok::<_, std::io::Error>(bytes::Bytes::from(b)), rx))
            });
            Response::builder()
                .header("content-type", "audio/pcm")
                .body(Body::from_stream(s))
                .unwrap()
        }
        Reply::Hang => {
            std::future::pending::<()>().await;
            unreachable!()
        }
    }
}

async fn fake(replies: Vec<Reply>) -> (String, Fake) {
    let f = Fake {
        replies: Arc::new(Mutex::new(replies)),
        seen: Arc::default(),
    };
    let app = Router::new()
        .route("/v1/audio/speech", post(handle))
        .route("/v1/text-to-speech/{voice}/stream", post(handle))
        .with_state(f.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), f)
}

fn pcm(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

fn to_i16(x: &[f32]) -> Vec<i16> {
    x.iter().map(|f| (f * 32768.0).round() as i16).collect()
}

fn quick_policy() -> HttpPolicy {
    HttpPolicy {
        backoff: Duration::from_millis(1),
        ..HttpPolicy::default()
    }
}

fn openai(base: &str) -> OpenAiTts {
    OpenAiTts::new(OpenAiTtsConfig {
        base_url: base.into(),
        api_key: "sk-test".into(),
        voice: "coral".into(),
        instructions: Some("Calm and friendly.".into()),
        policy: quick_policy(),
        ..Default::default()
    })
    .unwrap()
}

#[tokio::test]
async fn openai_streams_pcm_as_it_arrives_and_sends_the_right_request() {
    let (tx, rx) = mpsc::channel(4);
    let (url, f) = fake(vec![Reply::Live(rx)]).await;
    let tts = openai(&url);
    assert_eq!(tts.sample_rate(), 24_000);
    let stream_fut = tokio::spawn(async move {
        let mut s = tts.synthesize("Hello there.").await.unwrap();
        let first = s.next().await.unwrap().unwrap();
        (s, first)
    });
    // an odd number of bytes first: the half sample must be carried over
    let bytes = pcm(&[100, -200, 300, 400]);
    tx.send(bytes[..5].to_vec()).await.unwrap();
    let (mut s, first) = stream_fut.await.unwrap();
    assert_eq!(
        to_i16(&first),
        vec![100, -200],
        "first audio before the body ended"
    );
    tx.send(bytes[5..].to_vec()).await.unwrap();
    drop(tx);
    let mut rest = Vec::new();
    while let Some(c) = s.next().await {
        rest.extend(c.unwrap());
    }
    assert_eq!(to_i16(&rest), vec![300, 400]);

    let seen = f.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v1/audio/speech");
    assert_eq!(seen[0].headers["authorization"], "Bearer sk-test");
    let b = &seen[0].body;
    assert_eq!(b["input"], "Hello there.");
    assert_eq!(b["response_format"], "pcm");
    assert_eq!(b["voice"], "coral");
    assert_eq!(b["model"], "gpt-4o-mini-tts");
    assert_eq!(b["instructions"], "Calm and friendly.");
    assert!(b.get("speed").is_none());
}

#[tokio::test]
async fn openai_retries_server_errors_but_not_auth_errors() {
    let (url, f) = fake(vec![Reply::Status(503), Reply::Pcm(pcm(&[7, 8]))]).await;
    let tts = openai(&url);
    let mut s = tts.synthesize("Hi").await.unwrap();
    assert_eq!(to_i16(&s.next().await.unwrap().unwrap()), vec![7, 8]);
    assert_eq!(f.seen.lock().unwrap().len(), 2);

    let (url, f) = fake(vec![Reply::Status(401), Reply::Pcm(pcm(&[1]))]).await;
    let err = openai(&url)
        .synthesize("Hi")
        .await
        .err()
        .expect("401 must fail");
    assert!(
        matches!(err, SpeechError::Provider(ref m) if m.contains("401")),
        "{err}"
    );
    assert_eq!(
        f.seen.lock().unwrap().len(),
        1,
        "auth errors are not retried"
    );

    let (url, f) = fake(vec![
        Reply::Status(500),
        Reply::Status(500),
        Reply::Status(500),
        Reply::Pcm(pcm(&[1])),
    ])
    .await;
    assert!(openai(&url).synthesize("Hi").await.is_err());
    assert_eq!(
        f.seen.lock().unwrap().len(),
        3,
        "gives up after max_attempts"
    );
}

#[tokio::test(start_paused = true)]
async fn openai_times_out_when_the_server_never_answers() {
    let (url, f) = fake(vec![Reply::Hang, Reply::Hang]).await;
    let mut cfg = OpenAiTtsConfig {
        base_url: url,
        policy: quick_policy(),
        ..Default::default()
    };
    cfg.policy.max_attempts = 2;
    cfg.policy.first_byte_timeout = Duration::from_secs(3);
    let err = OpenAiTts::new(cfg)
        .unwrap()
        .synthesize("Hi")
        .await
        .err()
        .expect("must time out");
    assert!(matches!(err, SpeechError::Timeout(3000)), "{err}");
    assert_eq!(f.seen.lock().unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_stream_ends_with_a_timeout() {
    let (tx, rx) = mpsc::channel(4);
    let (url, _f) = fake(vec![Reply::Live(rx)]).await;
    tx.send(pcm(&[5, 6])).await.unwrap();
    let mut s = openai(&url).synthesize("Hi").await.unwrap();
    assert_eq!(to_i16(&s.next().await.unwrap().unwrap()), vec![5, 6]);
    let err = s.next().await.unwrap().unwrap_err();
    assert!(matches!(err, SpeechError::Timeout(_)), "{err}");
    assert!(s.next().await.is_none());
    drop(tx);
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let (tx, rx) = mpsc::channel(1);
    let (url, _f) = fake(vec![Reply::Live(rx)]).await;
    tx.send(pcm(&[1, 2])).await.unwrap();
    let mut s = openai(&url).synthesize("A long answer").await.unwrap();
    s.next().await.unwrap().unwrap();
    drop(s);
    // the server's body stream is dropped once the client hangs up
    tokio::time::timeout(Duration::from_secs(10), tx.closed())
        .await
        .expect("server noticed the cancel");
}

#[tokio::test]
async fn elevenlabs_speaks_its_wire_format() {
    let (url, f) = fake(vec![
        Reply::Status(429),
        Reply::Pcm(pcm(&[-1, 0, 1, 32767])),
    ])
    .await;
    let tts = ElevenLabsTts::new(ElevenLabsConfig {
        base_url: format!("{url}/"),
        api_key: "xi-secret".into(),
        voice_id: "voice123".into(),
        stability: Some(0.5),
        policy: quick_policy(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(tts.sample_rate(), 16_000);
    let mut s = tts.synthesize("Your order shipped.").await.unwrap();
    let mut got = Vec::new();
    while let Some(c) = s.next().await {
        got.extend(c.unwrap());
    }
    assert_eq!(to_i16(&got), vec![-1, 0, 1, 32767]);
    let seen = f.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "429 is retried");
    let req = &seen[1];
    assert_eq!(req.path, "/v1/text-to-speech/voice123/stream");
    assert_eq!(req.query.as_deref(), Some("output_format=pcm_16000"));
    assert_eq!(req.headers["xi-api-key"], "xi-secret");
    assert!(req.headers.get("authorization").is_none());
    assert_eq!(req.body["text"], "Your order shipped.");
    assert_eq!(req.body["model_id"], "eleven_flash_v2_5");
    assert_eq!(req.body["voice_settings"]["stability"], 0.5);
    assert!(req.body["voice_settings"].get("similarity_boost").is_none());
}

#[test]
fn elevenlabs_rejects_bad_settings() {
    let base = ElevenLabsConfig {
        voice_id: "v".into(),
        ..Default::default()
    };
    assert!(ElevenLabsTts::new(ElevenLabsConfig {
        sample_rate: 8000,
        ..base.clone()
    })
    .is_err());
    assert!(ElevenLabsTts::new(ElevenLabsConfig {
        voice_id: String::new(),
        ..base.clone()
    })
    .is_err());
    assert_eq!(
        ElevenLabsTts::new(ElevenLabsConfig {
            sample_rate: 24_000,
            ..base
        })
        .unwrap()
        .sample_rate(),
        24_000
    );
}
