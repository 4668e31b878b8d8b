//! A side question while our offer waits: "I can refund the duplicate. Shall I go
//! ahead?" → "Wait, before you do anything: my March bill is still paid, yes?" The
//! question is answered and the offer asked again in the same reply, so the caller's
//! next "yes, go ahead" answers the offer — not the answer's own follow-up question
//! ("Would you like me to go through any charge on it?").

use super::*;

/// Said for a side question nothing here answers.
pub(super) const NOT_KNOWN: &str = "I'm sorry, I don't have information on that here.";

impl Policy {
    /// `decision` with the waiting offer asked again, when the caller asked something
    /// else instead of answering it.
    pub(super) fn offer_kept(&self, req: &ChatRequest, decision: Decision) -> Decision {
        let Decision::Say(text) = &decision else {
            return decision;
        };
        let Some(spec) = self.brains.get(&req.agent) else {
            return decision;
        };
        let Some(user_idx) = req
            .messages
            .iter()
            .rposition(|m| matches!(m, ChatMessage::User { .. }))
        else {
            return decision;
        };
        let ChatMessage::User { content: asked } = &req.messages[user_idx] else {
            return decision;
        };
        if !asked.contains('?')
            || confirm::accepts(asked)
            || confirm::refuses(asked)
            || confirm::interjection(asked).is_some()
            || confirm::asks_to_repeat(asked)
            || confirm::ends_with_farewell(asked)
        {
            return decision;
        }
        // Our line just before the caller's turn (a handoff or another caller turn in
        // between: no offer waits).
        let prev = req.messages[..user_idx].iter().rev().find_map(|m| match m {
            ChatMessage::Assistant {
                content: Some(c), ..
            } if !c.trim().is_empty() => Some(Some(c.as_str())),
            ChatMessage::User { .. } => Some(None),
            _ => None,
        });
        let Some(Some(prev)) = prev else {
            return decision;
        };
        let Some(question) = offer_question(spec, prev) else {
            return decision;
        };
        if text.trim_end().ends_with(question) {
            return decision;
        }
        let offer = last_sentences(prev, 2);
        // A question nothing here answers ("does somebody have to come out to the
        // house for that?"): said so plainly, nothing invented, and the offer stands.
        let body = if self.is_clarification(text) {
            NOT_KNOWN
        } else {
            without_closing_question(text)
        };
        if body.is_empty() || offer.is_empty() {
            return decision;
        }
        Decision::Say(format!("{body} {offer}"))
    }
}

/// The closing question of an offer this agent makes (an intent with a confirm
/// step) that `said` ends with.
fn offer_question<'a>(spec: &'a BrainSpec, said: &str) -> Option<&'a str> {
    spec.intents
        .iter()
        .filter(|i| i.confirm.is_some())
        .flat_map(|i| i.replies.iter())
        .filter_map(|r| asked_in(r, said))
        // ("Anything else?" closes; it offers nothing.)
        .find(|q| !q.to_lowercase().contains("anything else"))
}

/// The fixed closing question of a reply template ("…Shall I go ahead?") when our line
/// `said` ends with it.
pub(super) fn asked_in<'a>(reply: &'a Reply, said: &str) -> Option<&'a str> {
    let q = last_sentences(reply.text(), 1);
    (q.ends_with('?') && !q.contains('{') && said.trim_end().ends_with(q)).then_some(q)
}

/// The last `n` sentences of `text` (cut after ". ", "! " or "? ").
pub(super) fn last_sentences(text: &str, n: usize) -> &str {
    let text = text.trim();
    let cuts: Vec<usize> = text
        .char_indices()
        .filter(|&(i, c)| matches!(c, '.' | '!' | '?') && text[i + 1..].starts_with(' '))
        .map(|(i, _)| i + 2)
        .collect();
    let cut = cuts.len().checked_sub(n).map_or(0, |k| cuts[k]);
    &text[cut..]
}

/// `text` without a closing question ("…and it's paid. Anything else?" → "…and it's
/// paid.").
pub(super) fn without_closing_question(text: &str) -> &str {
    let text = text.trim();
    let last = last_sentences(text, 1);
    if last.ends_with('?') {
        text[..text.len() - last.len()].trim_end()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_cut_after_their_stop() {
        let offer = "I can see you were charged twice on March 12 for $59.99. I can refund the duplicate. Shall I go ahead?";
        assert_eq!(
            last_sentences(offer, 2),
            "I can refund the duplicate. Shall I go ahead?"
        );
        assert_eq!(last_sentences("Shall I?", 2), "Shall I?");
        assert_eq!(
            without_closing_question(
                "It's paid. Would you like me to go through any charge on it?"
            ),
            "It's paid."
        );
        assert_eq!(without_closing_question("Anything else?"), "");
    }
}
