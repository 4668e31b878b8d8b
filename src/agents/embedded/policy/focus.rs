//! Long caller turns, understood in parts: the sentence embedder reads only the first
//! 256 tokens, and a story that ends with the real request ("…so what I actually need
//! today is a refund") must be routed on the request, not the story.
//!
//! A turn of more than [`LONG_TURN_WORDS`] words is routed on its last request
//! sentence ("I need…", "can you…", without a negation), else on whichever window of
//! [`WINDOW_WORDS`] words (half overlapping) scores best.

use super::super::intents::{normalise, Scored};
use super::{Policy, Routing};
use crate::agents::confirm::{negates, spaced, spaced_words, words};
use crate::agents::embedded::embedder::Embedder;
use crate::agents::model::ModelError;

/// Turns longer than this are routed in parts.
pub const LONG_TURN_WORDS: usize = 40;
/// How far above the confidence floor, and above any other agent's intent, one
/// sentence of an unclear opening line must score to be routed on its own.
const CLEAR_SENTENCE_LEAD: f32 = 0.08;
/// Window size for long turns without a request sentence.
pub const WINDOW_WORDS: usize = 32;

const REQUEST_MARKERS: &[&str] = &[
    " need ",
    " want ",
    " would like ",
    " i'd like ",
    " can you ",
    " could you ",
    " help me ",
    " calling because ",
    " calling to ",
    " looking for ",
];

