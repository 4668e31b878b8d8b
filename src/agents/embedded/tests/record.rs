//! Answers from the caller's billing record: what the record already holds is said
//! without a tool call, an offer made from it is taken up by a later "yes", and once
//! the account has changed in the call the tools are asked again.

use serde_json::json;

use super::*;
use crate::agents::hooks::BILLING_RECORD_PREFIX;

/// The system note `fetch_billing_record` injects, with a duplicate (charges 41 and
/// 42, 42 refundable) and two invoices, the latest past due.
pub(super) fn record_note() -> ChatMessage {
    let facts = json!({
        "found": true,
        "customer": {"name": "Dana Whitfield", "first_name": "Dana",
                     "plan": {"code": "plus", "name": "Plus", "monthly": "$59.99", "speed_mbps": 500}},
        "duplicates": [{"date": "2026-03-12", "date_spoken": "March 12", "amount": "$59.99", "times": 2,
                        "description": "Plus plan", "charge_ids": [41, 42], "refundable_charge_ids": [42]}],
        "invoices": [
            {"id": 9, "period": "2026-03", "issued_spoken": "March 12", "amount": "$59.99",
             "status": "past_due", "status_spoken": "past due"},
            {"id": 8, "period": "2026-02", "issued_spoken": "February 12", "amount": "$59.99",
             "status": "paid", "status_spoken": "paid"},
        ],
    });
    ChatMessage::System {
        content: format!("{BILLING_RECORD_PREFIX} (from the account system): Dana.\njson: {facts}"),
    }
}

/// A call handed to billing for `request`, the record injected on arrival.
pub(super) fn arrived(request: &str) -> Vec<ChatMessage> {
    vec![
        user(request),
        called(
            "h1",
            "transfer_to_billing",
            json!({"reason": "x", "trigger": "intent"}),
        ),
        record_note(),
        result("h1", json!({"ok": true})),
    ]
}

const OFFER: &str =
    "I can see you were charged twice on March 12 for $59.99. I can refund the duplicate. Shall I go ahead?";

#[tokio::test]
async fn a_duplicate_on_the_record_is_offered_without_a_lookup() {
    let out = run(req("billing", arrived("I was charged twice this month"))).await;
    assert_eq!(
        out.call, None,
        "no find_duplicate_charges: the record has it"
    );
    assert_eq!(out.text, OFFER);
}

#[tokio::test]
async fn yes_to_an_offer_from_the_record_refunds_the_recorded_charge() {
    let mut m = arrived("I was charged twice this month");
    m.push(said(OFFER));
    m.push(user("yes please, put it back on my card"));
    let (name, args) = run(req("billing", m)).await.call.unwrap();
    assert_eq!(name, "issue_refund");
    assert_eq!(
        args,
        json!({"charge_id": 42, "reason": "duplicate charge", "confirmed": true})
    );
}

#[tokio::test]
async fn no_to_an_offer_from_the_record_refunds_nothing() {
    let mut m = arrived("I was charged twice this month");
    m.push(said(OFFER));
    m.push(user("no, leave it for now"));
    let out = run(req("billing", m)).await;
    assert_eq!(out.call, None);
    assert!(!out.text.contains("refunded"), "{}", out.text);
}

#[tokio::test]
async fn the_latest_bill_is_read_from_the_record() {
    let out = run(req("billing", arrived("how much do I owe you right now?"))).await;
    assert_eq!(out.call, None);
    assert_eq!(
        out.text,
        "Your latest bill is $59.99, issued March 12, and it's past due. Would you like me to go through any charge on it?"
    );
}

#[tokio::test]
async fn after_a_confirmed_change_the_tool_is_asked_again() {
    let mut m = arrived("I want to move to the basic plan");
    m.push(called(
        "p1",
        "change_plan",
        json!({"plan": "basic", "confirmed": true}),
    ));
    m.push(result("p1", json!({"status": "changed"})));
    m.push(said("All done. Anything else?"));
    m.push(user("I think I was charged twice this month too"));
    let (name, _) = run(req("billing", m)).await.call.unwrap();
    assert_eq!(name, "find_duplicate_charges", "the record is stale now");
}

#[tokio::test]
async fn without_an_account_on_record_nothing_is_offered_from_it() {
    let mut m = arrived("I was charged twice this month");
    m[2] = ChatMessage::System {
        content: format!(
            "{BILLING_RECORD_PREFIX}: no account matches the calling number.\njson: {}",
            json!({"found": false, "phone": "+15550000000"})
        ),
    };
    let out = run(req("billing", m)).await;
    assert_eq!(out.call, None);
    assert!(
        out.text.contains("phone number on the account"),
        "asks who the caller is, offers nothing: {}",
        out.text
    );
}

#[tokio::test]
async fn yes_to_an_offer_kept_only_as_its_question_still_refunds() {
    // The runtime leaves out sentences already said in the call: a second offer may
    // reach the history as its question alone.
    let mut m = arrived("I was charged twice this month");
    m.push(said(OFFER));
    m.push(user("no, leave it"));
    m.push(said(
        "No problem, I'll leave it as it is. Is there anything else?",
    ));
    m.push(user("actually, yes, refund the double charge"));
    m.push(said("I can refund the duplicate. Shall I go ahead?"));
    m.push(user("yes, go ahead"));
    let (name, args) = run(req("billing", m)).await.call.unwrap();
    assert_eq!(name, "issue_refund");
    assert_eq!(args["charge_id"], 42);
}

#[tokio::test]
async fn yes_to_an_offer_from_the_record_after_another_result_refunds() {
    // "Text me my bill, and also I was charged twice": the invoice went out by a real
    // tool call, then the offer came from the record in the same line.
    let mut m = arrived("Two things: text me my bill, and also I was charged twice.");
    m.push(called("s1", "send_invoice", json!({"channel": "sms"})));
    m.push(result(
        "s1",
        json!({"status": "sent", "destination": "the phone number ending 0001"}),
    ));
    m.push(said(&format!(
        "Done. I've sent your March 12 invoice for $59.99 to the phone number ending 0001. {OFFER}"
    )));
    m.push(user("yes, go ahead"));
    let (name, args) = run(req("billing", m)).await.call.unwrap();
    assert_eq!(name, "issue_refund");
    assert_eq!(args["charge_id"], 42);
}
