//! Tests of reading slots from caller words: places, phone numbers and ZIP codes,
//! digits, months and the latest bills asked by count.

use super::*;

#[test]
fn a_number_to_send_to_is_no_account_number() {
    assert!(phone_is_destination(
        "could you text the bill to his phone instead of mine? His number is five five five, eight two six, four four one nine."
    ));
    assert!(!phone_is_destination(
        "The account is under my husband's number, five five five, one two three, zero zero zero four."
    ));
    assert!(!phone_is_destination(
        "It's his number, 5551230004. And ZIP, 02101."
    ));
    assert!(!phone_is_destination(
        "I'm calling from my wife's phone instead of mine. My number is 555-123-0002."
    ));
    assert!(phone_is_destination(
        "Text it to my wife, her number is 555 826 4419."
    ));
}

#[test]
fn a_place_named_as_a_correction() {
    assert_eq!(
        corrected_place(
            "I had it wrong, it's Riverside, not Riverdale, I always mix those two up."
        ),
        Some("Riverside".into())
    );
    assert_eq!(corrected_place("Austin. Sorry."), Some("Austin".into()));
    assert_eq!(corrected_place("it's fine, thanks"), None);
}

#[test]
fn the_latest_bills_asked_by_count() {
    assert_eq!(
        last_count("Can you email me the last two months? No, sorry, the lady at the bank said three. The last three."),
        Some(3)
    );
    assert_eq!(last_count("send me the past 2 bills"), Some(2));
    assert_eq!(last_count("the last one, please"), None);
    assert_eq!(last_count("I paid it last month"), None);
    assert_eq!(last_count("the last four digits are zero zero two"), None);
    assert_eq!(
        last_count("I've been with you the last ten years. Email me March"),
        None
    );
}

#[test]
fn places_named_after_a_preposition() {
    assert_eq!(
        places("My sister lives in Riverside and my mother in Springfield. Is something going on in Riverside? And in Springfield?"),
        vec!["Riverside".to_string(), "Springfield".to_string()]
    );
    assert_eq!(
        place("Is there an outage in Denver? Is that you folks?").as_deref(),
        Some("Denver")
    );
    assert_eq!(
        place("she lives in San Antonio now").as_deref(),
        Some("San Antonio")
    );
    assert_eq!(
        place("So my son just moved out to Riverside, he's got his own account").as_deref(),
        Some("Riverside")
    );
    assert_eq!(
        place("My internet at home in San Diego is very slow").as_deref(),
        Some("San Diego")
    );
    assert_eq!(
        place("Ah beg, is the internet spoil for Springfield?").as_deref(),
        Some("Springfield")
    );
    assert_eq!(
        place("anything wrong over Riverside way?").as_deref(),
        Some("Riverside")
    );
    assert_eq!(place("I'm calling for Dana, is something wrong?"), None);
    assert_eq!(place("It's slow and I need it for Zoom"), None);
    assert_eq!(place("We were away over Christmas and now it's dead"), None);
    assert_eq!(place("It started in March, on Tuesday"), None);
    assert_eq!(place("I want to talk to Switchboard about my bill"), None);
    assert_eq!(place("my internet is slow"), None);
    assert_eq!(
        place("I unplugged it and plugged it back in. Still nothing."),
        None
    );
}