/// The sentences of `text` (split at `.`, `!`, `?`), trimmed, non-empty.
fn sentences(text: &str) -> Vec<&str> {
    text.split_inclusive(['.', '!', '?'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The last sentence of a long turn that asks for something (and is not negated),
/// with the sentence after it when that one is short context ("…a refund. You charged
/// me twice."). `None` for short turns or when no sentence asks.
pub fn request_focus(text: &str) -> Option<String> {
    if words(text).len() <= LONG_TURN_WORDS {
        return None;
    }
    let parts = sentences(text);
    let idx = parts.iter().rposition(|s| {
        let ws = words(s);
        let joined = spaced_words(&ws);
        let negated = ws.iter().any(|w| w == "no" || negates(w));
        !negated && REQUEST_MARKERS.iter().any(|m| joined.contains(m))
    })?;
    let mut focus = parts[idx].to_string();
    // A request that only points back ("I want this fixed, please") names no topic:
    // the sentences before it say what "this" is.
    let own = words(&focus);
    if own.len() <= 8
        && own.iter().any(|w| {
            matches!(
                w.as_str(),
                "this" | "that" | "it" | "them" | "these" | "those"
            )
        })
    {
        let mut start = idx;
        let mut count = own.len();
        while start > 0 && count < 30 {
            start -= 1;
            count += words(parts[start]).len();
        }
        focus = parts[start..=idx].join(" ");
    }
    if let Some(next) = parts.get(idx + 1) {
        if words(next).len() <= 15 {
            focus.push(' ');
            focus.push_str(next);
        }
    }
    Some(focus)
}

/// Half-overlapping windows of [`WINDOW_WORDS`] words over `text`.
fn windows(text: &str) -> Vec<String> {
    let ws: Vec<&str> = text.split_whitespace().collect();
    let step = WINDOW_WORDS / 2;
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let end = (start + WINDOW_WORDS).min(ws.len());
        out.push(ws[start..end].join(" "));
        if end == ws.len() {
            return out;
        }
        start += step;
    }
}

impl Policy {
    /// Where caller words go among all intents ([`Policy::rank_turn`], then the
    /// confident best of every agent).
    pub(super) fn route_turn(
        &self,
        embedder: &Embedder,
        text: &str,
    ) -> Result<Routing, ModelError> {
        Ok(self.pick(&self.rank_turn(embedder, text)?, |_| true))
    }

    /// The names of the intents whose cues the caller's words hold (their
    /// `unless_any` words aside).
    pub(super) fn cued_intents(&self, text: &str) -> Vec<&str> {
        let turn_words = words(text);
        self.brains
            .values()
            .flat_map(|b| b.intents.iter())
            .filter(|i| {
                !i.cues.is_empty()
                    && i.cues.iter().any(|c| phrase_in(&turn_words, c))
                    && !i.unless_any.iter().any(|n| phrase_in(&turn_words, n))
            })
            .map(|i| i.name.as_str())
            .collect()
    }

    /// The ranking of the one sentence of `text` that is clearly about one thing, when
    /// the whole is not ("Winter's done, the plow's parked, and I've money for an
    /// upgrade. Give me the quickest thing you've got."): it scores
    /// [`CLEAR_SENTENCE_LEAD`] above the confidence floor and as far above any other
    /// agent's intent. For a caller's opening line, where small talk comes first.
    pub(super) fn rank_clear_sentence(
        &self,
        embedder: &Embedder,
        text: &str,
    ) -> Result<Option<Vec<Scored>>, ModelError> {
        let top = |r: &Vec<Scored>| r.first().map_or(f32::MIN, |s| s.score);
        let mut best: Option<Vec<Scored>> = None;
        for sentence in sentences(text).into_iter().filter(|s| words(s).len() >= 3) {
            let ranked = self.rank_turn(embedder, sentence)?;
            if best.as_ref().is_none_or(|b| top(&ranked) > top(b)) {
                best = Some(ranked);
            }
        }
        Ok(best.filter(|b| {
            let Some(first) = b.first() else {
                return false;
            };
            let rival = b
                .iter()
                .find(|s| s.intent.owner != first.intent.owner)
                .map_or(f32::MIN, |s| s.score);
            first.score >= self.config.min_score + CLEAR_SENTENCE_LEAD
                && first.score - rival >= CLEAR_SENTENCE_LEAD
        }))
    }

    /// The intents ranked for a caller turn, reading a long turn in parts.
    pub(super) fn rank_turn(
        &self,
        embedder: &Embedder,
        text: &str,
    ) -> Result<Vec<Scored>, ModelError> {
        // Cues and required words are looked for in everything the caller said.
        let turn_words = with_month_bills(words(text));
        let kept = without_ruled_out(text);
        let text = kept.as_str();
        let length = words(text).len();
        let holds =
            |needs: &[String]| needs.is_empty() || needs.iter().any(|n| phrase_in(&turn_words, n));
        let rank = |t: &str| {
            embedder
                .embed(&normalise(t))
                .map(|e| {
                    let mut ranked = self.index.rank(&e);
                    ranked.retain(|s| {
                        let intent = &self.brains[&s.intent.agent].intents[s.intent.index];
                        intent.max_words.is_none_or(|max| length <= max)
                            && holds(&intent.needs_any)
                            && !intent.unless_any.iter().any(|n| phrase_in(&turn_words, n))
                    });
                    // A cue names the intent outright: it goes first, confidently.
                    let top = ranked.first().map_or(self.config.min_score, |s| s.score);
                    let cued = |s: &Scored| {
                        let cues = &self.brains[&s.intent.agent].intents[s.intent.index].cues;
                        !cues.is_empty() && holds(cues)
                    };
                    if let Some(i) = ranked.iter().position(cued) {
                        let mut first = ranked.remove(i);
                        first.score = first.score.max(top).max(self.config.min_score) + 0.05;
                        ranked.insert(0, first);
                    }
                    ranked
                })
                .map_err(|e| ModelError::Other(e.to_string()))
        };
        if length <= LONG_TURN_WORDS {
            let ranked = rank(text)?;
            // "Hi, is this Switchboard? My internet's been down since this morning":
            // the remark is beside the request; the rest of the turn is routed.
            let aside = |s: &Scored| self.brains[&s.intent.agent].intents[s.intent.index].aside;
            if ranked.first().is_some_and(aside) {
                let mut rest = Vec::new();
                for clause in super::requests::clauses(text) {
                    if !rank(&clause)?.first().is_some_and(aside) {
                        rest.push(clause);
                    }
                }
                if !rest.is_empty() {
                    let other = rank(&rest.join(". "))?;
                    let request = other.first().is_some_and(|s| {
                        s.score >= self.config.min_score
                            && self.brains[&s.intent.agent].intents[s.intent.index]
                                .route
                                .as_deref()
                                != Some(super::ANY)
                    });
                    if request {
                        return Ok(other);
                    }
                }
            }
            return Ok(ranked);
        }
        // The request sentence when it is clear; otherwise ("I want that taken off")
        // the best window of the whole turn.
        if let Some(focus) = request_focus(text) {
            let ranked = rank(&focus)?;
            if ranked
                .first()
                .is_some_and(|s| s.score >= self.config.min_score)
            {
                return Ok(ranked);
            }
        }
        let mut best: Option<Vec<Scored>> = None;
        for w in windows(text) {
            let ranked = rank(&w)?;
            let top = |r: &Vec<Scored>| r.first().map_or(f32::MIN, |s| s.score);
            if best.as_ref().is_none_or(|b| top(&ranked) > top(b)) {
                best = Some(ranked);
            }
        }
        Ok(best.unwrap_or_default())
    }
}

/// A month's name in the possessive stands for that month's bill ("could you email
/// me February's?" → "…february's bill"), for cues, unless a noun follows already
/// ("February's bill", "March's charge").
fn with_month_bills(ws: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(ws.len());
    for (i, w) in ws.iter().enumerate() {
        out.push(w.clone());
        let month = w.strip_suffix("'s").is_some_and(|m| {
            crate::calendar::MONTHS
                .iter()
                .any(|n| n.eq_ignore_ascii_case(m))
        });
        let noun_next = ws.get(i + 1).is_some_and(|n| {
            matches!(
                n.as_str(),
                "bill" | "invoice" | "statement" | "charge" | "payment" | "receipt"
            )
        });
        if month && !noun_next {
            out.push("bill".into());
        }
    }
    out
}

/// Whether `phrase` occurs in `turn` (words): contiguous, or with a `*` standing for up
/// to five words ("text * bill" holds in "could you text her the March bill"). A
/// wildcard phrase starts a verb, so not right after a determiner ("an email about my
/// bill" is no request to email it).
pub(super) fn phrase_in(turn: &[String], phrase: &str) -> bool {
    const GAP: usize = 5;
    const DETERMINERS: &[&str] = &["a", "an", "the", "your", "my", "this", "that", "his", "her"];
    let parts: Vec<Vec<String>> = phrase
        .split('*')
        .map(words)
        .filter(|p| !p.is_empty())
        .collect();
    let wildcard = parts.len() > 1;
    let at = |i: usize, part: &[String]| {
        turn.len() >= i + part.len() && turn[i..i + part.len()] == *part
    };
    let Some(first) = parts.first() else {
        return false;
    };
    (0..turn.len()).any(|start| {
        if !at(start, first) {
            return false;
        }
        if wildcard && start > 0 && DETERMINERS.contains(&turn[start - 1].as_str()) {
            return false;
        }
        let mut pos = start + first.len();
        parts[1..].iter().all(|part| {
            // (A figure said in words counts as one word of the gap: "took fifty-nine
            // ninety-nine off me two times".)
            let mut skipped = 0;
            let mut i = pos;
            loop {
                if at(i, part) {
                    pos = i + part.len();
                    return true;
                }
                if i >= turn.len() {
                    return false;
                }
                let figure_goes_on = crate::number_words::is_figure_word(&turn[i])
                    && turn
                        .get(i + 1)
                        .is_some_and(|w| crate::number_words::is_figure_word(w));
                if !figure_goes_on {
                    skipped += 1;
                }
                if skipped > GAP {
                    return false;
                }
                i += 1;
            }
        })
    })
}

/// The turn without the clauses that rule something out ("It is not the internet, the
/// internet is working fine. It's the box: it whines all night."), so what is fine
/// does not pull the turn towards its topic. A turn made only of such clauses is kept.
pub(super) fn without_ruled_out(text: &str) -> String {
    let clauses: Vec<&str> = text
        .split_inclusive(['.', ',', ';', '!', '?'])
        .filter(|c| !c.trim().is_empty())
        .collect();
    let joined = spaced(text);
    // "It's not the internet" rules the internet out only next to what it is instead.
    let contrast = [
        " it's the ",
        " it is the ",
        " its the ",
        " only the ",
        " just the ",
    ]
    .iter()
    .any(|c| joined.contains(c));
    let kept: Vec<&str> = clauses
        .iter()
        .copied()
        .filter(|c| !rules_out(c, contrast) && !hypothetical(c))
        .collect();
    let left = kept.iter().map(|c| words(c).len()).sum::<usize>();
    if left < 3 || kept.len() == clauses.len() {
        return text.to_string();
    }
    kept.concat().trim().to_string()
}

/// A condition about what may come ("and if it's still cooking, …", "in case it
/// drops again"): no report of how things are.
fn hypothetical(clause: &str) -> bool {
    let ws = words(clause);
    let first = ws.iter().position(|w| {
        !matches!(
            w.as_str(),
            "and" | "but" | "so" | "okay" | "ok" | "oh" | "then"
        )
    });
    first.is_some_and(|i| {
        ws[i] == "if"
            || ws[i] == "unless"
            || (ws[i] == "in" && ws.get(i + 1).is_some_and(|w| w == "case"))
    })
}

/// A short clause that rules something out: "It's not the internet" (with a contrast
/// in the turn), "the wifi is working fine", "nothing wrong with the connection" — but
/// not "it's not working", "it's not the speed I'm paying for", nor "it was fine but
/// now it drops".
fn rules_out(clause: &str, contrast: bool) -> bool {
    let ws = words(clause);
    let joined = spaced_words(&ws);
    if [" but ", " until ", " now ", " anymore ", " any more "]
        .iter()
        .any(|w| joined.contains(w))
    {
        return false;
    }
    const NOT_THE: &[&str] = &[
        " it's not the ",
        " it is not the ",
        " it isn't the ",
        " its not the ",
    ];
    const FINE: &[&str] = &[
        " working fine ",
        " works fine ",
        " is fine ",
        " are fine ",
        " working perfectly ",
        " works perfectly ",
        " nothing wrong with ",
    ];
    (contrast && ws.len() <= 6 && NOT_THE.iter().any(|p| joined.contains(p)))
        || (ws.len() <= 8 && FINE.iter().any(|p| joined.contains(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_at_the_end_of_a_story_is_the_focus() {
        let story = "My internet kept dropping every evening and the router lights were blinking \
            orange, so I restarted the modem and moved the router and bought a new cable, and a \
            technician came and fixed it, and now it works. I am not calling about any of that, \
            please do not send another technician. So what I actually need today is a refund. \
            You charged my card twice on March twelfth.";
        assert_eq!(
            request_focus(story).as_deref(),
            Some("So what I actually need today is a refund. You charged my card twice on March twelfth.")
        );
        assert_eq!(
            request_focus("I need a refund please"),
            None,
            "short turns as they are"
        );
    }

    #[test]
    fn a_request_that_points_back_takes_what_it_points_at() {
        let turn = "Allo, hi, yes. Listen, I'm looking at my card online, and you took fifty-nine \
            ninety-nine from me three times. Three! One on the twelve of February, and then two on \
            the twelve of March. Yani, one internet, three payments? I want this fixed, please.";
        let focus = request_focus(turn).unwrap();
        assert!(
            focus.starts_with("Listen, I'm looking at my card online"),
            "{focus}"
        );
        assert!(focus.ends_with("I want this fixed, please."), "{focus}");
    }

    #[test]
    fn windows_cover_the_whole_turn() {
        let text = (0..70)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let w = windows(&text);
        assert!(w.first().unwrap().starts_with("w0 "));
        assert!(w.last().unwrap().ends_with("w69"));
        assert!(w.iter().all(|x| x.split(' ').count() <= WINDOW_WORDS));
    }

    #[test]
    fn clauses_that_rule_something_out_are_left_out() {
        assert_eq!(
            super::without_ruled_out(
                "Bonjour. It is not the internet, the internet is working fine. It's the box, it whines all night."
            ),
            "Bonjour. It's the box, it whines all night."
        );
        for kept in [
            "It's not working, the light is red.",
            "The wifi was working fine but now it drops every hour.",
            "The internet is working fine.",
        ] {
            assert_eq!(super::without_ruled_out(kept), kept);
        }
    }

    #[test]
    fn a_wildcard_phrase_spans_a_few_words_after_a_verb() {
        let w = |t: &str| crate::agents::confirm::words(t);
        let turn = w("And could you text she the March bill too?");
        assert!(super::phrase_in(&turn, "text * bill"));
        assert!(super::phrase_in(&turn, "march bill"));
        assert!(!super::phrase_in(&turn, "email * bill"));
        assert!(!super::phrase_in(
            &w("I sent you an email about my bill"),
            "email * bill"
        ));
        assert!(!super::phrase_in(
            &w("text me when the technician is coming about the bill"),
            "text * bill"
        ));
        assert!(super::phrase_in(
            &w("email me a copy of the bill"),
            "email * bill"
        ));
        // A figure in words is one word of the gap.
        assert!(super::phrase_in(
            &w("You took fifty-nine ninety-nine off me two times"),
            "took * two times"
        ));
        assert!(!super::phrase_in(
            &w("you took my dog for a walk in the park two times"),
            "took * two times"
        ));
    }

    #[test]
    fn a_not_the_clause_that_is_the_request_is_kept() {
        for kept in [
            "Hello, it's not the speed I'm paying for.",
            "Yeah, it's not the first time I've been double charged.",
            "Hi, um, my bill, it's not the amount I agreed to.",
        ] {
            assert_eq!(super::without_ruled_out(kept), kept);
        }
    }
}
