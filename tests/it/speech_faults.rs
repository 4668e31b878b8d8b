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
use switchboard::speech::fakes::{DeafStt, ScriptedStt, ToneTts};
use switchboard::speech::stt::fallback::FallbackStt;
use switchboard::speech::tts::fallback::FallbackTts;
use switchboard::speech::{SpeechError, SpeechToText, TextToSpeech, TtsStream};

use crate::harness::{scripted_stack, FakeTwilio, TestServer};

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
    let heard = tw.talk_then_listen(25, Duration::from_secs(4), 1000).await;
    assert!(heard.frames > 10, "the fallback voice spoke ({heard:?})");
    let first = heard.first.unwrap();
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
    let heard = tw.listen_for(Duration::from_secs(5), 1000).await;
    let frames = heard.frames;
    let first = heard.first;
    let first = first.expect("the recorded apology");
    assert!(first < Duration::from_millis(1000), "after {first:?}");
    assert!(frames > 150, "the whole line, 3.6 s ({frames} frames)");
    // The first reply fails too: the recorded goodbye, then the server ends the call.
    let heard = tw.talk_then_listen(25, Duration::from_secs(12), 1000).await;
    let (frames, closed) = (heard.frames, heard.closed);
    let first = heard.first.expect("the recorded goodbye");
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
        vec![Arc::new(DeafStt { opens: true }), Arc::new(backup.clone())],
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
    let heard = tw.talk_then_listen(25, Duration::from_secs(5), 1000).await;
    assert!(heard.frames > 10, "answered ({heard:?})");
    let first = heard.first.unwrap();
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