#[test]
fn numbers_said_in_words_or_digits() {
    let t = "yeah the home number on it is five five five, one two three, zero zero zero two. and zip is 92501";
    assert_eq!(phone(t), Some("5551230002".into()));
    assert_eq!(zip(t), Some("92501".into()));
    let t = "It's five five five, one two three, zero zero zero three, no, sorry, that final digit's a five, zero zero zero five. ZIP seven three three zero one.";
    assert_eq!(phone(t), Some("5551230005".into()));
    assert_eq!(zip(t), Some("73301".into()));
    let t = "It's 555 123 0003, sorry, the last four digits are zero zero zero five.";
    assert_eq!(phone(t), Some("5551230005".into()));
    let t = "oh, uh, the phone on the account is 555 123 0004 and the zip code is 02110";
    assert_eq!(phone(t), Some("5551230004".into()));
    assert_eq!(zip(t), Some("02110".into()));
    assert_eq!(zip("it's oh two one oh one"), Some("02101".into()));
    assert_eq!(
        phone("five five five double one two three oh oh oh four"),
        None
    );
    assert_eq!(
        phone("five five five one two three oh oh oh four"),
        Some("5551230004".into())
    );
    assert_eq!(
        phone("Sure, the number on the account is 555-123-0001 and the ZIP is 62704."),
        Some("5551230001".into())
    );
    assert_eq!(
        zip("Then maybe 30303? We moved a while back."),
        Some("30303".into())
    );
    assert_eq!(phone("charged 59.99 on the 12th"), None);
    assert_eq!(zip("my speed test says 90 something"), None);
    // Numbers said in tens and teens.
    assert_eq!(
        zip("ZIP's seventy-three, three oh one."),
        Some("73301".into())
    );
    assert_eq!(zip("it's nine two five oh one"), Some("92501".into()));
    assert_eq!(
        phone("five five five, one twenty-three, oh oh oh two"),
        Some("5551230002".into())
    );
    assert_eq!(
        phone("five five five twelve thirty oh oh two"),
        Some("5551230002".into())
    );
    assert_eq!(zip("about twenty minutes ago"), None);
    assert_eq!(
        zip("And the ZIP's oh-two-one, oh-one."),
        Some("02101".into())
    );
    assert_eq!(
        phone("The number on the account, my cell, is five five five, one two three, zero zero zero seven, no, two, zero zero zero two, sorry, the seven is the depot. The ZIP is nine two five zero one."),
        Some("5551230002".into())
    );
    assert_eq!(
        phone("It is five five five, one two three, triple oh one. And zip code, six two seven oh four."),
        Some("5551230001".into())
    );
}

