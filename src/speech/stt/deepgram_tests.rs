//! Tests for the Deepgram streaming client against a local axum websocket fake.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message as WsMsg, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::*;

#[derive(Default)]
struct Seen {
    auth: Option<String>,
    query: HashMap<String, String>,
    audio_bytes: usize,
    texts: Vec<String>,
}

#[derive(Clone)]
struct Fake {
    seen: Arc<Mutex<Seen>>,
    /// Answer `Finalize` (false: stay silent, to exercise the local timeout).
    answer_finalize: bool,
}

async fn upgrade(
    ws: WebSocketUpgrade,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    State(f): State<Fake>,
) -> Response {
    {
        let mut s = f.seen.lock().unwrap();
        s.auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        s.query = q;
    }
    ws.on_upgrade(move |socket| speak(socket, f))
}

fn results(text: &str, is_final: bool, from_finalize: bool, start: f64, dur: f64) -> WsMsg {
    WsMsg::Text(
        serde_json::json!({
            "type": "Results", "channel_index": [0, 1], "start": start, "duration": dur,
            "is_final": is_final, "speech_final": is_final, "from_finalize": from_finalize,
            "channel": { "alternatives": [ { "transcript": text, "confidence": 0.9, "words": [] } ] }
        })
        .to_string()
        .into(),
    )
}

/// Scripted Deepgram: VAD event on first audio, an interim after 0.5 s of audio,
/// a finalised segment at 1 s, and the rest of the turn on `Finalize`.
async fn speak(mut socket: WebSocket, f: Fake) {
    let mut bytes = 0usize;
    let (mut said_started, mut said_interim, mut said_final) = (false, false, false);
    while let Some(Ok(msg)) = socket.recv().await {
        let mut out = Vec::new();
        match msg {
            WsMsg::Binary(b) => {
                bytes += b.len();
                f.seen.lock().unwrap().audio_bytes = bytes;
                if !said_started {
                    said_started = true;
                    out.push(WsMsg::Text(
                        r#"{"type":"SpeechStarted","channel":[0],"timestamp":0.1}"#.into(),
                    ));
                }
                if bytes >= 16_000 && !said_interim {
                    said_interim = true;
                    out.push(results("i want", false, false, 0.0, 0.5));
                }
                if bytes >= 32_000 && !said_final {
                    said_final = true;
                    out.push(results("I want a refund", true, false, 0.0, 1.0));
                }
            }
            WsMsg::Text(t) => {
                f.seen.lock().unwrap().texts.push(t.to_string());
                if t.contains("Finalize") && f.answer_finalize {
                    out.push(results("for my last order.", true, true, 1.0, 0.5));
                    out.push(WsMsg::Text(
                        r#"{"type":"UtteranceEnd","channel":[0,1],"last_word_end":1.4}"#.into(),
                    ));
                }
                if t.contains("CloseStream") {
                    let _ = socket
                        .send(WsMsg::Text(
                            r#"{"type":"Metadata","request_id":"x"}"#.into(),
                        ))
                        .await;
                    let _ = socket.send(WsMsg::Close(None)).await;
                    return;
                }
            }
            _ => {}
        }
        for m in out {
            if socket.send(m).await.is_err() {
                return;
            }
        }
    }
}

async fn serve(answer_finalize: bool) -> (String, Fake) {
    let fake = Fake {
        seen: Arc::new(Mutex::new(Seen::default())),
        answer_finalize,
    };
    let app = Router::new()
        .route("/v1/listen", get(upgrade))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("ws://{addr}/v1/listen"), fake)
}

fn client(url: String) -> DeepgramStt {
    DeepgramStt::new(DeepgramConfig {
        url,
        api_key: "dg-key".into(),
        backoff: Duration::from_millis(1),
        ..DeepgramConfig::default()
    })
}

