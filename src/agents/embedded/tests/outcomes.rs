//! How a problem ends: the caller reports it fixed (nothing more is checked or
//! advised), or it persists after its ticket was opened (no second ticket).

use serde_json::json;

use super::*;

/// Technical has checked the line and advised a restart.
fn advised() -> Vec<ChatMessage> {
    vec![
        user("my internet is really slow today"),
        called("s1", "check_service_status", json!({})),
        result("s1", json!({"all_ok": true, "region": "Atlanta", "services": []})),
        said("Your area looks normal right now, so let's check your setup. Try restarting the modem and, if you can, test on a cable rather than Wi-Fi. If it's still slow, I can open a ticket for a technician."),
    ]
}

#[tokio::test]
async fn a_fix_reported_is_acknowledged_without_checking_again() {
    let mut m = advised();
    m.push(user(
        "Okay, I did that. Yes, now it is fast, the page opened quickly.",
    ));
    let out = run(req("technical", m)).await;
    assert_eq!(out.call, None, "nothing to check: {}", out.text);
    assert!(out.text.contains("glad it's working again"), "{}", out.text);
}

#[tokio::test]
async fn a_problem_that_persists_after_its_ticket_opens_no_second_ticket() {
    let m = vec![
        user("the router makes a high whining noise all night"),
        called("t1", "open_ticket", json!({"category": "technical", "summary": "router whines"})),
        result("t1", json!({"ticket_id": 2, "follow_up": "within one business day"})),
        said("I've opened ticket 2 for that, and a technician will follow up within one business day. Is there anything else?"),
        user("I already tried turning it off and on yesterday. It still makes the noise."),
    ];
    let out = run(req("technical", m)).await;
    assert_eq!(out.call, None, "no second ticket: {}", out.text);
    assert!(out.text.contains("ticket is open"), "{}", out.text);
}

/// Billing has quoted a move to Basic (no record note: the quote is a tool result).
fn quoted_basic() -> Vec<ChatMessage> {
    vec![
        user("I want to move down to the Basic plan"),
        called("q1", "change_plan", json!({"plan": "basic"})),
        result(
            "q1",
            json!({"status": "needs_confirmation", "plan": "basic",
                   "from": {"name": "Pro", "monthly": "$89.99", "speed_mbps": 1000},
                   "to": {"name": "Basic", "monthly": "$39.99", "speed_mbps": 100}}),
        ),
        said(
            "Basic is $39.99 a month with 100 megabits, instead of $89.99 now. Shall I switch you?",
        ),
        user("Okay. But will my overdue March bill get cheaper too if I change now?"),
        said("No, a change applies from your next bill. Anything else on the bill?"),
    ]
}

#[tokio::test]
async fn an_offer_stands_through_a_side_question() {
    let mut m = quoted_basic();
    m.push(user(
        "Ah, okay. Fine, yes, please go ahead and change me to the Basic.",
    ));
    let (name, args) = run(req("billing", m)).await.call.unwrap();
    assert_eq!(name, "change_plan");
    assert_eq!(args, json!({"plan": "basic", "confirmed": true}));
}

#[tokio::test]
async fn a_yes_naming_another_option_does_not_take_up_the_standing_offer() {
    let mut m = quoted_basic();
    m.push(user("Okay, yes, then put me on the Plus instead."));
    let out = run(req("billing", m)).await;
    assert_ne!(
        out.call.as_ref().map(|(_, a)| a.get("confirmed").cloned()),
        Some(Some(json!(true))),
        "nothing is changed without a quote for Plus: {:?}",
        out.call
    );
}

#[tokio::test]
async fn a_standing_offer_is_not_taken_by_a_question_or_after_a_no() {
    let confirmed = |out: &Out| {
        out.call
            .as_ref()
            .is_some_and(|(_, a)| a.get("confirmed") == Some(&json!(true)))
    };
    let mut m = quoted_basic();
    m.push(user("Yes, and does the Basic include a modem?"));
    let out = run(req("billing", m)).await;
    assert!(!confirmed(&out), "a question is no go-ahead: {out:?}");

    let mut m = quoted_basic();
    m[4] = user("No thanks, not now. But will my overdue March bill get cheaper?");
    m.push(user(
        "Okay, fine, go ahead and change me to the Basic then.",
    ));
    let out = run(req("billing", m)).await;
    assert!(!confirmed(&out), "turned down since the quote: {out:?}");
}

