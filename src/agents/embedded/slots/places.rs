//! The places a caller names ("out in Riverside", "round Springfield"), and the place
//! an answer to "which city or area?" opens with.

/// A place the caller names ("my son just moved out to Riverside", "my internet at
/// home in San Diego"): one or two capitalised words after "in", "to", "at", "near"
/// or "around", not a month, a day or a word that starts sentences. The last one
/// named wins. Recognisers capitalise names, which is what this reads.
pub fn place(text: &str) -> Option<String> {
    places(text).pop()
}

/// A place asked about in a short follow-up question of its own ("And Springfield?",
/// "What about Austin?", "Or Boston?"): the same question again, of another place.
pub fn place_followup(text: &str) -> Option<String> {
    text.split_inclusive(['.', '!', '?'])
        .filter(|s| s.trim_end().ends_with('?'))
        .find_map(|s| {
            let ws: Vec<&str> = s
                .trim()
                .trim_end_matches('?')
                .split_whitespace()
                .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
                .collect();
            let lead = match ws.as_slice() {
                [w, ..] if matches!(w.to_lowercase().as_str(), "and" | "or" | "also") => 1,
                [a, b, ..]
                    if matches!(a.to_lowercase().as_str(), "what" | "how")
                        && b.eq_ignore_ascii_case("about") =>
                {
                    2
                }
                _ => return None,
            };
            let rest = ws[lead..].join(" ");
            (ws.len() - lead <= 3)
                .then(|| places(&format!("in {rest}")).pop())
                .flatten()
        })
}

/// The place an answer to "which city or area?" opens with ("Riverside. The shop's on
/// Magnolia." → Riverside): a capitalised name making up its first sentence (up to two
/// words), or any place [`places`] reads.
pub fn place_answer(text: &str) -> Option<String> {
    if let Some(p) = place(text) {
        return Some(p);
    }
    let first = text.split(['.', '!', '?', ',']).next()?.trim();
    let ws: Vec<&str> = first.split_whitespace().collect();
    let capital = |t: &&str| {
        t.chars().next().is_some_and(char::is_uppercase)
            && t.chars().skip(1).all(|c| c.is_lowercase() || c == '-')
    };
    // Words that open any answer, not a name.
    const OPENERS: &[&str] = &[
        "yes", "yeah", "yep", "no", "nope", "hello", "hi", "hiya", "hey", "howdy", "okay", "ok",
        "sorry", "thanks", "well", "um", "uh", "sure", "wait", "what", "pardon", "right",
        "alright", "fine", "good", "huh", "hmm", "oh", "ah", "oops",
    ];
    let opener = ws
        .iter()
        .any(|w| OPENERS.contains(&w.to_lowercase().as_str()));
    (!ws.is_empty()
        && ws.len() <= 2
        && !opener
        && ws.iter().all(capital)
        && places(&format!("in {first}")).len() == 1)
        .then(|| ws.join(" "))
}

/// Every place the caller names, each once, in the order last named ("my sister in
/// Riverside and my mother in Springfield" → Riverside, Springfield), as [`place`]
/// reads them.
/// The place a caller names as a correction ("I had it wrong, it's Riverside, not
/// Riverdale"): a name after "it's" / "it is" / "actually", read as "in <name>"; else
/// [`place_answer`].
pub fn corrected_place(text: &str) -> Option<String> {
    let ws: Vec<&str> = text.split_whitespace().collect();
    ws.windows(2)
        .filter(|w| {
            let lead = w[0]
                .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
                .to_lowercase();
            matches!(lead.as_str(), "it's" | "its" | "actually" | "is") && !w[0].ends_with(',')
        })
        .find_map(|w| places(&format!("in {}", w[1])).pop())
        .or_else(|| place_answer(text))
}

pub fn places(text: &str) -> Vec<String> {
    const NOT_PLACES: &[&str] = &[
        "i",
        "i'm",
        "i've",
        "the",
        "a",
        "my",
        "our",
        "your",
        "this",
        "that",
        "it",
        "you",
        "we",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "switchboard",
        "wi-fi",
        "wifi",
        "internet",
        "api",
        "basic",
        "plus",
        "pro",
        "english",
        "spanish",
        "french",
    ];
    let raw: Vec<&str> = text.split_whitespace().collect();
    let tokens: Vec<&str> = raw
        .iter()
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '\''))
        .collect();
    let capital = |t: &str| {
        t.chars().next().is_some_and(char::is_uppercase)
            && t.chars().skip(1).all(|c| c.is_lowercase() || c == '-')
            && !NOT_PLACES.contains(&t.to_lowercase().as_str())
    };
    let mut found = Vec::new();
    for i in 0..tokens.len().saturating_sub(1) {
        if !matches!(
            tokens[i].to_lowercase().as_str(),
            "in" | "to" | "at" | "near" | "around" | "round" | "for" | "across" | "over"
        ) {
            continue;
        }
        // "Is the internet spoil for Springfield?", "anything wrong over Riverside
        // way?": after "for", "over" or "across" only a place something is wrong in —
        // "I need it for Zoom", "over Christmas", "a bill for Maria" name none.
        let loose = matches!(tokens[i].to_lowercase().as_str(), "for" | "over" | "across");
        if loose
            && !(i > 0
                && matches!(
                    tokens[i - 1].to_lowercase().as_str(),
                    "spoil"
                        | "spoilt"
                        | "down"
                        | "out"
                        | "outage"
                        | "outages"
                        | "wrong"
                        | "problem"
                        | "problems"
                        | "trouble"
                        | "issues"
                        | "slow"
                        | "dead"
                        | "working"
                        | "status"
                        | "maintenance"
                        | "broken"
                        | "off"
                ))
        {
            continue;
        }
        // "…plugged it back in. Still nothing": the sentence ended at the preposition.
        if raw[i].ends_with(|c: char| c.is_ascii_punctuation()) {
            continue;
        }
        if !capital(tokens[i + 1]) {
            continue;
        }
        let mut name = tokens[i + 1].to_string();
        // "…down in Denver. Is that you?": a name ends with its sentence.
        let ends_sentence = raw[i + 1].ends_with(|c: char| c.is_ascii_punctuation());
        if let Some(next) = tokens.get(i + 2).filter(|t| capital(t) && !ends_sentence) {
            name.push(' ');
            name.push_str(next);
        }
        // In the order last named: `place` reads the last one.
        found.retain(|f| *f != name);
        found.push(name);
    }
    found
}
