//! End-to-end tests of the embedded brain at the `ChatModel` level: requests in,
//! streamed text / tool calls out, with the real prompt files and MiniLM weights.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use futures::StreamExt;
use serde_json::{json, Value};

use super::embedder::tests::test_embedder;
use super::*;
use crate::agents::model::{
    ChatEvent, ChatMessage, ChatModel, ChatRequest, FinishReason, ToolCall, ToolSpec,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn brain() -> Arc<EmbeddedBrain> {
    static B: OnceLock<Arc<EmbeddedBrain>> = OnceLock::new();
    B.get_or_init(|| {
        let brains = files::brains_from_dir(&root().join("prompts")).unwrap();
        Arc::new(EmbeddedBrain::new(test_embedder(), brains, BrainConfig::default()).unwrap())
    })
    .clone()
}

/// A tool as the runtime offers it: the real spec for known tools, a bare object
/// for handoffs.
fn tool(name: &str) -> ToolSpec {
    crate::agents::tools::spec(name).unwrap_or_else(|| ToolSpec {
        name: name.into(),
        description: String::new(),
        parameters: json!({"type": "object"}),
    })
}

fn tools_of(agent: &str) -> Vec<ToolSpec> {
    let names: &[&str] = match agent {
        "triage" => &[
            "lookup_customer",
            "end_call",
            "transfer_to_billing",
            "transfer_to_technical",
            "transfer_to_human",
        ],
        "billing" => &[
            "lookup_customer",
            "list_invoices",
            "send_invoice",
            "find_duplicate_charges",
            "issue_refund",
            "change_plan",
            "open_ticket",
            "end_call",
            "transfer_to_technical",
            "transfer_to_triage",
            "transfer_to_human",
        ],
        _ => &[
            "lookup_customer",
            "check_service_status",
            "reset_password",
            "open_ticket",
            "end_call",
            "transfer_to_billing",
            "transfer_to_triage",
            "transfer_to_human",
        ],
    };
    names.iter().map(|n| tool(n)).collect()
}

fn req(agent: &str, messages: Vec<ChatMessage>) -> ChatRequest {
    ChatRequest {
        agent: agent.into(),
        model: "embedded".into(),
        messages,
        tools: tools_of(agent),
        temperature: None,
    }
}

fn user(t: &str) -> ChatMessage {
    ChatMessage::User { content: t.into() }
}
fn said(t: &str) -> ChatMessage {
    ChatMessage::Assistant {
        content: Some(t.into()),
        tool_calls: vec![],
    }
}
fn called(id: &str, name: &str, args: Value) -> ChatMessage {
    ChatMessage::Assistant {
        content: None,
        tool_calls: vec![ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: args.to_string(),
        }],
    }
}
fn result(id: &str, v: Value) -> ChatMessage {
    ChatMessage::Tool {
        tool_call_id: id.into(),
        content: v.to_string(),
    }
}

/// What one streamed completion amounted to.
#[derive(Debug)]
struct Out {
    text: String,
    deltas: usize,
    call: Option<(String, Value)>,
    finish: FinishReason,
}

async fn run(r: ChatRequest) -> Out {
    let mut s = brain().stream(r).await.unwrap();
    let (mut text, mut deltas, mut name, mut args, mut finish) =
        (String::new(), 0, None, String::new(), None);
    while let Some(ev) = s.next().await {
        assert!(finish.is_none(), "event after Finish");
        match ev.unwrap() {
            ChatEvent::TextDelta(t) => {
                text.push_str(&t);
                deltas += 1;
            }
            ChatEvent::ToolCallDelta {
                index,
                id,
                name: n,
                arguments,
            } => {
                assert_eq!(index, 0);
                if n.is_some() {
                    assert!(id.is_some(), "first delta carries the id");
                    name = n;
                }
                args.push_str(&arguments);
            }
            ChatEvent::Finish(f) => finish = Some(f),
            other => panic!("the brain never switches models: {other:?}"),
        }
    }
    let call = name.map(|n| (n, serde_json::from_str(&args).unwrap()));
    Out {
        text,
        deltas,
        call,
        finish: finish.expect("stream ends with Finish"),
    }
}

