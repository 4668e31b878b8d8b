//! The identity of one turn of a call, shared from the call machine through the agent
//! link to the conversation, its transcript and the trace.
//!
//! The call machine hands out the ids: [`TurnId::GREETING`] for the opening greeting,
//! then one per caller turn (speech, keypad or silence) and one per reply re-spoken
//! after a false interruption. Ids only grow; a conversation sees a subset of them (a
//! re-spoken reply is the machine's alone), so gaps are normal. Off the phone (`chat`,
//! tests), [`crate::agents::Conversation::next_turn_id`] gives the next one.

use std::fmt;

use serde::Serialize;

/// One turn's id; serialised as a plain number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TurnId(pub u64);

impl TurnId {
    /// The opening greeting, before any caller turn.
    pub const GREETING: TurnId = TurnId(0);

    /// The id after this one.
    pub fn next(self) -> TurnId {
        TurnId(self.0 + 1)
    }
}

impl fmt::Display for TurnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_grow_from_the_greeting_and_serialise_as_numbers() {
        let first = TurnId::GREETING.next();
        assert_eq!(first, TurnId(1));
        assert!(first > TurnId::GREETING);
        assert_eq!(first.to_string(), "1");
        assert_eq!(serde_json::to_string(&first.next()).unwrap(), "2");
    }
}
