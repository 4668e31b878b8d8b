//! Reading values out of the caller's words: digits, phone numbers, and a choice
//! among a tool parameter's `enum` values (yes / no live in `agents::confirm`).

use regex::Regex;
use std::sync::OnceLock;

use crate::agents::confirm::words;

/// All digits in the text, concatenated (DTMF or spoken digits already transcribed).
pub fn digits(text: &str) -> Option<String> {
    let d: String = text.chars().filter(char::is_ascii_digit).collect();
    (!d.is_empty()).then_some(d)
}

/// The first phone-number-like token (`+15551234567`, `555-123-4567`).
pub fn phone(text: &str) -> Option<String> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = RE
        .get_or_init(|| Regex::new(r"\+?\d[\d\s().-]{8,}\d").ok())
        .as_ref()?;
    re.find(text).map(|m| {
        let s = m.as_str();
        let d: String = s.chars().filter(char::is_ascii_digit).collect();
        if s.starts_with('+') {
            format!("+{d}")
        } else {
            d
        }
    })
}

/// The first of `options` the caller named (whole word, case-insensitive), directly
/// or through one of its synonyms (`sms` ← "text").
pub fn choose<'a>(
    text: &str,
    options: &'a [String],
    synonyms: &std::collections::BTreeMap<String, Vec<String>>,
) -> Option<&'a String> {
    let ws = words(text);
    // Where an option (or a synonym of it) is mentioned last, not counting mentions
    // right after a negation ("text, not email"; a bare "no" is a correction, not a
    // negation: "no, email"): the last choice stated wins, so a
    // correction ("email it… actually no, text it") takes effect.
    let last_mention = |w: &str| -> Option<usize> {
        let target: Vec<String> = words(w);
        if target.is_empty() || target.len() > ws.len() {
            return None;
        }
        (0..=ws.len() - target.len()).rev().find(|&i| {
            ws[i..i + target.len()] == target[..]
                && (i == 0 || !matches!(ws[i - 1].as_str(), "not" | "don't" | "dont" | "never"))
        })
    };
    options
        .iter()
        .filter_map(|o| {
            let own = last_mention(o);
            let syn = synonyms
                .get(o.as_str())
                .into_iter()
                .flatten()
                .filter_map(|w| last_mention(w))
                .max();
            own.max(syn).map(|at| (at, o))
        })
        .max_by_key(|(at, _)| *at)
        .map(|(_, o)| o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_choice_stated_wins() {
        let opts = vec!["email".to_string(), "sms".to_string()];
        let syn: std::collections::BTreeMap<String, Vec<String>> = [(
            "sms".to_string(),
            vec!["text".to_string(), "text message".to_string()],
        )]
        .into();
        let pick = |t: &str| choose(t, &opts, &syn).map(String::as_str);
        assert_eq!(
            pick("Email it... actually no, text it to my cell instead"),
            Some("sms")
        );
        assert_eq!(pick("by text, not email"), Some("sms"));
        assert_eq!(pick("email please"), Some("email"));
        assert_eq!(pick("whatever"), None);
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