/// Billing has quoted Pro to a caller on Basic.
fn quoted_pro() -> Vec<ChatMessage> {
    vec![
        user("Give me the quickest plan you've got."),
        called("q1", "change_plan", json!({"plan": "pro"})),
        result(
            "q1",
            json!({"status": "needs_confirmation", "plan": "pro",
                   "from": {"name": "Basic", "monthly": "$39.99", "speed_mbps": 100},
                   "to": {"name": "Pro", "monthly": "$89.99", "speed_mbps": 1000}}),
        ),
        said(
            "Pro is $89.99 a month with 1000 megabits, instead of $39.99 now. Shall I switch you?",
        ),
    ]
}

#[tokio::test]
async fn a_plan_named_by_its_step_from_the_quote_is_quoted_instead() {
    let mut m = quoted_pro();
    m.push(user(
        "Whoa, that's a big jump. No, scratch that, put me on the one below it instead.",
    ));
    let out = run(req("billing", m)).await;
    assert_eq!(
        out.call,
        Some(("change_plan".to_string(), json!({"plan": "plus"}))),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn a_step_turned_down_names_no_plan() {
    let mut m = quoted_pro();
    m.push(user("Not the one below it, no. The Pro is fine, go ahead."));
    let out = run(req("billing", m)).await;
    assert_eq!(
        out.call,
        Some((
            "change_plan".to_string(),
            json!({"plan": "pro", "confirmed": true})
        )),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn a_check_of_the_quoted_figures_is_confirmed_with_the_yes() {
    let mut m = quoted_pro();
    m.push(user(
        "And that's fifty more than I pay now, yeah? Fine by me. Yes, do it.",
    ));
    let out = run(req("billing", m)).await;
    assert_eq!(
        out.call,
        Some((
            "change_plan".to_string(),
            json!({"plan": "pro", "confirmed": true})
        ))
    );
    assert!(out.text.starts_with("Yes, that's right."), "{}", out.text);
    // A wrong figure is not said to be right.
    let mut m = quoted_pro();
    m.push(user("And that's forty more than now, yeah? Yes, do it."));
    let out = run(req("billing", m)).await;
    assert!(!out.text.contains("that's right"), "{}", out.text);
}

/// Billing has emailed the January invoice.
fn sent_january() -> Vec<ChatMessage> {
    vec![
        user("Could you email me January's bill?"),
        called(
            "s1",
            "send_invoice",
            json!({"channel": "email", "invoice_id": 101}),
        ),
        result(
            "s1",
            json!({"status": "sent", "destination": "the email address at example.com",
                   "invoice": {"id": 101, "issued_spoken": "January 12", "amount": "$59.99"}}),
        ),
        said("Done. I've sent your January 12 invoice for $59.99 to the email address at example.com. Anything else?"),
    ]
}

#[tokio::test]
async fn a_check_of_the_date_we_gave_is_confirmed_and_a_wrong_one_is_not() {
    let mut m = sent_january();
    m.push(user(
        "Lovely. And that one's the bill dated January the twelfth, is it?",
    ));
    let out = run(req("billing", m)).await;
    assert_eq!(out.call, None, "{}", out.text);
    assert!(out.text.starts_with("Yes, that's right."), "{}", out.text);
    for wrong in [
        "And that one's the bill dated March the twelfth, is it?",
        "And that one's dated January the fifth, is it?",
        "Why is it fifty-nine ninety-nine?",
    ] {
        let mut m = sent_january();
        m.push(user(wrong));
        let out = run(req("billing", m)).await;
        assert!(!out.text.contains("that's right"), "{wrong}: {}", out.text);
    }
}

#[tokio::test]
async fn a_check_of_the_quoted_difference_alone_is_confirmed_and_the_offer_stands() {
    let mut m = quoted_pro();
    m.push(user(
        "Eighty-nine ninety-nine. So that's fifty over what I pay now, right?",
    ));
    let out = run(req("billing", m)).await;
    assert_eq!(out.call, None, "{}", out.text);
    assert_eq!(out.text, "Yes, that's right. Shall I switch you?");
    // A wrong difference is not confirmed.
    let mut m = quoted_pro();
    m.push(user("So that's forty over what I pay now, right?"));
    let out = run(req("billing", m)).await;
    assert!(!out.text.contains("that's right"), "{}", out.text);
}
