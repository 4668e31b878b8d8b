//! The simulated caller's script for one turn: what the caller does ([`CallerTurn`])
//! and how it becomes one [`Step`] per 20 ms line tick: the speech frames, then each
//! keypad digit 200 ms apart ([`DTMF_GAP_MS`](super::scenario::DTMF_GAP_MS)), then the
//! trailing silence. The step after which the caller's input counts as ended is
//! marked, so latency is measured from the last word or digit, not from the silence.

use std::collections::VecDeque;

use crate::audio::frames::FRAME_BYTES;
use crate::audio::MULAW_SILENCE;

use super::sim::TICK_MS;

const SILENCE: [u8; FRAME_BYTES] = [MULAW_SILENCE; FRAME_BYTES];

/// What the caller does in one turn.
#[derive(Debug, Clone, Default)]
pub struct CallerTurn {
    /// Caller speech as 20 ms μ-law frames.
    pub frames: Vec<[u8; FRAME_BYTES]>,
    /// Keypad digits pressed after the speech.
    pub dtmf: String,
    /// Silence after the input, in ms.
    pub silence_after_ms: u64,
    /// Start once this much of the bot's reply has played.
    pub barge_in_ms: Option<u64>,
}

/// What the caller sends on one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Step {
    /// The frame is caller speech (counted in `speech_frames_sent`).
    pub speech: bool,
    /// The inbound media frame (mu-law, 20 ms).
    pub frame: [u8; FRAME_BYTES],
    /// A keypad digit sent before the frame.
    pub dtmf: Option<char>,
    /// The input of the turn ends after this tick.
    pub input_end_after: bool,
}

/// The line steps of one caller turn, in order.
pub(super) fn steps(turn: &CallerTurn) -> VecDeque<Step> {
    let mut steps: VecDeque<Step> = turn
        .frames
        .iter()
        .map(|f| Step {
            speech: true,
            frame: *f,
            dtmf: None,
            input_end_after: false,
        })
        .collect();
    let gap = DTMF_GAP_TICKS;
    for (i, d) in turn.dtmf.chars().enumerate() {
        if i > 0 {
            steps.extend((1..gap).map(|_| silent_step()));
        }
        steps.push_back(Step {
            dtmf: Some(d),
            ..silent_step()
        });
    }
    match steps.back_mut() {
        Some(last) => last.input_end_after = true,
        None => steps.push_back(Step {
            input_end_after: true,
            ..silent_step()
        }),
    }
    steps.extend((0..turn.silence_after_ms.div_ceil(TICK_MS)).map(|_| silent_step()));
    steps
}

const DTMF_GAP_TICKS: u64 = super::scenario::DTMF_GAP_MS / TICK_MS;

/// A tick of line silence with nothing pressed.
pub(super) fn silent_step() -> Step {
    Step {
        speech: false,
        frame: SILENCE,
        dtmf: None,
        input_end_after: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_then_digits_apart_then_silence_with_the_input_end_marked() {
        let turn = CallerTurn {
            frames: vec![[1; FRAME_BYTES]; 3],
            dtmf: "12".into(),
            silence_after_ms: 100,
            barge_in_ms: None,
        };
        let steps: Vec<Step> = steps(&turn).into();
        let gap = (super::super::scenario::DTMF_GAP_MS / TICK_MS) as usize;
        // 3 speech, digit 1, gap-1 silent, digit 2, 5 silent (100 ms).
        assert_eq!(steps.len(), 3 + 1 + (gap - 1) + 1 + 5);
        assert!(steps[..3].iter().all(|s| s.speech && s.dtmf.is_none()));
        assert_eq!(steps[3].dtmf, Some('1'));
        assert_eq!(steps[3 + gap].dtmf, Some('2'));
        let ends: Vec<usize> = (0..steps.len())
            .filter(|&i| steps[i].input_end_after)
            .collect();
        assert_eq!(ends, vec![3 + gap], "input ends on the last digit");
        assert!(steps[3 + gap + 1..].iter().all(|s| *s == silent_step()));
    }

    #[test]
    fn an_empty_turn_still_ends_its_input() {
        let steps: Vec<Step> = steps(&CallerTurn::default()).into();
        assert_eq!(steps.len(), 1);
        assert!(steps[0].input_end_after && !steps[0].speech);
    }
}
