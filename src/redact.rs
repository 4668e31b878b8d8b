//! Personal-data masking for everything that leaves a call: log lines, traces, stored
//! transcripts and tool arguments, escalation briefs, the `/calls` JSON.
//!
//! Two kinds of match are masked:
//! - **card-like digit runs**: digits (or spoken digit words, "four one one one…")
//!   separated by nothing or by short runs of spaces, `-`, `.`, `,` or `/`, holding a
//!   window of 13–19 digits that passes the Luhn check (ISO/IEC 7812-1 Annex B). The
//!   whole run is masked but its last four digits: `4111111111111111#` becomes
//!   `************1111#`, `4111 1111 1111 1111` becomes `**** **** **** 1111`.
//!   Every window is checked, so a card number glued to other digits is still found;
//!   the price is that most runs of 14 or more random digits are masked too.
//! - **configured patterns** (`[privacy] mask_patterns`, regular expressions in the
//!   `regex` crate's syntax): every letter and digit of a match is masked but the last four.
//!
//! The process-wide redactor ([`global`]) starts with card masking only;
//! [`install`] adds the configured patterns at start-up.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

/// Character that replaces a masked digit or letter.
pub const MASK: char = '*';
/// Shortest and longest card number (ISO/IEC 7812: 8–19 digits; payment cards ≥ 13).
const CARD_MIN: usize = 13;
const CARD_MAX: usize = 19;
/// Longest separator between two digit tokens of one run.
const MAX_SEPARATOR: usize = 3;

/// A bad `[privacy] mask_patterns` entry.
#[derive(Debug, thiserror::Error)]
#[error("mask pattern {pattern:?}: {source}")]
pub struct PatternError {
    pub pattern: String,
    #[source]
    pub source: regex::Error,
}

/// Masks card numbers and configured patterns. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    patterns: Vec<Regex>,
}

