//! Tests of the caller's short answers, interjections, closings and requests for a person.

use super::*;

#[test]
fn a_hold_while_the_caller_checks_keeps_the_question_open() {
    assert_eq!(
        interjection("sorry, say that again? the kids were yelling"),
        Some(Interjection::Repeat)
    );
    assert_eq!(
        interjection("sorry, say that again? I want the pro plan"),
        None
    );
    for t in [
        "wait, hang on, before you do anything let me open my bank app and look. one sec",
        "Hang on a sec, let me just check with my husband.",
        "okay hold on, let me go find an old bill",
        "let me have a look at my statement real quick",
    ] {
        assert_eq!(interjection(t), Some(Interjection::Wait), "{t}");
    }
    assert!(!defers(
        "Oh. Hang on, let me grab a letter from you guys. Okay, here. Three oh three oh one."
    ));
    assert_eq!(
        interjection(
            "Hello? You there? It went quiet. Oh, okay, yeah, it just came in. Thanks, bye."
        ),
        None
    );
    assert!(is_acknowledged_farewell(
        "Hello? You there? It went quiet. Oh, okay, yeah, it just came in. Thanks, bye."
    ));
    assert!(is_acknowledged_farewell(
        "One to three. Okay, so if I start it at ten, no, it won't be done by one. Fine. That's all I needed, thanks, bye."
    ));
    assert!(ends_with_farewell("Got it, that's it. Later."));
    assert!(ends_with_farewell(
        "Grand job. I'll let you go, I've barrel hoops to fit before dark. Cheers."
    ));
    assert!(!ends_with_farewell("Cheers."));
    assert!(!ends_with_farewell("Okay. Cheers."));
    for t in [
        "hang on, no, don't do that",
        "okay yeah, I checked, go ahead",
        "hold on, can you also send my invoice?",
        "one second, I need a refund for the other charge too",
        "let me check: yes, that's the one",
    ] {
        assert!(!defers(t), "{t}");
    }
}

#[test]
fn interjections_answer_nothing() {
    use Interjection::*;
    for (t, want) in [
        ("Hello? Are you still there?", StillThere),
        ("hello?", StillThere),
        ("Um, can you hear me?", StillThere),
        ("Sorry, what?", Repeat),
        ("Come again?", Repeat),
        ("Sorry, I didn't catch that.", Repeat),
        ("Hold on a second.", Wait),
        ("One moment please", Wait),
    ] {
        assert_eq!(interjection(t), Some(want), "{t}");
    }
    for t in [
        "Yes please",
        "Hello, I was charged twice",
        "What is that charge for?",
        "Sorry, I meant the March invoice",
        "no",
    ] {
        assert_eq!(interjection(t), None, "{t}");
    }
}

#[test]
fn person_requests() {
    for t in [
        "Is there an actual human I can talk to?",
        "Can I speak to someone, please",
        "Get me a supervisor.",
        "I want to talk to a real person",
        "Just put me through to an operator",
        "Then I want a person who can sort that, please.",
        "Refunded or not, it should never have gone on there. I want someone senior to hear it from me, a person, please.",
        "Can someone higher up call me about this?",
    ] {
        assert!(asks_for_person(t), "{t}");
    }
    for t in [
        "Do I need a person to come out, or does it sort itself?",
        "Will you send a person who can fix the cable?",
        "I don't need a person, just reset my password",
        "my person on the account is my wife",
        "I was charged twice",
        "someone at my house broke the router",
        "I need someone to come and fix the router",
        "Is that a person or a machine?",
        "someone senior at my work uses the same plan",
        "Yes, get me someone out here this week",
    ] {
        assert!(!asks_for_person(t), "{t}");
    }
}

