//! Reading values out of the caller's words: digits, phone numbers, ZIP codes, and a
//! choice among a tool parameter's `enum` values (yes / no live in `agents::confirm`);
//! months in `months`, places in `places`.

mod amounts;
mod months;
mod places;

pub use super::choice::{choose, choose_stated};
use crate::agents::confirm::{says_any, words};
use crate::number_words::{ones_value, tens_digit};
pub use amounts::*;
pub use months::*;
pub use places::*;

/// All digits in the text, concatenated (DTMF or spoken digits already transcribed).
pub fn digits(text: &str) -> Option<String> {
    let d: String = text.chars().filter(char::is_ascii_digit).collect();
    (!d.is_empty()).then_some(d)
}

/// Runs of digits as a caller says them, in order: written digits ("555-123-0002"),
/// digit words ("five five five, one two three, zero zero zero two", "oh" for zero
/// inside a number, "double five") and both mixed. A run goes on across spaces,
/// commas and dashes and ends at any other word or at the end of a sentence.
pub fn digit_runs(text: &str) -> Vec<String> {
    fn digit_word(w: &str) -> Option<char> {
        ones_value(w)
            .filter(|v| *v < 10)
            .and_then(|v| char::from_digit(v, 10))
    }
    fn teen_word(w: &str) -> Option<u32> {
        ones_value(w).filter(|v| *v >= 10)
    }
    let lower = text.to_lowercase();
    // Tokens with the separator that follows each one.
    let mut tokens: Vec<(String, String)> = Vec::new();
    let mut cur = String::new();
    for c in lower.chars() {
        if c.is_alphanumeric() || c == '\'' {
            cur.push(c);
        } else {
            if !cur.is_empty() {
                tokens.push((std::mem::take(&mut cur), String::new()));
            }
            if let Some((_, sep)) = tokens.last_mut() {
                sep.push(c);
            }
        }
    }
    if !cur.is_empty() {
        tokens.push((cur, String::new()));
    }
    let mut runs = Vec::new();
    let mut run = String::new();
    let mut repeat = 1;
    let mut i = 0;
    while i < tokens.len() {
        let (tok, sep) = &tokens[i];
        let next_is_digit = tokens.get(i + 1).is_some_and(|(n, _)| {
            n.chars().all(|c| c.is_ascii_digit())
                || digit_word(n).is_some()
                // ("triple oh one": "oh" is zero after a repeat word.)
                || (matches!(tok.as_str(), "double" | "triple") && matches!(n.as_str(), "oh" | "o"))
        });
        // "seventy-three" / "seventy three" is 73; "thirty" alone is 30.
        let unit_after_tens = tokens
            .get(i + 1)
            .and_then(|(n, _)| digit_word(n))
            .filter(|d| *d != '0' && sep.trim().chars().all(|c| c == '-'));
        let mut sep = sep;
        let digits: Option<String> = if tok.chars().all(|c| c.is_ascii_digit()) {
            Some(tok.clone())
        } else if let Some(d) = digit_word(tok) {
            Some(d.to_string())
        } else if let Some(n) = teen_word(tok) {
            Some(n.to_string())
        } else if let Some(t) = tens_digit(tok) {
            match unit_after_tens {
                Some(u) => {
                    i += 1;
                    sep = &tokens[i].1;
                    Some(format!("{t}{u}"))
                }
                None => Some(format!("{t}0")),
            }
        } else if matches!(tok.as_str(), "oh" | "o")
            && (!run.is_empty() || (next_is_digit && sep.trim().chars().all(|c| c == '-')))
        {
            // "oh" is zero inside a number, an interjection before a comma.
            Some("0".into())
        } else {
            None
        };
        match (digits, tok.as_str()) {
            (Some(d), _) => {
                for _ in 0..repeat {
                    run.push_str(&d);
                }
                repeat = 1;
            }
            (None, "double") if next_is_digit => repeat = 2,
            (None, "triple") if next_is_digit => repeat = 3,
            _ => {
                if !run.is_empty() {
                    runs.push(std::mem::take(&mut run));
                }
                repeat = 1;
            }
        }
        // A sentence end closes the run ("…zero zero zero two. And the ZIP…").
        if sep.contains(['.', '?', '!', ';']) && !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
        i += 1;
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// The first phone number the caller says: ten digits, or eleven starting with the
/// country code 1 (`+1…` kept as given: `+15551234567`; otherwise the digits).
pub fn phone(text: &str) -> Option<String> {
    // "…zero zero zero three, sorry, no, zero zero zero two": the end corrected after
    // the number was said (up to four digits, right after the correction).
    // The group said wrong may leave the number a digit short or long ("…one two
    // three, zero zero one, sorry, zero zero zero one"): the correction replaces it, so
    // the number is the first 10 − k digits said, then the k corrected.
    let lower = text.to_lowercase();
    let mut said: Option<String> = None;
    let parts = lower
        .split(" sorry")
        .flat_map(|p| p.split(" i mean"))
        .flat_map(|p| p.split(" no,"));
    for part in parts {
        // The corrected digits come right after the correction, or open a sentence of
        // it ("…no, two, zero zero zero two"; "sorry, that's her old one. Zero zero
        // zero one"); a digit named inside a sentence ("…sorry, the seven is the
        // depot") corrects nothing. The first group said is the correction.
        let opens_with_digits = |sentence: &str| {
            let ws = words(sentence);
            let digit_at = |i: usize| ws.get(i).is_some_and(|w| !digit_runs(w).is_empty());
            digit_at(0)
                || (digit_at(1)
                    && ws.first().is_some_and(|w| {
                        matches!(
                            w.as_str(),
                            "it's" | "its" | "it" | "is" | "um" | "uh" | "that's"
                        )
                    }))
        };
        // (Or a sentence that names the digit it fixes: "sorry, that final digit's a
        // five, zero zero zero five".)
        let names_digit = |sentence: &str| {
            crate::agents::confirm::says_any(
                sentence,
                &[
                    "digit",
                    "digit's",
                    "digits",
                    "last four",
                    "last one",
                    "ends in",
                    "ending in",
                ],
            )
        };
        // (A sentence that names the digit takes its last run: "the last four digits
        // are zero zero zero five" fixes 0005, not 4.)
        let tail = part
            .split_inclusive(['.', '!', '?'])
            .find(|sentence| opens_with_digits(sentence) || names_digit(sentence))
            .and_then(|sentence| {
                if names_digit(sentence) && !opens_with_digits(sentence) {
                    sentence
                        .split(',')
                        .filter_map(|g| digit_runs(g).into_iter().last())
                        .next_back()
                } else {
                    sentence
                        .split(',')
                        .find_map(|g| digit_runs(g).into_iter().next())
                }
            });
        match (whole_phone(part), &said, tail) {
            (Some(p), _, _) => said = Some(p),
            (None, Some(before), Some(tail)) if (1..=4).contains(&tail.len()) => {
                let before = before
                    .strip_prefix('1')
                    .filter(|b| b.len() == 10)
                    .unwrap_or(before);
                let keep = 10 - tail.len();
                if before.len() >= keep {
                    said = Some(format!("{}{tail}", &before[..keep]));
                }
            }
            _ => {
                // A number said nearly whole before its correction.
                said = digit_runs(part)
                    .into_iter()
                    .rev()
                    .find(|d| (8..=11).contains(&d.len()))
                    .or(said.take());
            }
        }
    }
    said.filter(|p| p.len() == 10 || (p.len() == 11 && p.starts_with('1')))
        .or_else(|| whole_phone(text))
}

/// The first run of digits in `text` that makes a whole phone number.
fn whole_phone(text: &str) -> Option<String> {
    let plus = text.contains('+');
    digit_runs(text).into_iter().find_map(|d| match d.len() {
        10 => Some(d),
        11 if d.starts_with('1') => Some(if plus { format!("+{d}") } else { d }),
        _ => None,
    })
}

/// The caller wants something sent somewhere other than the account's own phone or
/// email ("send the reset link to my work address at the institute instead of the one
/// you've got", "text it to his phone"): a destination of their own is named.
pub fn elsewhere_destination(text: &str) -> bool {
    const ELSEWHERE: &[&str] = &[
        "to my work address",
        "to my work email",
        "to my work phone",
        "to my other email",
        "to my other address",
        "to my other phone",
        "to my new email",
        "to my new address",
        "to another email",
        "to another address",
        "to a different email",
        "to a different address",
        "instead of the one you've got",
        "instead of the one you have",
        "instead of the one on file",
        "a different email",
        "another email address",
    ];
    phone_is_destination(text) || crate::agents::confirm::says_any(text, ELSEWHERE)
}

/// The phone number in `text` is where the caller wants something sent ("could you
/// text the bill to his phone instead of mine? His number is…"), not the number of an
/// account: a destination is named and nothing says the account is under it.
pub fn phone_is_destination(text: &str) -> bool {
    const DESTINATION: &[&str] = &[
        "to his phone",
        "to her phone",
        "to his number",
        "to her number",
        "to his cell",
        "to her cell",
        "to his mobile",
        "to her mobile",
        "to this number instead",
        "to another number",
        "to a different number",
        "to my husband",
        "to my wife",
        "to my son",
        "to my daughter",
        "to my partner",
        "to my husband's",
        "to my wife's",
        "to my son's",
        "to my daughter's",
        "to my partner's",
    ];
    const ACCOUNT: &[&str] = &[
        "account",
        "under his",
        "under her",
        "under my",
        "registered",
        "in his name",
        "in her name",
        "on file",
        "the number on",
    ];
    phone(text).is_some() && says_any(text, DESTINATION) && !says_any(text, ACCOUNT)
}

/// The last five-digit run (a US ZIP code) the caller says.
pub fn zip(text: &str) -> Option<String> {
    digit_runs(text).into_iter().rev().find(|d| d.len() == 5)
}

#[cfg(test)]
mod tests {
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
            place_followup(
                "By six, okay. And Springfield? I've got another showing there at five."
            )
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
}
