//! Transcripts: the final transcripts owed by STT and the caller text they make.
//!
//! [`Transcripts`] counts turn ends whose final transcript has not come back (with a
//! deadline, `stt_timeout`, after which the turn counts as unheard and the late final
//! is dropped), carries the words of an utterance the caller went on from, merges a
//! continued final (STT re-transcribed both parts as one) over the parts, and keeps
//! the last turn's text and keypad digits in case that turn is taken back.
//!
//! The machine's side ([`Machine::on_final`]) decides what the text is: the end of a
//! false interruption, a keypad turn, nothing (listen again) or a caller turn.

use std::time::{Duration, Instant};

use super::{merge, Action, CallerInput, Machine, Measure, State};
use crate::call::turn_text::is_backchannel;

/// Final transcripts owed and the words they add up to.
#[derive(Debug)]
pub(super) struct Transcripts {
    timeout: Duration,
    /// Turn ends (STT flushes) whose final has not come back yet.
    pending: u32,
    /// Finals still to come for turn ends given up on.
    stale: u32,
    deadline: Option<Instant>,
    /// Words of an utterance the caller went on from, to prefix the next final.
    carry: String,
    partial: String,
    /// Text and digits of the last caller turn, restored if it is taken back.
    last_text: String,
    last_digits: String,
}

impl Transcripts {
    pub(super) fn new(stt_timeout: Duration) -> Self {
        Self {
            timeout: stt_timeout,
            pending: 0,
            stale: 0,
            deadline: None,
            carry: String::new(),
            partial: String::new(),
            last_text: String::new(),
            last_digits: String::new(),
        }
    }

    /// A turn ended at `now`: one more final is owed.
    pub(super) fn flushed(&mut self, now: Instant) {
        self.pending += 1;
        self.deadline = Some(now + self.timeout);
    }

    /// Whether a final transcript is still to come.
    pub(super) fn awaiting(&self) -> bool {
        self.pending > 0
    }

    /// When an owed final is given up on.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    pub(super) fn clear_deadline(&mut self) {
        self.deadline = None;
    }

    /// The latest partial transcript of the turn in progress.
    pub(super) fn partial(&self) -> &str {
        &self.partial
    }

    pub(super) fn set_partial(&mut self, text: String) {
        self.partial = text;
    }

    /// A final arrived while the caller is (`talking`) or is not speaking. Returns the
    /// turn's whole text once nothing more is owed and the caller is quiet; `None`
    /// when it is dropped (late, duplicate, owed to a turn given up on) or carried
    /// into the utterance still going on.
    pub(super) fn receive(&mut self, text: &str, continued: bool, talking: bool) -> Option<String> {
        if self.stale > 0 {
            self.stale -= 1;
            return None;
        }
        if self.pending == 0 {
            return None; // a late or duplicate final never starts a second reply
        }
        self.take(text, continued, talking)
    }

    /// No final came in time: everything owed counts as nothing heard (the returned
    /// text is only what was carried), and the finals that arrive later are dropped.
    pub(super) fn give_up(&mut self, talking: bool) -> Option<String> {
        self.stale += self.pending;
        self.pending = 1;
        self.take("", false, talking)
    }

    fn take(&mut self, text: &str, continued: bool, talking: bool) -> Option<String> {
        self.pending = self.pending.saturating_sub(1);
        if self.pending == 0 {
            self.deadline = None;
        }
        let carry = std::mem::take(&mut self.carry);
        let text = text.trim();
        // A continued final re-transcribed the earlier words together with the new ones
        // (an empty one is a failed decode: keep what we had).
        let text = if continued && !text.is_empty() {
            text.to_string()
        } else {
            merge(carry, text)
        };
        if talking || self.pending > 0 {
            self.carry = text;
            return None;
        }
        Some(text)
    }

    /// Remember the text and digits of the caller turn just started.
    pub(super) fn remember(&mut self, text: &str, digits: &str) {
        self.last_text = text.to_string();
        self.last_digits = digits.to_string();
    }

    /// The last caller turn is taken back (the caller went on): its words become the
    /// carry for the utterance that continues; returns its digits.
    pub(super) fn restore_last(&mut self) -> String {
        self.carry = std::mem::take(&mut self.last_text);
        std::mem::take(&mut self.last_digits)
    }
}

impl Machine {
    /// A final transcript from STT.
    pub(super) fn on_final(
        &mut self,
        now: Instant,
        text: String,
        confidence: f32,
        continued: bool,
    ) {
        let talking = self.state == State::CallerSpeaking;
        if let Some(text) = self.transcripts.receive(&text, continued, talking) {
            self.take_final(now, text, confidence);
        }
    }

