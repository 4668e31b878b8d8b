//! [`SttInput::Continue`](crate::speech::SttInput::Continue) for recognisers that transcribe
//! whole utterances: keep the last flushed utterance's audio and put it in front of
//! the next one when the caller turns out to have gone on after a pause. One set of
//! rules for every such recogniser (the embedded rolling driver, the OpenAI client).

use crate::speech::MAX_CONTINUED_SAMPLES;

/// Per-stream bookkeeping of the last utterance and whether the current one joins it.
#[derive(Debug, Default)]
pub struct Continuation {
    /// Audio of the last flushed utterance (empty: nothing that may be joined).
    last: Vec<f32>,
    /// Stream position (samples) where it started.
    last_start: u64,
    /// The current buffer starts with `last`.
    joined: bool,
    /// A `Continue` could not be honoured for the current utterance.
    refused: bool,
}

impl Continuation {
    /// A `Continue`: put the last utterance in front of `buf` (the audio since the
    /// flush) and return where the joined utterance starts — or `None` when it cannot
    /// be joined (nothing kept, already joined, or too long for one decode).
    pub fn on_continue(&mut self, buf: &mut Vec<f32>) -> Option<u64> {
        if self.joined || self.last.is_empty() || self.last.len() >= MAX_CONTINUED_SAMPLES {
            self.refused = !self.joined;
            return None;
        }
        let mut joined = std::mem::take(&mut self.last);
        joined.append(buf);
        *buf = joined;
        self.joined = true;
        Some(self.last_start)
    }

    /// A `Flush` of `utterance`, which started at stream position `start`: remember it
    /// for a later `Continue`, and return whether it continued the one before.
    pub fn on_flush(&mut self, utterance: &[f32], start: u64) -> bool {
        if std::mem::take(&mut self.refused) {
            // This audio lacks the start of the caller's words: never join it later.
            self.last.clear();
        } else {
            self.last.clear();
            self.last.extend_from_slice(utterance);
        }
        self.last_start = start;
        std::mem::take(&mut self.joined)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_the_last_utterance_once_and_never_after_a_refusal() {
        let mut c = Continuation::default();
        let mut buf = vec![1.0; 10];
        assert!(!c.on_flush(&buf, 0));
        buf.clear();
        buf.push(2.0);
        assert_eq!(c.on_continue(&mut buf), Some(0));
        assert_eq!(buf.len(), 11);
        assert_eq!(c.on_continue(&mut buf), None, "already joined");
        assert!(c.on_flush(&buf, 0));
        // Too long to join: refused, and the utterance after it is not joinable either.
        let mut long = vec![0.5; MAX_CONTINUED_SAMPLES];
        assert!(!c.on_flush(&long, 11));
        long.clear();
        assert_eq!(c.on_continue(&mut long), None);
        assert!(!c.on_flush(&[3.0], 11 + MAX_CONTINUED_SAMPLES as u64));
        let mut next = vec![4.0];
        assert_eq!(c.on_continue(&mut next), None);
        assert_eq!(next, vec![4.0]);
    }
}
