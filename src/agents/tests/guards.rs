//! Runtime guards: no transfer announcements, no re-greeting, max_turns, low
//! confidence, model errors, per-agent model routing.

use serde_json::json;

use super::*;
use crate::agents::guard::announces_transfer;
use crate::agents::testing::Scripted;
use crate::agents::trace::{Outcome, Trigger};

#[tokio::test]
async fn no_reply_announces_a_transfer_and_nobody_greets_twice() {
    let h = Harness::new();
    h.model("triage")
        .say("triage", "Hi, thanks for calling Bluebird. How can I help?");
    h.model("triage").say_then_call(
        "triage",
        "Sure thing. Let me transfer you to our billing team.",
        "transfer_to_billing",
        json!({"reason": "double charge", "trigger": "intent"}),
    );
    h.model("billing").say("billing", "Hello Dana, thanks for calling! I'm the billing agent. Hi Dana, I can see you were charged twice on March 12.");
    let mut conv = h.start(Some(DANA));
    let (_, first) = h.say(&mut conv, "Hello?").await;
    assert_eq!(
        says(&first),
        vec!["Hi, thanks for calling Bluebird.", "How can I help?"],
        "the first greeting is kept"
    );
    let (summary, events) = h.say(&mut conv, "I was charged twice").await;

    let spoken = says(&events);
    assert_eq!(
        spoken,
        vec![
            "Sure thing.",
            "I can see you were charged twice on March 12."
        ]
    );
    for s in &spoken {
        assert!(!announces_transfer(s), "announced: {s}");
    }
    let rules: Vec<&str> = conv.trace().guard.iter().map(|g| g.rule.as_str()).collect();
    assert_eq!(
        rules,
        vec![
            "transfer_announcement",
            "repeated_greeting",
            "transfer_announcement",
            "repeated_greeting"
        ]
    );
    // History holds what was said, not what was dropped.
    assert!(!format!("{:?}", conv.history()).contains("billing team"));
    assert_eq!(
        summary.reply,
        "Sure thing. I can see you were charged twice on March 12."
    );
    h.assert_consumed();
}

#[tokio::test]
async fn max_turns_apologises_and_offers_a_person() {
    let h = Harness::with_config(RuntimeConfig {
        max_turns: 3,
        ..RuntimeConfig::default()
    });
    for _ in 0..3 {
        h.model("triage")
            .call("triage", "end_call_please", json!({}));
    }
    let mut conv = h.start(Some(DANA));
    let (s, events) = h.say(&mut conv, "Hmm").await;
    assert_eq!(s.model_calls, 3);
    assert!(says(&events)
        .last()
        .is_some_and(|t| t.contains("a person from our team")));
    assert!(conv.trace().errors.iter().any(|e| e.contains("max_turns")));
    assert!(conv.outcome().is_none(), "never a crash, the call goes on");
    h.assert_consumed();
    // "No" keeps the conversation with the agent.
    h.model("triage")
        .say("triage", "Okay. What else can I do for you?");
    let (s2, _) = h.say(&mut conv, "No thanks").await;
    assert!(!s2.escalated);
    h.assert_consumed();
}

#[tokio::test]
async fn model_errors_are_absorbed() {
    let h = Harness::new();
    h.model("triage")
        .push("triage", Scripted::Fail("boom".into()));
    let mut conv = h.start(None);
    let (s, events) = h.say(&mut conv, "Hello").await;
    assert_eq!(s.model_calls, 1);
    assert!(says(&events)[0].contains("trouble"));
    assert!(conv.trace().errors[0].contains("boom"));
    h.assert_consumed();
}

