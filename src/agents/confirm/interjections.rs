//! Turns that answer nothing: "hello? are you still there?", "sorry, say that again",
//! and holds while the caller checks something ("hang on, let me open my bank app").

use super::*;

/// What an interjection asks of us: it answers nothing, so an open question stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interjection {
    /// "Hello? Are you still there?": say we are, and ask the open question again.
    StillThere,
    /// "Sorry?", "Come again?": say the last thing again.
    Repeat,
    /// "Hold on", "one second": wait, the open question stays open.
    Wait,
}

pub(super) const INTERJECTIONS: &[(&str, Interjection)] = &[
    ("are you still there", Interjection::StillThere),
    ("are you there", Interjection::StillThere),
    ("you still there", Interjection::StillThere),
    ("you there", Interjection::StillThere),
    ("still there", Interjection::StillThere),
    ("is anyone there", Interjection::StillThere),
    ("anyone there", Interjection::StillThere),
    ("is anybody there", Interjection::StillThere),
    ("can you hear me", Interjection::StillThere),
    ("are you with me", Interjection::StillThere),
    ("hello", Interjection::StillThere),
    ("hi", Interjection::StillThere),
    ("hey", Interjection::StillThere),
    ("can you repeat that", Interjection::Repeat),
    ("could you repeat that", Interjection::Repeat),
    ("can you say that again", Interjection::Repeat),
    ("could you say that again", Interjection::Repeat),
    ("say that again", Interjection::Repeat),
    ("repeat that", Interjection::Repeat),
    ("i didn't catch that", Interjection::Repeat),
    ("i didn't hear you", Interjection::Repeat),
    ("i didn't hear that", Interjection::Repeat),
    ("what was that", Interjection::Repeat),
    ("come again", Interjection::Repeat),
    ("excuse me", Interjection::Repeat),
    ("pardon me", Interjection::Repeat),
    ("pardon", Interjection::Repeat),
    ("sorry", Interjection::Repeat),
    ("what", Interjection::Repeat),
    ("huh", Interjection::Repeat),
    ("give me a second", Interjection::Wait),
    ("give me a moment", Interjection::Wait),
    ("give me a minute", Interjection::Wait),
    ("just a second", Interjection::Wait),
    ("just a sec", Interjection::Wait),
    ("just a moment", Interjection::Wait),
    ("just a minute", Interjection::Wait),
    ("one second", Interjection::Wait),
    ("one sec", Interjection::Wait),
    ("one moment", Interjection::Wait),
    ("one minute", Interjection::Wait),
    ("hold on", Interjection::Wait),
    ("hang on", Interjection::Wait),
    ("let me check", Interjection::Wait),
    ("let me see", Interjection::Wait),
    ("let me think", Interjection::Wait),
    ("wait", Interjection::Wait),
];

/// Sounds with no meaning that may surround an interjection.
pub(super) const HESITATIONS: &[&str] = &[
    "um", "umm", "uh", "uhh", "er", "erm", "oh", "ah", "so", "again", "there", "please",
];

/// The whole turn is an interjection ("hello? are you still there?", "sorry, what?",
/// "hang on a second"): nothing in it answers a question or asks for anything. When
/// several kinds are mixed, "still there" wins over "repeat" over "wait".
pub fn interjection(text: &str) -> Option<Interjection> {
    let ws = words(text);
    if ws.is_empty() {
        return None;
    }
    let mut kinds = Vec::new();
    let mut i = 0;
    'outer: while i < ws.len() {
        if HESITATIONS.contains(&ws[i].as_str()) || ws[i] == "a" && i > 0 {
            i += 1;
            continue;
        }
        for (phrase, kind) in INTERJECTIONS {
            let p: Vec<&str> = phrase.split(' ').collect();
            if ws.len() >= i + p.len() && ws[i..i + p.len()].iter().zip(&p).all(|(w, p)| w == p) {
                kinds.push(*kind);
                i += p.len();
                continue 'outer;
            }
        }
        // "second", "moment" after "a" ("hold on a second").
        if matches!(ws[i].as_str(), "second" | "sec" | "moment" | "minute") && i > 0 {
            i += 1;
            continue;
        }
        return defers(text)
            .then_some(Interjection::Wait)
            .or_else(|| leading_interjection(text))
            .or_else(|| trailing_wait(text));
    }
    [
        Interjection::StillThere,
        Interjection::Repeat,
        Interjection::Wait,
    ]
    .into_iter()
    .find(|k| kinds.contains(k))
}

