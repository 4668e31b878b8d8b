//! Handoff paths from the design: triage → billing with the billing record,
//! triage → technical, billing → technical → billing, ping-pong, escalation.

use serde_json::json;

use super::*;
use crate::agents::filters;
use crate::agents::trace::{Outcome, Trigger};

#[tokio::test]
async fn charged_twice_goes_to_billing_which_uses_the_injected_record() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "transfer_to_billing",
        json!({"reason": "duplicate subscription charge", "trigger": "intent"}),
    );
    h.model("billing").say("billing", "I can see you were charged $59.99 twice on March 12. Would you like me to refund the extra charge?");
    let mut conv = h.start(Some(DANA));
    let (summary, events) = h
        .say(&mut conv, "I was charged twice for my subscription")
        .await;

    assert_eq!(conv.agents_path(), vec!["triage", "billing"]);
    assert_eq!(summary.agent, "billing");
    assert!(events.contains(&RunEvent::AgentChanged {
        from: "triage".into(),
        to: "billing".into()
    }));
    let hand = &conv.trace().handoffs[0];
    assert_eq!(
        (hand.trigger, hand.on_handoff.as_deref(), hand.refused),
        (Trigger::Intent, Some("fetch_billing_record"), false)
    );
    assert_eq!(hand.reason, "duplicate subscription charge");

    // The hook ran before billing spoke: its request carries the record.
    let req = &h.model("billing").requests()[0];
    let record = system_notes(req)
        .into_iter()
        .find(|n| n.starts_with("Billing record for this caller"))
        .expect("record injected");
    assert!(record.contains("Dana Whitfield"), "{record}");
    assert!(
        record.contains("$59.99 charged 2 times on March 12"),
        "{record}"
    );
    assert!(record.contains("refundable: 1004"), "{record}");
    assert!(system_notes(req)
        .iter()
        .any(|n| n.contains("do not greet them again")));
    assert_eq!(
        says(&events),
        vec![
            "I can see you were charged $59.99 twice on March 12.",
            "Would you like me to refund the extra charge?"
        ]
    );
    assert_eq!(
        conv.transcript().last().map(|e| e.agent.clone()),
        Some(Some("billing".to_string()))
    );
    h.assert_consumed();
}

#[tokio::test]
async fn technical_requests_go_to_technical() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "transfer_to_technical",
        json!({"reason": "internet down", "trigger": "intent"}),
    );
    h.model("technical")
        .call("technical", "check_service_status", json!({}));
    h.model("technical").say(
        "technical",
        "There's a fiber cut near Magnolia Avenue. Crews expect it fixed by 6 pm.",
    );
    let mut conv = h.start(Some(MARCUS));
    let (summary, _) = h
        .say(&mut conv, "My internet has been down since this morning")
        .await;
    assert_eq!(conv.agents_path(), vec!["triage", "technical"]);
    assert_eq!(summary.model_calls, 3);
    let call = conv
        .trace()
        .tool_calls
        .iter()
        .find(|t| t.name == "check_service_status")
        .expect("status call");
    assert_eq!(call.result["region"], "Riverside");
    assert_eq!(call.result["all_ok"], false);
    // The identity hook ran before technical spoke: who is calling, no billing facts.
    let reqs = h.model("technical").requests();
    let identity = system_notes(&reqs[0])
        .into_iter()
        .find(|n| n.starts_with(crate::agents::hooks::CALLER_IDENTITY_PREFIX))
        .expect("caller identity injected");
    assert!(identity.contains("\"found\":true"), "{identity}");
    assert!(!identity.contains("charge"), "no billing facts: {identity}");
    // The second technical request sees the tool result.
    assert!(
        matches!(reqs[1].messages.last(), Some(ChatMessage::Tool { content, .. }) if content.contains("degraded"))
    );
    h.assert_consumed();
}