fn dup_result() -> Value {
    json!({"count": 1, "duplicates": [{"date": "2026-03-12", "date_spoken": "March 12", "amount": "$59.99", "times": 2,
           "description": "Plus plan", "charge_ids": [41, 42], "refundable_charge_ids": [42]}]})
}

/// The billing conversation up to the refund offer.
fn billing_offer() -> Vec<ChatMessage> {
    vec![
        ChatMessage::System { content: "Caller number: +15550100001".into() },
        user("I was charged twice for my subscription"),
        called("h1", "transfer_to_billing", json!({"reason": "x", "trigger": "intent"})),
        result("h1", json!({"ok": true})),
        called("c1", "find_duplicate_charges", json!({})),
        result("c1", dup_result()),
        said("I can see you were charged twice on March 12 for $59.99. I can refund the duplicate. Shall I go ahead?"),
    ]
}

#[tokio::test]
async fn greets_when_the_call_starts() {
    let out = run(req("triage", vec![])).await;
    assert_eq!(
        out.text,
        "Hi, thanks for calling Switchboard. How can I help you today?"
    );
    assert!(out.deltas > 2, "text streams in several deltas");
    assert_eq!(out.finish, FinishReason::Stop);
}

#[tokio::test]
async fn a_cue_names_the_intent_whatever_else_the_words_resemble() {
    // Without the cue this ranked as a bill question ("March", "back").
    let out = run(req(
        "triage",
        vec![user(
            "Y'all charged me twice for March, I want the extra one back.",
        )],
    ))
    .await;
    let (name, args) = out.call.unwrap();
    assert_eq!(name, "transfer_to_billing");
    assert!(
        args["reason"]
            .as_str()
            .unwrap()
            .contains("duplicate_charge"),
        "{args}"
    );
}

#[tokio::test]
async fn triage_hands_a_double_charge_to_billing() {
    let out = run(req(
        "triage",
        vec![user("I was charged twice for my subscription")],
    ))
    .await;
    let (name, args) = out.call.unwrap();
    assert_eq!(name, "transfer_to_billing");
    assert_eq!(args["trigger"], "intent");
    assert!(
        args["reason"]
            .as_str()
            .unwrap()
            .contains("duplicate_charge"),
        "{args}"
    );
    assert_eq!(out.finish, FinishReason::ToolCalls);
    assert!(out.text.is_empty());
}

#[tokio::test]
async fn billing_on_arrival_looks_up_duplicates_then_offers_a_refund() {
    let mut m = billing_offer();
    m.truncate(4);
    let out = run(req("billing", m.clone())).await;
    assert_eq!(
        out.call.unwrap(),
        ("find_duplicate_charges".to_string(), json!({}))
    );
    m.push(called("c1", "find_duplicate_charges", json!({})));
    m.push(result("c1", dup_result()));
    let out = run(req("billing", m)).await;
    assert_eq!(
        out.text,
        "I can see you were charged twice on March 12 for $59.99. I can refund the duplicate. Shall I go ahead?"
    );
    assert_eq!(out.finish, FinishReason::Stop);
}

