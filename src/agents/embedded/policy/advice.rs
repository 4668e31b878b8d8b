//! Advice the caller already followed: "I've updated it, I've restarted the phone, it
//! still does it", "I already switched the box off and on, twice, nothing". Advice that
//! names a step the caller says they took is not given; the problem stands, so the
//! agent's persisting intent (the ticket) follows instead — on the turn that reports
//! it, before or after our advice, and after a status check that found the network
//! healthy.

use super::*;

/// The kinds of step advice asks for, with the words that name each in our advice.
const ADVICE: &[(Step, &[&str])] = &[
    (Step::Restart, &["restart", "unplug", "reboot"]),
    (Step::Update, &["update"]),
    (Step::Reinstall, &["reinstall"]),
    (Step::Check, &["check", "look in", "settings"]),
    (Step::Cables, &["cable"]),
];

/// A step of advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Restart,
    Update,
    Reinstall,
    Check,
    /// The cables seated, or a device tried on a cable instead of Wi-Fi.
    Cables,
    /// "I already tried that", "did all that": whatever the advice was.
    Any,
}

/// The steps the caller says they already took, in so many words.
fn steps_taken(text: &str) -> Vec<Step> {
    let ws = confirm::words(text);
    let joined = confirm::spaced_words(&ws);
    let has = |ps: &[&str]| ps.iter().any(|p| joined.contains(&format!(" {p} ")));
    let mut out = Vec::new();
    if has(&[
        "already tried",
        "already did",
        "already done",
        "tried everything",
        "did all that",
        "done all that",
    ]) {
        out.push(Step::Any);
    }
    // "switched the box off and on", "turned it off and back on": a power cycle done,
    // not a line that drops "off and on".
    let power_cycled = ws.iter().enumerate().any(|(i, w)| {
        matches!(w.as_str(), "switched" | "turned" | "flipped" | "cycled")
            && ws[i + 1..(i + 6).min(ws.len())].windows(2).any(|p| {
                matches!(
                    (p[0].as_str(), p[1].as_str()),
                    ("off", "and") | ("on", "and")
                )
            })
    });
    // ("I've already given the router two goes of unplugging.")
    // (In one sentence, not negated: "I haven't restarted it, I already checked the
    // cables" restarted nothing.)
    let already_restarted = text.split(['.', '!', '?', ';', ',']).any(|sentence| {
        let sw = confirm::words(sentence);
        sw.iter().any(|w| w == "already")
            && !sw.iter().any(|w| confirm::negates(w))
            && sw.iter().any(|w| {
                matches!(
                    w.as_str(),
                    "unplugging"
                        | "unplugged"
                        | "restarting"
                        | "restarted"
                        | "rebooting"
                        | "rebooted"
                )
            })
    });
    if power_cycled
        || already_restarted
        || has(&[
            "already restarted",
            "i restarted",
            "i've restarted",
            "i have restarted",
            "we restarted",
            "we've restarted",
            "i rebooted",
            "i've rebooted",
            "we rebooted",
            "i unplugged",
            "i've unplugged",
            "we unplugged",
            "power cycled",
            "tried restarting",
            "tried rebooting",
            "tried unplugging",
            "restarted the phone",
            "restarted my phone",
            "restarted the router",
            "restarted the modem",
            "restarted the box",
            "restarted it",
            "rebooted it",
            // (The plug pulled and put back in other words.)
            "yanked the",
            "yanked its plug",
            "pulled the plug",
            "pulled the power",
            "pulled its plug",
            "unplugged it",
            "unplugged the",
            "plugged it back",
            "put it back in",
            "counted to thirty",
        ])
    {
        out.push(Step::Restart);
    }
    if has(&[
        "already updated",
        "i updated",
        "i've updated",
        "i have updated",
        "we updated",
        "updated it",
        "updated the app",
        "it's up to date",
        "it is up to date",
        "app is up to date",
        "no update available",
        "latest version already",
        "already on the latest",
    ]) {
        out.push(Step::Update);
    }
    if has(&[
        "already reinstalled",
        "i reinstalled",
        "i've reinstalled",
        "reinstalled it",
        "deleted and reinstalled",
        "uninstalled and reinstalled",
        "deleting and reinstalling",
    ]) {
        out.push(Step::Reinstall);
    }
    if has(&["already looked", "already checked"]) {
        out.push(Step::Check);
    }
    if has(&[
        "checked the cable",
        "checked the cables",
        "checked all the cables",
        "checked the cabling",
        "cables are fine",
        "cables are all in",
        "cables are in",
        "cables are plugged in",
        "cable is fine",
        "cable is in",
        "replugged the cables",
        "tried another cable",
        "tried a different cable",
        "brand new cable",
        "put in a new cable",
        "put a new cable",
        "got a new cable",
        "bought a new cable",
        "replaced the cable",
        "replaced the cables",
        "on a cable",
        "with a cable",
        "plugged in with a cable",
        "on ethernet",
        "wired in",
        "plugged straight into",
    ]) || cables_handled(&ws)
        || cable_damaged(&ws)
    {
        out.push(Step::Cables);
    }
    out
}