#[tokio::test]
async fn billing_to_technical_and_back_for_a_plan_change() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "transfer_to_billing",
        json!({"reason": "bill question", "trigger": "intent"}),
    );
    h.model("billing")
        .call("billing", "list_invoices", json!({"limit": 1}));
    h.model("billing")
        .say("billing", "Your March bill was $39.99 and it's paid.");
    h.model("billing").call(
        "billing",
        "transfer_to_technical",
        json!({"reason": "slow internet", "trigger": "intent"}),
    );
    h.model("technical")
        .call("technical", "check_service_status", json!({}));
    h.model("technical").say(
        "technical",
        "Your area looks healthy. Your plan tops out at 100 megabits. A faster plan would help.",
    );
    h.model("technical").call(
        "technical",
        "transfer_to_billing",
        json!({"reason": "plan change needs billing tools", "trigger": "capability"}),
    );
    h.model("billing").call(
        "billing",
        "change_plan",
        json!({"plan": "plus", "confirmed": true}),
    );
    h.model("billing")
        .say("billing", "All set. You're on Plus now, at $59.99 a month.");
    let mut conv = h.start(Some(TOM));
    h.say(&mut conv, "I have a question about my bill").await;
    h.say(&mut conv, "Also my internet is really slow").await;
    let (s3, _) = h.say(&mut conv, "Okay, upgrade me to the Plus plan").await;

    assert_eq!(
        conv.agents_path(),
        vec!["triage", "billing", "technical", "billing"]
    );
    assert_eq!(s3.agent, "billing");
    let triggers: Vec<Trigger> = conv.trace().handoffs.iter().map(|h| h.trigger).collect();
    assert_eq!(
        triggers,
        vec![Trigger::Intent, Trigger::Intent, Trigger::Capability]
    );
    // billing → technical uses remove_tools: technical never sees billing's tool traffic.
    assert_eq!(conv.trace().handoffs[1].filters, vec!["remove_tools"]);
    let tech_first = &h.model("technical").requests()[0];
    assert!(!tech_first
        .messages
        .iter()
        .any(|m| matches!(m, ChatMessage::Tool { .. })));
    let plan = h
        .store
        .run_blocking(|c| crate::store::customers::customer_by_phone(c, TOM))
        .unwrap()
        .unwrap()
        .plan;
    assert_eq!(plan.code, "plus");
    // Back in billing, the record was fetched again by the technical → billing hook.
    let last_billing = h
        .model("billing")
        .requests()
        .into_iter()
        .nth(3)
        .expect("4th billing request");
    assert!(system_notes(&last_billing)
        .iter()
        .any(|n| n.contains("Tom O'Brien")));
    h.assert_consumed();
}

#[tokio::test]
async fn bouncing_between_two_agents_across_turns_is_refused_after_max_bounces() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "transfer_to_billing",
        json!({"reason": "bill", "trigger": "intent"}),
    );
    h.model("billing").say("billing", "Here is your bill.");
    h.model("billing").call(
        "billing",
        "transfer_to_technical",
        json!({"reason": "login", "trigger": "intent"}),
    );
    h.model("technical").say("technical", "I can reset it.");
    h.model("technical").call(
        "technical",
        "transfer_to_billing",
        json!({"reason": "charge", "trigger": "intent"}),
    );
    h.model("billing")
        .say("billing", "That charge is on your bill.");
    h.model("billing").call(
        "billing",
        "transfer_to_technical",
        json!({"reason": "app", "trigger": "intent"}),
    );
    let mut conv = h.start(Some(DANA));
    h.say(&mut conv, "A question about my bill").await;
    h.say(&mut conv, "Actually I can't log in").await;
    h.say(&mut conv, "No wait, the charge on my card").await;
    assert_eq!(
        conv.agents_path(),
        vec!["triage", "billing", "technical", "billing"]
    );
    // The third hop in a row between billing and technical is refused.
    let (_, events) = h.say(&mut conv, "And the app is broken").await;
    assert_eq!(
        conv.agents_path().last().map(String::as_str),
        Some("billing")
    );
    let refused: Vec<_> = conv.trace().handoffs.iter().filter(|h| h.refused).collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0]
            .refusal
            .as_deref()
            .unwrap_or("")
            .contains("back and forth"),
        "{refused:?}"
    );
    let spoken = says(&events).join(" ");
    assert!(spoken.contains("a person from our team"), "{spoken}");
    h.assert_consumed();
}

