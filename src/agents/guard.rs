//! The reply guard: nothing the caller hears may announce a transfer, a team or a
//! department, or carry internal text (tool or function names, snake_case
//! identifiers, JSON, instructions meant for the model), and nobody greets the caller
//! a second time. Applied to every sentence before it is emitted, whatever the model
//! wrote; each rejection is recorded in the trace.

use std::sync::LazyLock;

use regex::Regex;

/// Sentences that announce a handoff or name an internal team.
static TRANSFER: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"\btransfer(?:ring|red)?\s+(?:you|your\s+call|the\s+call)\b",
        r"\b(?:be(?:ing)?|get|getting|been|are|you're)\s+transferred\b",
        r"\b(?:connect|connecting|put|putting|pass|passing|route|routing|forward|forwarding|send|sending|direct|directing|redirect|redirecting|escalate|escalating)\s+(?:you|your\s+call)\s+(?:right\s+)?(?:through\s+|over\s+|back\s+|on\s+)?(?:to|with)\b",
        r"\bhand(?:ing|s)?\s+(?:you|this|the\s+call|your\s+call)?\s*(?:over|off)\b",
        r"\b(?:billing|technical|tech|support|sales|accounts?|customer\s+service|specialist)\s+(?:team|department|dept|agent|specialists?|desk|colleagues?|side|queue)\b",
        r"\b(?:another|a\s+different|the\s+right|the\s+appropriate)\s+(?:agent|department|team)\b",
        r"\b(?:i'm|i\s+am|this\s+is)\s+(?:the|your)\s+\w+\s+(?:agent|assistant|bot)\b",
        r"\bone\s+moment\s+while\s+i\s+(?:transfer|connect)\b",
    ]
    .iter()
    .filter_map(|p| Regex::new(&format!("(?i){p}")).ok())
    .collect()
});

/// Text meant for the model, not the caller: JSON fragments and talk of tools.
static INTERNAL: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // A JSON object or key: {"error": …, "detail": …
        r#"[{\[]\s*"[^"\s]+"\s*:"#,
        r#""[A-Za-z_]+"\s*:\s*["{\[\d]"#,
        r"(?i)\b(?:tool|function)\s+(?:call|calls|result|results|output|returned|error)\b",
        r"(?i)\b(?:call|use|invoke|run)\s+(?:the\s+)?\w+\s+(?:tool|function)\b",
        r"(?i)\bsystem\s+prompt\b",
    ]
    .iter()
    .filter_map(|p| Regex::new(p).ok())
    .collect()
});

/// `snake_case` identifiers (tool names, error codes, JSON keys).
static SNAKE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b").ok());

/// Whether a sentence carries internal text: a snake_case identifier outside an
/// e-mail address or URL, JSON, or instructions about tools and functions.
pub fn carries_internal_text(sentence: &str) -> bool {
    if INTERNAL.iter().any(|r| r.is_match(sentence)) {
        return true;
    }
    let Some(snake) = SNAKE.as_ref() else {
        return false;
    };
    sentence.split_whitespace().any(|word| {
        !(word.contains('@') || word.contains("://") || word.starts_with("www."))
            && snake.is_match(word)
    })
}

/// A greeting at the start of a sentence.
static GREETING: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?:(?:hi|hello|hey|hiya|greetings|good\s+(?:morning|afternoon|evening|day))(?:\s+there)?\b|welcome\b|thanks?\s+(?:you\s+)?for\s+(?:calling|holding|waiting|your\s+patience)\b|nice\s+to\s+(?:meet|speak\s+with|talk\s+to)\s+you\b|my\s+name\s+is\b)",
    )
    .ok()
});

/// Compile the guard's patterns now (runtime start-up), not on a caller's first reply:
/// measured, the lazy compile added ≈ 5 ms to the first turn of the first call.
pub fn warm_up() {
    LazyLock::force(&TRANSFER);
    LazyLock::force(&INTERNAL);
    LazyLock::force(&SNAKE);
    LazyLock::force(&GREETING);
}

