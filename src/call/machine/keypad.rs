//! The keypad: DTMF digits collected into one keypad turn.
//!
//! [`Keypad`] gathers digits until `#` or until `dtmf_timeout` passes after the last
//! one, and holds digits typed while an utterance is still being spoken or
//! transcribed so they join that utterance's text ("my account number is" + `1003#`).
//!
//! The machine's side ([`Machine::on_dtmf`]): a key pressed while the bot plays is a
//! barge-in that is never false; keys typed while the reply is still being decided
//! (nothing heard, nothing playing) join the turn in flight, which is taken back and
//! run again with them.

use std::time::{Duration, Instant};

use super::{merge, Action, CallerInput, Machine, State};

/// Digits being typed and digits held for an utterance.
#[derive(Debug)]
pub(super) struct Keypad {
    timeout: Duration,
    digits: String,
    deadline: Option<Instant>,
    held: String,
}

impl Keypad {
    pub(super) fn new(dtmf_timeout: Duration) -> Self {
        Self {
            timeout: dtmf_timeout,
            digits: String::new(),
            deadline: None,
            held: String::new(),
        }
    }

    /// A key was pressed at `now`; returns the digits typed so far when `#` ends them
    /// (`#` itself is never a digit; `#` alone returns nothing).
    pub(super) fn press(&mut self, now: Instant, key: char) -> Option<String> {
        if key == '#' {
            self.deadline = None;
            return self.take();
        }
        self.digits.push(key);
        self.deadline = Some(now + self.timeout);
        None
    }

    /// The digits, once `dtmf_timeout` has passed since the last key.
    pub(super) fn due(&mut self, now: Instant) -> Option<String> {
        if self.deadline.is_some_and(|d| d <= now) {
            self.deadline = None;
            return self.take();
        }
        None
    }

    fn take(&mut self) -> Option<String> {
        Some(std::mem::take(&mut self.digits)).filter(|d| !d.is_empty())
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    pub(super) fn clear_deadline(&mut self) {
        self.deadline = None;
    }

    /// Digits held for the utterance in progress.
    pub(super) fn held(&self) -> &str {
        &self.held
    }

    /// Hold `digits` (after any already held) for the utterance in progress.
    pub(super) fn hold(&mut self, digits: &str) {
        self.held.push_str(digits);
    }

    /// Hold `digits` before any already held (they were typed earlier).
    pub(super) fn hold_first(&mut self, digits: String) {
        self.held = digits + &self.held;
    }

    pub(super) fn take_held(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

impl Machine {
    pub(super) fn on_dtmf(&mut self, now: Instant, key: char) {
        if matches!(self.state, State::Speaking | State::Thinking) && self.playout.is_active() {
            self.barge_in(now);
            // A key press is never a false interruption.
            if let Some(int) = self.interruption.take() {
                self.settle(int);
            }
            self.state = State::Listening;
        }
        self.reprompt.disarm();
        if let Some(digits) = self.keypad.press(now, key) {
            self.submit_dtmf(now, digits);
        }
    }

    /// Pass collected digits on. Typed while an utterance is still being spoken or
    /// transcribed, they join that utterance's text instead of overtaking it as a turn
    /// of their own.
    pub(super) fn submit_dtmf(&mut self, now: Instant, digits: String) {
        if self.transcripts.awaiting() || self.state == State::CallerSpeaking {
            self.keypad.hold(&digits);
            return;
        }
        if let Some(running) = self.running_turn.filter(|_| self.state == State::Thinking) {
            let heard_any = self
                .reply
                .as_ref()
                .is_some_and(|r| r.turn == running && r.chunks_heard > 0);
            if !heard_any && !self.playout.is_active() {
                // Keys typed while the reply is still being decided join the turn in
                // flight: it is taken back and run again with them.
                self.running_turn = None;
                self.actions.push_back(Action::CancelTurn { turn: running });
                if self.reply.as_ref().is_some_and(|r| r.turn == running) {
                    self.actions
                        .push_back(Action::CancelSpeech { utterance: running });
                    self.reply = None;
                }
                self.actions
                    .push_back(Action::RetractTurn { turn: running });
                let joined = match self.last_input.take() {
                    Some(CallerInput::Speech { text, confidence }) => CallerInput::Speech {
                        text: merge(text.trim_end_matches(['.', ',']).to_string(), &digits),
                        confidence,
                    },
                    Some(CallerInput::Dtmf { digits: before }) => CallerInput::Dtmf {
                        digits: before + &digits,
                    },
                    _ => CallerInput::Dtmf { digits },
                };
                self.start_turn(now, joined);
                return;
            }
        }
        self.start_turn(now, CallerInput::Dtmf { digits });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ends_the_digits_at_once() {
        let mut k = Keypad::new(Duration::from_millis(1500));
        let now = Instant::now();
        assert_eq!(k.press(now, '1'), None);
        assert_eq!(k.press(now, '0'), None);
        assert_eq!(k.press(now, '#').as_deref(), Some("10"));
        assert_eq!(k.deadline(), None);
        assert_eq!(k.press(now, '#'), None, "# alone is nothing");
    }

    #[test]
    fn digits_are_due_after_the_timeout_from_the_last_key() {
        let mut k = Keypad::new(Duration::from_millis(1500));
        let t0 = Instant::now();
        k.press(t0, '4');
        k.press(t0 + Duration::from_millis(1000), '2');
        assert_eq!(k.due(t0 + Duration::from_millis(2000)), None);
        assert_eq!(
            k.due(t0 + Duration::from_millis(2500)).as_deref(),
            Some("42")
        );
        assert_eq!(k.due(t0 + Duration::from_secs(9)), None);
    }

    #[test]
    fn held_digits_keep_the_order_they_were_typed_in() {
        let mut k = Keypad::new(Duration::from_millis(1500));
        k.hold("34");
        k.hold_first("12".into());
        k.hold("5");
        assert_eq!(k.take_held(), "12345");
        assert_eq!(k.held(), "");
    }
}
