//! A plan's price over a period, asked for in so many words ("the middle one, what does
//! that come to over a whole year?"): the monthly price our plan list gives, times the
//! months, said with the sum. The plan is the one named (by name, rank or speed, as a
//! plan is chosen), else the caller's own from the record.

use super::{confirm, Decision, Policy, Turn};
use crate::agents::embedded::slots;

/// The months a question about cost asks over: "over a whole year" (12), "for six
/// months", "annually". `None` without both a cost word and a period.
pub(super) fn months_asked(text: &str) -> Option<u32> {
    const COST: &[&str] = &[
        "come to",
        "comes to",
        "cost",
        "costs",
        "how much",
        "total",
        "add up",
        "adds up",
        "work out to",
        "works out to",
        "set me back",
        "run me",
    ];
    // (A question about cost: "so I don't pay for nothing" over three months is none.)
    let question = text
        .split_inclusive(['.', '!', '?'])
        .find(|s| s.trim_end().ends_with('?') && confirm::says_any(s, COST))?;
    const YEAR: &[&str] = &[
        "a year",
        "a whole year",
        "the year",
        "per year",
        "each year",
        "a full year",
        "yearly",
        "annually",
        "twelve months",
        "12 months",
    ];
    if confirm::says_any(question, YEAR) {
        return Some(12);
    }
    // "over six months", "for the next 3 months".
    let ws = confirm::words(question);
    ws.iter().enumerate().find_map(|(i, w)| {
        if w != "months" || i < 2 {
            return None;
        }
        let n = crate::number_words::ones_value(&ws[i - 1])
            .or_else(|| ws[i - 1].parse().ok())
            .filter(|n| (2..=24).contains(n))?;
        ws[i.saturating_sub(4)..i - 1]
            .iter()
            .any(|b| matches!(b.as_str(), "over" | "for" | "across"))
            .then_some(n)
    })
}

impl Policy {
    /// "What does the middle one come to over a whole year?": the plan's monthly price
    /// from our plan list (the reply of the intent that offers the plans) times the
    /// months. `None` when no period is asked, no list or plan is known.
    pub(super) fn price_over_period(&self, t: &Turn) -> Option<Decision> {
        let months = months_asked(t.user_text)?;
        // (A plan's price, not a fee or what was paid: "does it cost extra if I cancel
        // within a year?", "how much have I paid over the last 12 months?")
        if confirm::says_any(
            t.user_text,
            &[
                "cancel", "paid", "have i", "did i", "extra", "fee", "fees", "penalty", "refund",
            ],
        ) {
            return None;
        }
        // The list of plans we say, and the intent a yes to it leads to (the plans).
        let (list, target) = t.spec.intents.iter().find_map(|i| {
            let target = t
                .spec
                .intents
                .iter()
                .find(|c| Some(&c.name) == i.accept.as_ref())?;
            let list = i.replies.first()?.text();
            target.args.contains_key("plan").then_some((list, target))
        })?;
        // The plan named, or the caller's own when they say so ("my plan").
        let plan = match self.named_option(t, target) {
            Some((plan, 1)) => plan,
            Some(_) => return None,
            None if confirm::says_any(
                t.user_text,
                &["my plan", "our plan", "what i pay", "what we pay"],
            ) =>
            {
                super::plan_direction::current_plan(&t.req.messages)?.0
            }
            None => return None,
        };
        let said_of = super::options::option_in(list, &plan)?;
        let monthly = *slots::amounts(&said_of).first()?;
        let total = u64::from(monthly) * u64::from(months);
        let name = said_of.split_whitespace().next()?;
        let period = if months == 12 {
            "over a year".to_string()
        } else {
            format!("over {months} months")
        };
        Some(Decision::Say(format!(
            "{name} is ${}.{:02} a month, so {period} that comes to ${}.{:02}. Anything else I can help with?",
            monthly / 100,
            monthly % 100,
            total / 100,
            total % 100
        )))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_period_is_read_only_with_a_cost() {
        use super::months_asked;
        assert_eq!(
            months_asked("what does that come to over a whole year?"),
            Some(12)
        );
        assert_eq!(
            months_asked("how much would it cost over six months?"),
            Some(6)
        );
        assert_eq!(
            months_asked("can you stop it for those three months, so I don't pay for nothing?"),
            None
        );
        assert_eq!(months_asked("Can you email me the last two months?"), None);
        assert_eq!(months_asked("how much is it annually?"), Some(12));
        assert_eq!(months_asked("I've been with you a year"), None);
        assert_eq!(months_asked("it dropped three months ago"), None);
    }
}