/// Whether a sentence announces a transfer or names a team/department.
pub fn announces_transfer(sentence: &str) -> bool {
    TRANSFER.iter().any(|r| r.is_match(sentence))
}

/// Whether a sentence starts with a greeting.
pub fn starts_with_greeting(sentence: &str) -> bool {
    GREETING.as_ref().is_some_and(|r| r.is_match(sentence))
}

/// What the guard decided about one sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Emit unchanged.
    Keep,
    /// Emit this instead (greeting removed).
    Rewrite(String),
    /// Drop it; the rule that fired.
    Drop(&'static str),
}

/// Judge one sentence. `strip_greeting` is set once the caller has been greeted and
/// the sentence is at the start of a reply.
pub fn judge(sentence: &str, strip_greeting: bool) -> Verdict {
    if carries_internal_text(sentence) {
        return Verdict::Drop("internal_text");
    }
    if announces_transfer(sentence) {
        return Verdict::Drop("transfer_announcement");
    }
    if strip_greeting && starts_with_greeting(sentence) {
        // "Hi Dana, I can see two charges." -> keep what follows the greeting clause.
        if let Some(idx) = sentence.find([',', '—', '–', '!']) {
            let rest =
                sentence[idx + sentence[idx..].chars().next().map_or(1, char::len_utf8)..].trim();
            let rest = rest.trim_start_matches(['-', ' ']);
            if rest.split_whitespace().count() >= 3 && !starts_with_greeting(rest) {
                return Verdict::Rewrite(capitalize(rest));
            }
        }
        return Verdict::Drop("repeated_greeting");
    }
    Verdict::Keep
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_transfer_announcements() {
        for s in [
            "Let me transfer you to billing.",
            "I'll connect you to our billing team.",
            "Let me hand you over to a specialist.",
            "I'm transferring your call now.",
            "You're being transferred.",
            "Our technical support team can help with that.",
            "Let me put you through to the billing department.",
            "I'll pass you to another agent.",
            "Hi, I'm the billing agent.",
            "Let me route you to the right team.",
        ] {
            assert!(announces_transfer(s), "{s}");
        }
        for s in [
            "I can see you were charged twice on March 12.",
            "You can pay by bank transfer.",
            "I'll send you a reset link by text.",
            "Would you like me to get a person on the line?",
            "Let me check the network in your area.",
            "I'll move you to the Plus plan right away.",
            "I can put you on the Pro plan.",
        ] {
            assert!(!announces_transfer(s), "{s}");
        }
    }

    #[test]
    fn drops_internal_text() {
        for s in [
            "Sorry, I couldn't send the invoice: No account matches the calling number. Ask for the phone number on the account and its ZIP code, then call lookup_customer.",
            "I'll call transfer_to_billing now.",
            r#"{"error": "customer_not_identified", "detail": "x"}"#,
            r#"The result was "status": "refunded"."#,
            "The tool returned an error.",
            "Let me use the lookup tool for that.",
            "Error code customer_not_identified.",
        ] {
            assert_eq!(judge(s, false), Verdict::Drop("internal_text"), "{s}");
        }
        for s in [
            "I've sent the invoice to dana_lee@example.com.",
            "You can find it at https://example.com/help_center.",
            "Your plan is the Plus plan at $59.99 a month.",
            "I can refund the duplicate charge from March 12.",
            "Try turning it off and on again: unplug it for ten seconds.",
        ] {
            assert_eq!(judge(s, false), Verdict::Keep, "{s}");
        }
    }

    #[test]
    fn strips_repeated_greetings_only_when_asked() {
        assert_eq!(judge("Hello!", true), Verdict::Drop("repeated_greeting"));
        assert_eq!(
            judge("Hi Dana, I can see two charges on March 12.", true),
            Verdict::Rewrite("I can see two charges on March 12.".into())
        );
        assert_eq!(
            judge("Thanks for calling Bluebird.", true),
            Verdict::Drop("repeated_greeting")
        );
        assert_eq!(judge("Hi, thanks for calling.", false), Verdict::Keep);
        assert_eq!(judge("Highly unusual, but fixable.", true), Verdict::Keep);
    }
}
