//! Barge-in truncation, cancellation and the chat driver.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::mpsc::unbounded_channel;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::agents::chat;
use crate::agents::testing::Scripted;

#[tokio::test]
async fn record_heard_truncates_history_and_transcript() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "transfer_to_billing",
        json!({"reason": "charge", "trigger": "intent"}),
    );
    h.model("billing").say(
        "billing",
        "I can see two charges on March 12. Shall I refund one of them?",
    );
    let mut conv = h.start(Some(DANA));
    h.say(&mut conv, "I was charged twice").await;
    conv.record_heard(conv.latest_turn(), "I can see two charges");

    let last = conv.transcript().pop().unwrap();
    assert_eq!(
        (last.text.as_str(), last.interrupted),
        ("I can see two charges", true)
    );
    let assistant = conv.history().iter().rev().find_map(|m| match m {
        ChatMessage::Assistant {
            content: Some(c), ..
        } => Some(c.clone()),
        _ => None,
    });
    assert_eq!(assistant.as_deref(), Some("I can see two charges"));
    assert!(conv.trace().turns.last().unwrap().interrupted);
    // Caller lines are untouched.
    assert_eq!(conv.transcript()[0].text, "I was charged twice");
    h.assert_consumed();
}

#[tokio::test]
async fn heard_text_and_retractions_go_to_the_turn_they_name() {
    let h = Harness::new();
    h.model("triage")
        .say("triage", "Sure. What seems to be the problem?");
    h.model("triage")
        .say("triage", "Thanks. Is it the internet or the app?");
    let mut conv = h.start(None);
    h.say(&mut conv, "Hi").await;
    let first = conv.latest_turn();
    h.say(&mut conv, "I have a problem").await;
    assert!(conv.latest_turn() > first);
    // An older turn: its transcript and trace are truncated, the history is left.
    conv.record_heard(first, "Sure.");
    let lines = conv.transcript();
    assert_eq!(lines[1].text, "Sure.");
    assert!(lines[1].interrupted);
    assert!(!lines[3].interrupted, "the latest reply is untouched");
    assert!(conv.trace().turns[0].interrupted);
    assert!(!conv.trace().turns[1].interrupted);
    // Only the latest turn can be taken back.
    conv.retract_turn(first);
    assert_eq!(conv.transcript().len(), 4);
    conv.retract_turn(conv.latest_turn());
    assert_eq!(conv.transcript().len(), 2);
    assert_eq!(conv.trace().turns.len(), 1);
    h.assert_consumed();
}

#[tokio::test]
async fn record_heard_nothing_removes_the_reply() {
    let h = Harness::new();
    h.model("triage")
        .say("triage", "Sure. What seems to be the problem?");
    let mut conv = h.start(None);
    h.say(&mut conv, "Hi").await;
    conv.record_heard(conv.latest_turn(), "");
    assert_eq!(conv.transcript().len(), 1);
    assert!(!conv
        .history()
        .iter()
        .any(|m| matches!(m, ChatMessage::Assistant { .. })));
}

#[tokio::test]
async fn cancel_returns_promptly_and_keeps_the_partial_reply() {
    let h = Harness::new();
    h.model("triage").push(
        "triage",
        Scripted::Hang("Let me check that for you. And then".into()),
    );
    let mut conv = h.start(None);
    let (tx, mut rx) = unbounded_channel();
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let watcher = async move {
        // Cancel as soon as the first sentence is out (barge-in).
        while let Some(e) = rx.recv().await {
            if matches!(e, RunEvent::Say { .. }) {
                c2.cancel();
                break;
            }
        }
    };
    let id = conv.next_turn_id();
    let turn = h.runtime.run_turn(
        &mut conv,
        id,
        CallerInput::text("Is my internet down?"),
        &tx,
        &cancel,
    );
    let (summary, _) = tokio::join!(turn, watcher);
    let summary = summary.expect("turn");
    assert!(summary.cancelled);
    assert_eq!(summary.reply, "Let me check that for you.");
    assert!(
        matches!(conv.history().last(), Some(ChatMessage::Assistant { content: Some(c), tool_calls }) if c == "Let me check that for you." && tool_calls.is_empty())
    );
    h.assert_consumed();
}

#[tokio::test]
async fn run_script_prints_the_agent_path() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "transfer_to_billing",
        json!({"reason": "charged twice", "trigger": "intent"}),
    );
    h.model("billing")
        .say("billing", "I can see you were charged twice on March 12.");
    h.model("billing")
        .say_then_call("billing", "Thanks for calling!", "end_call", json!({}));
    let lines: Vec<String> = [
        "# demo",
        "I was charged twice for my subscription",
        "",
        "That's all, bye",
        "never reached",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let report = chat::run_script(&h.runtime, Some(DANA), &lines)
        .await
        .expect("script");
    assert_eq!(report["agents"], json!(["triage", "billing"]));
    assert_eq!(report["outcome"], "completed");
    assert_eq!(report["trace"]["handoffs"][0]["trigger"], "intent");
    assert_eq!(
        report["transcript"][0]["speaker"], "agent",
        "the greeting comes first"
    );
    let triage = h.runtime.agents().get("triage").unwrap();
    let greeting = triage.brain["greeting"].as_str().unwrap().to_string();
    assert_eq!(report["transcript"][0]["text"], greeting.as_str());
    h.assert_consumed();
}

#[tokio::test]
async fn repl_shows_agents_only_when_asked() {
    for show in [false, true] {
        let h = Harness::new();
        h.model("triage").call(
            "triage",
            "transfer_to_technical",
            json!({"reason": "wifi", "trigger": "intent"}),
        );
        h.model("technical")
            .say("technical", "Let's get your wifi back.");
        let input = tokio::io::BufReader::new(&b"my wifi is down\n/quit\n"[..]);
        let mut out = Vec::new();
        let conv = chat::run_repl(&h.runtime, Some(MARCUS), show, input, &mut out)
            .await
            .expect("repl");
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Let's get your wifi back."), "{text}");
        assert_eq!(text.contains("technical"), show, "{text}");
        assert_eq!(conv.agents_path(), vec!["triage", "technical"]);
        h.assert_consumed();
    }
    let _ = Arc::new(());
}

#[test]
fn shipped_scripts_have_headers() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/scripts");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let meta = chat::script_meta(&text);
        assert!(meta.caller.is_some_and(|c| c.starts_with("+1555")));
        assert!(meta
            .expect_path
            .is_some_and(|p| p.first().map(String::as_str) == Some("triage")));
        n += 1;
    }
    assert!(n >= 5);
}

#[test]
fn script_lines_parse() {
    assert_eq!(chat::parse_line("  # x"), None);
    assert_eq!(chat::parse_line("[silence]"), Some(CallerInput::Silence));
    assert_eq!(
        chat::parse_line("[dtmf 12#]"),
        Some(CallerInput::Dtmf {
            digits: "12#".into()
        })
    );
    assert_eq!(
        chat::parse_line("[conf 0.3] hi there"),
        Some(CallerInput::Speech {
            text: "hi there".into(),
            confidence: 0.3
        })
    );
}
