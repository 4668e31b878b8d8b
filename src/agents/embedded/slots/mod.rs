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
mod tests;