#[test]
fn offers_taken_or_refused_clause_by_clause() {
    for t in [
        "Six thousand, okay. Is that the ninety dollar one? Yeah, let's do that, I'm not rewriting the whole script.",
        "okay yeah, put me on that",
        "Yes please",
        "sounds good",
    ] {
        assert!(accepts(t), "{t}");
    }
    for t in [
        "Whoa, that's more than double what I pay now. No, forget it, leave me where I am.",
        "hmm. nah you know what, not right now",
        "Oh, only a hundred? No, don't switch it then",
        "Yes, but don't charge my card yet",
        "Okay, I'll try restarting it tonight. So what about the double charge?",
        "wait, is that instead of the old price?",
        "Yeah, I'll call back later once I've talked to him. Thanks, bye.",
        "yeah maybe, let me think about it",
        "ok thanks bye",
        "Hang on, before you do it. Does the cheaper price start now, or only on the next bill?",
        "if you do it today, will I pay twice?",
        // A "yes?" tag asks; it takes no "wait" back.
        "Wait, wait, before you do anything. If you give one back, my March bill is still paid, yes? I don't want some letter next month saying I'm behind.",
        "And that starts today, yes?",
    ] {
        assert!(!accepts(t), "{t}");
    }
    // The tools' own check: a "yes?" tag agrees to nothing either.
    for t in [
        "Wait, wait, before you do anything. If you give one back, my March bill is still paid, yes? I don't want some letter next month saying I'm behind.",
        "And that starts today, yes?",
    ] {
        assert!(!agrees(t), "{t}");
    }
    assert!(refuses(
        "No. I'm not paying more for that. Leave it as it is."
    ));
    assert!(!refuses("yeah, I'm not rewriting the script, do it"));
    // "No wonder" explains; it turns nothing down.
    assert!(!refuses(
        "Sixty? No wonder. Right, move me up to the Plus, that'll cover it."
    ));
    assert!(!is_negative("No doubt. Put me on the Pro."));
    // ...but only within one clause: "No. Doubt it'd help." keeps its "no".
    assert!(is_negative("No. Doubt it'd help anyway."));
    assert!(is_negative("No, wonder if I should wait."));
    // A "no" taken back by a later plain go-ahead is the caller's last word.
    let taken_back = "Oh. Yah, no, that's fair, the one's my actual bill. Okay, just the extra one then, go ahead.";
    assert!(!refuses(taken_back) && accepts(taken_back));
    assert!(refuses("go ahead, no wait, don't"));
    assert!(refuses(
        "no, don't refund it, go ahead and cancel my plan instead"
    ));
}

#[test]
fn acknowledgements_ask_nothing() {
    assert!(is_acknowledgement(
        "Ah, okay, so it might happen again tonight. Good to know. I'll leave the router alone then."
    ));
    assert!(is_acknowledgement("Got it, makes sense."));
    assert!(!is_acknowledgement("Got it. But why was I charged twice?"));
    assert!(!is_acknowledgement("I see, but it still doesn't work"));
}

#[test]
fn acknowledged_farewells() {
    for t in [
        "Alright, I'll try that. Thanks, bye.",
        "Okay great, thank you, goodbye",
        "Got it. That's all.",
        "Huh. My bank account changed, that's probably why it didn't go through. I'll just pay it online tonight. Thanks, bye.",
    ] {
        assert!(is_acknowledged_farewell(t), "{t}");
    }
    for t in [
        "So why was I charged for March. Bye",
        "I still need a refund, bye",
        "Can you send it by email? Bye",
        "Thanks",
    ] {
        assert!(!is_acknowledged_farewell(t), "{t}");
    }
}

#[test]
fn yes_and_no() {
    for y in [
        "Yes please",
        "yeah go ahead",
        "Sure.",
        "ok",
        "That's right",
        "please do",
        "Yep, do it",
        "please",
        "that works",
    ] {
        assert!(is_affirmative(y), "{y}");
    }
    for n in [
        "No",
        "no thanks",
        "wait, not yet",
        "I don't want that",
        "I was charged twice",
        "please refund me the money I lost",
        "my internet is down",
    ] {
        assert!(!is_affirmative(n), "{n}");
    }
    assert!(is_negative("nah"));
}

#[test]
fn farewells_at_the_end_of_a_turn() {
    for f in [
        "Yes, refund it please. Thanks, bye.",
        "No, that's everything. Thank you, bye.",
        "Okay, thanks. That's all.",
        "Perfect. That's all I needed, bye.",
        "goodbye",
        "Bye, thanks!",
        "that's it, thank you very much",
        "Yes, drop-ed, tank, buy.",
        "Wrong number, buy,",
        "Okay thanks. By.",
        "Forget about it, thanks anyway, bye, and hey, have a good one.",
        "Sweet as, that's me, see ya, and cheers for explaining.",
        "Six pm, cool, bye, and thanks for not upselling me lol.",
        "Ay, no, wrong number, perdón, perdón. Adiós.",
        "Thanks, bye now, and you have yourself a good rest of the day.",
    ] {
        assert!(ends_with_farewell(f), "{f}");
    }
    for n in [
        "bye the way my bill is wrong",
        "I want to say goodbye to this plan and switch to pro",
        "thanks",
        "Yes please",
        "is that all you can do",
        "Perfect, that's all I needed to buy.",
        "which plan should I buy",
        "I'll pay by card",
        "Buy.",
        "I'd like to pay... by...",
        "That's all?",
        "That's it? Bye?",
        "bye the way, thanks for the help",
        "I need my bill, thanks",
    ] {
        assert!(!ends_with_farewell(n), "{n}");
    }
}

