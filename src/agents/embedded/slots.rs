//! Reading values out of the caller's words: digits, phone numbers, and a choice
//! among a tool parameter's `enum` values (yes / no live in `agents::confirm`).

pub use super::choice::{choose, choose_stated};
use crate::agents::confirm::words;
use crate::number_words::{ones_value, tens_digit};

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
        let next_is_digit = tokens
            .get(i + 1)
            .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()) || digit_word(n).is_some());
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
            && (!run.is_empty() || (next_is_digit && sep.trim().is_empty()))
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
    for part in lower.split(" sorry").flat_map(|p| p.split(" i mean")) {
        let tail = digit_runs(part).into_iter().next();
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
    let said = format!(" {} ", words(text).join(" "));
    phone(text).is_some()
        && DESTINATION.iter().any(|p| said.contains(&format!(" {p} ")))
        && !ACCOUNT.iter().any(|p| said.contains(&format!(" {p} ")))
}

/// The last five-digit run (a US ZIP code) the caller says.
pub fn zip(text: &str) -> Option<String> {
    digit_runs(text).into_iter().rev().find(|d| d.len() == 5)
}

/// The month (1–12) the caller asks for: the last one named that is not negated
/// ("not March, the February one" → 2). "May" counts only where it names a month
/// ("the May bill", "for May"), not in "may I".
pub fn month(text: &str) -> Option<u32> {
    months(text).last().copied()
}

/// Every month (1–12) the caller asks for, in the order named, each once ("the
/// January bill and the February bill" → [1, 2]); negated ones left out, as in
/// [`month`].
pub fn months(text: &str) -> Vec<u32> {
    let mut found: Vec<u32> = Vec::new();
    for sentence in text.split_inclusive(['.', '?', '!', ';']) {
        for m in months_in_sentence(sentence) {
            found.retain(|&f| f != m);
            found.push(m);
        }
    }
    found
}

/// The months asked for in one sentence, in order ([`months`]).
fn months_in_sentence(text: &str) -> Vec<u32> {
    let ws = words(text);
    let mut found: Vec<u32> = Vec::new();
    for (i, w) in ws.iter().enumerate() {
        // "February's bill", "Feb", "Sept".
        let w = w.trim_end_matches("'s").trim_end_matches("’s");
        let Some(m) = crate::calendar::MONTHS
            .iter()
            .position(|name| name.eq_ignore_ascii_case(w))
            .or_else(|| {
                MONTH_ABBREVIATIONS
                    .iter()
                    .find(|(short, _)| *short == w)
                    .map(|(_, m)| *m as usize - 1)
            })
        else {
            continue;
        };
        let prev = i.checked_sub(1).map(|p| ws[p].as_str());
        if matches!(prev, Some("not" | "no" | "never")) {
            continue;
        }
        // "The January one I already have", "I already have February's": named, not
        // asked for ("already" in the same sentence, next to the month).
        let is_month = |w: &String| {
            crate::calendar::MONTHS
                .iter()
                .any(|n| n.eq_ignore_ascii_case(w))
        };
        let after = ws[i + 1..(i + 6).min(ws.len())]
            .iter()
            .take_while(|w| !is_month(w))
            .any(|w| w == "already");
        let before = ws[i.saturating_sub(3)..i].iter().any(|w| w == "already");
        if after || before {
            continue;
        }
        if w == "may" {
            let next = ws.get(i + 1).map(String::as_str);
            let names_month = matches!(prev, Some("in" | "for" | "the" | "from" | "of" | "last"))
                || matches!(next, Some("bill" | "invoice" | "statement" | "one"));
            if !names_month {
                continue;
            }
        }
        let m = m as u32 + 1;
        found.retain(|&f| f != m);
        found.push(m);
    }
    found
}

/// Several months asked for together ("the January bill and the February bill",
/// "both January and February"): every two named in a row are joined by "and",
/// "plus", "both" or "also" within three words, with no correction between ("January, no, sorry, February" asks
/// for one, and so does "February. The January one I already have"). Empty otherwise.
pub fn months_together(text: &str) -> Vec<u32> {
    let ws = words(text);
    let at: Vec<usize> = (0..ws.len()).filter(|&i| month(&ws[i]).is_some()).collect();
    if at.len() < 2 {
        return Vec::new();
    }
    let joiner = |b: &String| matches!(b.as_str(), "and" | "plus" | "both" | "also");
    // "January, February and March": a list whose last two are joined.
    let listed = at
        .windows(2)
        .last()
        .is_some_and(|w| ws[w[0] + 1..w[1]].iter().any(joiner));
    let joined = at.windows(2).all(|w| {
        let between = &ws[w[0] + 1..w[1]];
        let joins = between.iter().any(joiner) || (between.is_empty() && listed);
        let corrects = between.iter().any(|b| {
            matches!(
                b.as_str(),
                "no" | "not" | "sorry" | "mean" | "actually" | "instead" | "wait" | "or"
            )
        });
        joins && !corrects && between.len() <= 3
    });
    if joined {
        months(text)
    } else {
        Vec::new()
    }
}