#[test]
fn the_month_asked_for() {
    assert_eq!(
        month("Hi, could you email me my February bill? Not March, the February one."),
        Some(2)
    );
    assert_eq!(month("email me the march invoice"), Some(3));
    assert_eq!(
        months("Send me the January bill and the February bill, both of them"),
        vec![1, 2]
    );
    assert_eq!(months("not March, the February one"), vec![2]);
    assert_eq!(
        month("Can you email me the January bill? I already have February's."),
        Some(1)
    );
    assert_eq!(
        month("Can you resend the February bill? I already deleted it."),
        Some(2)
    );
    let asked = months_by_sentence(
        "The December one, text it to me, no, wait, not December, January. January by text. And February by email.",
    );
    assert_eq!(
        asked.iter().map(|(m, _)| *m).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(asked[0].1, "January by text.");
    assert!(months_by_sentence("Not March. The February one, please.").is_empty());
    assert_eq!(
        month("Can you email me the bill for February, no, sorry, March. The February one I already have."),
        Some(3)
    );
    assert_eq!(
        months_together("Send me the January bill and the February bill, both of them"),
        vec![1, 2]
    );
    assert_eq!(
        months_together(
            "SMS me the bill for January, no, sorry, February. The January one I already have."
        ),
        Vec::<u32>::new()
    );
    assert_eq!(
        phone("His number is five five five, one two three, zero zero zero three, sorry, no, zero zero zero two. Two at the end. And the ZIP is nine two five zero one.").as_deref(),
        Some("5551230002")
    );
    assert_eq!(
        phone("It's 555 123 0004, I mean 0005, and the ZIP is 02108").as_deref(),
        Some("5551230005")
    );
    assert_eq!(
        phone("555 123 0004, sorry, the ZIP is 02108").as_deref(),
        Some("5551230004")
    );
    assert_eq!(
        phone("The account phone is five five five, one two three, zero zero one, sorry, zero zero zero one. And the ZIP is six two seven zero four.").as_deref(),
        Some("5551230001")
    );
    assert_eq!(phone("my ZIP is 62704, sorry, 62705"), None);
    assert_eq!(
        place_answer("Riverside. The shop's on Magnolia.").as_deref(),
        Some("Riverside")
    );
    assert_eq!(
        place_answer("Austin. They live in Austin, close to the university.").as_deref(),
        Some("Austin")
    );
    assert_eq!(place_answer("Yes. It is slow."), None);
    assert_eq!(
        place_followup("By six, okay. And Springfield? I've got another showing there at five.")
            .as_deref(),
        Some("Springfield")
    );
    assert_eq!(
        place_followup("What about Austin?").as_deref(),
        Some("Austin")
    );
    assert_eq!(place_followup("And the bill?"), None);
    assert_eq!(place_followup("Springfield is fine."), None);
    assert_eq!(place_answer("Hello? Are you there?"), None);
    assert_eq!(place_answer("Sorry, what?"), None);
    assert_eq!(
        place("Is there some sort of problem with the internet round Springfield?").as_deref(),
        Some("Springfield")
    );
    assert_eq!(
        months_together("January, February and, yes, March. Can you send all three?"),
        vec![1, 2, 3]
    );
    assert_eq!(
        months_together("January, February, no, March"),
        Vec::<u32>::new()
    );
    assert_eq!(
        months_together("Could you email me the January and February ones? No, sorry, February and March. She's already got January."),
        vec![2, 3]
    );
    assert_eq!(
        months_together("January or February, whichever"),
        Vec::<u32>::new()
    );
    // A date in another sentence leaves the list standing.
    assert_eq!(
        months_together("April third, ugh. Could you email me that March bill, and January's as well while you're at it?"),
        vec![3, 1]
    );
    assert_eq!(
        months_together("Only February and March? Then February will do. Email it, please."),
        Vec::<u32>::new()
    );
    assert_eq!(months("March, I mean the march one"), vec![3]);
    assert_eq!(month("may I get my bill by email"), None);
    assert_eq!(month("the May bill please"), Some(5));
    assert_eq!(month("my latest bill"), None);
    assert_eq!(
        month("My landlord's after a copy of February's bill"),
        Some(2)
    );
    assert_eq!(month("the Sept invoice"), Some(9));
    assert!(previous_bill(
        "I need the bill before the latest one. By SMS, please."
    ));
    assert!(previous_bill("can you resend my previous invoice"));
    assert!(!previous_bill("my latest bill please"));
    assert!(older_bill_unnamed(
        "could someone email me a copy of one of my old statements?"
    ));
    assert!(!older_bill_unnamed(
        "email me my old statement from January"
    ));
    assert!(!older_bill_unnamed("email me my latest statement"));
}

#[test]
fn values() {
    assert_eq!(digits("press 1 2"), Some("12".into()));
    assert_eq!(digits("none"), None);
    assert_eq!(
        phone("my number is +1 555 010 2233 ok"),
        Some("+15550102233".into())
    );
    let plans = vec!["basic".to_string(), "plus".to_string(), "pro".to_string()];
    let none = Default::default();
    assert_eq!(
        choose("switch me to the Pro one", &plans, &none).unwrap(),
        "pro"
    );
    assert!(choose("something cheaper", &plans, &none).is_none());
    let channels = vec!["sms".to_string(), "email".to_string()];
    let syn = [(
        "sms".to_string(),
        vec!["text".to_string(), "text message".to_string()],
    )]
    .into();
    assert_eq!(choose("Text is fine", &channels, &syn).unwrap(), "sms");
    assert_eq!(
        choose("by e-mail, no: email", &channels, &syn).unwrap(),
        "email"
    );
}

#[test]
fn bills_counted_without_months() {
    assert_eq!(
        bills_counted("they want a copy of every bill I've had from you since I came on"),
        Some(usize::MAX)
    );
    assert_eq!(
        bills_counted("email me all my invoices please"),
        Some(usize::MAX)
    );
    assert_eq!(bills_counted("Right, both of them then"), Some(2));
    assert_eq!(bills_counted("the last three."), Some(3));
    assert_eq!(bills_counted("send me my March bill"), None);
    assert_eq!(bills_counted("I pay every month on time"), None);
}

#[test]
fn a_paid_bill_is_not_one_said_unpaid() {
    assert!(paid_bill("can you email me the most recent paid one?"));
    assert!(paid_bill("it has to be one that's been paid"));
    assert!(!paid_bill("I hear my bill's not been paid"));
    assert!(!paid_bill("it hasn't been paid yet"));
}