#[tokio::test]
async fn pressing_0_gets_a_person_without_asking_the_model() {
    let h = Harness::new();
    let mut conv = h.start(Some(DANA));
    let (s, events) = h
        .turn(
            &mut conv,
            crate::agents::CallerInput::Dtmf { digits: "0".into() },
        )
        .await;
    assert!(s.escalated);
    assert_eq!(s.model_calls, 0);
    assert_eq!(conv.agents_path(), vec!["triage", "human"]);
    assert_eq!(conv.outcome(), Some(Outcome::Escalated));
    // No transfer number in the default config: a call back is promised, and kept.
    assert!(
        says(&events).join(" ").contains("call you back"),
        "{events:?}"
    );
    h.assert_consumed();
}

#[tokio::test]
async fn ping_pong_is_refused_and_a_person_is_offered() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "transfer_to_billing",
        json!({"reason": "refund", "trigger": "intent"}),
    );
    h.model("billing").call(
        "billing",
        "transfer_to_technical",
        json!({"reason": "maybe technical", "trigger": "intent"}),
    );
    h.model("technical").call(
        "technical",
        "transfer_to_billing",
        json!({"reason": "it's billing", "trigger": "intent"}),
    );
    let mut conv = h.start(Some(DANA));
    let (s1, events) = h.say(&mut conv, "Something is weird with my account").await;

    assert_eq!(conv.agents_path(), vec!["triage", "billing", "technical"]);
    assert_eq!(
        s1.model_calls, 3,
        "no loop: the bounce is refused, not re-run"
    );
    let refused: Vec<_> = conv.trace().handoffs.iter().filter(|h| h.refused).collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(
        (refused[0].from.as_str(), refused[0].to.as_str()),
        ("technical", "billing")
    );
    let tool = conv
        .trace()
        .tool_calls
        .iter()
        .find(|t| t.name == "transfer_to_billing" && t.agent == "technical")
        .unwrap();
    assert!(tool.refused);
    assert_eq!(tool.result["error"], "handoff_refused");
    let spoken = says(&events).join(" ");
    assert!(spoken.contains("a person from our team"), "{spoken}");
    assert!(conv.outcome().is_none());

    // The caller accepts: escalation without another model call.
    let (s2, events) = h.say(&mut conv, "Yes please").await;
    assert!(s2.escalated);
    assert_eq!(s2.model_calls, 0);
    assert_eq!(conv.agents_path().last().map(String::as_str), Some("human"));
    assert_eq!(conv.outcome(), Some(Outcome::Escalated));
    let brief = events
        .iter()
        .find_map(|e| match e {
            RunEvent::Escalate { brief, .. } => Some(brief.clone()),
            _ => None,
        })
        .expect("escalate event");
    assert!(
        brief.contains("Dana Whitfield") && brief.contains("Something is weird"),
        "{brief}"
    );
    assert_eq!(
        conv.trace().handoffs.last().map(|h| h.trigger),
        Some(Trigger::Escalation)
    );
    // The call is over: further turns do nothing.
    let (s3, _) = h.say(&mut conv, "hello?").await;
    assert_eq!(s3.model_calls, 0);
    h.assert_consumed();
}

#[tokio::test]
async fn with_a_live_transfer_the_caller_hears_a_person_is_coming() {
    let h = Harness::with_config(RuntimeConfig {
        live_transfer: true,
        ..RuntimeConfig::default()
    });
    h.model("triage").call(
        "triage",
        "transfer_to_human",
        json!({"reason": "caller asked for a person", "trigger": "escalation"}),
    );
    let mut conv = h.start(Some(DANA));
    let (s, events) = h.say(&mut conv, "Let me talk to a real person").await;
    assert!(s.escalated);
    assert_eq!(
        says(&events),
        vec!["One moment while I get a person on the line."]
    );
    assert!(conv.trace().callback_ticket.is_none());
    h.assert_consumed();
}