    /// No final came in time: the turn counts as unheard.
    pub(super) fn give_up_on_finals(&mut self, now: Instant) {
        let talking = self.state == State::CallerSpeaking;
        if let Some(text) = self.transcripts.give_up(talking) {
            self.take_final(now, text, 0.0);
        }
    }

    /// The caller's whole utterance is transcribed: settle a pending interruption,
    /// then start the turn it makes (words, keys, or nothing).
    fn take_final(&mut self, now: Instant, text: String, confidence: f32) {
        self.clock.transcribed(now);
        if let Some(int) = self.interruption.take() {
            // Noise or "uh-huh" is a false interruption; keys pressed with it never are.
            let noise = text.is_empty() || (is_backchannel(&text) && !int.unheard.contains('?'));
            if noise && self.keypad.held().is_empty() {
                self.actions
                    .push_back(Action::Measure(Measure::FalseInterruption {
                        turn: int.turn,
                        text,
                    }));
                self.resume(now, int);
                return;
            }
            self.settle(int);
        }
        let digits = self.keypad.take_held();
        if text.is_empty() && !digits.is_empty() {
            self.start_turn(now, CallerInput::Dtmf { digits });
            return;
        }
        if text.is_empty() {
            self.listen(now);
            return;
        }
        self.transcripts.remember(&text, &digits);
        let text = if digits.is_empty() {
            text
        } else {
            merge(text.trim_end_matches(['.', ',']).to_string(), &digits)
        };
        self.start_turn(now, CallerInput::Speech { text, confidence });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owed(n: u32) -> (Transcripts, Instant) {
        let mut t = Transcripts::new(Duration::from_secs(15));
        let now = Instant::now();
        for _ in 0..n {
            t.flushed(now);
        }
        (t, now)
    }

    #[test]
    fn a_final_nobody_asked_for_is_dropped() {
        let (mut t, _) = owed(0);
        assert_eq!(t.receive("hello", false, false), None);
    }

    #[test]
    fn one_final_per_flush_and_the_deadline_goes_with_the_last() {
        let (mut t, now) = owed(1);
        assert_eq!(t.deadline(), Some(now + Duration::from_secs(15)));
        assert_eq!(
            t.receive(" my bill ", false, false).as_deref(),
            Some("my bill")
        );
        assert!(!t.awaiting());
        assert_eq!(t.deadline(), None);
        assert_eq!(t.receive("again", false, false), None, "duplicate");
    }

    #[test]
    fn parts_are_carried_until_the_caller_stops_and_nothing_more_is_owed() {
        let (mut t, _) = owed(2);
        assert_eq!(
            t.receive("I was charged", false, false),
            None,
            "one more owed"
        );
        assert_eq!(
            t.receive("twice", false, false).as_deref(),
            Some("I was charged twice")
        );
        let (mut t, _) = owed(1);
        assert_eq!(
            t.receive("my bill", false, true),
            None,
            "caller still talking"
        );
        t.flushed(Instant::now());
        assert_eq!(
            t.receive("is wrong", false, false).as_deref(),
            Some("my bill is wrong")
        );
    }

    #[test]
    fn a_continued_final_replaces_the_parts_unless_it_is_empty() {
        let (mut t, _) = owed(2);
        t.receive("I was", false, false);
        assert_eq!(
            t.receive("I was charged twice", true, false).as_deref(),
            Some("I was charged twice")
        );
        let (mut t, _) = owed(2);
        t.receive("I was charged", false, false);
        assert_eq!(t.receive("", true, false).as_deref(), Some("I was charged"));
    }

    #[test]
    fn finals_owed_to_a_turn_given_up_on_are_dropped() {
        let (mut t, _) = owed(2);
        assert_eq!(t.give_up(false).as_deref(), Some(""));
        assert_eq!(t.receive("late one", false, false), None);
        assert_eq!(t.receive("late two", false, false), None);
        t.flushed(Instant::now());
        assert_eq!(t.receive("fresh", false, false).as_deref(), Some("fresh"));
    }

    #[test]
    fn a_taken_back_turn_gives_its_words_and_digits_back() {
        let (mut t, _) = owed(0);
        t.remember("my account is", "1003");
        assert_eq!(t.restore_last(), "1003");
        t.flushed(Instant::now());
        assert_eq!(
            t.receive("please", false, false).as_deref(),
            Some("my account is please")
        );
        assert_eq!(t.restore_last(), "", "restored once");
    }
}
