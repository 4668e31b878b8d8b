//! Questions about the offer on the table, answered from the tool result the offer
//! was made from, then the offer's own question again: "does the cheaper price start
//! now, or only on the next bill?" (the result's `effective`), "is that instead of
//! what I pay now, or on top?" (its `from` and `to` prices). Nothing is looked up or
//! done again; a question the result cannot answer is left to the other rules.

use serde_json::Value;

use crate::agents::confirm::{says_any, spaced_words, words};
use crate::agents::embedded::templates::lookup;

/// Words that ask when an offer takes effect.
const TIMING: &[&str] = &[
    "when",
    "start",
    "starts",
    "begin",
    "begins",
    "effect",
    "effective",
    "kick",
    "immediately",
];
/// Phrases that ask whether a new price replaces the old one.
const REPLACES: &[&str] = &[
    "instead of",
    "on top",
    "as well as",
    "pay both",
    "pay for both",
    "replace",
];

/// Phrases that ask for a refund to go somewhere else than the card charged.
const ELSEWHERE: &[&str] = &[
    "new card",
    "other card",
    "another card",
    "different card",
    "a check",
    "a cheque",
    "in cash",
    "bank account",
    "bank transfer",
    "instead of the card",
    "instead of putting it on the card",
    "not on the card",
    "rather than the card",
    "instead of the old card",
    "savings account",
    "my savings",
    "card she uses now",
    "card he uses now",
    "card i use now",
    "card we use now",
    "card they use now",
    "current card",
    "the card she uses",
    "the card he uses",
    // A credit on a later bill instead.
    "off the next bill",
    "off my next bill",
    "off next month",
    "bill instead",
    "knock it off",
    "take it off the",
    "as a credit",
    "account credit",
    "credit it to",
    "keep it and",
];

/// Phrases that ask whether a refund covers only the extra payment, or more.
const SCOPE: &[&str] = &[
    "only the extra",
    "just the extra",
    "only the one",
    "just the one",
    "only one of",
    "just one of",
    "only the duplicate",
    "just the duplicate",
    "only the second",
    "just the second",
    "only the double",
    "not both",
    "both of them",
    "both charges",
    "both payments",
    "the whole month",
    "the whole bill",
    "the full month",
    "how much back",
    "how much will i get",
    "how much do i get",
];

/// How the answers open: an answer leaves the offer open (see [`is_answer`]).
const TIMING_OPENING: &str = "It takes effect ";
const PRICE_OPENING: &str = "It would replace what you pay now: ";
const SCOPE_OPENING: &str = "Just the extra one: ";
const DESTINATION_ANSWER: &str =
    "A refund can only go back to the card that was charged; I can't send it anywhere else or take it off a later bill.";

/// Whether `said` (ours) answered a question about the offer and asked its question
/// again: the offer is still the open question.
pub(super) fn is_answer(said: &str) -> bool {
    said.starts_with(TIMING_OPENING)
        || said.starts_with(PRICE_OPENING)
        || said.starts_with(DESTINATION_ANSWER)
        || said.starts_with(SCOPE_OPENING)
}

/// Whether `text` asks something (a question mark, or a question word first).
fn is_question(text: &str) -> bool {
    text.contains('?')
        || words(text).first().is_some_and(|w| {
            matches!(
                w.as_str(),
                "when" | "does" | "do" | "is" | "will" | "would" | "how" | "what"
            )
        })
}

/// Where a refund goes, if `text` asks for it elsewhere ("could you mail us a check
/// instead?") and `result` offers a refund of a charge.
pub(super) fn destination_answer(text: &str, result: &Value) -> Option<String> {
    let asks = says_any(text, ELSEWHERE);
    let refund = lookup(result, "duplicates.0").is_some();
    (asks && refund).then(|| DESTINATION_ANSWER.to_string())
}

/// What a refund covers, if `text` asks whether it is only the extra payment ("it's
/// only the extra one, yes?", "not both, right?") and `result` offers a refund of a
/// charge taken more than once: the extra payments back, the first one kept.
pub(super) fn scope_answer(text: &str, result: &Value) -> Option<String> {
    if !is_question(text) || !says_any(text, SCOPE) {
        return None;
    }
    let amount = lookup(result, "duplicates.0.amount")?.as_str()?;
    let times = lookup(result, "duplicates.0.times")
        .and_then(Value::as_u64)
        .unwrap_or(2);
    let extra = match times {
        0..=2 => format!("one payment of {amount}"),
        n => format!("{} payments of {amount}", n - 1),
    };
    Some(format!(
        "{SCOPE_OPENING}{extra} back to your card; the first one stays as your normal payment."
    ))
}

