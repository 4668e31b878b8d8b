//! Caller questions that ask for nothing of their own: a tag that only checks what
//! was said ("…, right?"), numbers that spell out the question before ("Two, five,
//! whatever you've got?"), a question whose object only points back ("can you text me
//! a fresh one?") to the sentence naming it, and questions that only check the
//! figures we just gave ("There's thirty dollars between the middle one and the top
//! one?").

use crate::agents::confirm::words;

/// A question that only checks what was said: it ends on a tag ("…, right?", "…,
/// yes?", "…, no?", "…, correct?").
pub(super) fn tag_question(sentence: &str) -> bool {
    let ws = words(sentence);
    let tagged = sentence
        .trim_end()
        .trim_end_matches('?')
        .rsplit_once(',')
        .is_some_and(|(_, tag)| {
            matches!(
                words(tag).join(" ").as_str(),
                "right"
                    | "yes"
                    | "no"
                    | "correct"
                    | "yeah"
                    | "isn't it"
                    | "is it"
                    | "don't you"
                    | "ok"
                    | "okay"
            )
        });
    tagged && ws.len() > 2
}

/// Words that name no thing of their own besides numbers: fillers.
const FILLERS: &[&str] = &[
    "hundred",
    "thousand",
    "gig",
    "gigs",
    "a",
    "an",
    "or",
    "and",
    "so",
    "like",
    "maybe",
    "whatever",
    "anything",
    "something",
    "you've",
    "you",
    "have",
    "got",
    "ve",
    "is",
    "it",
    "that",
    "then",
    "more",
    "less",
    "even",
    "up",
    "to",
];

/// A question that only spells out the one before it ("Do you sell anything faster
/// than a gig? Two, five, whatever you've got?"): numbers and fillers, no request of
/// its own.
pub(super) fn spells_out(sentence: &str) -> bool {
    use crate::number_words::{ones_value, tens_digit};
    let ws = words(sentence);
    !ws.is_empty()
        && ws.iter().all(|w| {
            FILLERS.contains(&w.as_str())
                || ones_value(w).is_some()
                || tens_digit(w).is_some()
                || w.chars().all(|c| c.is_ascii_digit())
        })
}

/// A question whose object is only "one" ("can you text me a fresh one?", "send
/// another one?") or a short "…is it?": what it asks for is named before it.
pub(super) fn points_back(question: &str) -> bool {
    let ws = words(question);
    // "I got a past-due notice this morning. How much is it, and can you text me that
    // bill?": a short question about "it" asks about what was just told.
    let first = question.split(',').next().map(words).unwrap_or_default();
    if first.len() <= 5
        && first
            .last()
            .is_some_and(|w| matches!(w.as_str(), "it" | "that" | "this"))
    {
        return true;
    }
    ws.windows(2).any(|w| {
        w[1] == "one"
            && matches!(
                w[0].as_str(),
                "fresh" | "new" | "another" | "different" | "second"
            )
    })
}

/// Words that ask something rather than check it.
pub(super) const QUESTION_WORDS: &[&str] = &["why", "how", "what", "when", "where", "which", "who"];

/// Whether every question in `text` (and there is one) only checks amounts `said`
/// gave, or their differences within one of its sentences ("There's thirty dollars
/// between the middle one and the top one?" after the three prices), asking nothing
/// new: no request, no question word.
pub(super) fn checks_figures_said(text: &str, said: &str) -> bool {
    let questions: Vec<&str> = text
        .split_inclusive(['.', '?', '!'])
        .filter(|s| s.trim_end().ends_with('?'))
        .collect();
    !questions.is_empty()
        && !crate::agents::confirm::makes_request(text)
        && questions.iter().all(|q| {
            plain_check(q)
                && crate::agents::embedded::slots::amounts_match(q, said)
                && plans_agree(q, said)
        })
}

/// Words of a question about something that happened to the caller's money ("was I
/// charged eighty-nine ninety-nine twice?"): never confirmed from a figure we said.
const MONEY_EVENTS: &[&str] = &[
    "charged", "charge", "twice", "owe", "owed", "refund", "refunded", "took", "taken",
];

/// A question that can only check: no question word, nothing about what happened to
/// the caller's money.
pub(super) fn plain_check(question: &str) -> bool {
    !words(question)
        .iter()
        .any(|w| QUESTION_WORDS.contains(&w.as_str()) || MONEY_EVENTS.contains(&w.as_str()))
}

/// Each plan the question names has one of the question's amounts beside it (in the
/// same clause) in `said`: "So Basic's fifty-nine ninety-nine?" after "Basic at
/// 39.99…, Plus at 59.99…" is no check that holds. Plans `said` does not name, or a
/// question without amounts, pass.
pub(super) fn plans_agree(question: &str, said: &str) -> bool {
    use crate::agents::embedded::slots::amounts;
    let asked = amounts(question);
    let named = words(question);
    ["basic", "plus", "pro"]
        .iter()
        .filter(|plan| named.iter().any(|w| w.trim_end_matches("'s") == **plan))
        .all(|plan| {
            let beside: Vec<u32> = said
                .split([',', ';'])
                .filter(|c| words(c).iter().any(|w| w.trim_end_matches("'s") == *plan))
                .flat_map(amounts)
                .collect();
            asked.is_empty()
                || beside.is_empty()
                || asked.iter().any(|a| {
                    beside
                        .iter()
                        .any(|b| b == a || (a % 100 == 0 && b / 100 == a / 100))
                })
        })
}

/// Every month `question` names is one `said` names ("the bill dated January the
/// twelfth, is it?" after "your January 12 invoice").
pub(super) fn months_agree(question: &str, said: &str) -> bool {
    let named = crate::agents::embedded::slots::months(said);
    crate::agents::embedded::slots::months(question)
        .iter()
        .all(|m| named.contains(m))
}

/// Our latest line that gave numbers ("…tonight from 1 to 3 am."): what a caller's
/// check of hours or counts refers to.
pub(super) fn last_line_with_numbers(
    messages: &[crate::agents::model::ChatMessage],
) -> Option<&str> {
    messages.iter().rev().find_map(|m| match m {
        crate::agents::model::ChatMessage::Assistant {
            content: Some(c), ..
        } if !crate::agents::embedded::slots::small_numbers(c).is_empty() => Some(c.as_str()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_of_numbers_only_spells_out_the_one_before() {
        assert!(spells_out("Two, five, whatever you've got?"));
        assert!(spells_out("Forty, fifty?"));
        assert!(!spells_out("And the March bill?"));
        assert!(!spells_out("Is something going on in Riverside?"));
    }

    #[test]
    fn figures_checked_against_what_we_said() {
        let said = "We have three plans: Basic at 39.99 a month with 100 megabits, Plus at 59.99 with 500 megabits, and Pro at 89.99 with a gigabit.";
        assert!(checks_figures_said(
            "Let me check I've got it. There's thirty dollars between the middle one and the top one?",
            said
        ));
        assert!(checks_figures_said(
            "So Plus is fifty-nine ninety-nine?",
            said
        ));
        assert!(!checks_figures_said(
            "So Basic's fifty-nine ninety-nine?",
            said
        ));
        assert!(!checks_figures_said(
            "Was I charged eighty-nine ninety-nine twice?",
            said
        ));
        assert!(!checks_figures_said(
            "Why is Pro eighty-nine ninety-nine?",
            said
        ));
        assert!(!checks_figures_said(
            "So Plus is 59.99? Put me on Plus.",
            said
        ));
    }
}
