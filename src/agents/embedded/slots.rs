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
    let joined = format!(" {} ", ws.join(" "));
    let said = |w: &str| joined.contains(&format!(" {} ", w.to_lowercase()));
    options.iter().find(|o| said(o)).or_else(|| {
        options.iter().find(|o| {
            synonyms
                .get(o.as_str())
                .is_some_and(|words| words.iter().any(|w| said(w)))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