/// Whether a question in `text` only checks the figures of the offer in `result` ("and
/// fifty-nine ninety-nine is twenty more than I'm paying now, yeah?"): the new and old
/// monthly prices, a refund's amount, or the difference of two of them.
pub(super) fn checks_figures(text: &str, result: &Value) -> bool {
    let given: Vec<&str> = ["to.monthly", "from.monthly", "amount"]
        .iter()
        .filter_map(|k| lookup(result, k)?.as_str())
        .collect();
    let questions: Vec<&str> = text
        .split_inclusive(['.', '?', '!'])
        .filter(|s| s.trim_end().ends_with('?'))
        .collect();
    !given.is_empty()
        && !questions.is_empty()
        && questions
            .iter()
            .all(|q| crate::agents::embedded::slots::amounts_match(q, &given.join(" ")))
}

/// When the offer takes effect, if `text` asks that and `result` says it.
pub(super) fn timing_answer(text: &str, result: &Value) -> Option<String> {
    if !is_question(text) {
        return None;
    }
    let ws = words(text);
    let joined = spaced_words(&ws);
    let asks = ws.iter().any(|w| TIMING.contains(&w.as_str()))
        || [
            " next bill ",
            " this month ",
            " right away ",
            " straight away ",
        ]
        .iter()
        .any(|p| joined.contains(p));
    if !asks {
        return None;
    }
    let effective = lookup(result, "effective")?.as_str()?;
    let effective = effective.replace("the next bill", "your next bill");
    Some(format!("{TIMING_OPENING}{effective}."))
}

/// Whether the new price replaces the old, if `text` asks that and `result` has both.
pub(super) fn price_answer(text: &str, result: &Value) -> Option<String> {
    if !is_question(text) {
        return None;
    }
    if !says_any(text, REPLACES) {
        return None;
    }
    let to = lookup(result, "to.monthly")?.as_str()?;
    let from = lookup(result, "from.monthly")?.as_str()?;
    Some(format!(
        "{PRICE_OPENING}{to} a month instead of {from}, not on top of it."
    ))
}

/// The last question in what we said (`said` may hold several sentences).
pub(super) fn question_in(said: &str) -> Option<&str> {
    // (Sentences end at a stop before a space: "…pro at 89.99 with a gigabit?" is one.)
    super::history::sentences(said)
        .into_iter()
        .rev()
        .find(|s| s.ends_with('?'))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn quote() -> Value {
        json!({"status": "needs_confirmation", "plan": "plus",
            "from": {"name": "Pro", "monthly": "$89.99"},
            "to": {"name": "Plus", "monthly": "$59.99"},
            "effective": "right away; the new price starts on the next bill"})
    }

    #[test]
    fn timing_and_price_questions_are_answered_from_the_quote() {
        let q = "Hang on, before you do it. Does the cheaper price start now-now, or only on the next bill?";
        assert_eq!(
            timing_answer(q, &quote()).as_deref(),
            Some("It takes effect right away; the new price starts on your next bill.")
        );
        let q = "wait, is that instead of the eighty nine ninety nine or on top of it?";
        assert!(price_answer(q, &quote())
            .unwrap()
            .contains("$59.99 a month instead of $89.99"));
        assert_eq!(
            timing_answer("yes, switch me now", &quote()),
            None,
            "not a question"
        );
        assert_eq!(
            timing_answer("when does it start?", &json!({})),
            None,
            "nothing to say"
        );
        assert_eq!(price_answer("and the middle one?", &quote()), None);
    }

    #[test]
    fn a_check_of_the_quoted_figures_is_seen() {
        assert!(checks_figures(
            "And fifty-nine ninety-nine is thirty less than now, yeah? Fine. Yes, do it.",
            &quote()
        ));
        assert!(!checks_figures(
            "And fifty-nine ninety-nine is twenty less than now, yeah?",
            &quote()
        ));
        assert!(!checks_figures("Yes, do it.", &quote()));
    }

    #[test]
    fn a_refund_is_said_to_cover_only_the_extra_payment() {
        let dup = json!({"count": 1, "duplicates": [{"date_spoken": "March 12",
            "amount": "$59.99", "times": 2}]});
        let q = "Hang on, before you do anything, it's only the extra one, yes? I'm not trying to get the whole month for free.";
        assert_eq!(
            scope_answer(q, &dup).as_deref(),
            Some("Just the extra one: one payment of $59.99 back to your card; the first one stays as your normal payment.")
        );
        assert!(scope_answer("You'd refund both of them?", &dup).is_some());
        assert_eq!(
            scope_answer("Yes, just the one, go ahead.", &dup),
            None,
            "no question"
        );
        assert_eq!(
            scope_answer("Only the extra one?", &quote()),
            None,
            "not a refund"
        );
    }

    #[test]
    fn the_offer_question_is_found_in_what_was_said() {
        assert_eq!(
            question_in("Plus is $59.99 a month, instead of $89.99 now. Shall I switch you?"),
            Some("Shall I switch you?")
        );
        assert_eq!(question_in("Done."), None);
    }
}
