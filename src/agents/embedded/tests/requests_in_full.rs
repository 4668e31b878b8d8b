//! Requests served whole: bills by month (one not issued yet, several in one
//! request), a question about the channel just used, a status question with no
//! trouble of its own, a price question that changes nothing, an API error named by
//! its path, two requests after a story, and a closing after a question tag.

use serde_json::json;

use super::record::arrived;
use super::*;

const SEND_RESULT_MARCH: &str = r#"{"status": "sent", "channel": "email", "destination": "the email address at example.com",
    "invoice": {"id": 9, "period": "2026-03", "issued_spoken": "March 12", "amount": "$59.99"}}"#;

#[tokio::test]
async fn a_month_not_issued_yet_is_said_and_the_latest_offered() {
    let out = run(req(
        "billing",
        arrived("Could you text me the April bill, please?"),
    ))
    .await;
    assert_eq!(out.call, None, "nothing is sent unasked");
    assert!(
        out.text.contains("I don't see a April bill yet"),
        "{}",
        out.text
    );
    assert!(out.text.contains("March 12"), "{}", out.text);
    let mut m = arrived("Could you text me the April bill, please?");
    m.push(said(&out.text));
    m.push(user("Ah, right, then that one, yes please."));
    let (name, args) = run(req("billing", m)).await.call.unwrap();
    assert_eq!(name, "send_invoice");
    assert_eq!(args, json!({"channel": "sms", "invoice_id": 9}));
}

#[tokio::test]
async fn a_no_to_the_latest_bill_sends_nothing() {
    let mut m = arrived("Could you text me the April bill, please?");
    let offer = run(req("billing", m.clone())).await.text;
    m.push(said(&offer));
    m.push(user("No, leave it, I'll wait for April."));
    assert_eq!(run(req("billing", m)).await.call, None);
}

