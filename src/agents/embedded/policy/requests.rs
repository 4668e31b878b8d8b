//! Two requests in one turn ("could you email me my last bill, and also I can't log
//! in"): the turn is split into clauses and each is routed on its own, so "email" in
//! the first does not answer how the second is sent. Serving them one at a time is
//! `serving.rs`.

use super::clause_kinds::{adds_with_too, asks_about_it, figures_read_back, someone_elses};
use super::question_shapes::{points_back, spells_out, tag_question};
use super::{Policy, ANY, HUMAN};
use crate::agents::confirm::{spaced, words};
use crate::agents::embedded::embedder::Embedder;
use crate::agents::model::ModelError;

/// Words that join two requests in one sentence.
const JOINERS: &[&str] = &[
    "and also",
    "also",
    "oh and",
    "plus",
    "another thing",
    "one more thing",
    "while i have you",
    "while i've got you",
    "while i'm here",
    "while i am here",
    "as well as",
    "on top of that",
];
/// Words that announce several requests ("two things", "and also").
pub(super) const ENUMERATION: &[&str] = &[
    "two things",
    "two quick things",
    "two questions",
    "two quick questions",
    "couple of questions",
    "couple questions",
    "few questions",
    "couple of things",
    "couple things",
    "few things",
    "and also",
    "another thing",
    "one more thing",
    "while i have you",
    "while i've got you",
    "while i'm here",
    "while i am here",
    "oh and",
    "as well",
    "and separately",
    "separately",
    "on a separate note",
    "separate matter",
    "different matter",
    "another matter",
    "on another note",
    "unrelated",
    "another question",
    "second thing",
];
/// Announcements that count the requests to follow.
const COUNTS: &[&str] = &[
    "two things",
    "two quick things",
    "two questions",
    "two quick questions",
    "couple of things",
    "couple things",
    "couple of questions",
    "couple questions",
    "few things",
    "few questions",
];
/// A plain "also" announces a second request only in a short turn (in a story it
/// joins events: "I also restarted the router").
const SHORT_TURN_WORDS: usize = 40;
/// Clauses shorter than this are not routed on their own.
const MIN_CLAUSE_WORDS: usize = 3;
/// What a second request in the same question opens with ("can you help me get in,
/// and tell me where…?").
const JOINED_ASKS: &[&str] = &[
    "tell me",
    "send",
    "email",
    "text",
    "check",
    "reset",
    "show me",
    "give me",
    "can you",
    "could you",
    "also",
    // A second question: "what does your middle plan cost, and how many API
    // requests a minute does it let me make?"
    "how many",
    "how much",
    "what",
    "what's",
    "when",
    "where",
    "which",
    "is there",
    "do you",
    "does it",
    "can i",
    "could i",
    "can my",
    "will my",
    "would my",
    "does my",
    "is my",
    "how do i",
    "how long",
];

/// One request found in a clause of a turn.
#[derive(Debug, Clone)]
pub(super) struct Request {
    pub clause: String,
    /// The agent whose prompt declares the intent, and its position there.
    pub agent: String,
    pub index: usize,
    /// The agent that serves it.
    pub owner: String,
    /// The place the clause names, when the intent takes one ("is something going on
    /// in Riverside? And in Springfield?" asks the same thing of two places).
    pub place: Option<String>,
}

/// Whether `intent` reads a place from the caller (a `$place` argument).
fn takes_place(intent: &crate::agents::embedded::spec::IntentSpec) -> bool {
    intent
        .args
        .values()
        .any(|v| v.as_str().is_some_and(|s| s.starts_with("$place")))
}