#[tokio::test]
async fn low_confidence_asks_to_repeat_then_hands_to_a_person() {
    let h = Harness::new();
    let mut conv = h.start(Some(DANA));
    let mumble = CallerInput::Speech {
        text: "mm charged uh".into(),
        confidence: 0.2,
    };
    let (s1, e1) = h.turn(&mut conv, mumble.clone()).await;
    assert_eq!(s1.model_calls, 0);
    assert_eq!(
        says(&e1),
        vec!["Sorry, I didn't quite catch that. Could you say it again?"]
    );
    let (s2, e2) = h.turn(&mut conv, mumble).await;
    assert!(s2.escalated);
    assert!(e2.iter().any(|e| matches!(e, RunEvent::Escalate { .. })));
    let last = conv.trace().handoffs.last().unwrap();
    assert_eq!(
        (last.to.as_str(), last.trigger),
        ("human", Trigger::Confidence)
    );
    assert_eq!(conv.outcome(), Some(Outcome::Escalated));
    h.assert_consumed();
}

#[tokio::test]
async fn a_clear_turn_resets_the_low_confidence_streak() {
    let h = Harness::new();
    h.model("triage").say("triage", "Sure, what's going on?");
    let mut conv = h.start(None);
    h.turn(
        &mut conv,
        CallerInput::Speech {
            text: "uh".into(),
            confidence: 0.1,
        },
    )
    .await;
    h.turn(
        &mut conv,
        CallerInput::Speech {
            text: "I need help".into(),
            confidence: 0.9,
        },
    )
    .await;
    let (s, _) = h
        .turn(
            &mut conv,
            CallerInput::Speech {
                text: "uh".into(),
                confidence: 0.1,
            },
        )
        .await;
    assert!(!s.escalated);
    h.assert_consumed();
}

#[tokio::test]
async fn each_agent_uses_its_own_model_and_tools() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "transfer_to_technical",
        json!({"reason": "password", "trigger": "intent"}),
    );
    h.model("technical").call(
        "technical",
        "transfer_to_billing",
        json!({"reason": "refund", "trigger": "intent"}),
    );
    h.model("billing").say("billing", "Let's sort that out.");
    let mut conv = h.start(Some(DANA));
    h.say(&mut conv, "I forgot my password and also need a refund")
        .await;

    for (agent, model) in [
        ("triage", "intent-router"),
        ("technical", "technical-brain"),
        ("billing", "billing-brain"),
    ] {
        let reqs = h.model(agent).requests();
        assert_eq!(reqs.len(), 1, "{agent}");
        assert!(
            reqs.iter().all(|r| r.agent == agent && r.model == model),
            "{agent}"
        );
    }
    let triage = tool_names(&h.model("triage").requests()[0]);
    assert_eq!(
        triage,
        vec![
            "lookup_customer",
            "end_call",
            "transfer_to_billing",
            "transfer_to_technical",
            "transfer_to_human"
        ]
    );
    let billing = tool_names(&h.model("billing").requests()[0]);
    assert!(
        billing.contains(&"issue_refund".to_string())
            && !billing.contains(&"check_service_status".to_string())
    );
    let technical = tool_names(&h.model("technical").requests()[0]);
    assert!(
        technical.contains(&"reset_password".to_string())
            && !technical.contains(&"issue_refund".to_string())
    );
    // Persona is in every system prompt.
    for agent in ["triage", "technical", "billing"] {
        let sys = system_notes(&h.model(agent).requests()[0]).remove(0);
        assert!(sys.contains("Switchboard's phone support line"), "{agent}");
        assert!(sys.contains(&format!("Your role: {agent}")));
    }
    h.assert_consumed();
}

#[tokio::test]
async fn silence_reprompts_then_ends_the_call() {
    let h = Harness::with_config(RuntimeConfig {
        max_silences: 2,
        ..RuntimeConfig::default()
    });
    let mut conv = h.start(None);
    let (_, e1) = h.turn(&mut conv, CallerInput::Silence).await;
    assert_eq!(says(&e1), vec!["Are you still there?"]);
    let (s2, e2) = h.turn(&mut conv, CallerInput::Silence).await;
    assert!(s2.ended && e2.contains(&RunEvent::EndCall));
    assert_eq!(conv.outcome(), Some(Outcome::Completed));
}