#[test]
fn the_operator_key_pressed_once_or_again_asks_for_a_person() {
    for d in ["0", "0#", "00", "000#"] {
        assert!(keys_ask_for_person(d, "0"), "{d}");
    }
    for d in ["", "#", "0000", "10", "01", "1003"] {
        assert!(!keys_ask_for_person(d, "0"), "{d}");
    }
    assert!(!keys_ask_for_person("0", ""));
}

#[test]
fn a_question_about_our_question_is_a_repeat_unless_it_answers() {
    assert!(asks_to_repeat("Sorry, go ahead, what'd you ask me?"));
    assert!(asks_to_repeat(
        "Sorry, I am back. It was a delivery. What did you ask me?"
    ));
    assert!(!asks_to_repeat("Did you ask for my zip? It's 62704."));
    assert!(asks_to_repeat("sorry, which number did it go to?"));
    assert_eq!(
        interjection("Okay, the box is in the hall. Wait, please."),
        Some(Interjection::Wait)
    );
    assert_eq!(interjection("Can you text me the bill? Hang on."), None);
    assert!(defers(
        "Oh. Of course, they still have the old one. Okay, hold on, I'm doing the TV first."
    ));
    assert!(asks_to_repeat("Wait, where did you send it?"));
    assert!(!asks_to_repeat("Which number is on my account?"));
    assert!(!asks_to_repeat(
        "Where did my payment go? I paid on the fifth."
    ));
    assert!(!asks_to_repeat(
        "Did you ask for my zip? It's six two seven oh four."
    ));
}

#[test]
fn a_surname_is_no_goodbye_but_a_farewell_of_its_own_is() {
    assert!(!ends_with_farewell("The account's under Linh Chau."));
    assert!(!ends_with_farewell("It's in my husband's name, Wei Chao."));
    assert!(ends_with_farewell(
        "We don't need anything, sorry for bothering you. Chau!"
    ));
}

#[test]
fn a_goodbye_in_the_callers_language_after_an_english_one_is_a_goodbye() {
    for f in [
        "Thank you, that is all, bayartai.",
        "Good. That was all I had. Kiitos, goodbye.",
        "That's all, thanks, ameseginalehu.",
        "That's it, thank you, ma'a salama.",
        "Good, I'll tell her tonight. That's it, thank you brother, ma'a salama.",
    ] {
        assert!(ends_with_farewell(f), "{f}");
    }
    for n in [
        "Thanks, bye. Wait.",
        "That's all, thanks. Actually.",
        "Okay thanks, refund.",
        "Thank you, Springfield.",
        "That's all, thanks. Actually, wait.",
        "That's it, totally dark.",
        "That's it, Netflix.",
    ] {
        assert!(!ends_with_farewell(n), "{n}");
    }
}

#[test]
fn a_plain_yes_after_thinking_aloud_takes_the_offer() {
    let t =
        "Hm. So not on the bill. No niin, then the card. Yes, put the extra one back on the card.";
    assert!(!refuses(t), "{t}");
    assert!(accepts(t), "{t}");
    // The last word is still a refusal here.
    assert!(refuses("Yes, I see it. But no, leave it for now."));
    assert!(refuses(
        "Oh, no, don't, actually. I just wanted to make sure it was a real double charge. Okay."
    ));
}

#[test]
fn a_call_back_asked_for_is_a_request_for_a_person_a_call_back_reported_is_not() {
    assert!(asks_for_person(
        "Can you have a real person call me back after six, to make sure it's working?"
    ));
    assert!(!asks_for_person(
        "The agent said someone would call me back about my refund and nobody did."
    ));
    assert!(!asks_for_person(
        "I spoke to a rep last week who said they'd call me back."
    ));
    assert!(asks_for_person(
        "Then yes, please have somebody call me about it. After two is best."
    ));
    assert!(!asks_for_person(
        "Why did somebody call me from this number?"
    ));
    assert!(!asks_for_person(
        "I have had somebody call me three times about this already."
    ));
    assert!(!asks_for_person("You have people call me at dinner time."));
    assert!(!asks_for_person(
        "Please don't have anyone call me, just email."
    ));
}

#[test]
fn a_yes_with_another_request_agrees_a_yes_taken_back_does_not() {
    assert!(agrees(
        "Yes, go ahead. And one more thing, since this morning the internet is strange, pages load half and then stop. Is something happening in our area?"
    ));
    assert!(!agrees("Yes. No, wait, don't."));
    assert!(!agrees("No, leave it."));
    assert!(!agrees("Okay, I don't know."));
}

