//! Callers speaking another language than English: nothing here can serve them, so a
//! person is offered (the triage spec's "help in another language is for a person"),
//! and a second turn in that language, or a yes, hands the call over.
//!
//! A turn counts as another language when fewer than [`MIN_KNOWN_SHARE`] of its words
//! (at least [`MIN_WORDS`]) are words of the sentence model's English vocabulary
//! ([`Embedder::knows_word`]). Measured on sample turns: English, dialect and
//! code-switched English 0.71–0.92; Tok Pisin, Spanish, French, Italian, Portuguese,
//! German and Hindi 0.29–0.57.

use super::{confirm, has_tool, transfer, Decision, Policy, Turn, HUMAN};
use crate::agents::embedded::embedder::Embedder;

/// Said to a caller who speaks another language.
pub(super) const ENGLISH_ONLY: &str = "I'm sorry, I can only help in English on this line. Would you like a person from our team to help you?";
/// Turns shorter than this are never judged.
const MIN_WORDS: usize = 8;
/// The share of known words below which a turn is another language.
const MIN_KNOWN_SHARE: f32 = 0.6;

/// Whether `text`, of at least `min_words` words, is in another language than English
/// (see the module doc).
fn other_language_from(embedder: &Embedder, text: &str, min_words: usize) -> bool {
    let ws: Vec<String> = confirm::words(text)
        .into_iter()
        .filter(|w| w.chars().all(|c| c.is_alphabetic() || c == '\''))
        .collect();
    if ws.is_empty() || ws.len() < min_words {
        return false;
    }
    let known = ws.iter().filter(|w| embedder.knows_word(w)).count();
    (known as f32) < MIN_KNOWN_SHARE * ws.len() as f32
}

/// Languages a caller may ask for help in (lower-case; English aside).
const LANGUAGES: &[&str] = &[
    "spanish",
    "french",
    "german",
    "italian",
    "portuguese",
    "polish",
    "russian",
    "ukrainian",
    "romanian",
    "hungarian",
    "czech",
    "slovak",
    "dutch",
    "greek",
    "turkish",
    "arabic",
    "farsi",
    "persian",
    "dari",
    "pashto",
    "urdu",
    "hindi",
    "punjabi",
    "bengali",
    "bangla",
    "gujarati",
    "tamil",
    "telugu",
    "malayalam",
    "marathi",
    "nepali",
    "sinhala",
    "chinese",
    "mandarin",
    "cantonese",
    "japanese",
    "korean",
    "vietnamese",
    "thai",
    "khmer",
    "lao",
    "burmese",
    "tagalog",
    "filipino",
    "indonesian",
    "malay",
    "swahili",
    "amharic",
    "somali",
    "tigrinya",
    "yoruba",
    "igbo",
    "hausa",
    "haitian",
    "creole",
    "kreyol",
    "irish",
    "gaelic",
    "gaeilge",
    "welsh",
    "cymraeg",
    "scots",
    "albanian",
    "serbian",
    "croatian",
    "bosnian",
    "bulgarian",
    "lithuanian",
    "latvian",
    "estonian",
    "finnish",
    "swedish",
    "norwegian",
    "danish",
    "icelandic",
    "hebrew",
    "yiddish",
    "armenian",
    "georgian",
    "kurdish",
    "navajo",
    "hmong",
    "samoan",
    "tongan",
    "hawaiian",
    "quechua",
    "catalan",
    "basque",
    "galician",
    "afrikaans",
    "zulu",
    "xhosa",
    "español",
    "espanol",
    "francais",
    "français",
    "deutsch",
];

/// The caller asks for help in another language in English ("he only really has the
/// Gaeilge. Is there anybody could talk it through with him as Gaeilge?"): a language
/// someone "only" speaks, or one a person is asked for in ("someone who speaks
/// Polish"). Not "the app shows everything in French; I speak French".
pub(super) fn asks_for_another_language(text: &str) -> bool {
    let ws = confirm::words(text);
    // ("My mum only speaks Polish but I'll translate": the caller speaks for her.)
    if confirm::says_any(
        text,
        &[
            "i'll translate",
            "i will translate",
            "i can translate",
            "translate for",
        ],
    ) {
        return false;
    }
    let asking = |w: &str| {
        matches!(
            w,
            "someone"
                | "somebody"
                | "anybody"
                | "anyone"
                | "person"
                | "interpreter"
                | "translator"
                | "talk"
                | "speak"
                | "speaks"
                | "speaking"
                | "help"
        )
    };
    ws.iter().enumerate().any(|(i, w)| {
        if !LANGUAGES.contains(&w.as_str()) {
            return false;
        }
        let before = &ws[i.saturating_sub(6)..i];
        // "he only really has the Gaeilge", "my mother only speaks Polish" (not "we
        // only watch Korean dramas").
        let only_speaks = before.iter().any(|b| b == "only")
            && before.iter().any(|b| {
                matches!(
                    b.as_str(),
                    "speaks" | "speak" | "has" | "understands" | "knows" | "talks"
                )
            });
        // "someone who speaks Tagalog", "…talk it through with him as Gaeilge" (not
        // "the app is in Spanish now, can anyone help?").
        let prev = i.checked_sub(1).map(|p| ws[p].as_str());
        // (Not "I speak French, but my wife doesn't": the caller's own.)
        let asked_before = before[..before.len().saturating_sub(1)]
            .iter()
            .any(|b| asking(b) && !matches!(b.as_str(), "speak" | "speaks" | "speaking"));
        let in_it = matches!(prev, Some("speaks" | "speak" | "in" | "as")) && asked_before;
        only_speaks || in_it
    })
}

impl Policy {
    /// The step for a turn in another language, or for the answer to our offer of a
    /// person made because of one. `None` for English turns that answer nothing.
    pub(super) fn in_another_language(&self, embedder: &Embedder, t: &Turn) -> Option<Decision> {
        if !has_tool(&t.req.tools, &transfer(HUMAN)) {
            return None;
        }
        let history = &t.req.messages[..t.user_idx];
        let offered = super::last_spoken(history) == Some(ENGLISH_ONLY);
        // ("Ay, no, wrong number, perdón. Adiós.": no, and gone.)
        if offered && (confirm::refuses(t.user_text) || confirm::ends_with_farewell(t.user_text)) {
            return None;
        }
        // (After our offer, a short answer in that language — "Sí, por favor" — is
        // judged too.)
        let foreign =
            other_language_from(embedder, t.user_text, if offered { 1 } else { MIN_WORDS });
        if (offered && (foreign || confirm::accepts(t.user_text)))
            || (foreign && super::said_before(history, ENGLISH_ONLY))
        {
            let reason = "the caller speaks another language".to_string();
            return Some(self.handoff(t, HUMAN, "escalation", reason));
        }
        // Help in another language asked for in English: a person, at once when asked
        // for ("is there anybody there could talk it through with him as Gaeilge?"),
        // else offered. (Not once that offer was turned down.)
        if !foreign
            && asks_for_another_language(t.user_text)
            && !super::said_before(history, ENGLISH_ONLY)
        {
            let asks = t.user_text.contains('?')
                || confirm::makes_request(t.user_text)
                || confirm::asks_for_person(t.user_text);
            if asks {
                let reason = "the caller asks for help in another language".to_string();
                return Some(self.handoff(t, HUMAN, "escalation", reason));
            }
            return Some(Decision::Say(ENGLISH_ONLY.into()));
        }
        foreign.then(|| Decision::Say(ENGLISH_ONLY.into()))
    }
}