#[tokio::test]
async fn transfer_to_human_escalates_with_a_brief() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "transfer_to_human",
        json!({"reason": "caller asked for a person", "trigger": "escalation"}),
    );
    let mut conv = h.start(Some(DANA));
    let (s, events) = h.say(&mut conv, "Let me talk to a real person").await;
    assert!(s.escalated);
    assert_eq!(conv.agents_path(), vec!["triage", "human"]);
    // No transfer number (the default): a call back is arranged and said, never
    // "a person on the line".
    let spoken = says(&events).join(" ");
    assert!(spoken.contains("call you back at this number"), "{spoken}");
    assert!(!spoken.contains("on the line"), "{spoken}");
    let ticket = conv
        .trace()
        .callback_ticket
        .expect("call-back ticket opened");
    assert!(spoken.contains(&format!("ticket {ticket}")), "{spoken}");
    let summary: String = h
        .store
        .run_blocking(move |db| {
            db.query_one("SELECT summary FROM tickets WHERE id = $1", &[&ticket])?
                .get(0)
        })
        .unwrap();
    assert!(summary.contains("caller asked for a person"), "{summary}");
    assert!(conv
        .trace()
        .escalation_brief
        .as_deref()
        .is_some_and(|b| b.contains("caller asked for a person")));
    h.assert_consumed();
}

#[tokio::test]
async fn summary_filter_replaces_long_history_on_handoff() {
    let cfg = RuntimeConfig {
        history_char_budget: 400,
        summary_keep_turns: 1,
        ..RuntimeConfig::default()
    };
    let h = Harness::with_config(cfg);
    // Three different long replies (the same one twice would be dropped as a repeat).
    for topic in ["the move", "the installation", "what to do next"] {
        let long = format!("I understand, {topic} sounds frustrating, and I want to make sure we get to the bottom of it today for you.");
        h.model("triage").say("triage", &long);
    }
    h.model("triage").call(
        "triage",
        "transfer_to_billing",
        json!({"reason": "billing", "trigger": "intent"}),
    );
    h.model("billing").say("billing", "I can see the charge.");
    let mut conv = h.start(Some(DANA));
    h.say(
        &mut conv,
        "I moved house last month and things have been a mess with the account",
    )
    .await;
    h.say(
        &mut conv,
        "The router was set up late and the installer never came back",
    )
    .await;
    h.say(&mut conv, "Anyway I'm not sure what to do").await;
    h.say(&mut conv, "My bill looks wrong").await;

    let hand = &conv.trace().handoffs[0];
    assert_eq!(hand.filters, vec!["summary"]);
    let req = &h.model("billing").requests()[0];
    let notes = system_notes(req);
    let summary = notes
        .iter()
        .find(|n| n.starts_with("Conversation so far:"))
        .expect("summary note");
    assert!(summary.contains("installer never came back"), "{summary}");
    // The latest caller turn is verbatim and the old ones are gone.
    let users: Vec<&ChatMessage> = req
        .messages
        .iter()
        .filter(|m| matches!(m, ChatMessage::User { .. }))
        .collect();
    assert_eq!(
        users,
        vec![&ChatMessage::User {
            content: "My bill looks wrong".into()
        }]
    );
    assert!(filters::history_chars(&req.messages[1..]) < 3000);
    h.assert_consumed();
}

#[tokio::test]
async fn technical_knows_a_number_not_on_file_before_any_tool() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "transfer_to_technical",
        json!({"reason": "password", "trigger": "intent"}),
    );
    h.model("technical").say(
        "technical",
        "I couldn't find an account for the number you're calling from. What's the phone number on the account, and its ZIP code?",
    );
    let mut conv = h.start(Some("+15550009999"));
    h.say(
        &mut conv,
        "I forgot my password, can you email me a reset link?",
    )
    .await;
    let reqs = h.model("technical").requests();
    let identity = system_notes(&reqs[0])
        .into_iter()
        .find(|n| n.starts_with(crate::agents::hooks::CALLER_IDENTITY_PREFIX))
        .expect("caller identity injected");
    assert!(identity.contains("\"found\":false"), "{identity}");
    h.assert_consumed();
}
