//! A plan change asked for in one direction whose plan goes the other way ("he put us
//! on the most expensive plan, I want to go down to the middle one" from a caller
//! already on the cheapest): the caller's belief is corrected from the plan on record
//! and nothing is quoted or changed. The `change_plan` tool lists its plans from the
//! cheapest to the dearest (`basic`, `plus`, `pro`).

use serde_json::Value;

use super::*;

/// Words asking to pay less.
const DOWN: &[&str] = &[
    "go down",
    "move down",
    "drop down",
    "step down",
    "downgrade",
    "cheaper",
    "lower plan",
    "lower price",
    "lower tier",
    "lower bill",
    "save money",
    "save some money",
    "less expensive",
    "pay less",
    "costs less",
    "cost less",
    "for less",
];
/// Words asking for more.
const UP: &[&str] = &[
    "go up",
    "move up",
    "bump up",
    "step up",
    "upgrade",
    "faster",
    "quicker",
    "more speed",
];

/// A plan named by its step from the current one ("move up to the next plan", "one
/// down from what I have").
const NEXT_UP: &[&str] = &[
    "next plan",
    "next plan up",
    "next one up",
    "one up",
    "next tier",
    "next tier up",
    "one tier up",
    "next level up",
    "a step up",
    "up a rung",
    "a rung up",
    "one rung up",
    "up a notch",
    "up a level",
];
const NEXT_DOWN: &[&str] = &[
    "next plan down",
    "next one down",
    "one down",
    "one tier down",
    "next tier down",
    "a step down",
    "down a rung",
    "a rung down",
    "one rung down",
    "down a notch",
    "down a level",
];

/// A plan named by its step from the one just quoted ("eighty-nine ninety-nine? No,
/// put me on the one below it instead"); with no quote open, from the current plan.
const BELOW_IT: &[&str] = &[
    "one below it",
    "one below that",
    "one below this",
    "the one below",
    "one under it",
    "one under that",
    "one beneath it",
    "one beneath that",
    "a step below",
    "a notch down",
    "one notch down",
];
const ABOVE_IT: &[&str] = &[
    "one above it",
    "one above that",
    "one above this",
    "the one above",
    "one over it",
    "a step above",
    "a notch up",
    "one notch up",
];

/// Words that turn a step down in its clause ("not the one below it", "I don't want
/// the one above"); a bare "no" is a correction ("no, the one below it").
const NEGATIONS: &[&str] = &["not", "don't", "dont", "never", "won't", "wont"];

/// The plan one step up or down from the caller's current plan, or from the plan just
/// quoted when `text` points at it ("the one below it"), when `text` names it that
/// way; `plans` are the tool's options, cheapest first.
pub(super) fn relative_plan<'a>(
    text: &str,
    plans: &'a [String],
    messages: &[ChatMessage],
) -> Option<&'a String> {
    // Clause by clause, past a negated one: "not the one below it, I'll keep the Pro"
    // names no step.
    let clauses: Vec<Vec<String>> = text
        .split(['.', '!', '?', ',', ';'])
        .map(confirm::words)
        .filter(|ws| !ws.iter().any(|w| NEGATIONS.contains(&w.as_str())))
        .collect();
    let says = |ps: &[&str]| {
        clauses
            .iter()
            .any(|ws| ps.iter().any(|p| super::focus::phrase_in(ws, p)))
    };
    let (step, from): (isize, Option<String>) = if says(BELOW_IT) {
        (-1, quoted_plan(messages))
    } else if says(ABOVE_IT) {
        (1, quoted_plan(messages))
    } else if says(NEXT_DOWN) {
        (-1, None)
    } else if says(NEXT_UP) {
        (1, None)
    } else {
        return None;
    };
    let code = match from {
        Some(code) => code,
        None => current_plan(messages)?.0,
    };
    let at = plans.iter().position(|p| *p == code)?;
    plans.get(at.checked_add_signed(step)?)
}

/// The plan of the latest `change_plan` result when it still waits for the caller's
/// yes (`needs_confirmation`).
fn quoted_plan(messages: &[ChatMessage]) -> Option<String> {
    let (_, args, content) = super::history::results_newest_first(messages)
        .find(|(name, _, _)| name == "change_plan")?;
    let result: Value = serde_json::from_str(content).ok()?;
    let args: Value = serde_json::from_str(&args).ok()?;
    (result["status"] == "needs_confirmation")
        .then(|| args["plan"].as_str().map(str::to_string))
        .flatten()
}

