//! Tool ownership and the refund confirmation rule, enforced by the runtime.

use serde_json::json;

use super::*;
use crate::agents::trace::Outcome;
use crate::store::customers;

fn refunds_of(h: &Harness, charge: i64) -> i64 {
    h.store
        .run_blocking(move |c| {
            Ok(customers::charge(c, 1, charge)?
                .map(|ch| ch.refunded_cents)
                .unwrap_or(0))
        })
        .unwrap()
}

#[tokio::test]
async fn an_agent_cannot_call_a_tool_it_does_not_own() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "issue_refund",
        json!({"charge_id": 1004, "reason": "dup", "confirmed": true}),
    );
    h.model("triage").say("triage", "Let me look into that.");
    let mut conv = h.start(Some(DANA));
    h.say(&mut conv, "Yes, refund me now").await;
    let call = &conv.trace().tool_calls[0];
    assert!(call.refused);
    assert_eq!(call.result["error"], "tool_not_available");
    assert_eq!(refunds_of(&h, 1004), 0, "nothing was refunded");
    // The model was told.
    let second = &h.model("triage").requests()[1];
    assert!(
        matches!(second.messages.last(), Some(ChatMessage::Tool { content, .. }) if content.contains("tool_not_available"))
    );
    h.assert_consumed();
}

#[tokio::test]
async fn refund_needs_the_callers_explicit_yes() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "transfer_to_billing",
        json!({"reason": "double charge", "trigger": "intent"}),
    );
    // The model jumps the gun with confirmed=true: refused, caller never said yes.
    h.model("billing").call(
        "billing",
        "issue_refund",
        json!({"charge_id": 1004, "reason": "duplicate", "confirmed": true}),
    );
    h.model("billing").say(
        "billing",
        "I can refund the extra $59.99 from March 12. Shall I go ahead?",
    );
    // After a clear yes, the same call goes through.
    h.model("billing").call(
        "billing",
        "issue_refund",
        json!({"charge_id": 1004, "reason": "duplicate", "confirmed": true}),
    );
    h.model("billing").say(
        "billing",
        "Done. You'll see $59.99 back in 3 to 5 business days.",
    );
    // confirmed=false is never enough.
    h.model("billing").call(
        "billing",
        "issue_refund",
        json!({"charge_id": 1003, "reason": "duplicate", "confirmed": false}),
    );
    h.model("billing").say_then_call(
        "billing",
        "Okay. Bye for now!",
        "end_call",
        json!({"reason": "resolved"}),
    );
    let mut conv = h.start(Some(DANA));
    h.say(&mut conv, "I was charged twice, refund it").await;
    assert_eq!(
        conv.trace().tool_calls[1].result["status"],
        "needs_confirmation"
    );
    assert_eq!(refunds_of(&h, 1004), 0);

    h.say(&mut conv, "Yes, go ahead").await;
    assert_eq!(conv.trace().tool_calls[2].result["status"], "refunded");
    assert_eq!(refunds_of(&h, 1004), 5999);

    let (s, _) = h.say(&mut conv, "Yes refund the other one too").await;
    assert_eq!(
        conv.trace().tool_calls[3].result["status"],
        "needs_confirmation"
    );
    assert_eq!(refunds_of(&h, 1003), 0);
    assert!(s.ended);
    assert_eq!(conv.outcome(), Some(Outcome::Completed));
    h.assert_consumed();
}

#[tokio::test]
async fn plan_change_needs_the_callers_explicit_yes() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "transfer_to_billing",
        json!({"reason": "plan", "trigger": "intent"}),
    );
    // Jumping the gun: the caller only asked, so the tool returns the offer instead.
    h.model("billing").call(
        "billing",
        "change_plan",
        json!({"plan": "pro", "confirmed": true}),
    );
    h.model("billing")
        .say("billing", "Pro is $89.99 a month. Shall I switch you?");
    h.model("billing").call(
        "billing",
        "change_plan",
        json!({"plan": "pro", "confirmed": true}),
    );
    h.model("billing").say("billing", "Done, you're on Pro.");
    let plan_of = |h: &Harness| {
        h.store
            .run_blocking(|c| crate::store::customers::customer_by_phone(c, DANA))
            .unwrap()
            .unwrap()
            .plan
            .code
    };
    let mut conv = h.start(Some(DANA));
    h.say(&mut conv, "Can I get the pro plan").await;
    let offer = &conv.trace().tool_calls[1].result;
    assert_eq!(offer["status"], "needs_confirmation");
    assert_eq!(offer["to"]["monthly"], "$89.99");
    assert_eq!(plan_of(&h), "plus");
    h.say(&mut conv, "Yes please").await;
    assert_eq!(conv.trace().tool_calls[2].result["status"], "changed");
    assert_eq!(plan_of(&h), "pro");
    h.assert_consumed();
}

#[tokio::test]
async fn unknown_callers_must_verify_another_number() {
    let h = Harness::new();
    h.model("triage").call(
        "triage",
        "transfer_to_billing",
        json!({"reason": "bill", "trigger": "intent"}),
    );
    h.model("billing").call(
        "billing",
        "lookup_customer",
        json!({"phone": "+15551230003"}),
    );
    h.model("billing").call(
        "billing",
        "lookup_customer",
        json!({"phone": "+15551230003", "zip_code": "30301"}),
    );
    h.model("billing")
        .say("billing", "Thanks Priya, I found your account.");
    let mut conv = h.start(Some("+15550000000"));
    h.say(&mut conv, "My bill is wrong").await;
    let req = &h.model("billing").requests()[0];
    assert!(system_notes(req)
        .iter()
        .any(|n| n.contains("no account matches the calling number")));
    assert_eq!(
        conv.trace().tool_calls[1].result["error"],
        "verification_required"
    );
    assert_eq!(
        conv.trace().tool_calls[2].result["customer"]["name"],
        "Priya Raman"
    );
    h.assert_consumed();
}
