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
                    .replace_all(&out, |c: &regex::Captures| mask_keep_last(&c[0], 4))
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
            // A card number stored as a JSON number becomes a masked string. Only an
            // integer can be one: a score such as 0.8913457202911377 has as many
            // digits but is no card (it used to come out as "*.****…").
            Value::Number(n) if !n.is_f64() => {
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

/// A `tracing` writer factory that masks each formatted log event ([`global`])
/// before it reaches the inner writer, so no level of logging can print a card
/// number. `serve` logs through `RedactingWriter(std::io::stderr)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedactingWriter<M>(pub M);

/// One event's writer of [`RedactingWriter`].
pub struct RedactedEvent<W>(W);

impl<'a, M: tracing_subscriber::fmt::MakeWriter<'a>> tracing_subscriber::fmt::MakeWriter<'a>
    for RedactingWriter<M>
{
    type Writer = RedactedEvent<M::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        RedactedEvent(self.0.make_writer())
    }
}

impl<W: std::io::Write> std::io::Write for RedactedEvent<W> {
    /// The fmt layer writes one whole event per call, so a number is never split.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let masked = global().redact(&text);
        self.0.write_all(masked.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Mask every alphanumeric character of `s` but the last `keep`.
fn mask_keep_last(s: &str, keep: usize) -> String {
    let total = s.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                seen += 1;
                if seen + keep <= total {
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

/// The digit token starting at byte `i` of `s` (a char boundary), if any.
fn token_at(s: &str, i: usize) -> Option<Token> {
    let rest = &s[i..];
    let first = rest.chars().next()?;
    if first.is_ascii_digit() {
        let len = rest.bytes().take_while(u8::is_ascii_digit).count();
        return Some(Token {
            start: i,
            end: i + len,
            digits: rest[..len].to_string(),
            word: false,
        });
    }
    let before_is_alnum = s[..i]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    if !first.is_ascii_alphabetic() || before_is_alnum {
        return None;
    }
    let len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
    if rest[len..]
        .chars()
        .next()
        .is_some_and(char::is_alphanumeric)
    {
        return None;
    }
    let word = rest[..len].to_ascii_lowercase();
    let (_, d) = DIGIT_WORDS.iter().find(|(w, _)| *w == word)?;
    Some(Token {
        start: i,
        end: i + len,
        digits: d.to_string(),
        word: true,
    })
}

/// Characters that may sit between the digits of one number: any whitespace (also
/// no-break spaces and newlines), dashes of every width, `.`, `,`, `/`, `_` and the
/// keypad's `*`.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '.' | ',' | '/' | '_' | '*'
        )
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
    sum.is_multiple_of(10)
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

/// One run of digit tokens joined by short separators.
struct Run {
    start: usize,
    end: usize,
    digits: String,
    spoken: bool,
}

/// Every digit run of `s`, in order.
fn runs(s: &str) -> Vec<Run> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let Some(first) = token_at(s, i) else {
            i += s[i..].chars().next().map_or(1, char::len_utf8);
            continue;
        };
        // Extend the run over separators and further tokens.
        let mut run = vec![first];
        loop {
            let last_end = run[run.len() - 1].end;
            let mut next_at = last_end;
            let mut seps = 0;
            for c in s[last_end..].chars() {
                if !is_separator(c) || seps > MAX_SEPARATOR {
                    break;
                }
                seps += 1;
                next_at += c.len_utf8();
            }
            if seps > MAX_SEPARATOR || next_at >= s.len() {
                break;
            }
            match token_at(s, next_at) {
                Some(t) => run.push(t),
                None => break,
            }
        }
        let end = run[run.len() - 1].end;
        let digits: String = run.iter().map(|t| t.digits.as_str()).collect();
        let identifier = run.len() == 1 && in_identifier(s, run[0].start, end);
        if !identifier {
            out.push(Run {
                start: run[0].start,
                end,
                digits,
                spoken: run.iter().any(|t| t.word),
            });
        }
        i = end;
    }
    out
}

/// The masked form of `run` in `s`, keeping its last `keep` digits.
fn masked_run(s: &str, run: &Run, keep: usize) -> String {
    if run.spoken {
        // Spoken digits: write the masked number itself.
        return mask_keep_last(&run.digits, keep);
    }
    mask_keep_last(&s[run.start..run.end], keep)
}

/// `s` with every card-like digit run masked but its last four digits.
pub fn mask_cards(s: &str) -> Cow<'_, str> {
    if s.bytes().filter(u8::is_ascii_digit).count() < CARD_MIN && !has_digit_word(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::new();
    let mut copied = 0;
    for run in runs(s) {
        if holds_card(run.digits.as_bytes()) {
            out.push_str(&s[copied..run.start]);
            out.push_str(&masked_run(s, &run, 4));
            copied = run.end;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(s);
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

/// Shortest opaque identifier (Twilio SIDs are 34 characters, SHA-256 hex 64): digits
/// inside a letters-and-digits word this long are part of an ID, not a card number.
const IDENTIFIER_MIN: usize = 32;

/// Whether bytes `start..end` of `s` sit inside an alphanumeric word of at least
/// [`IDENTIFIER_MIN`] characters that also holds letters (a SID, a hash).
fn in_identifier(s: &str, start: usize, end: usize) -> bool {
    let b = s.as_bytes();
    let left = b[..start]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    let right = b[end..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    let word = &b[start - left..end + right];
    word.len() >= IDENTIFIER_MIN && word.iter().any(u8::is_ascii_alphabetic)
}

/// Mask card numbers in `lines`, also one keyed or said over two consecutive lines
/// (two turns): the last digit run of a line and the first of the next are checked as
/// one number; when it holds a card, the first part is masked whole and the second
/// keeps the number's last four digits.
pub fn mask_across(lines: &mut [String]) {
    for i in 1..lines.len() {
        let (a, b) = (&lines[i - 1], &lines[i]);
        let (Some(ra), Some(rb)) = (runs(a).pop(), runs(b).into_iter().next()) else {
            continue;
        };
        let joined = format!("{}{}", ra.digits, rb.digits);
        if ra.digits.len() < CARD_MIN && rb.digits.len() < CARD_MIN && holds_card(joined.as_bytes())
        {
            let new_a = format!(
                "{}{}{}",
                &a[..ra.start],
                masked_run(a, &ra, 0),
                &a[ra.end..]
            );
            let new_b = format!(
                "{}{}{}",
                &b[..rb.start],
                masked_run(b, &rb, 4),
                &b[rb.end..]
            );
            lines[i - 1] = new_a;
            lines[i] = new_b;
        }
    }
    for line in lines.iter_mut() {
        if let Cow::Owned(m) = mask_cards(line) {
            *line = m;
        }
    }
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
        assert_eq!(mask_cards("4111*1111*1111*1111#"), "***************1111#");
        assert_eq!(
            mask_cards("card 4111\u{a0}1111\u{a0}1111\u{a0}1111 and 5500–0000–0000–0004"),
            "card ****\u{a0}****\u{a0}****\u{a0}1111 and ****–****–****–0004"
        );
        let spoken = "it's four one one one one one one one one one one one one one one one ok";
        assert_eq!(mask_cards(spoken), "it's ************1111 ok");
    }

    #[test]
    fn ordinary_numbers_stay() {
        for s in [
            "account 12345678",
            "call +15551230001 about invoice INV-2041",
            "call_sid=\"CAb5d0cfa4111111111111111c1a8f6dd3\"",
            "refund of 19.99 on March 12, 2026",
            "411111111112",  // 12 digits: too short for a card
            "4111111111114", // 13 digits, no window passes Luhn
            "one moment please, someone will call you",
        ] {
            assert_eq!(mask_cards(s), s, "{s}");
        }
    }

    #[test]
    fn a_number_split_over_two_lines_is_masked() {
        let mut lines = vec![
            "[keypad 41111111]".to_string(),
            "[keypad 11111111#]".to_string(),
            "thanks".to_string(),
        ];
        mask_across(&mut lines);
        assert_eq!(lines[0], "[keypad ********]");
        assert_eq!(lines[1], "[keypad ****1111#]");
        assert_eq!(lines[2], "thanks");
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

    #[test]
    fn a_score_with_many_digits_is_not_a_card() {
        let mut v = serde_json::json!({"confidence": 0.8913457202911377f64, "ms": 1622.0});
        Redactor::default().redact_json(&mut v);
        assert_eq!(v["confidence"], 0.8913457202911377f64);
        assert_eq!(v["ms"], 1622.0);
    }

    #[test]
    fn log_lines_are_masked_at_every_level() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(RedactingWriter(move || sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(keys = "4111111111111111#", "keypad");
            tracing::debug!("caller said 4111 1111 1111 1111");
            tracing::info!(brief = "card 5500-0000-0000-0004", "escalating");
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(out.lines().count(), 3, "{out}");
        for clear in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "5500-0000-0000-0004",
        ] {
            assert!(!out.contains(clear), "{out}");
        }
        assert!(out.contains("************1111#") && out.contains("****-****-****-0004"));
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
            sep in prop_oneof![Just(""), Just(" "), Just("-"), Just("*"), Just(" - "), Just("\u{2013}")],
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

        #[test]
        fn no_spoken_card_survives(
            prefix in proptest::collection::vec(0u8..10, (CARD_MIN - 1)..CARD_MAX),
            before in "[a-z ]{0,30}",
        ) {
            let number = card(prefix);
            let words: Vec<&str> = number
                .bytes()
                .map(|d| DIGIT_WORDS.iter().find(|(_, c)| *c as u8 == d).unwrap().0)
                .collect();
            let text = format!("{before} my number is {} thanks", words.join(" "));
            let out = Redactor::default().redact(&text).into_owned();
            prop_assert!(!out.contains(&words.join(" ")), "{text:?} -> {out:?}");
            prop_assert!(!out.contains(&number), "{text:?} -> {out:?}");
        }
    }
}
