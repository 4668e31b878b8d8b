//! Yes and no in the caller's own words: a clear yes, a plain "okay", a refusal
//! judged clause by clause, and putting an offer off (not a yes).

use super::*;

pub(super) const YES_WORDS: &[&str] = &[
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

pub(super) const YES_PHRASES: &[&str] = &[
    "go ahead",
    "go on then",
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
];

/// Yes phrases only at the end of their clause ("I do.", "yes, I would"): "one of them
/// I do owe you" agrees to nothing.
const CLAUSE_END_YES: &[&str] = &["i do", "i would", "i will", "we do", "we would"];

pub(super) const NO_WORDS: &[&str] = &[
    "no", "nope", "nah", "don't", "dont", "not", "never", "wait", "stop", "cancel", "hold",
];

/// Phrases with "no" in them that say "that explains it" or "fair enough", never no
/// ("Sixty? No wonder. Right, move me up to the Plus").
const NOT_REFUSING: &[&str] = &[
    "no wonder",
    "no doubt",
    "no kidding",
    "no surprise",
    "no surprises",
    "no joke",
    "not bad",
];

/// The words of `text` without the phrases of [`NOT_REFUSING`], each found within one
/// clause ("No. Doubt it'll help" keeps its "no").
fn words_refusing(text: &str) -> Vec<String> {
    text.split(['.', ',', ';', '!', '?'])
        .flat_map(|clause| {
            let mut joined = spaced(clause);
            for idiom in NOT_REFUSING {
                joined = joined.replace(&format!(" {idiom} "), " ");
            }
            joined
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The caller said no (or hesitated).
pub fn is_negative(text: &str) -> bool {
    words_refusing(text)
        .iter()
        .any(|w| NO_WORDS.contains(&w.as_str()) || w.ends_with("n't"))
}

/// The turn holds an unmistakable yes phrase ("go ahead", "do it", "let's do it").
pub fn has_yes_phrase(text: &str) -> bool {
    super::says_any(text, YES_PHRASES)
        || text.split(['.', ',', ';', '!', '?']).any(|clause| {
            let mut ws = words(clause);
            while ws
                .last()
                .is_some_and(|w| matches!(w.as_str(), "please" | "thanks" | "yes" | "yeah"))
            {
                ws.pop();
            }
            let end = ws.join(" ");
            CLAUSE_END_YES
                .iter()
                .any(|p| end == *p || end.ends_with(&format!(" {p}")))
        })
}

/// Yes words that are more than a filler (unlike "okay", "right", "please").
const STRONG_YES: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "yup",
    "yea",
    "sure",
    "absolutely",
    "definitely",
    "confirm",
];

/// A yes phrase or a strong yes word, negations aside.
fn strong_yes(text: &str) -> bool {
    has_yes_phrase(text) || words(text).iter().any(|w| STRONG_YES.contains(&w.as_str()))
}

/// A yes word of any strength ("please" only as the whole reply), negations aside.
fn plain_yes(text: &str) -> bool {
    let ws = words(text);
    ws.iter()
        .any(|w| w != "please" && YES_WORDS.contains(&w.as_str()))
        || ws.join(" ") == "please"
}

/// A yes that is more than a filler: "yes", "sure", "go ahead" — not the "okay" of
/// "okay, I'll think about it".
pub fn is_clear_yes(text: &str) -> bool {
    !is_negative(text) && strong_yes(text)
}

/// Words that only lead into a clause.
pub(super) const LEAD_INS: &[&str] = &[
    "oh", "um", "uh", "well", "but", "and", "so", "actually", "hmm", "okay", "ok", "whoa", "ah",
];

/// Phrases that refuse wherever they stand in a clause.
pub(super) const REFUSALS: &[&str] = &[
    "forget it",
    "leave it",
    "no thanks",
    "not now",
    "not right now",
    "don't do",
    "dont do",
    "don't switch",
    "don't refund",
    "not yet",
    "i'll pass",
    // Putting it off is not a yes ("yeah, I'll call back later once I've talked to him").
    "hold off",
    "call back",
    // ("…I've got a shift on the mountain later" puts nothing off.)
    "maybe later",
    "later maybe",
    "do it later",
    "do that later",
    "decide later",
    "sort it later",
    "later then",
    "some other time",
    "another time",
    "think about it",
    "check with",
    "talk to him",
    "talk to her",
    "talk to them",
    "ask my",
    "not sure",
    // Keeping things as they are ("never mind, I'll stay as I am").
    "never mind",
    "nevermind",
    "stay as i am",
    "stay as we are",
    "stay where i am",
    "stay where we are",
    "stay on my plan",
    "i won't change",
    "we won't change",
];

/// The caller turns our offer down in some clause: one that opens with a refusal
/// ("no, forget it", "don't…", "not now", "wait…") or holds one. A negation inside a
/// statement ("yeah, let's do that, I'm not rewriting the whole script") is not one,
/// and neither is a "no" that a later clause takes back with a plain go-ahead ("yah,
/// no, that's fair… okay, just the extra one then, go ahead"): the caller's last word
/// on the offer counts.
pub fn refuses(text: &str) -> bool {
    // Each clause, with whether its sentence is a question: a "yes?" tag ("my bill is
    // still paid, yes?") takes no "wait" back.
    let clauses: Vec<(&str, bool)> = text
        .split_inclusive(['.', '!', '?'])
        .flat_map(|sentence| {
            let question = sentence.trim_end().ends_with('?');
            sentence
                .split([',', ';', '.', '!', '?'])
                .map(move |c| (c, question))
        })
        .collect();
    // "Wait, before you do anything: is my bill still paid?" asks first; it refuses
    // nothing (the offer still stands).
    let asks = text.contains('?');
    let Some(last_refusal) = clauses
        .iter()
        .rposition(|(c, _)| refusing_clause(c) && !(asks && hesitating_clause(c)))
    else {
        return false;
    };
    !clauses[last_refusal + 1..]
        .iter()
        .any(|(c, question)| !question && plain_go_ahead(c))
}

/// `text` without its questions: "If you give one back, my bill is still paid, yes?"
/// asks; it agrees to nothing.
fn without_questions(text: &str) -> String {
    text.split_inclusive(['.', '!', '?'])
        .filter(|sentence| !sentence.trim_end().ends_with('?'))
        .collect()
}

/// The turn holds the caller back before answering ("Hold on, before I say yes…",
/// "Wait, …"): its first clause hesitates, or it says it will answer later.
pub fn hesitates(text: &str) -> bool {
    let joined = spaced(text);
    let first = text.split([',', '.', ';', '!', '?']).next().unwrap_or("");
    hesitating_clause(first)
        || [
            " before i say yes ",
            " before i decide ",
            " before you do ",
            " before you do anything ",
        ]
        .iter()
        .any(|p| joined.contains(p))
}

/// A clause that only holds the caller back ("wait, wait", "hang on", "hold on a
/// second").
fn hesitating_clause(clause: &str) -> bool {
    let ws = words(clause);
    let joined = spaced_words(&ws);
    let opener = ws.iter().find(|w| !LEAD_INS.contains(&w.as_str()));
    opener.is_some_and(|w| matches!(w.as_str(), "wait" | "hold" | "hang"))
        && !REFUSALS.iter().any(|r| joined.contains(&format!(" {r} ")))
        && !ws.iter().any(|w| {
            matches!(
                w.as_str(),
                "no" | "don't" | "dont" | "not" | "cancel" | "stop"
            )
        })
}

fn refusing_clause(clause: &str) -> bool {
    let ws = words_refusing(clause);
    let joined = spaced_words(&ws);
    let opener = ws.iter().find(|w| !LEAD_INS.contains(&w.as_str()));
    opener.is_some_and(|w| {
        matches!(
            w.as_str(),
            "no" | "nope"
                | "nah"
                | "not"
                | "don't"
                | "dont"
                | "never"
                | "cancel"
                | "stop"
                | "wait"
                | "hold"
        )
    }) || REFUSALS.iter().any(|r| joined.contains(&format!(" {r} ")))
}

/// Words that make a go-ahead about some other action ("go ahead and cancel it").
const OTHER_ACTIONS: &[&str] = &[
    "cancel",
    "switch",
    "change",
    "downgrade",
    "upgrade",
    "send",
    "email",
    "text",
    "reset",
    "open",
    "move",
];

/// A clause that only says go ahead ("go ahead", "do it", "please do"), about nothing
/// else.
fn plain_go_ahead(clause: &str) -> bool {
    // A bare "yes" (a clause of its own) takes the "no" back too; "…to make sure it
    // was real" does not.
    (has_yes_phrase(clause) || (words(clause).len() <= 2 && strong_yes(clause)))
        && !refusing_clause(clause)
        && !words(clause)
            .iter()
            .any(|w| OTHER_ACTIONS.contains(&w.as_str()))
}

/// The caller takes our offer: a clear yes, or a plain "okay" that asks nothing back
/// ("okay… so what about the double charge?" is not a yes); negations are judged
/// clause by clause (see [`refuses`]), and a goodbye is not a yes.
pub fn accepts(text: &str) -> bool {
    // "ok thanks bye" takes its leave; it does not agree to move money.
    if refuses(text) || (ends_with_farewell(text) && !is_clear_yes(text)) {
        return false;
    }
    // "Hang on, before you do it, does…?": a yes phrase in a condition agrees to nothing.
    let said = unconditional(&without_questions(text));
    strong_yes(&said) || (plain_yes(&said) && !text.contains('?'))
}

/// Words that open a condition or a time clause ("before you do it", "if you do that").
const CONDITIONS: &[&str] = &["before", "if", "when", "until", "unless", "once", "after"];

/// `text` without its conditional clauses.
fn unconditional(text: &str) -> String {
    text.split_inclusive(['.', ',', ';', '!', '?'])
        .filter(|clause| {
            let ws = words(clause);
            let first = ws.iter().find(|w| !LEAD_INS.contains(&w.as_str()));
            !first.is_some_and(|w| CONDITIONS.contains(&w.as_str()))
        })
        .collect()
}

/// The caller's turn agrees to an action (the tools' own check before moving money or
/// changing a plan): a yes with no word of refusal anywhere, or a yes that
/// [`accepts`] judges clause by clause and that is a clear yes — so "Yes, go ahead. And since this morning
/// pages load half and then stop, is something wrong?" agrees, while "yes… no, wait"
/// does not.
pub fn agrees(text: &str) -> bool {
    // Judged by clause, the yes must be a clear one ("yes", "go ahead", not "okay, I
    // don't know").
    is_affirmative(text) || (accepts(text) && strong_yes(&unconditional(&without_questions(text))))
}

/// The caller clearly said yes. "please" alone counts only as a whole reply.
pub fn is_affirmative(text: &str) -> bool {
    let said = without_questions(text);
    !is_negative(text) && (has_yes_phrase(&said) || plain_yes(&said))
}