#[tokio::test]
async fn keypad_digits_reach_the_model_as_caller_input() {
    let h = Harness::new();
    h.model("triage").say("triage", "Got it.");
    let mut conv = h.start(None);
    h.turn(&mut conv, CallerInput::Dtmf { digits: "2".into() })
        .await;
    let req = &h.model("triage").requests()[0];
    assert!(
        matches!(req.messages.last(), Some(ChatMessage::User { content }) if content.contains("pressed 2"))
    );
    assert_eq!(conv.transcript()[0].text, "[keypad 2]");
    h.assert_consumed();
}

#[test]
fn every_agent_needs_a_model() {
    let agents = agent_set();
    let store = Store::open_in_memory().unwrap();
    let err = Runtime::new(agents, Default::default(), store, RuntimeConfig::default())
        .err()
        .map(|e| e.to_string());
    assert!(err.is_some_and(|e| e.contains("no chat model configured")));
}

#[tokio::test]
async fn a_repeated_sentence_goes_whole_not_as_a_fragment() {
    let h = Harness::new();
    let advice = "Please update the app to the latest version and restart your phone; that fixes most crashes.";
    h.model("triage").say("triage", advice);
    h.model("triage").say(
        "triage",
        &format!("Sorry about that. {advice} Shall I open a ticket?"),
    );
    let mut conv = h.start(Some(DANA));
    let (_, e1) = h
        .turn(&mut conv, CallerInput::text("the app keeps freezing"))
        .await;
    assert_eq!(says(&e1).join(" "), advice);
    let (_, e2) = h
        .turn(
            &mut conv,
            CallerInput::text("I already did that, it is still frozen"),
        )
        .await;
    let said = says(&e2).join(" ");
    assert_eq!(said, "Sorry about that. Shall I open a ticket?", "{said}");
    h.assert_consumed();
}

#[tokio::test]
async fn a_sentence_said_again_on_purpose_keeps_its_repeated_clause() {
    let h = Harness::new();
    let status = "There's a known problem in Riverside: Fiber cut near Magnolia Ave; speeds reduced, crews on site, fix expected by 6 pm.";
    h.model("triage").say("triage", status);
    let again = "Yes, as I said, there's a known problem in Riverside: Fiber cut near Magnolia Ave; speeds reduced, crews on site, fix expected by 6 pm. Is there anything else?";
    h.model("triage").say("triage", again);
    let mut conv = h.start(Some(DANA));
    h.turn(&mut conv, CallerInput::text("is riverside down?"))
        .await;
    let (_, e2) = h
        .turn(&mut conv, CallerInput::text("ok, and the bill for March?"))
        .await;
    assert_eq!(says(&e2).join(" "), again);
    h.assert_consumed();
}

#[tokio::test]
async fn a_second_silent_or_unclear_spell_hears_other_words() {
    let h = Harness::new();
    h.model("triage").say("triage", "Okay, let me check that.");
    h.model("triage").say("triage", "Sure, go on.");
    let mut conv = h.start(None);
    let mumble = CallerInput::Speech {
        text: "mm uh".into(),
        confidence: 0.2,
    };
    let clear = |t: &str| CallerInput::Speech {
        text: t.into(),
        confidence: 0.9,
    };
    let (_, s1) = h.turn(&mut conv, CallerInput::Silence).await;
    let (_, m1) = h.turn(&mut conv, mumble.clone()).await;
    h.turn(&mut conv, clear("My internet is down.")).await;
    let (_, s2) = h.turn(&mut conv, CallerInput::Silence).await;
    let (_, m2) = h.turn(&mut conv, mumble).await;
    h.turn(&mut conv, clear("Sorry, I said the internet is down."))
        .await;
    assert_eq!(says(&s1), vec!["Are you still there?"]);
    assert_eq!(
        says(&m1),
        vec!["Sorry, I didn't quite catch that. Could you say it again?"]
    );
    assert_ne!(
        says(&s2),
        says(&s1),
        "a later silent spell gets other words"
    );
    assert_ne!(
        says(&m2),
        says(&m1),
        "a later unclear turn gets other words"
    );
    h.assert_consumed();
}
