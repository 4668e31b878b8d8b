//! Which of a tool's options the caller chose ("text, please" → `sms`): a named
//! option or one of its synonyms, the last choice stated winning ([`choose`]), and
//! only a choice stated as one rather than an option mentioned in passing
//! ([`choose_stated`]: "the app on my phone" names no channel).

use crate::agents::confirm::words;

/// The first of `options` the caller named (whole word, case-insensitive), directly
/// or through one of its synonyms (`sms` ← "text").
pub fn choose<'a>(
    text: &str,
    options: &'a [String],
    synonyms: &std::collections::BTreeMap<String, Vec<String>>,
) -> Option<&'a String> {
    let ws = words(text);
    let starts = clause_starts(text);
    // Where an option (or a synonym of it) is mentioned last, not counting mentions
    // right after a negation ("text, not email"; a bare "no" is a correction, not a
    // negation: "no, email"): the last choice stated wins, so a
    // correction ("email it… actually no, text it") takes effect.
    // (Compared by where the mention ends, then by its length: "five hundred megabits"
    // outranks the "hundred megabits" inside it.)
    let last_mention = |w: &str| -> Option<(usize, usize)> {
        let target: Vec<String> = words(w);
        if target.is_empty() || target.len() > ws.len() {
            return None;
        }
        // A one-word option also matches its inflections ("emailed", "texting").
        let same = |w: &str, t: &str| {
            w == t
                || (target.len() == 1
                    && t.len() >= 4
                    && w.strip_prefix(t)
                        .is_some_and(|rest| matches!(rest, "ed" | "ing" | "s" | "d" | "'s")))
        };
        // ("…email's better, my texts are a mess": a plural after a possessive names
        // the caller's messages, not a choice.)
        let their_things = |i: usize| {
            target.len() == 1
                && ws[i] == format!("{}s", target[0])
                && i > 0
                && matches!(
                    ws[i - 1].as_str(),
                    "my" | "our" | "her" | "his" | "your" | "the"
                )
        };
        (0..=ws.len() - target.len())
            .rev()
            .find(|&i| {
                ws[i..i + target.len()]
                    .iter()
                    .zip(&target)
                    .all(|(w, t)| same(w, t))
                    && !negated_before(&ws, i, &starts)
                    && !their_things(i)
            })
            .map(|i| (i + target.len(), target.len()))
    };
    options
        .iter()
        .filter_map(|o| {
            let own = last_mention(o);
            let syn = synonyms
                .get(o.as_str())
                .into_iter()
                .flatten()
                .filter_map(|w| last_mention(w))
                .max();
            own.max(syn).map(|at| (at, o))
        })
        .max_by_key(|(at, _)| *at)
        .map(|(_, o)| o)
}

/// The word indices (into `words(text)`) where each clause of `text` starts.
fn clause_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = 0;
    for clause in text.split_inclusive(['.', '!', '?', ',', ';']) {
        starts.push(at);
        at += words(clause).len();
    }
    starts
}

/// A mention at word `i` is turned down by a negation just before it ("text, not
/// email", "I cannot read a text", "don't send an email"); a bare "no" is a correction
/// ("no, email"), not a negation.
fn negated_before(ws: &[String], i: usize, clause_starts: &[usize]) -> bool {
    // Within the mention's own clause: "…doesn't exist anymore. Email, please." does
    // not turn the email down.
    let clause = clause_starts
        .iter()
        .copied()
        .filter(|&s| s <= i)
        .max()
        .unwrap_or(0);
    ws[i.saturating_sub(3).max(clause)..i].iter().any(|w| {
        matches!(
            w.as_str(),
            "not" | "don't" | "dont" | "never" | "cannot" | "can't" | "cant" | "won't" | "without"
        )
    })
}