impl Redactor {
    /// Card masking plus every regex in `patterns`.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, PatternError> {
        let patterns = patterns
            .iter()
            .map(|p| {
                Regex::new(p.as_ref()).map_err(|source| PatternError {
                    pattern: p.as_ref().to_string(),
                    source,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    /// `s` with every card-like run and pattern match masked (borrowed when clean).
    pub fn redact<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let mut out = mask_cards(s);
        for re in &self.patterns {
            if re.is_match(&out) {
                let replaced = re
                    .replace_all(&out, |c: &regex::Captures| mask_keep_last4(&c[0]))
                    .into_owned();
                out = Cow::Owned(replaced);
            }
        }
        out
    }

    /// Redact every string (and object key) inside a JSON value, in place.
    pub fn redact_json(&self, v: &mut serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::String(s) => {
                if let Cow::Owned(r) = self.redact(s) {
                    *s = r;
                }
            }
            Value::Number(n) => {
                // A card number stored as a JSON number becomes a masked string.
                if let Cow::Owned(r) = mask_cards(&n.to_string()) {
                    *v = Value::String(r);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.redact_json(i)),
            Value::Object(map) => {
                let dirty: Vec<String> = map
                    .keys()
                    .filter(|k| matches!(self.redact(k), Cow::Owned(_)))
                    .cloned()
                    .collect();
                for k in dirty {
                    if let Some(val) = map.remove(&k) {
                        map.insert(self.redact(&k).into_owned(), val);
                    }
                }
                map.values_mut().for_each(|i| self.redact_json(i));
            }
            _ => {}
        }
    }
}

static GLOBAL: OnceLock<Redactor> = OnceLock::new();
static CARDS_ONLY: Redactor = Redactor {
    patterns: Vec::new(),
};

/// Install the process-wide redactor (first call wins; later calls are ignored).
pub fn install(redactor: Redactor) {
    let _ = GLOBAL.set(redactor);
}

/// The process-wide redactor: the installed one, else card masking only.
pub fn global() -> &'static Redactor {
    GLOBAL.get().unwrap_or(&CARDS_ONLY)
}

/// A `tracing` writer that masks each formatted log line ([`global`]) before it
/// reaches stderr, so no level of logging can print a card number.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedactingStderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingStderr;
    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

impl std::io::Write for RedactingStderr {
    /// The fmt layer writes one whole event per call, so a line is never split.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let masked = global().redact(&text);
        std::io::stderr().write_all(masked.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Mask every alphanumeric character of `s` but the last four.
fn mask_keep_last4(s: &str) -> String {
    let total = s.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                seen += 1;
                if seen + 4 <= total {
                    return MASK;
                }
            }
            c
        })
        .collect()
}

/// One digit token of a run: its byte range and the digits it stands for.
struct Token {
    start: usize,
    end: usize,
    digits: String,
    word: bool,
}

const DIGIT_WORDS: [(&str, char); 11] = [
    ("zero", '0'),
    ("oh", '0'),
    ("one", '1'),
    ("two", '2'),
    ("three", '3'),
    ("four", '4'),
    ("five", '5'),
    ("six", '6'),
    ("seven", '7'),
    ("eight", '8'),
    ("nine", '9'),
];

/// The digit token starting at byte `i` of `s`, if any.
fn token_at(s: &str, i: usize) -> Option<Token> {
    let b = s.as_bytes();
    if b[i].is_ascii_digit() {
        let end = i + b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        return Some(Token {
            start: i,
            end,
            digits: s[i..end].to_string(),
            word: false,
        });
    }
    if !b[i].is_ascii_alphabetic() || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
        return None;
    }
    let end = i + b[i..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let word = s[i..end].to_ascii_lowercase();
    let (_, d) = DIGIT_WORDS.iter().find(|(w, _)| *w == word)?;
    Some(Token {
        start: i,
        end,
        digits: d.to_string(),
        word: true,
    })
}

fn is_separator(c: u8) -> bool {
    matches!(c, b' ' | b'-' | b'.' | b',' | b'/' | b'\t')
}

/// Luhn check over ASCII digits (ISO/IEC 7812-1 Annex B).
pub fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// Whether any window of 13–19 consecutive digits of `digits` passes Luhn.
fn holds_card(digits: &[u8]) -> bool {
    if digits.len() < CARD_MIN {
        return false;
    }
    (0..digits.len()).any(|start| {
        (CARD_MIN..=CARD_MAX)
            .take_while(|len| start + len <= digits.len())
            .any(|len| luhn_valid(&digits[start..start + len]))
    })
}

/// `s` with every card-like digit run masked but its last four digits.
pub fn mask_cards(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    if b.iter().filter(|c| c.is_ascii_digit()).count() < CARD_MIN && !has_digit_word(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        let Some(first) = token_at(s, i) else {
            i += 1;
            continue;
        };
        // Extend the run over separators and further tokens.
        let mut run = vec![first];
        loop {
            let last_end = run[run.len() - 1].end;
            let sep = b[last_end..]
                .iter()
                .take(MAX_SEPARATOR + 1)
                .take_while(|c| is_separator(**c))
                .count();
            if sep > MAX_SEPARATOR {
                break;
            }
            let next_at = last_end + sep;
            if next_at >= b.len() {
                break;
            }
            match token_at(s, next_at) {
                Some(t) => run.push(t),
                None => break,
            }
        }
        let run_end = run[run.len() - 1].end;
        let digits: String = run.iter().map(|t| t.digits.as_str()).collect();
        if holds_card(digits.as_bytes()) {
            out.push_str(&s[copied..run[0].start]);
            if run.iter().any(|t| t.word) {
                // Spoken digits: write the masked number itself.
                out.push_str(&mask_keep_last4(&digits));
            } else {
                out.push_str(&mask_keep_last4(&s[run[0].start..run_end]));
            }
            copied = run_end;
        }
        i = run_end;
    }
    if copied == 0 {
        return Cow::Borrowed(s);
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

fn has_digit_word(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    DIGIT_WORDS.iter().any(|(w, _)| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keypad_card_is_masked_to_its_last_four() {
        assert_eq!(mask_cards("4111111111111111#"), "************1111#");
        assert_eq!(
            mask_cards("[keypad 4111111111111111#]"),
            "[keypad ************1111#]"
        );
    }

    #[test]
    fn separated_and_spoken_cards_are_masked() {
        assert_eq!(
            mask_cards("my card is 4111 1111 1111 1111, thanks"),
            "my card is **** **** **** 1111, thanks"
        );
        assert_eq!(mask_cards("5500-0000-0000-0004"), "****-****-****-0004");
        let spoken = "it's four one one one one one one one one one one one one one one one ok";
        assert_eq!(mask_cards(spoken), "it's ************1111 ok");
    }

    #[test]
    fn ordinary_numbers_stay() {
        for s in [
            "account 12345678",
            "call +15551230001 about invoice INV-2041",
            "refund of 19.99 on March 12, 2026",
            "411111111112", // 12 digits: too short for a card
            "4111111111114",   // 13 digits, no window passes Luhn
            "one moment please, someone will call you",
        ] {
            assert_eq!(mask_cards(s), s, "{s}");
        }
    }

    #[test]
    fn patterns_mask_all_but_the_last_four() {
        let r = Redactor::new(&[r"\b\d{3}-\d{2}-\d{4}\b"]).unwrap();
        assert_eq!(r.redact("ssn 123-45-6789 ok"), "ssn ***-**-6789 ok");
        assert!(Redactor::new(&["("]).is_err());
    }

    #[test]
    fn json_strings_and_keys_are_redacted() {
        let mut v = serde_json::json!({
            "text": "card 4111111111111111",
            "args": [{"4111111111111111": "x"}],
            "n": 4111111111111111u64,
        });
        Redactor::default().redact_json(&mut v);
        let s = v.to_string();
        assert!(!s.contains("4111111111111111"), "{s}");
        assert!(s.contains("************1111"), "{s}");
    }

    /// A valid card number of `len` digits from a random prefix (Luhn check digit added).
    fn card(prefix: Vec<u8>) -> String {
        let mut digits: Vec<u8> = prefix.into_iter().map(|d| b'0' + d).collect();
        digits.push(b'0');
        for check in b'0'..=b'9' {
            *digits.last_mut().unwrap() = check;
            if luhn_valid(&digits) {
                break;
            }
        }
        String::from_utf8(digits).unwrap()
    }

    proptest! {
        #[test]
        fn no_valid_card_survives(
            prefix in proptest::collection::vec(0u8..10, (CARD_MIN - 1)..CARD_MAX),
            before in "[ -~]{0,40}",
            after in "[ -~]{0,40}",
            sep in prop_oneof![Just(""), Just(" "), Just("-")],
        ) {
            let number = card(prefix);
            let grouped: String = number
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(sep);
            let text = format!("{before}{grouped}{after}");
            let out = Redactor::default().redact(&text).into_owned();
            let digits_only: String = out.chars().filter(|c| c.is_ascii_digit()).collect();
            prop_assert!(!digits_only.contains(&number), "{text:?} -> {out:?}");
            prop_assert!(!out.contains(&grouped), "{text:?} -> {out:?}");
        }
    }
}
