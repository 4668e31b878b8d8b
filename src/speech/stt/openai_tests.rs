//! Tests for the OpenAI-compatible transcription client against a local axum fake.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};

use super::*;

/// What the fake answers, per attempt (the last entry repeats).
#[derive(Clone, Copy)]
enum Reply {
    Ok,
    Status(u16),
    Hang,
}

#[derive(Default)]
struct Seen {
    auth: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

#[derive(Clone)]
struct Fake {
    script: Arc<Vec<Reply>>,
    hits: Arc<AtomicUsize>,
    seen: Arc<Mutex<Seen>>,
}

async fn handler(
    State(f): State<Fake>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, StatusCode> {
    let n = f.hits.fetch_add(1, Ordering::SeqCst);
    {
        let mut s = f.seen.lock().unwrap();
        let h = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        };
        s.auth = h("authorization");
        s.content_type = h("content-type");
        s.body = body.to_vec();
    }
    match f.script[n.min(f.script.len() - 1)] {
        Reply::Ok => Ok(Json(serde_json::json!({ "text": " I want a refund. " }))),
        Reply::Status(c) => Err(StatusCode::from_u16(c).unwrap()),
        Reply::Hang => std::future::pending().await,
    }
}

async fn serve(script: Vec<Reply>) -> (String, Fake) {
    let fake = Fake {
        script: Arc::new(script),
        hits: Arc::new(AtomicUsize::new(0)),
        seen: Arc::new(Mutex::new(Seen::default())),
    };
    let app = Router::new()
        .route("/v1/audio/transcriptions", post(handler))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), fake)
}