#[tokio::test]
async fn two_months_in_one_request_send_two_bills_on_one_channel() {
    let ask = "Send me the February bill and the March bill, both of them, by email.";
    let mut m = arrived(ask);
    let (name, args) = run(req("billing", m.clone())).await.call.unwrap();
    assert_eq!(
        (name.as_str(), &args["invoice_id"]),
        ("send_invoice", &json!(9))
    );
    m.push(called("s1", "send_invoice", args));
    m.push(ChatMessage::Tool {
        tool_call_id: "s1".into(),
        content: SEND_RESULT_MARCH.into(),
    });
    let out = run(req("billing", m)).await;
    let (name, args) = out.call.expect("the second bill is sent too");
    assert_eq!(name, "send_invoice");
    assert_eq!(args, json!({"channel": "email", "invoice_id": 8}));
    assert!(
        out.text.starts_with("Done. I've sent your March 12"),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn a_corrected_month_sends_one_bill() {
    let ask = "Can you email me the bill for February, no, sorry, March. The February one I already have.";
    let mut m = arrived(ask);
    let (_, args) = run(req("billing", m.clone())).await.call.unwrap();
    assert_eq!(args["invoice_id"], json!(9));
    m.push(called("s1", "send_invoice", args));
    m.push(ChatMessage::Tool {
        tool_call_id: "s1".into(),
        content: SEND_RESULT_MARCH.into(),
    });
    let out = run(req("billing", m)).await;
    assert_eq!(out.call, None, "one bill asked for: {}", out.text);
}

#[tokio::test]
async fn a_question_about_the_channel_just_used_is_answered_not_rerouted() {
    let mut m = arrived("Email me my March bill please");
    m.push(called(
        "s1",
        "send_invoice",
        json!({"channel": "email", "invoice_id": 9}),
    ));
    m.push(ChatMessage::Tool {
        tool_call_id: "s1".into(),
        content: SEND_RESULT_MARCH.into(),
    });
    m.push(said("Done. I've sent your March 12 invoice for $59.99 to the email address at example.com. Anything else?"));
    m.push(user("It's going to the email, not to the phone, yes?"));
    let out = run(req("billing", m.clone())).await;
    assert_eq!(out.call, None);
    assert!(out.text.starts_with("Yes, it's on its way"), "{}", out.text);
    // Another channel named is a request, not a check.
    m.pop();
    m.push(user("Can you text it to me as well?"));
    let out = run(req("billing", m)).await;
    assert!(
        !out.text.starts_with("Yes, it's on its way"),
        "{}",
        out.text
    );
}

fn status(region: &str, known: bool) -> Value {
    json!({"region": region, "known_region": known, "all_ok": true, "services": []})
}

#[tokio::test]
async fn a_status_question_gets_the_status_and_no_remedy() {
    let ask = "I'm moving to Boston in the fall. Is your service there working okay, any outages?";
    let m = vec![user(ask)];
    let (name, args) = run(req("technical", m.clone())).await.call.unwrap();
    assert_eq!(name, "check_service_status");
    assert_eq!(args, json!({"region": "Boston"}));
    let mut m = m;
    m.push(called("c1", "check_service_status", args));
    m.push(result("c1", status("Boston", true)));
    let out = run(req("technical", m)).await;
    assert!(out.text.contains("running normally"), "{}", out.text);
    assert!(
        !out.text.contains("restart"),
        "no remedy for no trouble: {}",
        out.text
    );
}

#[tokio::test]
async fn a_region_we_do_not_serve_is_never_called_healthy() {
    let m = vec![
        user("my daughter's internet in Denver is down, is there an outage in Denver?"),
        called("c1", "check_service_status", json!({"region": "Denver"})),
        result("c1", status("Denver", false)),
    ];
    let out = run(req("technical", m)).await;
    assert!(
        out.text
            .contains("don't have any service information for Denver"),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn the_same_status_asked_again_is_answered_from_the_check_in_hand() {
    let m = vec![
        user("my internet is down, I live in Riverside"),
        called("c1", "check_service_status", json!({"region": "Riverside"})),
        result(
            "c1",
            json!({"region": "Riverside", "known_region": true, "all_ok": false,
                   "services": [{"service": "internet", "status": "degraded", "message": "Fiber cut, fix by 6 pm"}]}),
        ),
        said("There's a known problem in Riverside: Fiber cut, fix by 6 pm. I'm sorry about that."),
        user("So is it only my house, or the whole area in Riverside?"),
    ];
    let out = run(req("technical", m)).await;
    assert_eq!(out.call, None, "no second check: {}", out.text);
    assert!(out.text.contains("Fiber cut"), "{}", out.text);
}

#[tokio::test]
async fn asking_what_there_is_while_changing_nothing_gets_the_prices() {
    let mut m = arrived("What plan do I have, and how fast is it supposed to be?");
    let first = run(req("billing", m.clone())).await;
    assert_eq!(first.call, None);
    assert!(
        first.text.starts_with("You're on the Plus plan"),
        "{}",
        first.text
    );
    m.push(said(&first.text));
    m.push(user(
        "And is there a faster one? I'm not changing anything today, I'm only asking.",
    ));
    let out = run(req("billing", m)).await;
    assert_eq!(out.call, None);
    assert!(out.text.starts_with("We have three plans"), "{}", out.text);
}

#[tokio::test]
async fn an_api_path_with_a_status_names_an_api_error_and_opens_a_ticket() {
    let turn = "Since yesterday every POST to slash v two slash orders gives four twenty-two, unprocessable entity.";
    let out = run(req("triage", vec![user(turn)])).await;
    assert_eq!(out.call.unwrap().0, "transfer_to_technical");
    let m = vec![
        user(turn),
        called(
            "h1",
            "transfer_to_technical",
            json!({"reason": "x", "trigger": "intent"}),
        ),
        result("h1", json!({"ok": true})),
    ];
    let (name, args) = run(req("technical", m)).await.call.unwrap();
    assert_eq!(
        name, "open_ticket",
        "endpoint and error given: no question first"
    );
    assert_eq!(args["category"], json!("technical"));
}

#[tokio::test]
async fn the_story_before_two_questions_is_not_one_of_them() {
    let turn = "I'm a grad student, I'm moving to Boston and choosing an internet company. \
                Two questions: is your service in Boston working okay right now? And how much are your plans?";
    let out = run(req("triage", vec![user(turn)])).await;
    assert_eq!(
        out.call.unwrap().0,
        "transfer_to_technical",
        "the status question first, not a plan change read from the story"
    );
}

#[tokio::test]
async fn a_price_question_from_a_number_not_on_file_needs_no_account() {
    let m = vec![
        user("How much are your plans?"),
        called("h1", "transfer_to_billing", json!({"reason": "x", "trigger": "intent"})),
        ChatMessage::System {
            content: format!(
                "{}: no account matches the calling number (+15550109999). \
                 Ask for the phone number on the account and its ZIP code, then use lookup_customer.\njson: {}",
                crate::agents::hooks::BILLING_RECORD_PREFIX,
                json!({"found": false, "phone": "+15550109999"})
            ),
        },
        result("h1", json!({"ok": true})),
    ];
    let out = run(req("billing", m)).await;
    assert_eq!(out.call, None);
    assert!(out.text.starts_with("We have three plans"), "{}", out.text);
}

#[test]
fn a_question_tag_then_a_firm_closing_closes() {
    use crate::agents::confirm::is_acknowledged_farewell;
    assert!(is_acknowledged_farewell(
        "Settings, then Webhooks, good. And the ticket, somebody answers within one day, yes? Fine. That's everything, na shledanou."
    ));
    assert!(!is_acknowledged_farewell(
        "And you'll refund it too, yes? That's everything, bye."
    ));
    assert!(!is_acknowledged_farewell(
        "Can you email me the bill? That's everything, bye."
    ));
}

#[tokio::test]
async fn a_note_on_the_account_is_a_billing_ticket_opened_once() {
    let ask = "The confirmation number is H K seven seven four two. Can you put a note on the account so nobody adds a late fee?";
    let mut m = arrived(ask);
    let (name, args) = run(req("billing", m.clone())).await.call.unwrap();
    assert_eq!(name, "open_ticket");
    assert_eq!(args["category"], json!("billing"));
    m.push(called("t1", "open_ticket", args));
    m.push(result(
        "t1",
        json!({"status": "open", "ticket_id": 2, "follow_up": "within one business day"}),
    ));
    let out = run(req("billing", m.clone())).await;
    assert!(out.text.contains("request 2"), "{}", out.text);
    assert!(
        !out.text.contains("team"),
        "no other team is named: {}",
        out.text
    );
    m.push(said(&out.text));
    m.push(user(
        "Well, can you at least write it up so somebody gets back to me?",
    ));
    let out = run(req("billing", m)).await;
    assert_eq!(out.call, None, "one ticket: {}", out.text);
}

#[tokio::test]
async fn a_story_about_the_statement_is_not_a_note_request() {
    let story =
        "Every month I go through my card statement line by line, and on the twelfth of March \
                 there's fifty-nine ninety-nine twice, so can I get one of those back?";
    let out = run(req("billing", arrived(story))).await;
    assert_ne!(
        out.call.map(|c| c.0).as_deref(),
        Some("open_ticket"),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn a_question_the_verification_interrupted_is_asked_again_in_other_words_and_answered() {
    let ask = "I can send you a link to reset it. Would you like it by text message or by email?";
    let mut m = vec![
        ChatMessage::System {
            content: "Caller number: +15557770001".into(),
        },
        user("I'm on a work phone. I forgot the password, can you send me a reset link?"),
        said(ask),
        user("The phone on the account is five five five, one two three, zero zero zero four."),
        said("Thanks. And the ZIP code on the account?"),
        user("0 2 1 0 1"),
        called(
            "l1",
            "lookup_customer",
            json!({"phone": "5551230004", "zip_code": "02101"}),
        ),
        result(
            "l1",
            json!({"found": true, "customer": {"name": "Tom O'Brien", "first_name": "Tom",
            "plan": {"code": "basic", "name": "Basic", "monthly": "$39.99", "speed_mbps": 100}}}),
        ),
    ];
    let out = run(req("technical", m.clone())).await;
    assert_eq!(out.call, None);
    assert_eq!(
        out.text,
        "Thanks, I've found your account. So, should the reset link go by text message or by email?"
    );
    m.push(said(&out.text));
    m.push(user("Email please."));
    let (name, args) = run(req("technical", m)).await.call.unwrap();
    assert_eq!(name, "reset_password");
    assert_eq!(args["channel"], json!("email"));
}

fn not_on_file_note() -> ChatMessage {
    ChatMessage::System {
        content: format!(
            "{}: no account matches the calling number (+15550109999). Before anything that needs the account, \
             ask for the phone number on it and its ZIP code, then use lookup_customer.\njson: {}",
            crate::agents::hooks::CALLER_IDENTITY_PREFIX,
            json!({"found": false, "phone": "+15550109999"})
        ),
    }
}

#[tokio::test]
async fn technical_asks_for_the_account_before_a_reset_for_a_number_not_on_file() {
    let m = vec![
        user("I forgot my password, can you email me a reset link?"),
        called(
            "h1",
            "transfer_to_technical",
            json!({"reason": "x", "trigger": "intent"}),
        ),
        not_on_file_note(),
        result("h1", json!({"ok": true})),
    ];
    let out = run(req("technical", m)).await;
    assert_eq!(
        out.call, None,
        "no reset_password before verification: {}",
        out.text
    );
    assert!(
        out.text.contains("phone number on the account"),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn an_outage_question_from_a_number_not_on_file_needs_no_account() {
    let m = vec![
        user("Is there an outage in Austin right now?"),
        called(
            "h1",
            "transfer_to_technical",
            json!({"reason": "x", "trigger": "intent"}),
        ),
        not_on_file_note(),
        result("h1", json!({"ok": true})),
    ];
    let (name, args) = run(req("technical", m)).await.call.unwrap();
    assert_eq!(name, "check_service_status");
    assert_eq!(args, json!({"region": "Austin"}));
}

#[tokio::test]
async fn the_same_question_of_two_places_checks_each() {
    let turn = "My sister lives in Riverside and my mother in Springfield, both called me saying it's slow. \
                Is something going on in Riverside? And in Springfield?";
    let mut m = vec![user(turn)];
    let (name, args) = run(req("technical", m.clone())).await.call.unwrap();
    assert_eq!(
        (name.as_str(), args),
        ("check_service_status", json!({"region": "Riverside"}))
    );
    m.push(called(
        "c1",
        "check_service_status",
        json!({"region": "Riverside"}),
    ));
    m.push(result("c1", status("Riverside", true)));
    let out = run(req("technical", m)).await;
    let (name, args) = out.call.expect("Springfield is checked too");
    assert_eq!(
        (name.as_str(), args),
        ("check_service_status", json!({"region": "Springfield"}))
    );
    assert!(out.text.contains("Riverside"), "{}", out.text);
}

#[tokio::test]
async fn a_plan_asked_for_against_the_way_the_caller_wants_to_go_is_not_quoted() {
    // Dana is on Plus ($59.99): "down to the top one" goes up, "up to Basic" goes down.
    let out = run(req(
        "billing",
        arrived("I want to go down to the pro plan to save some money"),
    ))
    .await;
    assert_eq!(out.call, None, "no quote: {}", out.text);
    assert!(
        out.text.contains("would cost more, not less"),
        "{}",
        out.text
    );
    let out = run(req(
        "billing",
        arrived("Can you upgrade me to Basic, I need faster internet"),
    ))
    .await;
    assert_eq!(out.call, None, "no quote: {}", out.text);
    assert!(out.text.contains("slower, not faster"), "{}", out.text);
    // The way it goes: quoted.
    let (name, args) = run(req(
        "billing",
        arrived("I want to go down to the basic plan to save money"),
    ))
    .await
    .call
    .unwrap();
    assert_eq!(
        (name.as_str(), args),
        ("change_plan", json!({"plan": "basic"}))
    );
}

#[tokio::test]
async fn leave_it_changes_no_plan() {
    let out = run(req(
        "billing",
        arrived(
            "The cheapest already? Okay, then leave it, don't change anything. Thank you, bye.",
        ),
    ))
    .await;
    assert_ne!(
        out.call.map(|c| c.0).as_deref(),
        Some("change_plan"),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn a_bill_to_another_number_is_refused_and_the_channels_on_file_offered() {
    let ask = "Could you text the bill to his phone instead of mine? His number is five five five, eight two six, four four one nine.";
    let out = run(req("billing", arrived(ask))).await;
    assert_eq!(
        out.call, None,
        "nothing sent to a number not on the account"
    );
    assert!(
        out.text.starts_with(
            "I can only send it to the phone number or the email address on the account"
        ),
        "{}",
        out.text
    );
    let mut m = arrived(ask);
    m.push(said(&out.text));
    m.push(user("Oh. Then the email, please."));
    let (name, args) = run(req("billing", m)).await.call.unwrap();
    assert_eq!(
        (name.as_str(), &args["channel"]),
        ("send_invoice", &json!("email"))
    );
    // Triage does not take the number for an account to verify.
    let out = run(req("triage", vec![user(ask)])).await;
    assert_eq!(out.call.unwrap().0, "transfer_to_billing");
}

#[tokio::test]
async fn one_bill_per_month_each_on_the_channel_named_with_it() {
    let ask = "I need two bills. January by text, that one's for me. And March by email, for my accountant.";
    let mut m = arrived(ask);
    let (name, args) = run(req("billing", m.clone())).await.call.unwrap();
    assert_eq!(name, "send_invoice");
    assert_eq!(args, json!({"channel": "email", "invoice_id": 9}));
    m.push(called("s1", "send_invoice", args));
    m.push(ChatMessage::Tool {
        tool_call_id: "s1".into(),
        content: SEND_RESULT_MARCH.into(),
    });
    // January is not on this record (February and March are): nothing is sent for it.
    let out = run(req("billing", m)).await;
    assert_eq!(out.call, None, "{}", out.text);
    // A month only mentioned is not asked for.
    let mut m = arrived("I got the February bill fine. Can you email me March?");
    let (_, args) = run(req("billing", m.clone())).await.call.unwrap();
    m.push(called("s1", "send_invoice", args));
    m.push(ChatMessage::Tool {
        tool_call_id: "s1".into(),
        content: SEND_RESULT_MARCH.into(),
    });
    assert_eq!(run(req("billing", m)).await.call, None);
}

#[tokio::test]
async fn the_limit_of_a_plan_named_needs_no_look_at_the_callers_plan() {
    let out = run(req(
        "technical",
        vec![user(
            "How many requests a minute does the Pro plan give you?",
        )],
    ))
    .await;
    assert_eq!(out.call, None);
    assert!(out.text.contains("Pro 6000"), "{}", out.text);
}

#[tokio::test]
async fn one_device_failing_while_others_work_gets_a_step_on_that_device() {
    let out = run(req(
        "technical",
        vec![user("My laptop won't join the Wi-Fi since an update, but my phone is on the same Wi-Fi and it's fine.")],
    ))
    .await;
    assert_eq!(out.call, None, "no ticket, no status check: {}", out.text);
    assert!(
        out.text.contains("forget the Wi-Fi network"),
        "{}",
        out.text
    );
}

#[tokio::test]
async fn moving_the_service_to_a_new_address_needs_a_person() {
    let turn = "We're moving at the end of the month, across town, still in Austin, and I want to take my internet with me. How does that work?";
    assert_eq!(
        run(req("triage", vec![user(turn)])).await.call.unwrap().0,
        "transfer_to_human"
    );
}

#[tokio::test]
async fn direction_words_turned_down_or_about_speed_do_not_block_a_change() {
    // Dana is on Plus: "I don't need anything faster, put me on Basic" goes down as asked.
    let (name, _) = run(req(
        "billing",
        arrived("I don't need anything faster, put me on the basic plan"),
    ))
    .await
    .call
    .unwrap();
    assert_eq!(name, "change_plan");
    let (name, _) = run(req(
        "billing",
        arrived("My speeds are lower than they should be, put me on the pro plan"),
    ))
    .await
    .call
    .unwrap();
    assert_eq!(name, "change_plan");
}
