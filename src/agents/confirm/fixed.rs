//! The caller reports the problem gone ("now it is fast", "the light is green now and
//! the internet works", "that fixed it"): nothing is left to check or repair, so no
//! status check, no ticket and no repeated advice follows.
//!
//! A working state counts only with a word of change ("now", "again") in its clause,
//! or as a phrase that is itself a change ("that fixed it", "back online"): "the
//! internet is working fine, it's the router that whines" reports a problem elsewhere.
//! A word of trouble in the report's clause or any clause after it ("…until now",
//! "now nothing loads", "…but the TV still won't connect") keeps the turn a problem,
//! and so does a question.

use super::{asks_something, ends_with_farewell, spaced, spaced_words, words};

/// Phrases that are a fix in themselves.
const FIXED: &[&str] = &[
    "mystery solved",
    "that fixed it",
    "that did it",
    "that did the trick",
    "that worked",
    "problem solved",
    "it's fixed",
    "its fixed",
    "it is fixed",
    "all fixed",
    "it's sorted",
    "back online",
    "back up and running",
    "internet is back",
    "internet's back",
    "connection is back",
    "working again",
    "works again",
    "has internet again",
    "have internet again",
    "internet again",
    "lights come on",
    "lights came on",
    "lights are back",
    "everything's coming back on",
    "everything is coming back on",
    "everything's back on",
    "everything is back on",
    "all back on",
];

/// A state that is fine, when said with a word of change.
const WORKING: &[&str] = &[
    "works", "working", "fast", "faster", "fine", "green", "normal", "flying", "quick", "quicker",
    "zipping", "snappy",
];

/// Words of change: the state is new.
const CHANGE: &[&str] = &["now", "again"];

/// Words that keep a problem alive after the report.
const STILL_WRONG: &[&str] = &[
    "lost",
    "out",
    "only",
    "orange",
    "blinking",
    "flashing",
    "still",
    "but",
    "except",
    "although",
    "though",
    "not",
    "no",
    "nothing",
    "none",
    "won't",
    "doesn't",
    "isn't",
    "can't",
    "cannot",
    "haven't",
    "never",
    "keeps",
    "stopped",
    "stops",
    "gone",
    "drops",
    "dropped",
    "until",
    "then",
    "slow",
    "down",
    "dead",
    "red",
    "wrong",
    "incorrect",
    "error",
];

/// A report that ends in a goodbye is a goodbye ("that fixed it, thanks, bye").
pub fn reports_fixed(text: &str) -> bool {
    if asks_something(text) || ends_with_farewell(text) {
        return false;
    }
    let mut reported = false;
    for clause in text.split(['.', '!', '?', ';', ',']) {
        let ws = words(clause);
        if ws.is_empty() {
            continue;
        }
        let joined = spaced_words(&ws);
        let has = |set: &[&str]| ws.iter().any(|w| set.contains(&w.as_str()));
        let fixed = FIXED.iter().any(|p| joined.contains(&format!(" {p} ")));
        let changed = has(CHANGE) && has(WORKING);
        if (fixed || changed || reported) && has(STILL_WRONG) {
            // "It was working fine until now", "now nothing loads", "…then it went
            // down again": trouble in or after the report.
            return false;
        }
        reported |= fixed || changed;
    }
    reported
}

/// Phrases that promise to try our advice later ("okay, I'll do that tonight and
/// switch it off and on").
const WILL_TRY: &[&str] = &[
    "i'll do that",
    "i will do that",
    "i'll do it",
    "i'll try that",
    "i'll try it",
    "i will try",
    "i'll give it a",
    "i'll give that a",
    "let me try that",
    "i'll update",
    "i'll restart",
    "i'll switch it off",
    "i'll turn it off",
    "i'll reinstall",
    "will do that tonight",
];

/// Words that report the advice already tried, or failing.
const TRIED: &[&str] = &[
    "already",
    "didn't help",
    "didnt help",
    "tried that",
    "doesn't help",
    "no use",
];

/// The caller will try our advice later and reports nothing tried yet — whatever the
/// "if it's still …" that follows: nothing to repair now.
pub fn will_try(text: &str) -> bool {
    let joined = spaced(text);
    WILL_TRY.iter().any(|p| joined.contains(&format!(" {p}")))
        && !TRIED.iter().any(|p| joined.contains(&format!(" {p}")))
        // "…I'll do that tonight. But right now, can you email me the March bill?"
        && !super::makes_request(text)
}

#[cfg(test)]
mod tests {
    use super::reports_fixed;

    #[test]
    fn a_new_working_state_is_a_fix() {
        for t in [
            "Okay, one minute, I will do that... okay. Done. Yes, now it is fast, the page opened quickly.",
            "Sorry, I'm back. The cable from the wall, it was not in properly, only half. I push until click, and now the light is green and the internet works. Haha, my mistake.",
            "Oh hey, it's working again!",
            "Yep, that fixed it.",
            "Okay the internet is back, thank you.",
            "Alright, restarted it and now everything loads fine.",
            "I pressed it, now the lights come on, and the laptop has internet again.",
        ] {
            assert!(reports_fixed(t), "{t}");
        }
    }

    #[test]
    fn a_state_without_change_or_with_a_problem_left_is_not() {
        for t in [
            "It is not the internet, the internet is working fine. It's the box, the router.",
            "I restarted it and now it's even slower.",
            "It works now, but the TV still won't connect.",
            "Now it's working again but can you send me my bill?",
            "The light is green but nothing loads.",
            "I did that already and it still doesn't work.",
            "Now the light is red.",
            "Hi, I haven't opened your app in months and now it keeps telling me my password is incorrect.",
            "Alright, that's the card I still use, so that's fine. Okay, thank you, bye now, walk good.",
            "Very good, thank you so much, goodbye, I have to go back to my meeting now.",
            "Yep, that fixed it. Thanks, bye!",
            "My internet stopped working again.",
            "It was working fine until now.",
            "Now nothing works.",
            "Now the light is green and nothing loads.",
            "It worked for about an hour, then it went down again.",
            "Ugh, it's back, the buzzing from the router.",
            "Oh, my mistake, I'm in Springfield, not Boston.",
            "Ugh, we just lost internet again.",
            "Only the power lights come on, blinking orange.",
        ] {
            assert!(!reports_fixed(t), "{t}");
        }
    }
}