#[tokio::test]
async fn yes_after_the_offer_issues_a_confirmed_refund() {
    let mut m = billing_offer();
    m.push(user("yes please go ahead"));
    let out = run(req("billing", m.clone())).await;
    let (name, args) = out.call.unwrap();
    assert_eq!(name, "issue_refund");
    assert_eq!(
        args,
        json!({"charge_id": 42, "reason": "duplicate charge", "confirmed": true})
    );
    m.push(called("c2", "issue_refund", args));
    m.push(result(
        "c2",
        json!({"status": "refunded", "refund_id": 7, "charge_id": 42, "amount": "$59.99", "to": "the Visa ending 4242", "arrives": "in 3 to 5 business days"}),
    ));
    let out = run(req("billing", m)).await;
    assert!(
        out.text
            .starts_with("Done. I've refunded $59.99. It goes back to the Visa ending 4242"),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn no_after_the_offer_declines_without_refunding() {
    let mut m = billing_offer();
    m.push(user("no, leave it"));
    let out = run(req("billing", m)).await;
    assert!(out.call.is_none());
    assert!(out.text.starts_with("No problem"), "{}", out.text);
}

#[tokio::test]
async fn yes_with_a_goodbye_refunds_then_ends_the_call() {
    let mut m = billing_offer();
    m.push(user("Yes, refund it please. Thanks, bye."));
    let out = run(req("billing", m.clone())).await;
    let (name, args) = out.call.unwrap();
    assert_eq!(name, "issue_refund");
    m.push(called("c2", "issue_refund", args));
    m.push(result(
        "c2",
        json!({"status": "refunded", "refund_id": 7, "charge_id": 42, "amount": "$59.99", "to": "the Visa ending 4242", "arrives": "in 3 to 5 business days"}),
    ));
    let out = run(req("billing", m)).await;
    assert_eq!(out.call.unwrap().0, "end_call");
    assert!(
        out.text.starts_with("Done. I've refunded $59.99."),
        "{}",
        out.text
    );
    assert!(
        !out.text.contains('?'),
        "no follow-up question: {}",
        out.text
    );
    assert!(out.text.ends_with("have a great day."), "{}", out.text);
}

#[tokio::test]
async fn no_with_a_goodbye_declines_and_ends_the_call() {
    let mut m = billing_offer();
    m.push(user("No, that's everything. Thank you, bye."));
    let out = run(req("billing", m)).await;
    assert_eq!(out.call.unwrap().0, "end_call");
    assert!(out.text.starts_with("You're welcome"), "{}", out.text);
}

#[tokio::test]
async fn no_duplicates_found_is_said_plainly() {
    let mut m = billing_offer();
    m.truncate(5);
    m.push(result("c1", json!({"count": 0, "duplicates": []})));
    let out = run(req("billing", m)).await;
    assert!(out.text.contains("don't see any duplicate"), "{}", out.text);
}

#[tokio::test]
async fn billing_hands_a_technical_problem_over_by_capability() {
    let mut m = billing_offer();
    m.push(user(
        "actually the real problem is my internet keeps dropping out",
    ));
    let (name, args) = run(req("billing", m)).await.call.unwrap();
    assert_eq!(name, "transfer_to_technical");
    assert_eq!(args["trigger"], "capability");
    assert!(
        args["reason"]
            .as_str()
            .unwrap()
            .contains("check_service_status"),
        "{args}"
    );
}

#[tokio::test]
async fn technical_sends_a_plan_change_back_to_billing() {
    let m = vec![
        user("my internet is slow"),
        said("Your area looks normal."),
        user("ok then upgrade me to the pro plan"),
    ];
    let (name, args) = run(req("technical", m)).await.call.unwrap();
    assert_eq!(name, "transfer_to_billing");
    assert_eq!(args["trigger"], "capability");
}

#[tokio::test]
async fn plan_change_reads_the_plan_or_asks_for_it() {
    let out = run(req(
        "billing",
        vec![user("please switch me to the pro plan")],
    ))
    .await;
    assert_eq!(
        out.call.clone().unwrap_or_else(|| panic!("{}", out.text)),
        ("change_plan".to_string(), json!({"plan": "pro"}))
    );
    let out = run(req("billing", vec![user("I want to change my plan")])).await;
    assert!(out.call.is_none());
    let ask = out.text;
    assert!(ask.contains("Which plan"), "{ask}");
    let m = vec![
        user("I want to change my plan"),
        said(&ask),
        user("the plus one"),
    ];
    assert_eq!(
        run(req("billing", m)).await.call.unwrap(),
        ("change_plan".to_string(), json!({"plan": "plus"}))
    );
}

#[tokio::test]
async fn technical_checks_status_and_reports_an_outage() {
    let out = run(req("technical", vec![user("my internet is down")])).await;
    assert_eq!(out.call.unwrap().0, "check_service_status");
    let m = vec![
        user("my internet is down"),
        called("s1", "check_service_status", json!({})),
        result(
            "s1",
            json!({"region": "Springfield", "known_region": true, "all_ok": false,
            "services": [{"service": "internet", "status": "outage", "message": "Fibre cut near Main St; fix expected by 6 pm.", "since": "09:10"}]}),
        ),
    ];
    let out = run(req("technical", m)).await;
    assert!(
        out.text.contains("Springfield: Fibre cut near Main St"),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn password_reset_asks_the_channel_and_reads_synonyms() {
    let out = run(req("technical", vec![user("I forgot my password")])).await;
    assert!(out.call.is_none());
    let ask = out.text;
    assert!(ask.contains("text message or by email"), "{ask}");
    let m = vec![
        user("I forgot my password"),
        said(&ask),
        user("Text is fine"),
    ];
    let (name, args) = run(req("technical", m)).await.call.unwrap();
    assert_eq!(
        (name.as_str(), args),
        ("reset_password", json!({"channel": "sms"}))
    );
    let out = run(req(
        "technical",
        vec![user("reset my password and email me the link")],
    ))
    .await;
    assert_eq!(out.call.unwrap().1, json!({"channel": "email"}));
}

#[tokio::test]
async fn a_refused_handoff_offers_a_person_and_yes_escalates() {
    let mut m = vec![
        user("my internet is slow"),
        called(
            "h1",
            "transfer_to_billing",
            json!({"reason": "x", "trigger": "capability"}),
        ),
        result(
            "h1",
            json!({"error": "handoff_refused", "detail": "billing already handled this caller turn"}),
        ),
    ];
    let out = run(req("technical", m.clone())).await;
    assert!(out.call.is_none());
    assert!(out.text.contains("a person from our team"), "{}", out.text);
    m.push(said(&out.text));
    m.push(user("yes please"));
    let (name, args) = run(req("technical", m)).await.call.unwrap();
    assert_eq!(name, "transfer_to_human");
    assert_eq!(args["trigger"], "escalation");
}

#[tokio::test]
async fn shared_tool_results_are_answered_by_the_intent_the_caller_meant() {
    let ok = json!({"region": "Boston", "known_region": true, "all_ok": true,
        "services": [{"service": "internet", "status": "ok", "message": "All services running normally", "since": "2026-03-01"}]});
    let m = vec![
        user("my internet is down"),
        called("s1", "check_service_status", json!({})),
        result("s1", ok.clone()),
    ];
    let out = run(req("technical", m)).await;
    assert!(out.text.contains("restart your modem"), "{}", out.text);
    // Slow on a healthy network: the plan is looked at next (the follow-up tool), and
    // its result answered by the slow-internet intent.
    let mut m = vec![
        user("my internet is really slow lately"),
        called("s1", "check_service_status", json!({})),
        result("s1", ok.clone()),
    ];
    let out = run(req("technical", m.clone())).await;
    assert_eq!(
        out.call.unwrap(),
        ("lookup_customer".to_string(), json!({}))
    );
    m.push(called("s2", "lookup_customer", json!({})));
    m.push(result(
        "s2",
        json!({"found": true, "customer": {"region": "Boston",
            "plan": {"code": "basic", "name": "Basic", "monthly": "$39.99", "speed_mbps": 100}}}),
    ));
    let out = run(req("technical", m.clone())).await;
    assert!(
        out.text.contains("Basic plan tops out at 100 megabits"),
        "{}",
        out.text
    );
    assert!(
        out.text.ends_with("Would you like a faster plan?"),
        "{}",
        out.text
    );
    // A yes hands the plan change to billing; "no, leave it" declines.
    m.push(said(&out.text));
    m.push(user("yes please"));
    let (name, args) = run(req("technical", m.clone())).await.call.unwrap();
    assert_eq!(name, "transfer_to_billing");
    assert_eq!(args["trigger"], "capability");
}

#[tokio::test]
async fn asking_for_a_person_escalates() {
    for agent in ["triage", "billing", "technical"] {
        let (name, args) = run(req(agent, vec![user("I want to talk to a real person")]))
            .await
            .call
            .unwrap();
        assert_eq!(name, "transfer_to_human", "{agent}");
        assert_eq!(args["trigger"], "escalation");
    }
}

#[tokio::test]
async fn low_confidence_clarifies_then_hands_to_a_person() {
    let gibberish = "purple giraffes on the moon";
    let first = run(req("triage", vec![user(gibberish)])).await;
    assert!(first.call.is_none());
    assert!(
        brain().policy().is_clarification(&first.text),
        "{}",
        first.text
    );
    let m = vec![user(gibberish), said(&first.text), user("banana sandwich")];
    let second = run(req("triage", m.clone())).await;
    assert!(brain().policy().is_clarification(&second.text));
    assert_ne!(first.text, second.text, "asks differently the second time");
    let mut m = m;
    m.push(said(&second.text));
    m.push(user("the weather in paris"));
    let (name, args) = run(req("triage", m)).await.call.unwrap();
    assert_eq!(name, "transfer_to_human");
    assert_eq!(args["trigger"], "confidence");
}

#[tokio::test]
async fn goodbye_says_goodbye_and_ends_the_call() {
    let out = run(req(
        "billing",
        vec![user("great that's all I needed, thanks")],
    ))
    .await;
    assert!(out.text.starts_with("You're welcome"), "{}", out.text);
    assert_eq!(out.call.unwrap().0, "end_call");
    assert_eq!(out.finish, FinishReason::ToolCalls);
}

#[tokio::test]
async fn an_unclear_turn_ending_in_goodbye_ends_the_call() {
    // Nothing new to act on, then a farewell: close instead of asking what they meant.
    let out = run(req(
        "technical",
        vec![user("Okay, I'll try that. Thanks. Bye.")],
    ))
    .await;
    assert_eq!(out.call.unwrap().0, "end_call");
    assert!(out.text.starts_with("You're welcome"), "{}", out.text);
}

#[tokio::test]
async fn never_calls_a_tool_it_was_not_given() {
    // Triage has no billing tools: a refund request must become a handoff.
    let out = run(req("triage", vec![user("can I get a refund")])).await;
    assert_eq!(out.call.unwrap().0, "transfer_to_billing");
    // Without any handoff tools, the brain falls back to words.
    let mut r = req("triage", vec![user("can I get a refund")]);
    r.tools.clear();
    let out = run(r).await;
    assert!(out.call.is_none());
    assert!(!out.text.is_empty());
}

#[test]
fn routing_accuracy_on_held_out_utterances() {
    let cases = eval::load_cases(&root().join("tests/fixtures/brain_eval.toml")).unwrap();
    assert!(cases.len() >= 60);
    let report = evaluate(&brain(), &cases).unwrap();
    println!("{report}");
    assert!(
        report.accuracy >= 0.95,
        "routing accuracy {:.3} < 0.95\n{report}",
        report.accuracy
    );
}

#[tokio::test]
async fn naming_a_plan_after_the_price_list_quotes_it() {
    let out = run(req(
        "billing",
        vec![user("how much is your top plan, the gig one")],
    ))
    .await;
    assert!(out.call.is_none(), "{:?}", out.call);
    assert!(out.text.contains("three plans"), "{}", out.text);
    let m = vec![
        user("how much is your top plan, the gig one"),
        said(&out.text),
        user("oof. and the middle one?"),
    ];
    let out = run(req("billing", m)).await;
    assert_eq!(
        out.call.clone().unwrap_or_else(|| panic!("{}", out.text)),
        ("change_plan".to_string(), json!({"plan": "plus"}))
    );
}

#[tokio::test]
async fn asking_about_a_sent_invoice_does_not_send_it_twice() {
    let sent = vec![
        user("text me my bill please"),
        called("s1", "send_invoice", json!({"channel": "sms"})),
        result(
            "s1",
            json!({"status": "sent", "destination": "the phone number ending 0002",
                   "invoice": {"issued_spoken": "March 15", "amount": "$39.99"}}),
        ),
        said("Done. I've sent your March 15 invoice for $39.99 to the phone number ending 0002. Anything else?"),
    ];
    let mut m = sent.clone();
    m.push(user("And the bill, you're texting that?"));
    let out = run(req("billing", m)).await;
    assert!(out.call.is_none(), "{:?}", out.call);
    assert!(out.text.contains("on its way"), "{}", out.text);
    // Asked for again in so many words, it is sent again.
    let mut m = sent;
    m.push(user("I didn't get it, can you text the bill again?"));
    let out = run(req("billing", m)).await;
    let (name, _) = out.call.unwrap_or_else(|| panic!("{}", out.text));
    assert_eq!(name, "send_invoice");
}

#[tokio::test]
async fn a_refused_refund_is_neither_offered_nor_made() {
    // Turned down in the same words that name it.
    let out = run(req(
        "billing",
        vec![user("no don't refund it, I just wanted to know")],
    ))
    .await;
    assert!(out.call.is_none(), "{:?}", out.call);
    assert!(out.text.contains("leave it as it is"), "{}", out.text);
    // Offered, then "ok thanks bye": a goodbye, not a yes.
    let offer = "I can see you were charged twice on March 12 for $59.99. I can refund the duplicate. Shall I go ahead?";
    let m = vec![
        user("I was charged twice"),
        called("d1", "find_duplicate_charges", json!({})),
        result(
            "d1",
            json!({"count": 1, "duplicates": [{"date_spoken": "March 12", "amount": "$59.99",
                   "refundable_charge_ids": [1004]}]}),
        ),
        said(offer),
        user("ok thanks bye"),
    ];
    let out = run(req("billing", m)).await;
    assert!(
        out.call.as_ref().is_none_or(|(n, _)| n != "issue_refund"),
        "{:?}",
        out.call
    );
}

#[tokio::test]
async fn a_no_that_names_nothing_or_something_else_does_not_decline() {
    for words in [
        "No, actually, I was charged twice for the same bill",
        "actually no, just the refund for the double charge, don't touch the plan",
    ] {
        let out = run(req("billing", vec![user(words)])).await;
        assert_eq!(
            out.call.as_ref().map(|(n, _)| n.as_str()),
            Some("find_duplicate_charges"),
            "{words}: {}",
            out.text
        );
    }
}

mod language;
mod outcomes;
mod record;
mod requests_in_full;

/// Diagnostics, not a check: prints how each clause of `ROUTE_TEXT` is ranked
/// (`ROUTE_TEXT="…" cargo test --lib route_diagnostics -- --ignored --nocapture`).
#[test]
#[ignore = "diagnostic printout"]
fn route_diagnostics() {
    let b = brain();
    let text = std::env::var("ROUTE_TEXT").unwrap_or_default();
    use crate::agents::confirm as c;
    println!(
        "negative {} yes {} clear_yes {} refuses {} hesitates {} accepts {} agrees {} \
         affirmative {} request {} ack {} farewell {} ack_farewell {} fixed {} will_try {} \
         interjection {:?} defers {} repeat {} person {}",
        c::is_negative(&text),
        c::has_yes_phrase(&text),
        c::is_clear_yes(&text),
        c::refuses(&text),
        c::hesitates(&text),
        c::accepts(&text),
        c::agrees(&text),
        c::is_affirmative(&text),
        c::makes_request(&text),
        c::is_acknowledgement(&text),
        c::ends_with_farewell(&text),
        c::is_acknowledged_farewell(&text),
        c::reports_fixed(&text),
        c::will_try(&text),
        c::interjection(&text),
        c::defers(&text),
        c::asks_to_repeat(&text),
        c::asks_for_person(&text),
    );
    let mut parts = vec![text.clone()];
    parts.extend(policy::requests_clauses(&text));
    for part in parts {
        let ranked = b
            .policy()
            .rank_for_diagnostics(b.embedder(), &part)
            .unwrap();
        let top: Vec<String> = ranked
            .iter()
            .take(3)
            .map(|s| format!("{}/{} {:.3}", s.intent.agent, s.intent.name, s.score))
            .collect();
        println!("{part:?} -> {top:?}");
    }
}