/// Months asked for in sentences of their own ("January by text, that one's for me.
/// And February by email."): each sentence's month (as [`month`] reads it) with the
/// sentence, in order, each month once. Fewer than two: empty.
pub fn months_by_sentence(text: &str) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = Vec::new();
    for sentence in text.split_inclusive(['.', '?', '!', ';']) {
        let Some(m) = month(sentence) else {
            continue;
        };
        match out.iter_mut().find(|(seen, _)| *seen == m) {
            // The month's latest sentence says most about it ("January by text").
            Some(entry) => entry.1 = sentence.trim().to_string(),
            None => out.push((m, sentence.trim().to_string())),
        }
    }
    if out.len() < 2 {
        out.clear();
    }
    out
}

/// Short month names as recognisers write them; "jan", "mar" and "may" are words or
/// names too often to count.
const MONTH_ABBREVIATIONS: &[(&str, u32)] = &[
    ("feb", 2),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];

/// Phrases that ask for the bill before the latest one.
const PREVIOUS_BILL: &[&str] = &[
    "before the latest",
    "before the last one",
    "before the most recent",
    "the one before",
    "previous bill",
    "previous invoice",
    "previous statement",
    "previous one",
    "prior bill",
    "prior invoice",
    "second to last",
    "second last",
];

/// The caller asks for the bill before the latest ("the bill before the latest one",
/// "my previous invoice").
pub fn previous_bill(text: &str) -> bool {
    let joined = format!(" {} ", words(text).join(" "));
    PREVIOUS_BILL
        .iter()
        .any(|p| joined.contains(&format!(" {p} ")))
}

/// A place the caller names ("my son just moved out to Riverside", "my internet at
/// home in San Diego"): one or two capitalised words after "in", "to", "at", "near"
/// or "around", not a month, a day or a word that starts sentences. The last one
/// named wins. Recognisers capitalise names, which is what this reads.
pub fn place(text: &str) -> Option<String> {
    places(text).pop()
}

/// The place an answer to "which city or area?" opens with ("Riverside. The shop's on
/// Magnolia." → Riverside): a capitalised name making up its first sentence (up to two
/// words), or any place [`places`] reads.
pub fn place_answer(text: &str) -> Option<String> {
    if let Some(p) = place(text) {
        return Some(p);
    }
    let first = text.split(['.', '!', '?', ',']).next()?.trim();
    let ws: Vec<&str> = first.split_whitespace().collect();
    let capital = |t: &&str| {
        t.chars().next().is_some_and(char::is_uppercase)
            && t.chars().skip(1).all(|c| c.is_lowercase() || c == '-')
    };
    // Words that open any answer, not a name.
    const OPENERS: &[&str] = &[
        "yes", "yeah", "yep", "no", "nope", "hello", "hi", "hiya", "hey", "howdy", "okay", "ok",
        "sorry", "thanks", "well", "um", "uh", "sure", "wait", "what", "pardon", "right",
        "alright", "fine", "good",
    ];
    let opener = ws
        .iter()
        .any(|w| OPENERS.contains(&w.to_lowercase().as_str()));
    (!ws.is_empty()
        && ws.len() <= 2
        && !opener
        && ws.iter().all(capital)
        && places(&format!("in {first}")).len() == 1)
        .then(|| ws.join(" "))
}

/// Every place the caller names, each once, in the order last named ("my sister in
/// Riverside and my mother in Springfield" → Riverside, Springfield), as [`place`]
/// reads them.
pub fn places(text: &str) -> Vec<String> {
    const NOT_PLACES: &[&str] = &[
        "i",
        "i'm",
        "i've",
        "the",
        "a",
        "my",
        "our",
        "your",
        "this",
        "that",
        "it",
        "you",
        "we",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "switchboard",
        "wi-fi",
        "wifi",
        "internet",
        "api",
        "basic",
        "plus",
        "pro",
        "english",
        "spanish",
        "french",
    ];
    let raw: Vec<&str> = text.split_whitespace().collect();
    let tokens: Vec<&str> = raw
        .iter()
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '\''))
        .collect();
    let capital = |t: &str| {
        t.chars().next().is_some_and(char::is_uppercase)
            && t.chars().skip(1).all(|c| c.is_lowercase() || c == '-')
            && !NOT_PLACES.contains(&t.to_lowercase().as_str())
    };
    let mut found = Vec::new();
    for i in 0..tokens.len().saturating_sub(1) {
        if !matches!(
            tokens[i].to_lowercase().as_str(),
            "in" | "to" | "at" | "near" | "around" | "round"
        ) {
            continue;
        }
        // "…plugged it back in. Still nothing": the sentence ended at the preposition.
        if raw[i].ends_with(|c: char| c.is_ascii_punctuation()) {
            continue;
        }
        if !capital(tokens[i + 1]) {
            continue;
        }
        let mut name = tokens[i + 1].to_string();
        // "…down in Denver. Is that you?": a name ends with its sentence.
        let ends_sentence = raw[i + 1].ends_with(|c: char| c.is_ascii_punctuation());
        if let Some(next) = tokens.get(i + 2).filter(|t| capital(t) && !ends_sentence) {
            name.push(' ');
            name.push_str(next);
        }
        // In the order last named: `place` reads the last one.
        found.retain(|f| *f != name);
        found.push(name);
    }
    found
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
            months_together("January or February, whichever"),
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