/// The clauses of a caller turn: its sentences, split again at joiners ("…my last
/// bill and also I can't log in"), as lower-case words.
pub(super) fn clauses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    // (A question asking a second thing after ", and …" is split there.)
    let mut sentences: Vec<String> = Vec::new();
    for sentence in text.split(['.', '?', '!', ';']) {
        let lower = sentence.to_lowercase();
        let mut rest = lower.as_str();
        // ("What's one plan up from mine, and how much more would that be…?" asks
        // about the first thing: "that" keeps it one question.)
        while let Some(at) = rest.find(", and ").filter(|at| {
            let after = &rest[at + 6..];
            let clause = after.split(',').next().unwrap_or(after);
            JOINED_ASKS
                .iter()
                .any(|a| after.starts_with(&format!("{a} ")))
                && !{
                    let ws = words(clause);
                    ws.iter()
                        .any(|w| matches!(w.as_str(), "that" | "this" | "those" | "these"))
                        // ("…your cheapest internet, and how fast is it?")
                        || (ws.len() <= 5 && ws.iter().any(|w| w == "it"))
                }
        }) {
            sentences.push(rest[..at].to_string());
            rest = &rest[at + 6..];
        }
        sentences.push(rest.to_string());
    }
    for sentence in &sentences {
        let ws = words(sentence);
        let mut start = 0;
        let mut i = 0;
        while i < ws.len() {
            let joiner = JOINERS.iter().find(|j| {
                let p: Vec<&str> = j.split(' ').collect();
                ws.len() >= i + p.len() && ws[i..i + p.len()].iter().zip(&p).all(|(w, p)| w == p)
            });
            match joiner {
                Some(j) => {
                    if i > start {
                        out.push(ws[start..i].join(" "));
                    }
                    i += j.split(' ').count();
                    start = i;
                }
                None => i += 1,
            }
        }
        if ws.len() > start {
            out.push(ws[start..].join(" "));
        }
    }
    out.retain(|c| !c.is_empty());
    out
}

