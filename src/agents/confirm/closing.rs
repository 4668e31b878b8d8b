//! The end of a call in the caller's words: farewells at the end of a turn, firm
//! closings, acknowledgements that ask nothing, and whether a turn asks for something.

use super::*;

/// Phrases that close a call when they end the caller's turn.
pub(super) const FAREWELLS: &[&str] = &[
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
    "ta ra a bit",
    "cheerio",
    "bye for now",
    "have a good one",
    "have a good night",
    "good night",
    "goodnight",
    "have a good evening",
    "have a great day",
    "adiós",
    "adios",
    "ciao",
    "tschüss",
    "tschuss",
    "au revoir",
    "hasta luego",
    "cya",
];

/// Words that open a parting pleasantry after a goodbye: thanks for something
/// ("cheers for explaining"), a wish ("and hey, have a good one"), laughter.
const PARTING: &[&str] = &[
    "thanks", "thank", "cheers", "ta", "have", "enjoy", "lol", "haha",
];

/// Words that may lead into a parting pleasantry ("and hey, you have yourself…").
const PARTING_LEADS: &[&str] = &["and", "hey", "oh", "so", "also", "you", "yourself", "again"];

/// A clause that only follows a goodbye: thanks, a wish, laughter, or lead-in words.
fn parting_pleasantry(clause: &str) -> bool {
    let ws = words(clause);
    match ws.iter().find(|w| !PARTING_LEADS.contains(&w.as_str())) {
        Some(w) => PARTING.contains(&w.as_str()),
        None => true,
    }
}

/// Politeness that may follow a farewell ("bye, thanks") or fill around it.
pub(super) const FILLERS: &[&str] = &[
    "thanks", "thank", "you", "very", "much", "so", "again", "then", "ok", "okay", "for", "your",
    "help", "great", "perfect", "cheers", "now",
    // Whom the thanks are for ("thank you, brother", "thanks, my dear").
    "brother", "sister", "mate", "man", "dear", "friend", "buddy", "boss", "my", "love", "honey",
];

/// Words that show a turn asks for something (a request or a problem), so a farewell
/// at its end does not make the whole turn a goodbye.
pub(super) const REQUEST_MARKERS: &[&str] = &[
    "need", "want", "help", "please", "can't", "cannot", "won't", "doesn't", "isn't", "broken",
    "problem", "issue", "refund", "cancel", "change", "charge", "charged", "invoice", "bill",
    "reset", "error", "wrong",
];

/// Question words ask only where they open a sentence ("why is it…"), not inside a
/// statement ("that's probably why it didn't go through").
pub(super) const QUESTION_WORDS: &[&str] = &["how", "why", "what", "when", "where", "which"];

/// Words that may come before a question word at the start of a sentence.
pub(super) const OPENERS: &[&str] = &["so", "and", "but", "um", "uh", "okay", "ok", "oh", "then"];

