//! Closing the call from our side, when the server shuts down and the drain time is
//! up: whatever plays is cleared and whatever runs is cancelled (a cut reply keeps
//! what was heard, for its own turn), one closing line is said in the voice of the
//! agent that spoke last, and the call hangs up once it has been heard — unless the
//! reply playing leads to a person (escalation): that one plays out and the transfer
//! goes ahead. From then
//! on caller speech, keys and agent events are ignored; only the closing line's
//! audio and marks are taken.

use super::{Action, EndAfter, Input, Machine, State};

/// The inputs still taken while closing: the closing line's audio and its marks.
pub(super) fn plays_while_closing(input: &Input) -> bool {
    matches!(
        input,
        Input::TtsAudio { .. } | Input::TtsDone { .. } | Input::Mark { .. }
    )
}

impl Machine {
    /// Say `text`, then hang up; nothing else is heard or done on this call.
    pub(super) fn close(&mut self, text: String) {
        if self.closing {
            return;
        }
        // A reply that leads to a person (escalation) plays out and the transfer goes
        // ahead: better than telling a caller who asked for a person to call back.
        if self
            .reply
            .as_ref()
            .is_some_and(|r| matches!(r.end, Some(EndAfter::Transfer(_))))
        {
            return;
        }
        self.closing = true;
        if self.playout.is_active() {
            self.actions.push_back(Action::Clear);
            self.playout.clear();
        }
        if let Some(r) = self.reply.take() {
            self.actions
                .push_back(Action::CancelSpeech { utterance: r.turn });
            // A re-spoken rest keeps what was heard of its turn before, as a barge-in does.
            let (heard, _) = r.cut();
            self.actions.push_back(Action::RecordHeard {
                turn: r.answers(),
                agent: r.agent,
                heard,
            });
        }
        if let Some(running) = self.running_turn.take() {
            self.actions.push_back(Action::CancelTurn { turn: running });
        }
        self.interruption = None;
        self.reprompt.disarm();
        self.keypad.clear_deadline();
        self.transcripts.clear_deadline();
        self.turn = self.turn.next();
        let (turn, agent) = (self.turn, self.last_agent.clone());
        self.say(turn, &agent, text);
        if let Some(r) = self.reply.as_mut() {
            r.agent_done = true;
            r.end = Some(EndAfter::Hangup);
        }
        self.state = State::Thinking;
    }
}
