//! Speech-provider faults through the real call loop: a voice that fails is replaced by
//! its fallback within the first-audio timeout; with no voice left the caller hears
//! the recorded apology at once and, when it keeps failing, the recorded goodbye before
//! the call ends; a recogniser that never answers hands the caller's words to its
//! fallback, which recognises the turn.

use std::sync::Arc;
use std::time::Duration;

use futures::{stream, StreamExt};
use serde_json::json;
use switchboard::agents::testing::ScriptedModel;
use switchboard::agents::RuntimeConfig;
use switchboard::breaker::BreakerConfig;
use switchboard::speech::fakes::{ScriptedStt, ToneTts};
use switchboard::speech::stt::fallback::FallbackStt;
use switchboard::speech::tts::fallback::FallbackTts;
use switchboard::speech::{
    SpeechError, SpeechToText, SttInput, SttStream, TextToSpeech, TtsStream,
};
use tokio::sync::mpsc;

use crate::harness::{loud_frame, scripted_stack, FakeTwilio, TestServer, SILENCE};

/// A voice that cannot speak: `hang` never answers, otherwise an HTTP-style error.
struct BrokenTts {
    hang: bool,
}

#[async_trait::async_trait]
impl TextToSpeech for BrokenTts {
    fn name(&self) -> &str {
        "broken"
    }
    fn sample_rate(&self) -> u32 {
        16_000
    }
    async fn synthesize(&self, _: &str) -> Result<TtsStream, SpeechError> {
        if self.hang {
            return Ok(stream::pending().boxed());
        }
        Err(SpeechError::Provider("HTTP 503".into()))
    }
}

/// A recogniser that takes audio and never answers.
struct DeafStt;

#[async_trait::async_trait]
impl SpeechToText for DeafStt {
    fn name(&self) -> &str {
        "deaf"
    }
    async fn open(&self) -> Result<SttStream, SpeechError> {
        let (input, mut rx) = mpsc::channel::<SttInput>(1024);
        let (tx, events) = mpsc::channel(8);
        tokio::spawn(async move {
            let _keep = tx;
            while rx.recv().await.is_some() {}
        });
        Ok(SttStream { input, events })
    }
}

/// One caller turn (0.5 s of speech, then silence); the media frames heard within
/// `window` after it and the time from the end of speech to the first of them.
async fn turn(tw: &mut FakeTwilio, window: Duration) -> (usize, Option<Duration>, bool) {
    for _ in 0..25 {
        tw.media(&loud_frame()).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let spoke_at = tokio::time::Instant::now();
    let (mut frames, mut first, mut closed) = (0, None, false);
    while spoke_at.elapsed() < window && !closed {
        tw.media(&SILENCE).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        while let Ok(msg) = tokio::time::timeout(Duration::from_millis(1), tw.recv()).await {
            let Some(msg) = msg else {
                closed = true;
                break;
            };
            match msg["event"].as_str() {
                Some("media") => {
                    frames += 1;
                    first.get_or_insert(spoke_at.elapsed());
                }
                Some("mark") => tw.mark(msg["mark"]["name"].as_str().unwrap()).await,
                _ => {}
            }
        }
    }
    (frames, first, closed)
}

#[tokio::test]
async fn a_failing_voice_is_replaced_by_its_fallback_within_the_timeout() {
    let model = Arc::new(ScriptedModel::new("scripted"));
    model.say("triage", "I can help with that.");
    let stt = ScriptedStt::new(["I have a question about my bill"]);
    let voice = Arc::new(FallbackTts::new(
        vec![
            Arc::new(BrokenTts { hang: true }),
            Arc::new(ToneTts::default()),
        ],
        Duration::from_millis(800),
        BreakerConfig::default(),
    ));
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
    let mut tw = FakeTwilio::connect(&server, "CAtts1").await;
    tw.connected().await;
    tw.start("+15551230001").await;
    let (frames, first, _) = turn(&mut tw, Duration::from_secs(4)).await;
    assert!(frames > 10, "the fallback voice spoke ({frames} frames)");
    let first = first.unwrap();
    // Endpoint (~0.5 s) + the 0.8 s first-audio timeout + the tone voice.
    assert!(
        first < Duration::from_millis(2000),
        "first frame after {first:?}"
    );
    tw.stop().await;
    let (_, metrics) = server.get_text("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("switchboard_speech_fallbacks_total")
                && l.contains("role=\"tts\"")
                && l.contains("reason=\"timeout\"")),
        "{metrics}"
    );
    server.shutdown.cancel();
}