/// "Sorry, say that again? The kids were yelling.": the first sentence is an
/// interjection and the rest only explains it (no answer, no request).
pub(super) fn leading_interjection(text: &str) -> Option<Interjection> {
    let cut = text.find(['.', '?', '!'])?;
    let (first, rest) = text.split_at(cut + 1);
    // ("One second, it's in the log. POST, slash v two, slash devices.": read out.)
    let reads_out =
        rest.chars().any(|c| c.is_ascii_digit()) || words(rest).iter().any(|w| w == "slash");
    if rest.trim().is_empty() || answers_or_asks(rest) || ends_with_farewell(rest) || reads_out {
        return None;
    }
    let first_words = words(first);
    if first_words.is_empty() || words(rest).len() > 12 {
        return None;
    }
    // ("Hello. My internet's been slow all afternoon." greets; "Hello? …" checks.)
    let greeting =
        matches!(first_words.as_slice(), [w] if matches!(w.as_str(), "hello" | "hi" | "hey"));
    // ("Hello. You've gone quiet." still checks: a report takes more words.)
    if greeting && !first.trim_end().ends_with('?') && words(rest).len() >= 5 {
        return None;
    }
    interjection(first)
}

/// "Okay, the box is in the hall. Wait, please.": a short remark on the way to do
/// something, then a hold; nothing asked or answered before it.
fn trailing_wait(text: &str) -> Option<Interjection> {
    let body = text.trim_end().trim_end_matches(['.', '!']);
    let cut = body.rfind(['.', '?', '!'])?;
    let (first, last) = body.split_at(cut + 1);
    if interjection(last) != Some(Interjection::Wait) {
        return None;
    }
    let said = words(first);
    (!said.is_empty()
        && said.len() <= 10
        && !first.contains('?')
        && !answers_or_asks(first)
        && !ends_with_farewell(first))
    .then_some(Interjection::Wait)
}

/// The text answers a question (yes or no) or asks for something of its own.
pub(super) fn answers_or_asks(text: &str) -> bool {
    let ws = words(text);
    let joined = spaced_words(&ws);
    // "okay", "alright", "please" are fillers; "yes", "go ahead" answer.
    let soft = |w: &str| matches!(w, "ok" | "okay" | "alright" | "right" | "please" | "fine");
    ws.iter().any(|w| ANSWERS.contains(&w.as_str()))
        || ws
            .iter()
            .any(|w| YES_WORDS.contains(&w.as_str()) && !soft(w))
        || has_yes_phrase(text)
        || text.contains('?')
        || ws
            .iter()
            .any(|w| matches!(w.as_str(), "need" | "want" | "help"))
        // A question word opens a question; inside a clause it is a relative ("I go
        // look behind the cabinet where it is").
        || super::closing::opens_with_question_word(text)
        || [" can you ", " could you ", " would you ", " i'd like "]
            .iter()
            .any(|p| joined.contains(p))
}

/// Phrases that put the conversation on hold while the caller does something.
pub(super) const DEFERRALS: &[&str] = &[
    "hold on",
    "hang on",
    "one sec",
    "one second",
    "one moment",
    "one minute",
    "just a sec",
    "just a second",
    "just a moment",
    "just a minute",
    "give me a sec",
    "give me a second",
    "give me a moment",
    "give me a minute",
    "let me check",
    "let me just check",
    "let me look",
    "let me have a look",
    "let me find",
    "let me go find",
    "let me go check",
    "let me grab",
    "let me see",
    "let me think",
    "let me ask",
    "let me go look",
    "i go look",
    "i go check",
    "i'll go look",
    "i'll go check",
    "before you do anything",
];

/// Words that answer a question or ask something, so a turn holding them is more
/// than a request to wait.
pub(super) const ANSWERS: &[&str] = &[
    "no", "nope", "nah", "cancel", "stop", "never", "don't", "dont",
];