/// "I've pushed every cable in firmly at both ends", "jiggled the wires": a verb of
/// checking or seating within a few words before the cables.
fn cables_handled(ws: &[String]) -> bool {
    const VERBS: &[&str] = &[
        "checked",
        "pushed",
        "reseated",
        "replugged",
        "reconnected",
        "wiggled",
        "jiggled",
        "tightened",
        "pressed",
        "clicked",
        "seated",
        "swapped",
        "changed",
        "tested",
    ];
    const CABLES: &[&str] = &[
        "cable",
        "cables",
        "cabling",
        "wire",
        "wires",
        "connector",
        "connectors",
        "leads",
    ];
    ws.iter().enumerate().any(|(i, w)| {
        VERBS.contains(&w.as_str())
            && ws[i + 1..(i + 5).min(ws.len())]
                .iter()
                .any(|c| CABLES.contains(&c.as_str()))
    })
}

/// "He drilled right into that thin white cable… you can see the glass thread": a
/// cable the caller has seen damaged is past checking.
fn cable_damaged(ws: &[String]) -> bool {
    let has = |set: &[&str]| ws.iter().any(|w| set.contains(&w.as_str()));
    has(&["cable", "cables", "wire", "wires", "fiber", "fibre", "cord"])
        && has(&[
            "cut", "nick", "nicked", "chewed", "drilled", "broken", "snapped", "damaged", "torn",
            "severed", "crushed", "frayed", "ripped",
        ])
}

/// The steps the caller took while the problem stands (none said, or the problem
/// reported fixed: `None`).
fn steps_taken_standing(text: &str) -> Option<Vec<Step>> {
    let taken = steps_taken(text);
    (!taken.is_empty() && !confirm::reports_fixed(text)).then_some(taken)
}

/// The steps `advice` (our reply) asks for.
fn steps_asked(advice: &str) -> Vec<Step> {
    let advice = advice.to_lowercase();
    ADVICE
        .iter()
        .filter(|(_, words)| words.iter().any(|w| advice.contains(w)))
        .map(|(step, _)| *step)
        .collect()
}

/// Whether `advice` (our reply) asks for a step the caller says in `text` they took.
pub(super) fn asks_step_taken(text: &str, advice: &str) -> bool {
    let Some(taken) = steps_taken_standing(text) else {
        return false;
    };
    // Every step the advice asks for was taken ("update the app and restart your
    // phone" is not followed by an update alone).
    let asked = steps_asked(advice);
    !asked.is_empty() && (taken.contains(&Step::Any) || asked.iter().all(|s| taken.contains(s)))
}

/// Whether the caller took at least one step `advice` asks for.
fn some_step_taken(text: &str, advice: &str) -> bool {
    let Some(taken) = steps_taken_standing(text) else {
        return false;
    };
    taken.contains(&Step::Any) || steps_asked(advice).iter().any(|s| taken.contains(s))
}

/// Our advice promises the ticket if the problem persists ("If it's still down after
/// that, I can open a repair ticket.").
fn offers_ticket_if_it_persists(line: &str) -> bool {
    let l = line.to_lowercase();
    (l.contains("if it's still") || l.contains("if it still")) && l.contains("ticket")
}

/// Words that report the problem unchanged after a step was tried.
const UNCHANGED: &[&str] = &[
    "dropped again",
    "down again",
    "out again",
    "off again",
    "red again",
    "doing it again",
    "happened again",
    "happening again",
    "crashed again",
    "froze again",
    "same as before",
    "exactly the same",
    "still the same",
    "still down",
    "still not",
    "still no",
    "still nothing",
    "still doesn't",
    "still does",
    "still won't",
    "still can't",
    "still red",
    "still off",
    "still slow",
    "didn't help",
    "didn't work",
    "did not help",
    "did not work",
    "no change",
    "nothing changed",
    "no difference",
    "same problem",
];

/// The caller reports the problem unchanged ("It's back on, and the light is red
/// again, exactly the same as before. Nothing connects.").
fn reports_unchanged(text: &str) -> bool {
    !confirm::reports_fixed(text) && !text.contains('?') && confirm::says_any(text, UNCHANGED)
}

impl Policy {
    /// This agent's `persisting` intent (the ticket), its summary holding the problem
    /// as first told.
    fn ticket_for_problem_standing(&self, t: &Turn) -> Option<Decision> {
        let still = t
            .spec
            .intents
            .iter()
            .find(|i| i.persisting && i.tool.is_some())?;
        Some(with_problem_told(
            self.act(t, still, None),
            &t.req.messages[..t.user_idx],
        ))
    }

    /// The ticket our advice promised: the caller tried it (a hold in between is
    /// looked past) and the problem is unchanged.
    pub(super) fn problem_stands(&self, t: &Turn) -> Option<Decision> {
        if !reports_unchanged(t.user_text) {
            return None;
        }
        let before = super::interjections::past_interjections(&t.req.messages[..t.user_idx], |c| {
            self.is_retry(c)
        });
        let advice = before.iter().find_map(|m| match m {
            ChatMessage::Assistant {
                content: Some(c),
                tool_calls,
            } if tool_calls.is_empty() && !c.trim().is_empty() => Some(c.as_str()),
            _ => None,
        })?;
        if !offers_ticket_if_it_persists(advice) {
            return None;
        }
        self.ticket_for_problem_standing(t)
    }