#[tokio::test]
async fn with_no_voice_left_the_caller_hears_the_recorded_lines_then_the_call_ends() {
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
        v.tts = Arc::new(BrokenTts { hang: false });
        v
    })
    .await;
    let mut tw = FakeTwilio::connect(&server, "CAtts2").await;
    tw.connected().await;
    tw.start("+15551230001").await;
    // The greeting cannot be spoken: the recorded apology plays instead, at once.
    let started = tokio::time::Instant::now();
    let (mut frames, mut first) = (0, None);
    while started.elapsed() < Duration::from_secs(5) {
        tw.media(&SILENCE).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_millis(1), tw.recv()).await {
            match msg["event"].as_str() {
                Some("media") => {
                    frames += 1;
                    first.get_or_insert(started.elapsed());
                }
                Some("mark") => tw.mark(msg["mark"]["name"].as_str().unwrap()).await,
                _ => {}
            }
        }
    }
    let first = first.expect("the recorded apology");
    assert!(first < Duration::from_millis(1000), "after {first:?}");
    assert!(frames > 150, "the whole line, 3.6 s ({frames} frames)");
    // The first reply fails too: the recorded goodbye, then the server ends the call.
    let (frames, first, closed) = turn(&mut tw, Duration::from_secs(12)).await;
    let first = first.expect("the recorded goodbye");
    assert!(first < Duration::from_millis(2000), "after {first:?}");
    assert!(frames > 250, "the goodbye, 5.6 s ({frames} frames)");
    if !closed {
        let (_, rec) = server.get_json("/calls/CAtts2").await;
        panic!("the call was not ended after the goodbye ({frames} frames): {rec}");
    }
    let call = server.finished_call("CAtts2").await;
    assert!(call["outcome"].is_string(), "{call}");
    server.shutdown.cancel();
}

#[tokio::test]
async fn a_recogniser_that_never_answers_is_replaced_and_the_words_are_kept() {
    let model = Arc::new(ScriptedModel::new("scripted"));
    model.call(
        "triage",
        "transfer_to_billing",
        json!({"reason": "bill question", "trigger": "intent"}),
    );
    model.say("billing", "Sure, let me look at your bill.");
    let backup = ScriptedStt::new(["I have a question about my bill"]);
    let stt: Arc<dyn SpeechToText> = Arc::new(FallbackStt::new(
        vec![Arc::new(DeafStt), Arc::new(backup.clone())],
        Duration::from_millis(1000),
        BreakerConfig::default(),
    ));
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
    let mut tw = FakeTwilio::connect(&server, "CAstt1").await;
    tw.connected().await;
    tw.start("+15551230001").await;
    let (frames, first, _) = turn(&mut tw, Duration::from_secs(5)).await;
    assert!(frames > 10, "answered ({frames} frames)");
    let first = first.unwrap();
    assert!(
        first < Duration::from_millis(2500),
        "first frame after {first:?}"
    );
    tw.stop().await;
    let call = server.finished_call("CAstt1").await;
    assert_eq!(call["agents"], json!(["triage", "billing"]), "{call}");
    assert!(
        backup.audio_samples() > 8000,
        "the caller's audio reached the fallback"
    );
    backup.assert_consumed();
    server.shutdown.cancel();
}
