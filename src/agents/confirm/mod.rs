//! Recognising short answers in a caller's own words, shared by the runtime's checks
//! and the embedded brain so the two never disagree: yes and no to an offer
//! ([`answers`]: conservative — a refusal in any clause, or putting it off, wins over
//! a yes), turns that answer nothing ([`interjections`]), the end of a call
//! ([`closing`]: farewells, firm closings, acknowledgements), a problem reported
//! gone ([`fixed`]) and requests for a person ([`person`]).

mod answers;
mod closing;
mod fixed;
mod interjections;
mod person;

#[cfg(test)]
mod tests;

pub use answers::*;
pub use closing::*;
pub use fixed::*;
pub use interjections::*;
pub use person::*;

/// A word that negates its clause ("not", "never", "don't", "isn't"); a bare "no" is
/// left to the caller, as it is often a correction ("no, email").
pub fn negates(word: &str) -> bool {
    word == "not" || word == "never" || word.ends_with("n't")
}

/// The caller's words, lower-case, with typographic apostrophes made plain.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace('\u{2019}', "'")
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The caller's words joined by single spaces, with a space at each end
/// (`"So, the BILL?"` → `" so the bill "`), so a phrase is found only as whole words:
/// `spaced(text).contains(" the bill ")` holds for "so the bill came", not "the billing".
pub fn spaced(text: &str) -> String {
    spaced_words(&words(text))
}

/// [`spaced`] for words already split by [`words`].
pub fn spaced_words(ws: &[String]) -> String {
    format!(" {} ", ws.join(" "))
}

/// Whether `text` says any of `phrases` as whole words (each phrase lower-case, its
/// words separated by single spaces: "go ahead", "text it").
pub fn says_any(text: &str, phrases: &[&str]) -> bool {
    let said = spaced(text);
    phrases
        .iter()
        .any(|p| said.contains(&format!(" {} ", p.trim())))
}