#[tokio::test]
async fn streams_audio_and_maps_results_to_events() {
    let (url, fake) = serve(true).await;
    let mut s = client(url).open().await.unwrap();
    for _ in 0..5 {
        s.input
            .send(SttInput::Audio(vec![0.1; 3200]))
            .await
            .unwrap(); // 5 × 200 ms
    }
    assert_eq!(
        s.events.recv().await,
        Some(SttEvent::SpeechStarted { at_ms: 100 })
    );
    assert_eq!(
        s.events.recv().await,
        Some(SttEvent::Partial {
            text: "i want".into(),
            at_ms: 500
        })
    );
    s.input.send(SttInput::Flush).await.unwrap();
    assert_eq!(
        s.events.recv().await,
        Some(SttEvent::Final {
            text: "I want a refund for my last order.".into(),
            start_ms: 0,
            end_ms: 1000,
            confidence: 0.9,
            continued: false,
        })
    );
    assert_eq!(
        s.events.recv().await,
        Some(SttEvent::SpeechEnded { at_ms: 1000 })
    );
    drop(s.input);
    assert_eq!(
        s.events.recv().await,
        None,
        "CloseStream then server close ends the stream"
    );

    let seen = fake.seen.lock().unwrap();
    assert_eq!(seen.auth.as_deref(), Some("Token dg-key"));
    for (k, v) in [
        ("encoding", "linear16"),
        ("sample_rate", "16000"),
        ("interim_results", "true"),
        ("model", "nova-2"),
        ("utterance_end_ms", "1000"),
    ] {
        assert_eq!(seen.query.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert_eq!(seen.audio_bytes, 32_000, "16-bit PCM");
    assert_eq!(
        seen.texts,
        vec![r#"{"type":"Finalize"}"#, r#"{"type":"CloseStream"}"#]
    );
}

#[tokio::test]
async fn unanswered_finalize_times_out_to_a_local_final() {
    let (url, _fake) = serve(false).await;
    let mut c = client(url);
    c.cfg.finalize_timeout = Duration::from_millis(300);
    let mut s = c.open().await.unwrap();
    s.input
        .send(SttInput::Audio(vec![0.1; 32_000]))
        .await
        .unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    let mut events = Vec::new();
    while let Some(ev) = s.events.recv().await {
        let end = matches!(ev, SttEvent::SpeechEnded { .. });
        events.push(ev);
        if end {
            break;
        }
    }
    assert!(
        events.contains(&SttEvent::Final {
            text: "I want a refund".into(),
            start_ms: 0,
            end_ms: 2000,
            confidence: 0.9,
            continued: false,
        }),
        "{events:?}"
    );
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let Err(err) = client(format!("ws://{addr}/v1/listen")).open().await else {
        panic!("connected to a closed port");
    };
    assert!(matches!(err, SpeechError::Provider(_)), "{err}");
}

#[test]
fn listen_url_carries_the_wire_parameters() {
    let url = DeepgramConfig::default().listen_url();
    assert!(url.starts_with("wss://api.deepgram.com/v1/listen?encoding=linear16&sample_rate=16000"));
    assert!(url.contains("interim_results=true"));
    assert!(url.contains("language=en-US"));
    assert!(!url.contains("keyword") && !url.contains("keyterm"));
}

#[test]
fn vocabulary_is_sent_as_keyterms_or_keywords() {
    let vocabulary = vec!["rate limit".to_string(), "webhook".into(), "API".into()];
    let nova3 = DeepgramConfig {
        model: "nova-3".into(),
        vocabulary: vocabulary.clone(),
        ..DeepgramConfig::default()
    }
    .listen_url();
    assert!(
        nova3.contains("keyterm=rate%20limit&keyterm=webhook&keyterm=API"),
        "{nova3}"
    );
    let nova2 = DeepgramConfig {
        vocabulary,
        ..DeepgramConfig::default()
    }
    .listen_url();
    assert!(
        nova2.contains("keywords=API&keywords=limit&keywords=rate&keywords=webhook"),
        "{nova2}"
    );
    assert!(!nova2.contains("keyterm"));
}
