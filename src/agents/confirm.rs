//! Recognising a caller's yes / no in their own words (refund confirmation, accepting
//! the offer of a person). Deliberately conservative: a negation anywhere wins.

const YES_WORDS: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "yup",
    "yea",
    "sure",
    "correct",
    "ok",
    "okay",
    "alright",
    "absolutely",
    "definitely",
    "confirm",
    "confirmed",
    "affirmative",
    "right",
    "please",
];
const YES_PHRASES: &[&str] = &[
    "go ahead",
    "do it",
    "please do",
    "sounds good",
    "that's fine",
    "that is fine",
    "of course",
    "that's right",
    "that works",
    "let's do it",
    "i do",
    "i would",
];
const NO_WORDS: &[&str] = &[
    "no", "nope", "nah", "don't", "dont", "not", "never", "wait", "stop", "cancel", "hold",
];

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| w.replace('\u{2019}', "'"))
        .collect()
}

/// The caller said no (or hesitated).
pub fn is_negative(text: &str) -> bool {
    words(text)
        .iter()
        .any(|w| NO_WORDS.contains(&w.as_str()) || w.ends_with("n't"))
}

/// The caller clearly said yes. "please" alone counts only as a whole reply.
pub fn is_affirmative(text: &str) -> bool {
    if is_negative(text) {
        return false;
    }
    let ws = words(text);
    let joined = ws.join(" ");
    if YES_PHRASES
        .iter()
        .any(|p| format!(" {joined} ").contains(&format!(" {p} ")))
    {
        return true;
    }
    ws.iter()
        .any(|w| w != "please" && YES_WORDS.contains(&w.as_str()))
        || joined == "please"
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ] {
            assert!(!is_affirmative(n), "{n}");
        }
    }
}
