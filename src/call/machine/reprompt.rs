//! Re-prompts on a silent line.
//!
//! [`Reprompter`] arms a timer when the bot is done and listening; each time it fires
//! with no caller speech, the agents get a silent turn (they say "are you still
//! there?"). After `max_reprompts` of them the next silent turn is the closing one:
//! its reply (the agents' goodbye) is heard in full, then the call ends. Should that
//! turn not end the call, the one after hangs up anyway. Caller speech or keys reset
//! the count.

use std::time::{Duration, Instant};

use super::{CallerInput, EndAfter, Machine, State};

/// What a fired re-prompt timer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reprompt {
    /// A silent turn; the caller may still answer.
    Prompt,
    /// The last silent turn: the call ends after its reply.
    Closing,
    /// The closing turn did not end the call: hang up.
    GiveUp,
}

#[derive(Debug)]
pub(super) struct Reprompter {
    after: Duration,
    max: u32,
    at: Option<Instant>,
    count: u32,
}

impl Reprompter {
    pub(super) fn new(after: Duration, max: u32) -> Self {
        Self {
            after,
            max,
            at: None,
            count: 0,
        }
    }

    /// The bot is done and listening at `now`: start waiting.
    pub(super) fn arm(&mut self, now: Instant) {
        self.at = Some(now + self.after);
    }

    /// Stop waiting (something is happening on the line).
    pub(super) fn disarm(&mut self) {
        self.at = None;
    }

    /// The caller spoke: stop waiting and start counting again.
    pub(super) fn reset(&mut self) {
        self.at = None;
        self.count = 0;
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        self.at
    }

    /// What to do if the timer fired by `now`.
    pub(super) fn due(&mut self, now: Instant) -> Option<Reprompt> {
        if !self.at.is_some_and(|at| at <= now) {
            return None;
        }
        self.at = None;
        self.count += 1;
        Some(if self.count <= self.max {
            Reprompt::Prompt
        } else if self.count == self.max + 1 {
            Reprompt::Closing
        } else {
            Reprompt::GiveUp
        })
    }
}

impl Machine {
    /// The bot is done: listen, and re-prompt if the caller stays silent.
    pub(super) fn listen(&mut self, now: Instant) {
        self.state = State::Listening;
        self.reprompt.arm(now);
    }

    pub(super) fn on_reprompt_timer(&mut self, now: Instant) {
        match self.reprompt.due(now) {
            None => {}
            Some(Reprompt::Prompt) => self.start_turn(now, CallerInput::Silence),
            Some(Reprompt::Closing) => {
                self.start_turn(now, CallerInput::Silence);
                self.set_end(self.turn, EndAfter::Hangup);
            }
            Some(Reprompt::GiveUp) => self.end_call(EndAfter::Hangup),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_then_a_closing_turn_then_gives_up() {
        let mut r = Reprompter::new(Duration::from_secs(8), 2);
        let mut now = Instant::now();
        let mut seen = Vec::new();
        for _ in 0..4 {
            r.arm(now);
            assert_eq!(r.due(now + Duration::from_secs(7)), None);
            now += Duration::from_secs(8);
            seen.push(r.due(now).expect("fires"));
        }
        use Reprompt::*;
        assert_eq!(seen, [Prompt, Prompt, Closing, GiveUp]);
    }

    #[test]
    fn caller_speech_starts_the_count_again_and_disarm_stops_the_timer() {
        let mut r = Reprompter::new(Duration::from_secs(8), 1);
        let now = Instant::now();
        r.arm(now);
        assert_eq!(r.due(now + Duration::from_secs(8)), Some(Reprompt::Prompt));
        r.reset();
        r.arm(now);
        assert_eq!(r.due(now + Duration::from_secs(8)), Some(Reprompt::Prompt));
        r.arm(now);
        r.disarm();
        assert_eq!(r.deadline(), None);
        assert_eq!(r.due(now + Duration::from_secs(60)), None);
    }
}
