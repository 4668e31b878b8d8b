//! Recognising short answers in a caller's own words: yes / no (refund confirmation,
//! accepting the offer of a person) and a farewell at the end of a turn ("thanks,
//! bye"). Deliberately conservative: a negation anywhere wins over a yes. Shared by
//! the runtime's checks and the embedded brain, so the two never disagree.

const YES_WORDS: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "yup",
    "yea",
    "ya",
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
    "fine",
    "please",
];
const YES_PHRASES: &[&str] = &[
    "go ahead",
    "do it",
    "do that",
    "please do",
    "sounds good",
    "that's fine",
    "that is fine",
    "of course",
    "that's right",
    "that works",
    "let's do it",
    "why not",
    "i do",
    "i would",
];
const NO_WORDS: &[&str] = &[
    "no", "nope", "nah", "don't", "dont", "not", "never", "wait", "stop", "cancel", "hold",
];
/// Phrases that close a call when they end the caller's turn.
const FAREWELLS: &[&str] = &[
    "bye",
    "goodbye",
    "bye bye",
    "bye now",
    "good bye",
    "that's all",
    "that is all",
    "that's everything",
    "that's it",
    "that's all i needed",
    "have a good day",
    "have a nice day",
];
/// Politeness that may follow a farewell ("bye, thanks") or fill around it.
const FILLERS: &[&str] = &[
    "thanks", "thank", "you", "very", "much", "so", "again", "then", "ok", "okay", "for", "your",
    "help", "great", "perfect", "cheers",
];

/// The caller's words, lower-case, with typographic apostrophes made plain.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace('\u{2019}', "'")
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
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

/// The turn ends with a farewell ("…, thanks, bye", "that's all, thank you"): the
/// caller is leaving once this turn is dealt with.
pub fn ends_with_farewell(text: &str) -> bool {
    // "That's all?" is disbelief, not a goodbye; "I'll pay by…" is unfinished.
    let end = text.trim_end();
    if end.ends_with('?') || end.ends_with("...") || end.ends_with('…') {
        return false;
    }
    if misheard_bye(text) {
        return true;
    }
    let mut ws = words(text);
    // Drop trailing politeness: "bye, thanks" / "goodbye then".
    while ws.last().is_some_and(|w| FILLERS.contains(&w.as_str())) {
        if ws.len() == 1 {
            break;
        }
        ws.pop();
    }
    let joined = format!(" {}", ws.join(" "));
    FAREWELLS.iter().any(|f| joined.ends_with(&format!(" {f}")))
}

/// Recognisers often spell a closing "bye" as "buy" or "by"; only a last clause of
/// its own after something else counts ("Yes, go ahead, thanks, buy.") — never
/// "…all I needed to buy", nor "Buy." alone (an answer to "renew or buy?").
fn misheard_bye(text: &str) -> bool {
    let body = text.trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
    let mut clauses = body.rsplit(['.', ',', '!', '?', ';']);
    let last = words(clauses.next().unwrap_or(""));
    let before = clauses.any(|c| !words(c).is_empty());
    before && !last.is_empty() && last.len() <= 2 && last.iter().all(|w| w == "buy" || w == "by")
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
        ] {
            assert!(!ends_with_farewell(n), "{n}");
        }
    }
}