/// The caller's current plan (code, name, monthly price): the plan of a change made in
/// the call, else the latest `lookup_customer` result, else the billing record.
pub(super) fn current_plan(messages: &[ChatMessage]) -> Option<(String, String, String)> {
    let changed = messages.iter().rev().find_map(|m| match m {
        ChatMessage::Tool { content, .. } => {
            let r: Value = serde_json::from_str(content).ok()?;
            (r["status"] == "changed")
                .then(|| r.get("to").cloned())
                .flatten()
        }
        _ => None,
    });
    if let Some(to) = changed {
        // The change result names the plan; its code is the name in lower case.
        let name = to["name"].as_str()?.to_string();
        return Some((
            to["code"]
                .as_str()
                .map_or_else(|| name.to_lowercase(), str::to_string),
            name,
            to["monthly"].as_str()?.to_string(),
        ));
    }
    let from_lookup = messages.iter().rev().find_map(|m| match m {
        ChatMessage::Tool {
            tool_call_id,
            content,
        } if find_call(messages, tool_call_id).is_some_and(|(n, _)| n == "lookup_customer") => {
            let r: Value = serde_json::from_str(content).ok()?;
            r.get("customer").cloned()
        }
        _ => None,
    });
    let customer =
        from_lookup.or_else(|| record::record_facts(messages)?.get("customer").cloned())?;
    let plan = customer.get("plan")?;
    Some((
        plan["code"].as_str()?.to_string(),
        plan["name"].as_str()?.to_string(),
        plan["monthly"].as_str()?.to_string(),
    ))
}

/// Whether `text` asks one of `phrases` ("cheaper", "go up"), not negated: "I don't
/// need anything faster" asks for nothing faster.
fn asks(text: &str, phrases: &[&str]) -> bool {
    let ws = confirm::words(text);
    phrases.iter().any(|p| {
        let p: Vec<&str> = p.split(' ').collect();
        (0..ws.len().saturating_sub(p.len() - 1)).any(|i| {
            ws[i..i + p.len()].iter().zip(&p).all(|(w, p)| w == p)
                && !ws[i.saturating_sub(4)..i]
                    .iter()
                    .any(|w| confirm::negates(w))
        })
    })
}

impl Policy {
    /// A plan asked for only by its direction ("is there a plan that costs less than
    /// mine?") from a caller already at that end: said from the plan on record, with
    /// nothing to choose, quote or change.
    pub(super) fn nothing_that_way(&self, t: &Turn, tool: &str) -> Option<Decision> {
        let plans = args::enum_options(&t.req.tools, tool, "plan");
        let (code, name, monthly) = current_plan(&t.req.messages)?;
        let now = plans.iter().position(|p| *p == code)?;
        let (down, up) = (asks(t.user_text, DOWN), asks(t.user_text, UP));
        let text = if down && !up && now == 0 {
            format!(
                "You're already on the {name} plan at {monthly} a month, our lowest-priced plan, so there's nothing cheaper to move to."
            )
        } else if up && !down && now + 1 == plans.len() {
            format!(
                "You're already on the {name} plan at {monthly} a month, our fastest plan, so there's nothing faster to move to."
            )
        } else {
            return None;
        };
        Some(Decision::Say(text))
    }

    /// The plan the caller named goes against the way they asked to go: say so
    /// instead of quoting it.
    pub(super) fn against_direction(
        &self,
        t: &Turn,
        tool: &str,
        arguments: &Value,
    ) -> Option<Decision> {
        let target = arguments.get("plan")?.as_str()?;
        let plans = args::enum_options(&t.req.tools, tool, "plan");
        let rank = |code: &str| plans.iter().position(|p| p == code);
        let (code, name, monthly) = current_plan(&t.req.messages)?;
        let (now, wanted) = (rank(&code)?, rank(target)?);
        let (down, up) = (asks(t.user_text, DOWN), asks(t.user_text, UP));
        let target_name = {
            let mut c = target.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        };
        let text = if wanted == now && !t.req.messages[..t.user_idx].iter().any(|m| {
            matches!(m, ChatMessage::Assistant { tool_calls, .. } if tool_calls.iter().any(|c| c.name == tool))
        }) {
            // "Put me on whatever your cheapest plan is" from a caller on it already:
            // said from the record, nothing quoted.
            let rank_note = if now == 0 {
                ", our lowest-priced plan"
            } else if now + 1 == plans.len() {
                ", our fastest plan"
            } else {
                ""
            };
            format!(
                "You're already on the {name} plan at {monthly} a month{rank_note}, so there's nothing to change. Anything else?"
            )
        } else if down && !up && wanted > now {
            let lowest = if now == 0 {
                ", our lowest-priced plan"
            } else {
                ""
            };
            format!(
                "You're on the {name} plan at {monthly} a month now{lowest}, so {target_name} would cost more, not less. I've left your plan as it is. Anything else?"
            )
        } else if up && !down && wanted < now {
            let top = if now + 1 == plans.len() {
                ", our fastest plan"
            } else {
                ""
            };
            format!(
                "You're on the {name} plan at {monthly} a month now{top}, so {target_name} would be slower, not faster. I've left your plan as it is. Anything else?"
            )
        } else {
            return None;
        };
        Some(Decision::Say(text))
    }
}
