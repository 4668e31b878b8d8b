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
    "later",
    "see you",
    "see ya",
    "take care",
    "talk to you later",
    "ta ra",
    "cheerio",
    "bye for now",
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

/// The turn holds an unmistakable yes phrase ("go ahead", "do it", "let's do it").
pub fn has_yes_phrase(text: &str) -> bool {
    let joined = format!(" {} ", words(text).join(" "));
    YES_PHRASES
        .iter()
        .any(|p| joined.contains(&format!(" {p} ")))
}

/// A yes that is more than a filler: "yes", "sure", "go ahead" — not the "okay" of
/// "okay, I'll think about it".
pub fn is_clear_yes(text: &str) -> bool {
    const STRONG: &[&str] = &[
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
    !is_negative(text)
        && (has_yes_phrase(text) || words(text).iter().any(|w| STRONG.contains(&w.as_str())))
}

/// A yes that answers our question: clear ("yes", "go ahead"), or a plain "okay"
/// that asks nothing back ("okay… so what about the double charge?" is not a yes).
pub fn is_yes_answer(text: &str) -> bool {
    is_affirmative(text) && (is_clear_yes(text) || !text.contains('?'))
}

/// Words that only lead into a clause.
const LEAD_INS: &[&str] = &[
    "oh", "um", "uh", "well", "but", "and", "so", "actually", "hmm", "okay", "ok", "whoa", "ah",
];
/// Phrases that refuse wherever they stand in a clause.
const REFUSALS: &[&str] = &[
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
    "later",
    "think about it",
    "check with",
    "talk to him",
    "talk to her",
    "talk to them",
    "ask my",
    "not sure",
];

/// The caller turns our offer down in some clause: one that opens with a refusal
/// ("no, forget it", "don't…", "not now", "wait…") or holds one. A negation inside a
/// statement ("yeah, let's do that, I'm not rewriting the whole script") is not one.
pub fn refuses(text: &str) -> bool {
    text.split(['.', ',', ';', '!', '?']).any(|clause| {
        let ws = words(clause);
        let joined = format!(" {} ", ws.join(" "));
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
    })
}

/// The caller takes our offer: a yes ([`is_yes_answer`], judged clause by clause for
/// negations, see [`refuses`]) and no refusal.
pub fn accepts(text: &str) -> bool {
    if refuses(text) {
        return false;
    }
    let ws = words(text);
    let joined = format!(" {} ", ws.join(" "));
    let phrase = YES_PHRASES
        .iter()
        .any(|p| joined.contains(&format!(" {p} ")));
    let clear = phrase
        || ws.iter().any(|w| {
            matches!(
                w.as_str(),
                "yes"
                    | "yeah"
                    | "yep"
                    | "yup"
                    | "yea"
                    | "sure"
                    | "absolutely"
                    | "definitely"
                    | "confirm"
            )
        });
    let plain = ws
        .iter()
        .any(|w| w != "please" && YES_WORDS.contains(&w.as_str()))
        || ws.join(" ") == "please";
    clear || (plain && !text.contains('?'))
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

const INTERJECTIONS: &[(&str, Interjection)] = &[
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
const HESITATIONS: &[&str] = &[
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
            .or_else(|| leading_interjection(text));
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
fn leading_interjection(text: &str) -> Option<Interjection> {
    let cut = text.find(['.', '?', '!'])?;
    let (first, rest) = text.split_at(cut + 1);
    if rest.trim().is_empty() || answers_or_asks(rest) || ends_with_farewell(rest) {
        return None;
    }
    let first_words = words(first);
    if first_words.is_empty() || words(rest).len() > 12 {
        return None;
    }
    interjection(first)
}

/// The text answers a question (yes or no) or asks for something of its own.
fn answers_or_asks(text: &str) -> bool {
    let ws = words(text);
    let joined = format!(" {} ", ws.join(" "));
    // "okay", "alright", "please" are fillers; "yes", "go ahead" answer.
    let soft = |w: &str| matches!(w, "ok" | "okay" | "alright" | "right" | "please" | "fine");
    ws.iter().any(|w| ANSWERS.contains(&w.as_str()))
        || ws
            .iter()
            .any(|w| YES_WORDS.contains(&w.as_str()) && !soft(w))
        || has_yes_phrase(text)
        || text.contains('?')
        || ws.iter().any(|w| {
            matches!(
                w.as_str(),
                "need" | "want" | "help" | "how" | "why" | "what" | "when" | "where" | "which"
            )
        })
        || [" can you ", " could you ", " would you ", " i'd like "]
            .iter()
            .any(|p| joined.contains(p))
}

/// Phrases that put the conversation on hold while the caller does something.
const DEFERRALS: &[&str] = &[
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
    "before you do anything",
];
/// Words that answer a question or ask something, so a turn holding them is more
/// than a request to wait.
const ANSWERS: &[&str] = &[
    "no", "nope", "nah", "cancel", "stop", "never", "don't", "dont",
];

/// The caller asks us to wait while they check something ("hang on, let me open my
/// bank app and look", "hold on, let me ask my husband"): a hold phrase, no yes or no,
/// and no request or question of their own. An open question stays open.
pub fn defers(text: &str) -> bool {
    let ws = words(text);
    let joined = format!(" {} ", ws.join(" "));
    let holds = DEFERRALS.iter().any(|p| joined.contains(&format!(" {p} ")));
    // Numbers read out after the hold ("hang on… okay, three oh three oh one") answer.
    const DIGIT_WORDS: &[&str] = &[
        "zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    let numbers = text.chars().any(|c| c.is_ascii_digit())
        || ws
            .iter()
            .filter(|w| DIGIT_WORDS.contains(&w.as_str()))
            .count()
            >= 3;
    holds && !numbers && !answers_or_asks(text)
}

/// Who a caller means by "a person".
const PEOPLE: &[&str] = &[
    "person",
    "human",
    "someone",
    "somebody",
    "operator",
    "representative",
    "rep",
    "agent",
    "supervisor",
    "manager",
    "people",
];

/// The caller asks for a person ("is there an actual human I can talk to?", "get me a
/// supervisor", "can I speak to someone?"), in a clause that is not negated ("I don't
/// need a person, just…" is not a request).
pub fn asks_for_person(text: &str) -> bool {
    text.split(['.', '!', '?', ';', ',']).map(words).any(|ws| {
        let negated = ws
            .iter()
            .any(|w| w == "not" || w == "no" || w == "never" || w.ends_with("n't"));
        if negated {
            return false;
        }
        let joined = format!(" {} ", ws.join(" "));
        let has = |w: &str| ws.iter().any(|x| x == w);
        let any = |ps: &[&str]| ps.iter().any(|p| joined.contains(p));
        let real = any(&[
            " real person ",
            " actual person ",
            " real human ",
            " actual human ",
            " live person ",
            " live agent ",
            " human being ",
        ]);
        let strong = ["supervisor", "manager", "operator", "representative"]
            .iter()
            .any(|w| has(w));
        let plain = PEOPLE.iter().any(|p| has(p));
        let talk = any(&[
            " talk to ",
            " talk with ",
            " speak to ",
            " speak with ",
            " put me through ",
            " transfer me ",
            " connect me ",
        ]);
        let ask = talk
            || any(&[
                " get me ",
                " is there ",
                " i want ",
                " i need ",
                " i'd like ",
                " let me ",
            ]);
        ((real || strong) && ask) || (plain && talk)
    })
}

/// Words that show a turn asks for something (a request or a problem), so a farewell
/// at its end does not make the whole turn a goodbye.
const REQUEST_MARKERS: &[&str] = &[
    "need", "want", "help", "please", "can't", "cannot", "won't", "doesn't", "isn't", "broken",
    "problem", "issue", "refund", "cancel", "change", "charge", "charged", "invoice", "bill",
    "reset", "error", "wrong",
];
/// Question words ask only where they open a sentence ("why is it…"), not inside a
/// statement ("that's probably why it didn't go through").
const QUESTION_WORDS: &[&str] = &["how", "why", "what", "when", "where", "which"];
/// Words that may come before a question word at the start of a sentence.
const OPENERS: &[&str] = &["so", "and", "but", "um", "uh", "okay", "ok", "oh", "then"];

/// Some sentence of `text` opens with a question word.
fn opens_with_question_word(text: &str) -> bool {
    text.split(['.', '!', '?', ';', ',']).any(|sentence| {
        words(sentence)
            .iter()
            .find(|w| !OPENERS.contains(&w.as_str()))
            .is_some_and(|w| QUESTION_WORDS.contains(&w.as_str()))
    })
}

/// A turn that only acknowledges what we said and says goodbye ("Alright, I'll try
/// that. Thanks, bye."): it ends with a farewell and, before it, asks nothing.
pub fn is_acknowledged_farewell(text: &str) -> bool {
    ends_with_farewell(text) && (!asks_something(text) || closes_firmly(text))
}

/// Phrases that close a call whatever came before them in the turn.
const FIRM_CLOSINGS: &[&str] = &[
    "that's all i needed",
    "that's all",
    "that's everything",
    "that's it",
];

/// "…it won't be done by one. Fine, I'll start it after three. That's all I needed,
/// thanks, bye.": a firm closing at the end, no question and no request in the turn.
fn closes_firmly(text: &str) -> bool {
    let joined = format!(" {} ", words(text).join(" "));
    FIRM_CLOSINGS
        .iter()
        .any(|c| joined.contains(&format!(" {c} ")))
        && !text.contains('?')
        && ![
            " can you ",
            " could you ",
            " i need ",
            " i want ",
            " please ",
        ]
        .iter()
        .any(|p| joined.contains(p))
}

/// The turn asks for something or reports a problem (a question, a request word, a
/// question word opening a sentence).
fn asks_something(text: &str) -> bool {
    // "Hello? You there?" asks nothing of substance.
    let substance: String = text
        .split_inclusive(['.', '!', '?'])
        .filter(|s| interjection(s).is_none())
        .collect();
    let text = substance.as_str();
    let ws = words(text);
    let joined = format!(" {} ", ws.join(" "));
    text.contains('?')
        || ws.iter().any(|w| REQUEST_MARKERS.contains(&w.as_str()))
        || opens_with_question_word(text)
        || [
            " can you ",
            " could you ",
            " would you ",
            " i'd like ",
            " id like ",
        ]
        .iter()
        .any(|p| joined.contains(p))
}

/// The turn asks for something in so many words ("what I need is…", "can you…",
/// "email me…").
pub fn makes_request(text: &str) -> bool {
    let joined = format!(" {} ", words(text).join(" "));
    [
        " need ",
        " want ",
        " can you ",
        " could you ",
        " would you ",
        " i'd like ",
        " send me ",
        " email me ",
        " text me ",
        " please send ",
    ]
    .iter()
    .any(|p| joined.contains(p))
}

/// Phrases that take in what we said ("good to know", "makes sense").
const ACKNOWLEDGEMENTS: &[&str] = &[
    "good to know",
    "makes sense",
    "that makes sense",
    "got it",
    "i see",
    "fair enough",
    "understood",
    "that helps",
    "that's helpful",
    "okay cool",
    "ok cool",
];

/// A turn that only takes in what we said ("Ah, okay, good to know. I'll leave the
/// router alone then."): an acknowledgement, and nothing asked or reported.
pub fn is_acknowledgement(text: &str) -> bool {
    let joined = format!(" {} ", words(text).join(" "));
    ACKNOWLEDGEMENTS
        .iter()
        .any(|a| joined.contains(&format!(" {a} ")))
        && !asks_something(text)
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
    fn a_hold_while_the_caller_checks_keeps_the_question_open() {
        assert_eq!(
            interjection("sorry, say that again? the kids were yelling"),
            Some(Interjection::Repeat)
        );
        assert_eq!(
            interjection("sorry, say that again? I want the pro plan"),
            None
        );
        for t in [
            "wait, hang on, before you do anything let me open my bank app and look. one sec",
            "Hang on a sec, let me just check with my husband.",
            "okay hold on, let me go find an old bill",
            "let me have a look at my statement real quick",
        ] {
            assert_eq!(interjection(t), Some(Interjection::Wait), "{t}");
        }
        assert!(!defers(
            "Oh. Hang on, let me grab a letter from you guys. Okay, here. Three oh three oh one."
        ));
        assert_eq!(
            interjection(
                "Hello? You there? It went quiet. Oh, okay, yeah, it just came in. Thanks, bye."
            ),
            None
        );
        assert!(is_acknowledged_farewell(
            "Hello? You there? It went quiet. Oh, okay, yeah, it just came in. Thanks, bye."
        ));
        assert!(is_acknowledged_farewell(
            "One to three. Okay, so if I start it at ten, no, it won't be done by one. Fine. That's all I needed, thanks, bye."
        ));
        assert!(ends_with_farewell("Got it, that's it. Later."));
        for t in [
            "hang on, no, don't do that",
            "okay yeah, I checked, go ahead",
            "hold on, can you also send my invoice?",
            "one second, I need a refund for the other charge too",
            "let me check: yes, that's the one",
        ] {
            assert!(!defers(t), "{t}");
        }
    }

    #[test]
    fn interjections_answer_nothing() {
        use Interjection::*;
        for (t, want) in [
            ("Hello? Are you still there?", StillThere),
            ("hello?", StillThere),
            ("Um, can you hear me?", StillThere),
            ("Sorry, what?", Repeat),
            ("Come again?", Repeat),
            ("Sorry, I didn't catch that.", Repeat),
            ("Hold on a second.", Wait),
            ("One moment please", Wait),
        ] {
            assert_eq!(interjection(t), Some(want), "{t}");
        }
        for t in [
            "Yes please",
            "Hello, I was charged twice",
            "What is that charge for?",
            "Sorry, I meant the March invoice",
            "no",
        ] {
            assert_eq!(interjection(t), None, "{t}");
        }
    }

    #[test]
    fn person_requests() {
        for t in [
            "Is there an actual human I can talk to?",
            "Can I speak to someone, please",
            "Get me a supervisor.",
            "I want to talk to a real person",
            "Just put me through to an operator",
        ] {
            assert!(asks_for_person(t), "{t}");
        }
        for t in [
            "I don't need a person, just reset my password",
            "my person on the account is my wife",
            "I was charged twice",
            "someone at my house broke the router",
            "I need someone to come and fix the router",
        ] {
            assert!(!asks_for_person(t), "{t}");
        }
    }

    #[test]
    fn offers_taken_or_refused_clause_by_clause() {
        for t in [
            "Six thousand, okay. Is that the ninety dollar one? Yeah, let's do that, I'm not rewriting the whole script.",
            "okay yeah, put me on that",
            "Yes please",
            "sounds good",
        ] {
            assert!(accepts(t), "{t}");
        }
        for t in [
            "Whoa, that's more than double what I pay now. No, forget it, leave me where I am.",
            "hmm. nah you know what, not right now",
            "Oh, only a hundred? No, don't switch it then",
            "Yes, but don't charge my card yet",
            "Okay, I'll try restarting it tonight. So what about the double charge?",
            "wait, is that instead of the old price?",
            "Yeah, I'll call back later once I've talked to him. Thanks, bye.",
            "yeah maybe, let me think about it",
        ] {
            assert!(!accepts(t), "{t}");
        }
        assert!(refuses(
            "No. I'm not paying more for that. Leave it as it is."
        ));
        assert!(!refuses("yeah, I'm not rewriting the script, do it"));
    }

    #[test]
    fn acknowledgements_ask_nothing() {
        assert!(is_acknowledgement(
            "Ah, okay, so it might happen again tonight. Good to know. I'll leave the router alone then."
        ));
        assert!(is_acknowledgement("Got it, makes sense."));
        assert!(!is_acknowledgement("Got it. But why was I charged twice?"));
        assert!(!is_acknowledgement("I see, but it still doesn't work"));
    }

    #[test]
    fn acknowledged_farewells() {
        for t in [
            "Alright, I'll try that. Thanks, bye.",
            "Okay great, thank you, goodbye",
            "Got it. That's all.",
            "Huh. My bank account changed, that's probably why it didn't go through. I'll just pay it online tonight. Thanks, bye.",
        ] {
            assert!(is_acknowledged_farewell(t), "{t}");
        }
        for t in [
            "So why was I charged for March. Bye",
            "I still need a refund, bye",
            "Can you send it by email? Bye",
            "Thanks",
        ] {
            assert!(!is_acknowledged_farewell(t), "{t}");
        }
    }

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
