//! Barge-in and false interruptions.
//!
//! Caller speech over the bot that lasts `barge_in_min` (or a key press) stops playback
//! at once (`clear`), cancels the reply and its turn, and leaves an [`Interruption`]
//! until the caller's words are transcribed. Then it is settled: noise or a
//! backchannel ("uh-huh") is false — the unheard rest of the reply is re-spoken as a
//! new utterance that re-states the interrupted turn —, anything else is real and the
//! reply is truncated to what the caller heard (`RecordHeard` for the interrupted
//! turn; a re-spoken reply adds what was heard of it to what was heard before).
//!
//! A caller who goes on before hearing any of the reply (a pause ended their turn
//! early) is not interrupting: their turn is retracted and STT continues the utterance.

use std::time::Instant;

use super::{Action, CallerInput, EndAfter, Machine, Measure, Reply, State, TurnId};

/// An interruption whose nature (real or false) is not known yet.
#[derive(Debug)]
pub(super) struct Interruption {
    /// The turn whose reply was cut (the original turn of a re-spoken reply).
    pub(super) turn: TurnId,
    pub(super) agent: String,
    pub(super) heard: String,
    pub(super) unheard: String,
    /// The call end the interrupted reply was leading to.
    pub(super) end: Option<EndAfter>,
    /// The caller turn taken back because they went on before hearing its reply.
    pub(super) retracted: Option<CallerInput>,
    /// A reply (or greeting) was cut off.
    pub(super) cut_reply: bool,
}

impl Interruption {
    /// Whether the cut reply stays in the conversation, truncated to what was heard
    /// (possibly nothing); a retracted turn's reply leaves with the turn.
    pub(super) fn truncates_reply(&self) -> bool {
        self.cut_reply && self.retracted.is_none()
    }
}

impl Machine {
    /// Caller speech over the bot: stop playback now, cancel the reply, and remember
    /// what was heard until we know whether the interruption was real.
    pub(super) fn barge_in(&mut self, now: Instant) {
        if self.transcripts.awaiting()
            && self.reply.is_none()
            && self.running_turn.is_none()
            && !self.playout.is_active()
        {
            // Nothing to interrupt: the caller goes on after a pause that ended their
            // turn. One utterance (any interruption it belongs to stays pending).
            self.actions.push_back(Action::SttContinue);
            self.accept_turn();
            return;
        }
        let onset = self.ep.onset().unwrap_or(now);
        let reply = self.reply.take();
        let cut_reply = reply.is_some();
        if self.playout.is_active() {
            self.actions.push_back(Action::Clear);
            self.playout.clear();
        }
        // A re-spoken rest belongs to the reply it re-states: the interruption is that
        // reply's, and what was heard of it before counts too.
        let turn = reply
            .as_ref()
            .map(Reply::answers)
            .or(self.running_turn)
            .unwrap_or(self.turn);
        // Spoken = the caller heard some of it (a mark came back). Before that — still
        // synthesizing, or its first fraction of a second on the line — going on
        // continues the caller's own turn.
        let spoke = reply.as_ref().is_some_and(|r| r.chunks_heard > 0);
        if let Some(r) = &reply {
            self.actions
                .push_back(Action::CancelSpeech { utterance: r.turn });
        }
        let cancelled = self.running_turn.take();
        if let Some(running) = cancelled {
            self.actions.push_back(Action::CancelTurn { turn: running });
        }
        let (agent, heard, unheard, end) = match reply {
            Some(r) => {
                let (heard, unheard) = r.cut();
                (r.agent, heard, unheard, r.end)
            }
            None => (String::new(), String::new(), String::new(), None),
        };
        let mut retracted = None;
        if !spoke {
            // Nothing was said yet: this is the caller continuing their last turn.
            if self.transcripts.awaiting() {
                self.actions.push_back(Action::SttContinue);
            } else if matches!(self.last_input, Some(CallerInput::Speech { .. })) {
                // Its words come back as carry (a continued transcript replaces them);
                // digits typed with it are held again, to join the whole utterance.
                let digits = self.transcripts.restore_last();
                self.keypad.hold_first(digits);
                self.actions.push_back(Action::RetractTurn { turn });
                self.actions.push_back(Action::SttContinue);
                retracted = self.last_input.clone();
            } else if cancelled.is_some() {
                // A keypad or re-prompt turn cut off before it said anything.
                retracted = self.last_input.clone();
            }
        }
        self.actions.push_back(Action::Measure(Measure::BargeIn {
            turn,
            reaction: now.saturating_duration_since(onset),
            heard_chars: heard.len(),
        }));
        self.interruption = Some(Interruption {
            turn,
            agent,
            heard,
            unheard,
            end,
            retracted,
            cut_reply,
        });
        self.accept_turn();
    }

    /// A real interruption: the cut reply keeps only what the caller heard.
    pub(super) fn settle(&mut self, int: Interruption) {
        if int.truncates_reply() {
            self.actions.push_back(Action::RecordHeard {
                turn: int.turn,
                agent: int.agent,
                heard: int.heard,
            });
        }
    }

    /// A false interruption: re-speak what the caller did not hear, or re-run the turn
    /// that was cancelled before it said anything.
    pub(super) fn resume(&mut self, now: Instant, int: Interruption) {
        if let Some(input) = int.retracted {
            // The turn was taken back for the caller to go on; they did not: run it.
            self.start_turn(now, input);
        } else if !int.unheard.is_empty() {
            self.turn = self.turn.next();
            let turn = self.turn;
            self.say(turn, &int.agent, int.unheard);
            if let Some(r) = self.reply.as_mut() {
                r.agent_done = true;
                r.end = int.end;
                r.resumes = Some((int.turn, int.heard));
            }
            self.state = State::Thinking;
        } else {
            self.listen(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interruption(cut_reply: bool, retracted: Option<CallerInput>) -> Interruption {
        Interruption {
            turn: TurnId(2),
            agent: "billing".into(),
            heard: "I can see".into(),
            unheard: "two charges.".into(),
            end: None,
            retracted,
            cut_reply,
        }
    }

    #[test]
    fn only_a_cut_reply_that_stays_is_truncated() {
        assert!(interruption(true, None).truncates_reply());
        assert!(
            !interruption(false, None).truncates_reply(),
            "nothing was playing"
        );
        assert!(
            !interruption(true, Some(CallerInput::text("my bill"))).truncates_reply(),
            "a retracted turn's reply leaves with the turn"
        );
    }
}