    /// The ticket (this agent's `persisting` intent) when the caller says they already
    /// did what our `advice` says and the problem stands.
    pub(super) fn advice_already_followed(&self, t: &Turn, advice: &str) -> Option<Decision> {
        if !asks_step_taken(t.user_text, advice) {
            return None;
        }
        self.ticket_for_problem_standing(t)
    }

    /// The ticket in place of advice the caller already followed: `text` is the reply
    /// we would give; what it says before its advice is kept ("I don't see any outage
    /// in Springfield right now.").
    pub(super) fn instead_of_advice_followed(&self, t: &Turn, text: &str) -> Option<Decision> {
        // (Read in the whole turn: a turn served in parts holds the steps taken in
        // a clause of their own.)
        let said = match t.req.messages.get(t.user_idx) {
            Some(ChatMessage::User { content }) => content.as_str(),
            _ => t.user_text,
        };
        // The next rung of advice, when the caller took a step of this one and not
        // yet the next ("…I already turned the router off and back on. Twice." after a
        // healthy status check: the cables, then the ticket).
        let next = t.spec.next_steps.iter().find(|n| {
            let lower = text.to_lowercase();
            n.after.iter().any(|a| lower.contains(a.as_str()))
                && some_step_taken(said, text)
                && !asks_step_taken(said, &n.text)
                && !said_before(&t.req.messages[..t.user_idx], &n.text)
        });
        if next.is_none() && !asks_step_taken(said, text) {
            return None;
        }
        // The first sentence when it reports rather than advises.
        let first = text
            .split_inclusive(['.', '!'])
            .next()
            .map(str::trim)
            .filter(|s| {
                !ADVICE
                    .iter()
                    .any(|(_, ws)| ws.iter().any(|w| s.to_lowercase().contains(w)))
            })
            .filter(|s| s.len() < text.trim().len());
        if let Some(next) = next {
            return Some(Decision::Say(match first {
                Some(first) => format!("{first} {}", next.text),
                None => next.text.clone(),
            }));
        }
        Some(serving::with_prefix(
            first,
            self.ticket_for_problem_standing(t)?,
        ))
    }
}

/// A ticket opened because the problem stands, its summary holding the problem as
/// first told (the caller's first words in the call), then what happened since: the
/// technician reads "the internet keeps cutting out… — it's back on, but it just
/// dropped again", not the last line alone.
fn with_problem_told(step: Decision, before: &[ChatMessage]) -> Decision {
    let Decision::Call {
        say,
        name,
        arguments,
    } = step
    else {
        return step;
    };
    let first = before.iter().find_map(|m| match m {
        ChatMessage::User { content } if !content.trim().is_empty() => Some(content.trim()),
        _ => None,
    });
    let mut args = arguments;
    if let (Some(first), Some(summary)) = (first, args.get("summary").and_then(|s| s.as_str())) {
        if !summary.contains(first) {
            let joined = format!("{first} — since then: {summary}");
            args["summary"] = serde_json::Value::String(joined);
        }
    }
    Decision::Call {
        say,
        name,
        arguments: args,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_taken_are_read_from_what_the_caller_did() {
        let restart = "Please restart your modem: unplug it for thirty seconds.";
        assert!(asks_step_taken(
            "No internet at all. I already switched the box off and on, twice, nothing.",
            restart
        ));
        assert!(!asks_step_taken(
            "My internet keeps going off and on all evening.",
            restart
        ));
        let app = "Please update the app to the latest version and restart your phone.";
        assert!(asks_step_taken(
            "It buzzes me at three every morning. I've updated it, I've restarted the phone, it still does it.",
            app
        ));
        assert!(!asks_step_taken(
            "I restarted it and now it works, thanks.",
            app
        ));
        assert!(!asks_step_taken(
            "The app closes as soon as I open it.",
            app
        ));
        assert!(!asks_step_taken(
            "I updated the app on Sunday already, but it is still quiet.",
            app
        ));
    }

    #[test]
    fn the_next_rung_asks_for_what_was_not_done_yet() {
        let restart = "Please restart your modem: unplug it for thirty seconds.";
        let cables = "Since you've already restarted it, please make sure the cable from the wall socket is clicked firmly into the modem.";
        let turned = "Nothing loads, and yes, I already turned the router off and back on. Twice.";
        assert!(some_step_taken(turned, restart));
        assert!(!asks_step_taken(turned, cables), "the cables are next");
        assert!(asks_step_taken(
            "I already restarted the box twice, the cables are all in, I looked.",
            cables
        ));
        assert!(asks_step_taken(
            "He drilled right into that thin white cable, you can see the glass thread. I already switched the box off and on.",
            cables
        ));
        assert!(!some_step_taken("My internet is down.", restart));
    }
}