/// Some sentence of `text` opens with a question word.
pub(super) fn opens_with_question_word(text: &str) -> bool {
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
pub(super) const FIRM_CLOSINGS: &[&str] = &[
    "that's all i needed",
    "that's all",
    "that's everything",
    "that's it",
];

/// A question tag that only checks what we said ("and the ticket, somebody answers
/// within one day, yes?", "so that's Friday, right?"): it asks for no new step.
const TAGS: &[&str] = &[
    "yes", "yeah", "right", "correct", "yes no", "no", "ok", "okay",
];

/// The sentences of `text` that ask something, leaving out question tags that only
/// check what we said (no request word in them).
fn questions_asked(text: &str) -> usize {
    text.split_inclusive(['.', '!', '?'])
        .filter(|s| s.trim_end().ends_with('?'))
        .filter(|s| {
            let clauses: Vec<&str> = s.split(',').collect();
            let tag = words(clauses.last().copied().unwrap_or(""));
            let checks = clauses.len() > 1
                && TAGS.contains(&tag.join(" ").as_str())
                && !words(s)
                    .iter()
                    .any(|w| REQUEST_MARKERS.contains(&w.as_str()))
                && !opens_with_question_word(s);
            !checks
        })
        .count()
}

/// "…it won't be done by one. Fine, I'll start it after three. That's all I needed,
/// thanks, bye.": a firm closing at the end, no question and no request in the turn
/// (a question tag checking what we said aside: "…one day, yes? Fine. That's
/// everything.").
pub(super) fn closes_firmly(text: &str) -> bool {
    super::says_any(text, FIRM_CLOSINGS)
        && questions_asked(text) == 0
        && !super::says_any(
            text,
            &["can you", "could you", "i need", "i want", "please"],
        )
}

/// The turn asks for something or reports a problem (a question, a request word, a
/// question word opening a sentence).
pub(super) fn asks_something(text: &str) -> bool {
    // "Hello? You there?" asks nothing of substance.
    let substance: String = text
        .split_inclusive(['.', '!', '?'])
        .filter(|s| interjection(s).is_none())
        .collect();
    let text = substance.as_str();
    let ws = words(text);
    let joined = spaced_words(&ws);
    // "Okay, no problem, I'm going back to sleep" reports nothing.
    let markers = joined
        .replace(" no problem ", " ")
        .replace(" not a problem ", " ");
    text.contains('?')
        || markers
            .split_whitespace()
            .any(|w| REQUEST_MARKERS.contains(&w))
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
    let ws = words(text);
    // "What I actually need is…", "we really want…": the caller's own need, however
    // it is put.
    // ("That's all I needed" closes.)
    let own_need = ws.windows(3).enumerate().any(|(i, w)| {
        let closing = i > 0 && matches!(ws[i - 1].as_str(), "all" | "everything" | "anything");
        // ("I only wanted to know" asks nothing.)
        let verb = if matches!(w[1].as_str(), "need" | "want" | "needed" | "wanted") {
            i + 1
        } else {
            i + 2
        };
        let to_know = ws.get(verb + 1).is_some_and(|w| w == "to")
            && ws.get(verb + 2).is_some_and(|w| {
                matches!(
                    w.as_str(),
                    "know" | "check" | "ask" | "say" | "tell" | "let" | "hear" | "see"
                )
            });
        !closing
            && !to_know
            && matches!(w[0].as_str(), "i" | "we")
            && (matches!(w[1].as_str(), "need" | "want" | "needed" | "wanted")
                || (matches!(
                    w[1].as_str(),
                    "actually" | "really" | "just" | "still" | "only"
                ) && matches!(w[2].as_str(), "need" | "want" | "needed" | "wanted")))
    });
    if own_need {
        return true;
    }
    // ("That's all I need, bye" closes: the need is met.)
    let mut joined = spaced_words(&ws);
    for closing in [
        " that's all i need ",
        " that is all i need ",
        " that's all we need ",
        " that's everything i need ",
        " that's all i want ",
    ] {
        joined = joined.replace(closing, " ");
    }
    [
        // (The caller's own need: "…how they want to do it" asks nothing of us.)
        " i need ",
        " we need ",
        " i still need ",
        " i want ",
        " we want ",
        " i'd want ",
        " i wanted ",
        " can you ",
        " could you ",
        " would you ",
        " i'd like ",
        " send me ",
        " email me ",
        " text me ",
        " please send ",
        // "Then text it to her phone so she sees it."
        " text it to ",
        " email it to ",
        " send it to ",
    ]
    .iter()
    .any(|p| joined.contains(p))
}

/// Phrases that take in what we said ("good to know", "makes sense").
pub(super) const ACKNOWLEDGEMENTS: &[&str] = &[
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
    super::says_any(text, ACKNOWLEDGEMENTS) && !asks_something(text)
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
    // "…I've barrel hoops to fit before dark. Cheers.": a parting word as the last
    // sentence of its own, after something else.
    let sentences: Vec<&str> = text
        .split(['.', '!', ';'])
        .filter(|c| !words(c).is_empty())
        .collect();
    // (Not after a bare "Okay." or "Yes.": "Okay. Cheers." is thanks for what we
    // offered.)
    let before_words: usize = sentences
        .iter()
        .take(sentences.len().saturating_sub(1))
        .map(|c| words(c).len())
        .sum();
    if sentences.len() > 1
        && before_words >= 4
        && sentences.last().is_some_and(|c| {
            matches!(
                words(c).join(" ").as_str(),
                "cheers" | "cheers then" | "cheers now" | "ta ra" | "tara" | "ta-ra" | "cheerio"
            )
        })
    {
        return true;
    }
    // Drop parting pleasantries after the goodbye ("…, bye, and hey, have a good one",
    // "see ya, and cheers for explaining"); at least one clause stays.
    let mut clauses: Vec<&str> = text
        .split(['.', ',', ';', '!'])
        .filter(|c| !words(c).is_empty())
        .collect();
    // A goodbye in the caller's own language after an English one ("thank you, that
    // is all, bayartai"): one last word we do not know, after a farewell.
    if clauses.len() > 1 && clauses.last().is_some_and(|c| foreign_parting(c)) {
        let before = clauses[..clauses.len() - 1].join(",");
        // Only after thanks or a goodbye: "That's it, totally dark" answers a question.
        let joined = spaced(&before);
        let thanked = words(&before).iter().any(|w| {
            matches!(
                w.as_str(),
                "thanks" | "thank" | "bye" | "goodbye" | "cheers"
            )
        }) || [" that's all ", " that is all ", " that's everything "]
            .iter()
            .any(|c| joined.ends_with(c));
        if thanked && ends_with_plain_farewell(&before) {
            return true;
        }
    }
    while clauses.len() > 1 && clauses.last().is_some_and(|c| parting_pleasantry(c)) {
        let before = clauses[..clauses.len() - 1].join(",");
        if ends_with_plain_farewell(&before) {
            return true;
        }
        clauses.pop();
    }
    ends_with_plain_farewell(text)
}

/// A last clause of a word or two that says nothing we know ("bayartai", "ma'a
/// salama"): not a
/// turn of the conversation ("wait", "actually", "sorry", "hello", a yes or a no).
fn foreign_parting(clause: &str) -> bool {
    const NOT_PARTING: &[&str] = &[
        "wait", "actually", "also", "sorry", "hello", "hmm", "what", "but", "and", "yes", "yeah",
        "no", "nope", "please", "help", "again", "hold", "one", "though", "anyway", "right",
        "okay", "ok", "alright", "well", "oh", "ah", "um", "uh", "so",
    ];
    let ws = words(clause);
    (1..=2).contains(&ws.len())
        && ws.iter().map(String::len).sum::<usize>() >= 4
        && ws.iter().all(|w| {
            !NOT_PARTING.contains(&w.as_str()) && w.chars().all(|c| c.is_alphabetic() || c == '\'')
        })
}

/// `text` ends with a farewell, trailing politeness aside.
fn ends_with_plain_farewell(text: &str) -> bool {
    let mut ws = words(text);
    // Drop trailing politeness: "bye, thanks" / "goodbye then".
    while ws.last().is_some_and(|w| FILLERS.contains(&w.as_str())) {
        if ws.len() == 1 {
            break;
        }
        ws.pop();
    }
    let joined = format!(" {}", ws.join(" "));
    FAREWELLS.iter().any(|f| {
        joined.ends_with(&format!(" {f}"))
            // "Later." / "okay, catch you later" part; "…chasing me later" does not.
            && (*f != "later" || last_clause_words(text) <= 3)
    })
}

/// How many words the last clause of `text` has, trailing politeness clauses
/// ("…, thanks") aside.
fn last_clause_words(text: &str) -> usize {
    text.split(['.', ',', ';', '!', '?'])
        .map(words)
        .rfind(|ws| !ws.is_empty() && !ws.iter().all(|w| FILLERS.contains(&w.as_str())))
        .map_or(0, |ws| ws.len())
}

/// Recognisers often spell a closing "bye" as "buy" or "by"; only a last clause of
/// its own after something else counts ("Yes, go ahead, thanks, buy.") — never
/// "…all I needed to buy", nor "Buy." alone (an answer to "renew or buy?").
pub(super) fn misheard_bye(text: &str) -> bool {
    let body = text.trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
    let mut clauses = body.rsplit(['.', ',', '!', '?', ';']);
    let last = words(clauses.next().unwrap_or(""));
    let before = clauses.any(|c| !words(c).is_empty());
    // Also farewells that are surnames too ("Chau", "Chao"): only as a clause of
    // their own after something else ("…sorry for bothering you. Chau!"), never
    // "the account's under Linh Chau".
    before
        && !last.is_empty()
        && last.len() <= 2
        && last
            .iter()
            .all(|w| matches!(w.as_str(), "buy" | "by" | "chau" | "chao" | "tchau"))
}
