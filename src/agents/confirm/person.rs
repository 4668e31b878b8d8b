//! A request for a person ("is there an actual human I can talk to?"), in a clause
//! that is not negated.

use super::*;

/// Who a caller means by "a person".
pub(super) const PEOPLE: &[&str] = &[
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
        let negated = ws.iter().any(|w| w == "no" || negates(w));
        if negated {
            return false;
        }
        let joined = spaced_words(&ws);
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
        // ("I want someone senior to hear it from me".)
        let senior = any(&[
            " someone senior ",
            " somebody senior ",
            " someone more senior ",
            " someone higher up ",
            " somebody higher up ",
            " someone in charge ",
            " somebody in charge ",
        ]);
        let strong = senior
            || ["supervisor", "manager", "operator", "representative"]
                .iter()
                .any(|w| has(w));
        // A clause that is only the ask: "…, a person, please."
        let bare = matches!(
            joined.as_str(),
            " a person "
                | " a human "
                | " a real person "
                | " a person please "
                | " a human please "
        );
        let plain = PEOPLE.iter().any(|p| has(p));
        let talk = any(&[
            " talk to ",
            " talk with ",
            " speak to ",
            " speak with ",
            " put me through ",
            " put me on to ",
            " put me onto ",
            " put me on with ",
            " transfer me ",
            " connect me ",
        ]);
        // "Can you have a real person call me back?", "please have somebody call me
        // about it" — not "the agent said someone would call me back".
        // "Please have somebody call me about it, after two is best."
        let call_back = any(&[" call me ", " ring me ", " give me a call ", " phone me "])
            && any(&[
                " can ",
                " could ",
                " please ",
                " i want ",
                " i need ",
                " i'd like ",
                " have someone ",
                " have somebody ",
                " have a ",
                " get someone ",
                " get somebody ",
                " get a ",
            ])
            && !any(&[
                " said ",
                " told ",
                " promised ",
                " supposed ",
                " they'd ",
                " would call ",
                " had ",
                " times ",
                " already ",
            ]);
        let talk = talk || call_back;
        let ask = talk
            || any(&[
                " get me ",
                " is there ",
                " i want ",
                " i need ",
                " i'd like ",
                " let me ",
                // "Can a real person sort that out with me?"
                " can a ",
                " could a ",
                " can i get a ",
                " could i get a ",
            ]);
        // "Then I want a person who can sort that, please."
        let wants_one = any(&[
            " get me a person ",
            " get me a human ",
            " want a person ",
            " need a person ",
            " want a human ",
            " need a human ",
            " like a person ",
            " get a person ",
            " a person who can ",
            " a human who can ",
        ]);
        // (Not a visit: "do I need a person to come out?", "send a person who can fix
        // the cable".)
        let visit = any(&[
            " come out ",
            " come round ",
            " come over ",
            " send ",
            " technician ",
            " visit ",
            " fix ",
            " look at ",
            " out to ",
        ]);
        ((real || strong) && ask) || (plain && talk) || (wants_one && !visit) || bare
    })
}

/// The keys are the operator key, pressed once or a few times over ("0", "00": a caller
/// who gets no answer presses again), with or without `#`.
pub fn keys_ask_for_person(digits: &str, operator: &str) -> bool {
    let pressed = digits.trim_end_matches('#');
    !operator.is_empty()
        && !pressed.is_empty()
        && pressed.len() % operator.len() == 0
        && pressed.len() / operator.len() <= 3
        && pressed == operator.repeat(pressed.len() / operator.len())
}