/// The caller asks us to wait while they check something ("hang on, let me open my
/// bank app and look", "hold on, let me ask my husband"): a hold phrase, no yes or no,
/// and no request or question of their own. An open question stays open.
pub fn defers(text: &str) -> bool {
    let ws = words(text);
    let joined = spaced_words(&ws);
    let holds = DEFERRALS.iter().any(|p| joined.contains(&format!(" {p} ")));
    // Numbers read out after the hold ("hang on… okay, three oh three oh one") answer.
    const DIGIT_WORDS: &[&str] = &[
        "zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    // (…and so does a path read out: "one second, it's in the log. POST, slash v two,
    // slash devices".)
    let numbers = text.chars().any(|c| c.is_ascii_digit())
        || ws.iter().filter(|w| *w == "slash").count() >= 2
        || ws
            .iter()
            .filter(|w| DIGIT_WORDS.contains(&w.as_str()))
            .count()
            >= 3;
    // "…I'll go look after my shift. Thank you, bye." leaves; it holds nothing.
    holds
        && !numbers
        && (!answers_or_asks(text) || hold_ends_turn(text) || doing_it_now(text))
        && !ends_with_farewell(text)
}

/// Phrases that say the caller is doing our advice right now.
const DOING_IT_NOW: &[&str] = &[
    "doing it now",
    "doing that now",
    "trying it now",
    "trying that now",
    "restarting it now",
    "restarting now",
    "i'm doing the",
    "i'm doing it",
    "i am doing the",
    "i am doing it",
    "i'm trying it",
    "i'm trying the",
    "i'm pulling the plug",
    "i'm unplugging",
    "i'm restarting",
    "i'm switching it",
    "i'm turning it",
];

/// "Restarting the phone, no, I haven't done that. Hang on, doing it now.": the turn
/// ends on a hold while the caller carries out our advice, and asks nothing.
fn doing_it_now(text: &str) -> bool {
    let Some(last) = text
        .split_inclusive(['.', '?', '!'])
        .rfind(|s| !words(s).is_empty())
    else {
        return false;
    };
    let last = spaced(last);
    !text.contains('?')
        && DOING_IT_NOW
            .iter()
            .any(|p| last.contains(&format!(" {p} ")))
}

/// "Restart the whole phone? Okay. Hold on, it is turning off now.", "Okay. My husband
/// is home, let me text him to do that. One moment.": the turn ends on the hold, and
/// what comes before it only takes in what we said — a short echo question at most,
/// no yes or no of its own, nothing asked for.
fn hold_ends_turn(text: &str) -> bool {
    let sentences: Vec<&str> = text
        .split_inclusive(['.', '?', '!'])
        .filter(|s| !words(s).is_empty())
        .collect();
    let Some(last) = sentences.last() else {
        return false;
    };
    let last_words = spaced(last);
    if !DEFERRALS
        .iter()
        .any(|p| last_words.contains(&format!(" {p} ")))
        || last.contains('?')
    {
        return false;
    }
    let soft = |w: &str| matches!(w, "ok" | "okay" | "alright" | "right" | "please" | "fine");
    // "Go ahead. Hang on, let me grab a pen." answers yes; "Is there an outage? Hang
    // on." asks. An echo of our advice ("Restart the whole phone?") does neither.
    const ASKING: &[&str] = &[
        "is", "are", "can", "could", "do", "does", "did", "will", "would", "what", "when", "where",
        "why", "how", "which", "who", "should",
    ];
    sentences.iter().all(|s| {
        let ws = words(s);
        let joined = spaced_words(&ws);
        let opening: String = ws.iter().take(3).cloned().collect::<Vec<_>>().join(" ");
        let echo = !s.trim_end().ends_with('?')
            || (ws.len() <= 5 && !ws.first().is_some_and(|w| ASKING.contains(&w.as_str())));
        echo && !has_yes_phrase(&opening)
            && !ws.iter().any(|w| {
                ANSWERS.contains(&w.as_str())
                    || (YES_WORDS.contains(&w.as_str()) && !soft(w))
                    || matches!(w.as_str(), "need" | "want" | "help")
            })
            && ![" can you ", " could you ", " would you ", " i'd like "]
                .iter()
                .any(|p| joined.contains(p))
    })
}

/// The caller asks what we just said, inside a longer turn ("sorry, the dog was
/// barking, when did you say it'd be fixed?", "what did you say the amount was?"):
/// the answer is what we said, said again (a repeat they asked for).
pub fn asks_to_repeat(text: &str) -> bool {
    let ws = words(text);
    if ws
        .windows(3)
        .any(|w| w[0] == "did" && w[1] == "you" && (w[2] == "say" || w[2] == "said"))
    {
        return true;
    }
    // "Sorry, go ahead, what'd you ask me?": a question about our question, with
    // nothing after it (not "did you ask for my zip? it's 62704").
    let last = text
        .trim_end()
        .trim_end_matches(['?', '.', '!'])
        .rsplit(['.', '?', '!'])
        .next()
        .unwrap_or("");
    let lw = words(last);
    let joined = spaced_words(&lw);
    let asks = lw.windows(3).any(|w| {
        matches!(w[0].as_str(), "did" | "what'd" | "whatd")
            && w[1] == "you"
            && matches!(w[2].as_str(), "ask" | "asked")
    }) || [
        " what was the question ",
        " what were you saying ",
        " where were we ",
    ]
    .iter()
    .any(|p| joined.contains(p));
    // "Sorry, which number did it go to?": a question about where what we just did
    // went, answered by what we said.
    let asks_where = lw
        .iter()
        .any(|w| matches!(w.as_str(), "which" | "what" | "where"))
        && [
            " did it go ",
            " did that go ",
            " did you send it ",
            " did you send that ",
            " did you send it to ",
            " was it sent ",
            " was that sent ",
            " did it get sent ",
            " number was that ",
            " email was that ",
            " address was that ",
        ]
        .iter()
        .any(|p| joined.contains(p));
    (asks || asks_where) && !text.chars().any(|c| c.is_ascii_digit()) && lw.len() <= 8
}
