//! Options a caller names for an intent's `$enum` argument (a plan by name, rank or
//! price: "the middle one" is Plus), a self-correction to one ("the middle plan, no,
//! hang on … the top one, then"), and what a line of ours that listed the options
//! says of one ("Plus at 59.99 with 500 megabits").

use super::{args, confirm, Policy, Turn};
use crate::agents::embedded::slots;
use crate::agents::embedded::spec::IntentSpec;

impl Policy {
    /// The option of `target`'s `$enum` argument the caller chose ("the middle one"
    /// is Plus; the last one stated wins a correction; "the one below it" is a step
    /// from the plan just quoted), with how many options the turn names at all.
    pub(super) fn named_option(&self, t: &Turn, target: &IntentSpec) -> Option<(String, usize)> {
        let tool = target.tool.as_deref()?;
        target.args.iter().find_map(|(key, spec)| {
            if spec.as_str().map(|s| s.trim_end_matches('?')) != Some("$enum") {
                return None;
            }
            let options = args::enum_options(&t.req.tools, tool, key);
            if let Some(step) = stepped_option(t, key, &options, t.user_text) {
                return Some((step, 1));
            }
            let chosen = slots::choose(t.user_text, &options, &target.synonyms)?;
            let named = options
                .iter()
                .filter(|o| {
                    slots::choose(t.user_text, std::slice::from_ref(*o), &target.synonyms).is_some()
                })
                .count();
            Some((chosen.to_string(), named))
        })
    }

    /// Whether the caller's turn corrects itself to `option` of `target` ([`corrects_to`],
    /// a plan by its step counted as named).
    pub(super) fn corrects_to_option(&self, t: &Turn, target: &IntentSpec, option: &str) -> bool {
        let options = [option.to_string()];
        let plans = target
            .tool
            .as_deref()
            .map(|tool| args::enum_options(&t.req.tools, tool, "plan"))
            .unwrap_or_default();
        let stepped = |s: &str| {
            target.args.contains_key("plan")
                && stepped_option(t, "plan", &plans, s).as_deref() == Some(option)
        };
        corrects_when(t.user_text, |s| {
            slots::choose(s, &options, &target.synonyms).is_some() || stepped(s)
        })
    }
}

/// A plan named by its step ("the next one up", "the one below it"), for a `plan`
/// argument.
pub(super) fn stepped_option(
    t: &Turn,
    key: &str,
    options: &[String],
    text: &str,
) -> Option<String> {
    (key == "plan")
        .then(|| super::plan_direction::relative_plan(text, options, &t.req.messages))
        .flatten()
        .cloned()
}

/// Words that take back what was just said ("no, wait", "hang on", "scratch that").
const CORRECTIONS: &[&str] = &[
    "no wait",
    "no hang on",
    "no hold on",
    "hang on",
    "hold on",
    "scratch that",
    "actually",
    "i mean",
    "not the",
];

/// Whether `text` corrects itself to an option `names` finds in a sentence: a
/// correction, then the option named in a sentence of its own with no negation ("So
/// the middle plan, no, hang on … The top one, then."). "No thanks, the Plus is too
/// dear" corrects nothing.
fn corrects_when(text: &str, names: impl Fn(&str) -> bool) -> bool {
    let sentences: Vec<&str> = text
        .split(['.', '?', '!', ';'])
        .filter(|s| !confirm::words(s).is_empty())
        .collect();
    let Some(marker) = sentences
        .iter()
        .position(|s| confirm::says_any(s, CORRECTIONS))
    else {
        return false;
    };
    let last = sentences.iter().rposition(|s| names(s));
    last.is_some_and(|i| {
        let ws = confirm::words(sentences[i]);
        i >= marker && !ws.iter().any(|w| w == "no" || confirm::negates(w))
    })
}

/// What our line `said` says of `option` ("…, Plus at 59.99 with 500 megabits, …" →
/// "Plus is 59.99 with 500 megabits"), when it names it.
pub(super) fn option_in(said: &str, option: &str) -> Option<String> {
    said.split([':', ','])
        .flat_map(|part| part.split(". "))
        .map(|part| {
            part.trim()
                .trim_end_matches('.')
                .trim_start_matches("and ")
                .trim()
        })
        .find(|part| {
            part.split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case(option))
        })
        .map(|part| part.replacen(" at ", " is ", 1))
}

#[cfg(test)]
mod tests {

    use crate::agents::embedded::slots;

    fn corrects_to(
        text: &str,
        option: &str,
        synonyms: &std::collections::BTreeMap<String, Vec<String>>,
    ) -> bool {
        let options = [option.to_string()];
        super::corrects_when(text, |s| slots::choose(s, &options, synonyms).is_some())
    }
    #[test]
    fn a_no_that_corrects_the_option_is_no_refusal() {
        let synonyms = std::collections::BTreeMap::from([
            ("plus".to_string(), vec!["middle".to_string()]),
            ("pro".to_string(), vec!["top one".to_string()]),
        ]);
        assert!(corrects_to(
            "So the middle plan, no, hang on, that only gets me six hundred. The top one, then. What's that run me?",
            "pro",
            &synonyms
        ));
        assert!(corrects_to(
            "Alright, then put me on the Pro. No, wait, hold on, not the top one. The middle one, the Plus. That'll do.",
            "plus",
            &synonyms
        ));
        assert!(!corrects_to(
            "No thanks, the Plus is too dear for us.",
            "plus",
            &synonyms
        ));
        assert!(!corrects_to(
            "Hold on. No, I don't want the Plus.",
            "plus",
            &synonyms
        ));
    }

    #[test]
    fn an_option_is_read_from_the_line_that_listed_it() {
        let said = "We have three plans: Basic at 39.99 a month with 100 megabits, Plus at 59.99 with 500 megabits, and Pro at 89.99 with a gigabit. Would you like to switch to one of them?";
        assert_eq!(
            super::option_in(said, "plus").as_deref(),
            Some("Plus is 59.99 with 500 megabits")
        );
        assert_eq!(
            super::option_in(said, "pro").as_deref(),
            Some("Pro is 89.99 with a gigabit")
        );
        assert_eq!(super::option_in("Anything else?", "pro"), None);
    }
}
