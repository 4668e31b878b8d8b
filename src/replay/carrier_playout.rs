//! The carrier's playout of the bot's audio (the phone side; ours is `call::playout`), as Twilio documents it: outbound
//! `media` is buffered and played in order, one 20 ms frame per tick; a `mark`
//! is echoed when every byte of audio sent before it has played (at once if
//! nothing is buffered); `clear` empties the buffer and echoes every pending
//! mark at once. Sans-IO: the caller of [`CarrierPlayout::tick`] owns time.

use std::collections::VecDeque;

use crate::audio::frames::FRAME_BYTES;
use crate::audio::MULAW_SILENCE;

#[derive(Debug, Clone)]
enum Item {
    Audio(Vec<u8>),
    Mark(String),
}

/// What one 20 ms tick of playout produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Played {
    /// The frame the caller heard (silence-padded).
    pub frame: [u8; FRAME_BYTES],
    /// How many bytes of it were bot audio (0 = the line was silent).
    pub audio_bytes: usize,
    /// Marks reached by the end of this frame, in order.
    pub marks: Vec<String>,
}

/// What a `clear` dropped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cleared {
    /// Buffered audio bytes that will never play.
    pub dropped_bytes: usize,
    /// Pending marks, echoed now, in order.
    pub marks: Vec<String>,
}

/// The playout buffer of one call.
#[derive(Debug, Default)]
pub struct CarrierPlayout {
    queue: VecDeque<Item>,
    buffered_bytes: usize,
    pending_marks: usize,
}

impl CarrierPlayout {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queue bot audio (μ-law bytes, any length).
    pub fn push_audio(&mut self, payload: Vec<u8>) {
        if payload.is_empty() {
            return;
        }
        self.buffered_bytes += payload.len();
        self.queue.push_back(Item::Audio(payload));
    }

    /// Queue a mark. Returns it back when it is reached immediately (no audio ahead).
    pub fn push_mark(&mut self, name: String) -> Option<String> {
        if self.buffered_bytes == 0 {
            return Some(name);
        }
        self.pending_marks += 1;
        self.queue.push_back(Item::Mark(name));
        None
    }

    /// Play the next 20 ms: up to one frame of buffered audio, then the marks it reached.
    pub fn tick(&mut self) -> Played {
        let mut frame = [MULAW_SILENCE; FRAME_BYTES];
        let mut filled = 0;
        let mut marks = Vec::new();
        while let Some(item) = self.queue.front_mut() {
            match item {
                Item::Mark(_) => {
                    if let Some(Item::Mark(name)) = self.queue.pop_front() {
                        self.pending_marks -= 1;
                        marks.push(name);
                    }
                }
                Item::Audio(bytes) => {
                    if filled == FRAME_BYTES {
                        break;
                    }
                    let n = (FRAME_BYTES - filled).min(bytes.len());
                    frame[filled..filled + n].copy_from_slice(&bytes[..n]);
                    filled += n;
                    self.buffered_bytes -= n;
                    if n == bytes.len() {
                        self.queue.pop_front();
                    } else {
                        bytes.drain(..n);
                    }
                }
            }
        }
        Played {
            frame,
            audio_bytes: filled,
            marks,
        }
    }

    /// Twilio's `clear`: drop buffered audio, echo every pending mark.
    pub fn clear(&mut self) -> Cleared {
        let mut out = Cleared {
            dropped_bytes: self.buffered_bytes,
            marks: Vec::new(),
        };
        for item in self.queue.drain(..) {
            if let Item::Mark(name) = item {
                out.marks.push(name);
            }
        }
        self.buffered_bytes = 0;
        self.pending_marks = 0;
        out
    }

    /// Bot audio waiting to play, in bytes (= samples).
    pub fn buffered_bytes(&self) -> usize {
        self.buffered_bytes
    }

    /// Marks not yet echoed.
    pub fn pending_marks(&self) -> usize {
        self.pending_marks
    }

    /// Nothing buffered and no mark pending.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(b: u8) -> Vec<u8> {
        vec![b; FRAME_BYTES]
    }

    #[test]
    fn plays_one_frame_per_tick_and_echoes_marks_when_reached() {
        let mut p = CarrierPlayout::new();
        p.push_audio(frame(1));
        p.push_audio(frame(2));
        assert_eq!(p.push_mark("m1".into()), None);
        p.push_audio(frame(3));
        assert_eq!(p.push_mark("m2".into()), None);
        assert_eq!(p.pending_marks(), 2);

        let t1 = p.tick();
        assert_eq!(
            (t1.frame[0], t1.audio_bytes, t1.marks.len()),
            (1, FRAME_BYTES, 0)
        );
        let t2 = p.tick();
        assert_eq!(t2.frame[0], 2);
        assert_eq!(t2.marks, vec!["m1".to_string()], "m1 follows frame 2");
        let t3 = p.tick();
        assert_eq!(t3.frame[0], 3);
        assert_eq!(t3.marks, vec!["m2".to_string()]);
        assert!(p.is_idle());
        let t4 = p.tick();
        assert_eq!(t4.audio_bytes, 0);
        assert!(t4.frame.iter().all(|b| *b == MULAW_SILENCE));
    }

    #[test]
    fn mark_with_nothing_buffered_is_echoed_at_once() {
        let mut p = CarrierPlayout::new();
        assert_eq!(p.push_mark("now".into()), Some("now".into()));
        assert!(p.is_idle());
        p.push_audio(frame(9));
        p.tick();
        assert_eq!(p.push_mark("after".into()), Some("after".into()));
    }

    #[test]
    fn clear_drops_audio_and_flushes_pending_marks_in_order() {
        let mut p = CarrierPlayout::new();
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            p.push_audio(frame(i as u8 + 1));
            p.push_mark(name.to_string());
        }
        let t = p.tick();
        assert_eq!(t.marks, vec!["a".to_string()]);
        let c = p.clear();
        assert_eq!(c.dropped_bytes, 2 * FRAME_BYTES);
        assert_eq!(c.marks, vec!["b".to_string(), "c".to_string()]);
        assert!(p.is_idle());
        assert_eq!(p.buffered_bytes(), 0);
        assert_eq!(p.tick().audio_bytes, 0, "cleared audio never plays");
        assert_eq!(p.clear(), Cleared::default());
    }

    #[test]
    fn odd_payload_sizes_are_played_as_a_byte_stream() {
        let mut p = CarrierPlayout::new();
        p.push_audio(vec![1; 100]);
        p.push_audio(vec![2; 100]);
        p.push_mark("m".into());
        p.push_audio(vec![3; 30]);
        let t1 = p.tick();
        assert_eq!(t1.audio_bytes, FRAME_BYTES);
        assert_eq!(t1.frame[99], 1);
        assert_eq!(t1.frame[100], 2);
        assert!(t1.marks.is_empty());
        let t2 = p.tick();
        assert_eq!(t2.audio_bytes, 70, "40 bytes of 2s + 30 of 3s");
        assert_eq!(t2.marks, vec!["m".to_string()]);
        assert_eq!(t2.frame[40], 3);
        assert_eq!(t2.frame[70], MULAW_SILENCE);
        assert!(p.is_idle());
    }
}