impl Policy {
    /// The requests of a turn when it announces more than one ("two things…", "…and
    /// also…"), in the order said; empty otherwise.
    pub(super) fn requests(
        &self,
        embedder: &Embedder,
        text: &str,
    ) -> Result<Vec<Request>, ModelError> {
        let joined = spaced(text);
        let counted = |ws: &[String]| {
            ws.windows(3).any(|w| {
                matches!(w[0].as_str(), "two" | "couple" | "few" | "three")
                    && matches!(w[2].as_str(), "things" | "questions")
            })
        };
        // ("Could you text me my February bill? And tell me why it says…": a sentence
        // that opens by asking for more; not "check my line and tell me if…".)
        let opens_another = text.split_inclusive(['.', '?', '!']).skip(1).any(|s| {
            let ws = words(s);
            matches!(
                ws.as_slice(),
                [a, b, c, ..] if (a == "and" || a == "also")
                    && ((b == "tell" && c == "me") || b == "explain")
            )
        });
        let enumerated = opens_another
            || ENUMERATION
                .iter()
                .any(|e| joined.contains(&format!(" {e} ")))
            || counted(&words(text))
            || ((joined.contains(" also ") || adds_with_too(text))
                && words(text).len() <= SHORT_TURN_WORDS);
        // Two questions asked are two requests ("…both called me saying it's slow. Is
        // something going on in Riverside? And in Springfield?"): the questions are
        // the requests, the story around them is not.
        // (A tag question — "there is no plan above Pro, right?" — only checks what we
        // said; it asks for nothing.)
        let sentences: Vec<&str> = text.split_inclusive(['.', '?', '!', ';']).collect();
        let asking: Vec<String> = sentences
            .iter()
            .enumerate()
            .filter(|(_, s)| s.trim_end().ends_with('?') && !tag_question(s) && !spells_out(s))
            .map(|(i, s)| {
                // "…a password link yesterday, and it says it's expired. Can you text
                // me a fresh one?": a question about "one" is read with the sentence
                // that names it.
                let prev = i.checked_sub(1).map(|p| sentences[p]);
                match prev.filter(|p| !p.trim_end().ends_with('?') && points_back(s)) {
                    Some(p) => format!(
                        "{} {}",
                        p.trim_end_matches(['.', '!', ';']).trim(),
                        s.trim()
                    ),
                    None => s.to_string(),
                }
            })
            .collect();
        let questions: Vec<String> = asking.iter().flat_map(|s| clauses(s)).collect();
        let asked_twice = asking.len() >= 2;
        // "Can you help me get in, and tell me where I change the webhook address?":
        // one question that asks two things.
        let joined_question = text.split_inclusive(['.', '?', '!']).any(|s| {
            let s = s.to_lowercase();
            s.trim_end().ends_with('?')
                && JOINED_ASKS
                    .iter()
                    .any(|a| s.contains(&format!(", and {a} ")))
        });
        let mut parts = if asked_twice && !enumerated {
            questions
        } else if asked_twice {
            // "I deal in old stamps, so I'm a fusspot about paperwork. My bookkeeper
            // wants the January bill, could you text it? And while I have you, …?":
            // the story before the first question asks nothing.
            let first = sentences
                .iter()
                .position(|s| s.trim_end().ends_with('?'))
                .unwrap_or(0);
            // (A question about "a fresh one" still reads the sentence naming it.)
            let told: Vec<String> = (first..sentences.len())
                .map(|i| {
                    let prev = i.checked_sub(1).map(|p| sentences[p]);
                    match prev.filter(|p| !p.trim_end().ends_with('?') && points_back(sentences[i]))
                    {
                        Some(p) => format!(
                            "{} {}",
                            p.trim_end_matches(['.', '!', ';']).trim(),
                            sentences[i].trim()
                        ),
                        None => sentences[i].to_string(),
                    }
                })
                .collect();
            told.iter().flat_map(|s| clauses(s)).collect()
        } else if joined_question && !enumerated {
            // (The story before that question asks nothing: "I'm not a customer yet,
            // I'm shopping around. What does your middle plan cost, and …?")
            questions
        } else if COUNTS.iter().any(|c| joined.contains(&format!(" {c} "))) || counted(&words(text))
        {
            // "Two things. Can you send me my last bill by text, my daughter does my
            // taxes, and my neighbour says the internet is going off tonight.": after
            // a count, ", and" starts the next thing.
            // (Not before what was tried about the same problem: "the internet is
            // crawling again, and I already pulled the plug on the box".)
            let mut split = String::new();
            let mut rest = text;
            while let Some(at) = rest.find(", and ") {
                let after = rest[at + 6..]
                    .split([',', '.', '?', '!'])
                    .next()
                    .unwrap_or("");
                let tried = words(after).iter().any(|w| {
                    matches!(
                        w.as_str(),
                        "already" | "tried" | "restarted" | "unplugged" | "rebooted" | "still"
                    )
                });
                split.push_str(&rest[..at]);
                split.push_str(if tried { ", and " } else { ". " });
                rest = &rest[at + 6..];
            }
            split.push_str(rest);
            clauses(&split)
        } else {
            clauses(text)
        };
        // "I'm moving to Boston and choosing a company. Two questions: …": what comes
        // before a count of the requests is the story, not one of them.
        if let Some(at) = parts.iter().position(|c| {
            let c = format!(" {c} ");
            COUNTS.iter().any(|n| c.contains(&format!(" {n} ")))
                || counted(&c.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        }) {
            // (…and the count itself when nothing follows it in its clause: "He gave
            // me two questions for you.")
            let ws: Vec<&str> = parts[at].split_whitespace().collect();
            let after = ws
                .iter()
                .rposition(|w| matches!(*w, "things" | "questions"))
                .map_or(usize::MAX, |i| ws.len() - i - 1);
            parts.drain(..if after <= 2 { at + 1 } else { at });
        }
        if parts.len() < 2 {
            return Ok(Vec::new());
        }
        let mut found: Vec<Request> = Vec::new();
        let places = crate::agents::embedded::slots::places(text);
        for clause in parts {
            if clause.split(' ').count() < MIN_CLAUSE_WORDS {
                continue;
            }
            // "Fifty-nine ninety-nine for five hundred, okay.": figures read back,
            // nothing asked.
            if figures_read_back(&clause) {
                continue;
            }
            // "The account's under my number, five five five… and the ZIP is…": the
            // account's details, given with a request, are no request of their own.
            // (A ZIP only where it is named: "fifty-nine ninety-nine two times" is none.)
            let named_zip =
                crate::agents::confirm::says_any(&clause, &["zip", "postcode", "post code"]);
            let details = crate::agents::embedded::slots::phone(&clause).is_some()
                || (named_zip && crate::agents::embedded::slots::zip(&clause).is_some());
            if details && !clause.contains('?') && !crate::agents::confirm::makes_request(&clause) {
                continue;
            }
            // "…your text last week said I owe you something. How much is it, and
            // since when?": a short question about "it" tells more of the request
            // before it.
            if asks_about_it(&clause) {
                if let Some(prev) = found.last_mut() {
                    prev.clause = format!("{}, {clause}", prev.clause);
                    continue;
                }
            }
            let said = format!(" {clause} ");
            let place = places.iter().find(|p| said.contains(&spaced(p))).cloned();
            // "…in Riverside? And in Springfield?": the same request of another place.
            let same_of_another_place = found
                .last()
                .filter(|prev| {
                    takes_place(&self.brains[&prev.agent].intents[prev.index])
                        && place.is_some()
                        && prev.place.is_some()
                        && prev.place != place
                })
                .cloned();
            let routing = self.route_turn(embedder, &clause)?;
            let (Some(owner), Some(best)) = (routing.owner, routing.best) else {
                if let Some(prev) = same_of_another_place {
                    found.push(Request {
                        clause,
                        place,
                        ..prev
                    });
                }
                continue;
            };
            if owner == ANY || owner == HUMAN {
                continue;
            }
            let intent = &self.brains[&best.intent.agent].intents[best.intent.index];
            // "…it still doesn't work" reports on the problem told with it; it is no
            // request of its own.
            if intent.persisting {
                continue;
            }
            let duplicate = found.iter_mut().find(|r| {
                let other = &self.brains[&r.agent].intents[r.index];
                let same = (r.agent == best.intent.agent && r.index == best.intent.index)
                    || (intent.tool.is_some() && other.tool == intent.tool);
                // (A place that is someone else's — "my mom's in Austin" after our
                // own slow internet — is another request, not where ours is.)
                let others_place = place.is_some() && r.place.is_none() && someone_elses(&clause);
                same && !(takes_place(intent)
                    && place.is_some()
                    && (r.place.is_some() || others_place)
                    && r.place != place)
            });
            // "I'm locked out of the app, it keeps saying my password is wrong. Could
            // you email me a reset link?": a clause of the same request tells more of
            // it (here the channel), so it joins that request's clause.
            if let Some(r) = duplicate {
                r.clause = format!("{}, {clause}", r.clause);
            } else {
                found.push(Request {
                    clause,
                    agent: best.intent.agent.clone(),
                    index: best.intent.index,
                    owner,
                    place: place.filter(|_| takes_place(intent)),
                });
            }
        }
        // "What can I get for like forty? Actually, just switch me to that one": the
        // change asked for answers the price question that leads to it.
        let tools: Vec<String> = found
            .iter()
            .filter_map(|r| self.brains[&r.agent].intents[r.index].tool.clone())
            .collect();
        found.retain(|r| {
            self.brains[&r.agent].intents[r.index]
                .accept
                .as_ref()
                .is_none_or(|a| !tools.contains(a))
        });
        if found.len() < 2 || !(enumerated || asked_twice || joined_question) {
            found.clear();
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_turn_splits_at_sentences_and_joiners() {
        assert_eq!(
            clauses("Hi, two things. Could you email me my last bill, and also I can't get into my online account anymore, it says my password's wrong."),
            vec![
                "hi two things",
                "could you email me my last bill",
                "i can't get into my online account anymore it says my password's wrong"
            ]
        );
        assert_eq!(clauses("I was charged twice"), vec!["i was charged twice"]);
        // A second question after ", and …" is a clause of its own.
        assert_eq!(
            clauses("What does your middle plan cost a month, and how many API requests a minute does it let me make?"),
            vec![
                "what does your middle plan cost a month",
                "how many api requests a minute does it let me make"
            ]
        );
        // (Not a list of things: "…, and it's slow".)
        assert_eq!(
            clauses("The box restarted, and it's slow"),
            vec!["the box restarted and it's slow"]
        );
    }
}