fn client(base_url: String) -> OpenAiStt {
    OpenAiStt::new(OpenAiSttConfig {
        base_url,
        api_key: "sk-test".into(),
        model: "whisper-1".into(),
        backoff: Duration::from_millis(1),
        ..OpenAiSttConfig::default()
    })
    .unwrap()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn flush_uploads_a_wav_and_returns_the_final() {
    let (url, fake) = serve(vec![Reply::Ok]).await;
    let mut s = client(url).open().await.unwrap();
    s.input
        .send(SttInput::Audio(vec![0.25; 8000]))
        .await
        .unwrap();
    s.input
        .send(SttInput::Audio(vec![-0.25; 8000]))
        .await
        .unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    assert_eq!(
        s.events.recv().await,
        Some(SttEvent::SpeechStarted { at_ms: 0 })
    );
    assert_eq!(
        s.events.recv().await,
        Some(SttEvent::Final {
            text: "I want a refund.".into(),
            start_ms: 0,
            end_ms: 1000,
            confidence: 1.0,
            continued: false,
        })
    );
    assert_eq!(
        s.events.recv().await,
        Some(SttEvent::SpeechEnded { at_ms: 1000 })
    );

    let seen = fake.seen.lock().unwrap();
    assert_eq!(seen.auth.as_deref(), Some("Bearer sk-test"));
    let ct = seen.content_type.clone().unwrap();
    let boundary = ct.split("boundary=").nth(1).unwrap();
    assert!(ct.starts_with("multipart/form-data"));
    assert!(contains(&seen.body, b"name=\"model\"\r\n\r\nwhisper-1\r\n"));
    assert!(contains(&seen.body, b"name=\"language\"\r\n\r\nen\r\n"));
    assert!(
        !contains(&seen.body, b"name=\"prompt\""),
        "no prompt unless given"
    );
    assert!(contains(&seen.body, b"filename=\"turn.wav\""));
    assert!(contains(&seen.body, format!("--{boundary}--").as_bytes()));
    // the WAV: RIFF header, 16 kHz, 16000 samples of 16-bit PCM
    let at = seen.body.windows(4).position(|w| w == b"RIFF").unwrap();
    let wav = &seen.body[at..];
    assert_eq!(u32::from_le_bytes(wav[24..28].try_into().unwrap()), 16_000);
    assert_eq!(u32::from_le_bytes(wav[40..44].try_into().unwrap()), 32_000);
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let (url, fake) = serve(vec![Reply::Status(503), Reply::Status(429), Reply::Ok]).await;
    let text = client(url).transcribe(&[0.1; 1600]).await.unwrap();
    assert_eq!(text, "I want a refund.");
    assert_eq!(fake.hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn client_errors_fail_without_retry() {
    let (url, fake) = serve(vec![Reply::Status(401)]).await;
    let err = client(url).transcribe(&[0.1; 1600]).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    assert_eq!(fake.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn hanging_server_times_out_after_retries() {
    let (url, fake) = serve(vec![Reply::Hang]).await;
    let mut c = client(url);
    c.cfg.timeout = Duration::from_millis(200);
    c.cfg.max_retries = 1;
    let err = c.transcribe(&[0.1; 1600]).await.unwrap_err();
    assert!(matches!(err, SpeechError::Timeout(200)), "{err}");
    assert_eq!(fake.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failed_turn_is_reported_failed_and_the_stream_continues() {
    let (url, _fake) = serve(vec![Reply::Status(400), Reply::Ok]).await;
    let mut s = client(url).open().await.unwrap();
    s.input
        .send(SttInput::Audio(vec![0.1; 1600]))
        .await
        .unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    let _started = s.events.recv().await;
    assert!(matches!(
        s.events.recv().await,
        Some(SttEvent::Failed { .. })
    ));
    s.input
        .send(SttInput::Audio(vec![0.1; 1600]))
        .await
        .unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    assert_eq!(
        s.events.recv().await,
        Some(SttEvent::SpeechStarted { at_ms: 100 })
    );
    assert!(
        matches!(s.events.recv().await, Some(SttEvent::Final { text, start_ms: 100, .. }) if text == "I want a refund.")
    );
}

#[tokio::test]
async fn continue_uploads_the_earlier_utterance_again_with_the_new_audio() {
    let (url, fake) = serve(vec![Reply::Ok]).await;
    let mut s = client(url).open().await.unwrap();
    let final_of = |ev: Option<SttEvent>| match ev {
        Some(SttEvent::Final {
            start_ms,
            end_ms,
            continued,
            ..
        }) => (start_ms, end_ms, continued),
        other => panic!("expected a final, got {other:?}"),
    };
    s.input
        .send(SttInput::Audio(vec![0.25; 8000]))
        .await
        .unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    s.events.recv().await; // SpeechStarted
    assert_eq!(final_of(s.events.recv().await), (0, 500, false));
    s.events.recv().await; // SpeechEnded
    let first = fake.seen.lock().unwrap().body.len();
    s.input.send(SttInput::Continue).await.unwrap();
    s.input
        .send(SttInput::Audio(vec![0.25; 8000]))
        .await
        .unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    assert_eq!(final_of(s.events.recv().await), (0, 1000, true));
    let second = fake.seen.lock().unwrap().body.len();
    // Both halves were uploaded: 8000 more 16-bit samples.
    assert_eq!(second - first, 16_000);
}

#[tokio::test]
async fn the_vocabulary_prompt_is_uploaded_with_the_audio() {
    let (url, fake) = serve(vec![Reply::Ok]).await;
    let stt = OpenAiStt::new(OpenAiSttConfig {
        prompt: Some("A customer calls about: refund, webhook.".into()),
        ..client(url).cfg.clone()
    })
    .unwrap();
    let mut s = stt.open().await.unwrap();
    s.input
        .send(SttInput::Audio(vec![0.25; 8000]))
        .await
        .unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    s.events.recv().await;
    s.events.recv().await;
    let seen = fake.seen.lock().unwrap();
    assert!(contains(
        &seen.body,
        b"name=\"prompt\"\r\n\r\nA customer calls about: refund, webhook.\r\n"
    ));
}