#[test]
fn no_problem_is_no_problem_reported() {
    assert!(is_acknowledged_farewell(
        "No, I don't have internet with you people. Then it was those robot sales calls, eh. Okay, no problem, I'm going back to sleep, I work nights at the mall, bye-bye."
    ));
    assert!(!is_acknowledged_farewell(
        "I still have a problem with my bill. Bye."
    ));
}

#[test]
fn a_hold_after_taking_in_our_advice_is_a_hold() {
    assert!(defers(
        "Okay. My husband is home, let me text him to do that. One moment."
    ));
    assert!(defers(
        "Restart the whole phone? Okay. Hold on, it is turning off now."
    ));
}

#[test]
fn a_goodbye_after_a_hold_phrase_leaves() {
    assert!(!defers(
        "So my sister, until six, okay. And my mother, I'll go look after my shift. Thank you, bye."
    ));
    assert!(!defers("Hang on, no, don't do that."));
    assert!(!defers("Go ahead. Hang on, let me grab a pen."));
    assert!(!defers("Sounds good. One moment."));
    assert!(!defers("Is there an outage? Hang on."));
}

#[test]
fn a_request_is_the_callers_own_need_however_put() {
    assert!(makes_request(
        "No, please don't refund it. What I actually need is the March invoice, emailed to me."
    ));
    assert!(!makes_request(
        "I'll ask their finance office how they want to do it, then."
    ));
    assert!(!makes_request(
        "So that was it. That's all I needed, thank you, goodbye."
    ));
    assert!(!makes_request(
        "Don't bother with anything else, I only wanted to know."
    ));
}

#[test]
fn phrases_are_found_as_whole_words_only() {
    assert_eq!(spaced("So, the BILL?"), " so the bill ");
    assert_eq!(spaced("Don\u{2019}t"), " don't ");
    assert!(says_any("So the bill came twice.", &["the bill"]));
    assert!(!says_any("The billing page is blank.", &["the bill"]));
    assert!(says_any("Text it, please", &["email it", "text it"]));
    // Padded phrases are the same phrase.
    assert!(says_any("I want that as well.", &[" as well "]));
    assert!(!says_any("", &["yes"]));
}

#[test]
fn later_parts_only_as_a_short_clause_of_its_own() {
    assert!(ends_with_farewell("Cool. Later."));
    assert!(ends_with_farewell("Okay, catch you later."));
    assert!(ends_with_farewell("Alright, see you later, thanks."));
    assert!(!ends_with_farewell(
        "I'm not trying to get the whole month for free, I don't want some bill chasing me later."
    ));
    assert!(!ends_with_farewell("I'll pay the rest of it later."));
}

#[test]
fn i_do_agrees_only_at_the_end_of_its_clause() {
    assert!(has_yes_phrase("Yes, I do."));
    assert!(has_yes_phrase("I would, please."));
    assert!(!has_yes_phrase("Because one of them I do owe you."));
    assert!(!accepts(
        "Hang on, before you do anything, is that fifty-nine ninety-nine you'd put back, or both of them together? Because one of them I do owe you."
    ));
}

#[test]
fn a_goodbye_said_about_itself_parts() {
    assert!(ends_with_farewell(
        "That's all I needed, I've got varnish drying on a cello so I'll say goodbye now."
    ));
    assert!(!ends_with_farewell("I need the bill now."));
}

#[test]
fn later_in_a_statement_puts_nothing_off() {
    assert!(!refuses(
        "Before I pick, will that cut my internet off while it resets? I've got a shift on the mountain later and my wife's working from home."
    ));
    assert!(refuses("Maybe later, thanks."));
    assert!(refuses("Hmm, I'll do it later."));
}

#[test]
fn a_closing_need_is_no_request_but_a_stated_want_is() {
    assert!(!makes_request("Okay, good. That's all I need, bye."));
    assert!(makes_request("No, all I want is the March bill emailed."));
    assert!(makes_request("Then text it to her phone so she sees it."));
}

#[test]
fn a_line_that_comes_back_by_itself_is_not_fixed() {
    assert!(reports_fixed(
        "Found it. The cable had worked itself loose. Shoved it back in and everything's coming back on."
    ));
    assert!(!reports_fixed(
        "It drops out every evening, coming back on after ten minutes."
    ));
    assert!(!reports_fixed(
        "Everything's working fine, it's just the router making a buzzing noise."
    ));
}