/// [`choose`], counting only a choice the caller *states*, not one of the options
/// mentioned in passing: "the app on my phone won't log in" names no channel, and
/// "the email you've got is my old one" is not a request to use it. A mention counts
/// when the words are few (a bare answer: "text, please"), when it is framed as a
/// delivery ("by text", "via email", "to my email", "send it to…"), when it is used as
/// a verb on us ("text me", "email it"), or when it is approved ("email is fine").
pub fn choose_stated<'a>(
    text: &str,
    options: &'a [String],
    synonyms: &std::collections::BTreeMap<String, Vec<String>>,
) -> Option<&'a String> {
    let ws = words(text);
    let starts = clause_starts(text);
    if ws.len() <= 5 {
        return choose(text, options, synonyms);
    }
    let stated = |phrase: &str| -> bool {
        let target = words(phrase);
        if target.is_empty() || target.len() > ws.len() {
            return false;
        }
        (0..=ws.len() - target.len()).any(|i| {
            let same = |w: &str, t: &str| {
                w == t
                    || (target.len() == 1
                        && t.len() >= 4
                        && w.strip_prefix(t)
                            .is_some_and(|r| matches!(r, "ed" | "ing" | "s" | "d" | "'s")))
            };
            if !ws[i..i + target.len()]
                .iter()
                .zip(&target)
                .all(|(w, t)| same(w, t))
            {
                return false;
            }
            let before = &ws[i.saturating_sub(4)..i];
            let after = &ws[i + target.len()..(i + target.len() + 2).min(ws.len())];
            // "to my email" is a delivery only after a send verb earlier in the turn
            // ("send me a reset thing to my email", "…sent to my email"): "I can't log
            // in to my email" names the email as the problem.
            let send_verb = |w: &String| {
                matches!(
                    w.as_str(),
                    "send" | "sent" | "sending" | "resend" | "forward" | "forwarded"
                )
            };
            let sent_before = ws[i.saturating_sub(12)..i].iter().any(send_verb);
            let to_it = match before {
                [.., to, det] if to == "to" => {
                    matches!(det.as_str(), "my" | "the" | "our" | "her" | "his" | "their")
                }
                [.., to] => to == "to",
                _ => false,
            };
            let framed = matches!(target[0].as_str(), "by" | "via")
                // "sent to her phone as a text"
                || (before.len() >= 2
                    && before[before.len() - 2] == "as"
                    && matches!(before[before.len() - 1].as_str(), "a" | "an"))
                || (target[0] == "to" && sent_before)
                || (to_it && sent_before)
                || before
                    .iter()
                    .rev()
                    .take(2)
                    .any(|w| matches!(w.as_str(), "by" | "via" | "through" | "over"))
                || before
                    .iter()
                    .any(|w| matches!(w.as_str(), "send" | "sending" | "resend" | "forward"));
            // Used as a verb on us: "text me", "email it", "emailed over", "emailed
            // to me", "emailed to her" (not "an email to you", "the text to her").
            let determiner_before = matches!(
                before.last().map(String::as_str),
                Some("the" | "a" | "an" | "my" | "your" | "that" | "this")
            );
            let as_verb = match after {
                [to, who, ..] if to == "to" => {
                    matches!(who.as_str(), "me" | "us" | "my")
                        || (matches!(who.as_str(), "her" | "him" | "them") && !determiner_before)
                }
                [w, ..] => {
                    matches!(
                        w.as_str(),
                        "me" | "us" | "it" | "them" | "that" | "over" | "across" | "through"
                    ) || (matches!(w.as_str(), "her" | "him") && !determiner_before)
                }
                [] => false,
            };
            // "text my March bill to my cell", "email the receipt": the option used as
            // a verb on a bill or link (not "the text my wife sent").
            let sends_thing = matches!(
                after.first().map(String::as_str),
                Some("my" | "the" | "our" | "a")
            ) && !determiner_before
                && ws[i + target.len()..(i + target.len() + 4).min(ws.len())]
                    .iter()
                    .any(|w| {
                        matches!(
                            w.as_str(),
                            "bill"
                                | "bills"
                                | "invoice"
                                | "invoices"
                                | "statement"
                                | "receipt"
                                | "link"
                                | "copy"
                        )
                    });
            let as_verb = as_verb || sends_thing;
            let approved = match after {
                [w, ..] if matches!(w.as_str(), "please" | "works" | "preferably" | "instead") => {
                    true
                }
                // "email's better", "text's fine".
                [w, ..]
                    if ws[i + target.len() - 1].ends_with("'s")
                        && matches!(w.as_str(), "better" | "best" | "fine" | "good" | "easier") =>
                {
                    true
                }
                [is, how, ..] if is == "is" || is == "would" => {
                    matches!(
                        how.as_str(),
                        "fine" | "good" | "best" | "great" | "easier" | "be"
                    )
                }
                _ => false,
            };
            let negated = negated_before(&ws, i, &starts);
            !negated && (framed || as_verb || approved)
        })
    };
    // The last option mentioned that is stated as a choice: "email me a reset link,
    // my cell is dead" chooses email, though the phone is mentioned last.
    let mut remaining: Vec<String> = options.to_vec();
    while let Some(picked) = choose(text, &remaining, synonyms).cloned() {
        let named = std::iter::once(picked.as_str()).chain(
            synonyms
                .get(&picked)
                .into_iter()
                .flatten()
                .map(String::as_str),
        );
        if named.into_iter().any(stated) {
            return options.iter().find(|o| **o == picked);
        }
        remaining.retain(|o| *o != picked);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_turned_down_a_few_words_before_is_not_chosen() {
        let opts = vec!["email".to_string(), "sms".to_string()];
        let syn: std::collections::BTreeMap<String, Vec<String>> =
            [("sms".to_string(), vec!["text".to_string()])].into();
        assert_eq!(
            choose(
                "Yes, email is best. My phone is broken, I cannot read a text.",
                &opts,
                &syn
            )
            .map(String::as_str),
            Some("email")
        );
        assert_eq!(
            choose("Don't send an email, text it", &opts, &syn).map(String::as_str),
            Some("sms")
        );
    }

    #[test]
    fn a_channel_corrected_or_used_on_someone_is_chosen() {
        let opts = vec!["email".to_string(), "sms".to_string()];
        let syn: std::collections::BTreeMap<String, Vec<String>> =
            [("sms".to_string(), vec!["text".to_string()])].into();
        assert_eq!(
            choose_stated(
                "Text them over, no, hang on, email's better, the accountant wants proper copies.",
                &opts,
                &syn
            )
            .map(String::as_str),
            Some("email")
        );
        assert_eq!(
            choose_stated(
                "Could you email her the latest internet bill? It's under her number.",
                &opts,
                &syn
            )
            .map(String::as_str),
            Some("email")
        );
    }

    #[test]
    fn a_longer_name_outranks_the_shorter_one_inside_it() {
        let opts = vec!["basic".to_string(), "plus".to_string()];
        let syn: std::collections::BTreeMap<String, Vec<String>> = [
            ("basic".to_string(), vec!["hundred meg".to_string()]),
            ("plus".to_string(), vec!["five hundred meg".to_string()]),
        ]
        .into();
        let pick = |t: &str| choose(t, &opts, &syn).map(String::as_str);
        assert_eq!(
            pick("move me up to the five hundred meg plan"),
            Some("plus")
        );
        assert_eq!(pick("take me down to the hundred meg plan"), Some("basic"));
    }

    #[test]
    fn a_channel_then_the_other_turned_down_is_chosen() {
        let opts = vec!["email".to_string(), "sms".to_string()];
        let syn: std::collections::BTreeMap<String, Vec<String>> =
            [("sms".to_string(), vec!["text".to_string()])].into();
        let text = "Sorry, a bus went by. Email, please, not a text. His phone screen's smashed.";
        assert_eq!(choose(text, &opts, &syn).map(String::as_str), Some("email"));
        assert_eq!(
            choose_stated(text, &opts, &syn).map(String::as_str),
            Some("email")
        );
    }

    #[test]
    fn the_callers_own_messages_are_no_choice() {
        let opts = vec!["email".to_string(), "sms".to_string()];
        let syn: std::collections::BTreeMap<String, Vec<String>> =
            [("sms".to_string(), vec!["text".to_string()])].into();
        assert_eq!(
            choose(
                "For the password, email's better, my texts are a mess.",
                &opts,
                &syn
            )
            .map(String::as_str),
            Some("email")
        );
    }

    #[test]
    fn a_channel_stated_before_another_mentioned_in_passing_is_chosen() {
        let opts = vec!["email".to_string(), "sms".to_string()];
        let syn: std::collections::BTreeMap<String, Vec<String>> = [
            (
                "sms".to_string(),
                vec!["text".to_string(), "my cell".to_string()],
            ),
            ("email".to_string(), vec!["mail".to_string()]),
        ]
        .into();
        let pick = |t: &str| choose_stated(t, &opts, &syn).map(String::as_str);
        assert_eq!(
            pick("I forgot the password. Can you email me a reset link? My cell is dead."),
            Some("email")
        );
        assert_eq!(
            pick("I forgot the password and my cell is dead, I'm on a work phone"),
            None
        );
        // A negation in an earlier clause turns nothing later down.
        assert_eq!(
            pick("Not by text, that old number doesn't exist anymore. Email, please."),
            Some("email")
        );
        // Used as a verb on the bill.
        assert_eq!(
            pick("Hi, this is Priya. Could you text my March bill to my cell? I want to pay it."),
            Some("sms")
        );
        assert_eq!(
            pick("I read the text my wife got about the bill and it looked odd to me"),
            None
        );
    }

    #[test]
    fn a_channel_mentioned_in_passing_is_not_chosen() {
        let opts = vec!["email".to_string(), "sms".to_string()];
        let syn: std::collections::BTreeMap<String, Vec<String>> = [
            (
                "sms".to_string(),
                vec![
                    "text".to_string(),
                    "on my phone".to_string(),
                    "to my phone".to_string(),
                ],
            ),
            ("email".to_string(), vec!["mail".to_string()]),
        ]
        .into();
        let pick = |t: &str| choose_stated(t, &opts, &syn).map(String::as_str);
        // Described, not chosen.
        assert_eq!(
            pick("Your app on my phone, when I log in it say password not correct"),
            None
        );
        assert_eq!(
            pick("the email you've got for me is my old one, I can't get into that no more"),
            None
        );
        // Stated.
        assert_eq!(pick("Text, please."), Some("sms"));
        assert_eq!(
            pick("I forgot my password, can you text me a reset link"),
            Some("sms")
        );
        assert_eq!(
            pick("I need a new password, send the link to my email please"),
            Some("email")
        );
        assert_eq!(
            pick("locked out again, so could I get the reset by email this time"),
            Some("email")
        );
        assert_eq!(
            pick("my login isn't working, email is fine for the link"),
            Some("email")
        );
        assert_eq!(
            pick("I'd like my March invoice emailed to me if that's okay"),
            Some("email")
        );
        assert_eq!(
            pick("I need a copy of our latest internet bill emailed over, for taxes"),
            Some("email")
        );
        assert_eq!(
            pick("Two things. Can you text us last month's bill? And me internet drops"),
            Some("sms")
        );
        // The channel named as the problem, not the choice.
        assert_eq!(pick("My email is dead, I can't log in to anything"), None);
        assert_eq!(
            pick("I can't log in to my email anymore, what do I do"),
            None
        );
        assert_eq!(
            pick("I sent an email to you last week and nobody answered"),
            None
        );
    }

    #[test]
    fn the_last_choice_stated_wins() {
        let opts = vec!["email".to_string(), "sms".to_string()];
        let syn: std::collections::BTreeMap<String, Vec<String>> = [(
            "sms".to_string(),
            vec!["text".to_string(), "text message".to_string()],
        )]
        .into();
        let pick = |t: &str| choose(t, &opts, &syn).map(String::as_str);
        assert_eq!(
            pick("Email it... actually no, text it to my cell instead"),
            Some("sms")
        );
        assert_eq!(pick("by text, not email"), Some("sms"));
        assert_eq!(pick("email please"), Some("email"));
        assert_eq!(
            pick("what I need is the March invoice, emailed to me"),
            Some("email")
        );
        assert_eq!(pick("can you get it texted over"), Some("sms"));
        assert_eq!(pick("whatever"), None);
    }
}
