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

/// The caller's words, lower-case, with typographic apostrophes made plain.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace('\u{2019}', "'")
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}
