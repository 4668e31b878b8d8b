//! Outbound playout, sans-IO: paces the bot's μ-law audio to the carrier in 20 ms
//! frames at real time, puts a `mark` after every chunk of speech, and turns the
//! carrier's mark echoes into "what the caller has actually heard".
//!
//! Twilio plays media in order and echoes a mark once the audio before it has been
//! played; after `clear` it echoes every pending mark at once. So the marks echoed
//! *before* a `clear` tell exactly which chunks were heard. Pipecat ignores marks and
//! estimates from elapsed time; we don't have to.
//!
//! Time is passed in; nothing here sleeps or does I/O. The session asks
//! [`Playout::poll`] for what to send now and [`Playout::next_deadline`] for when to
//! ask again.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::agents::TurnId;
use crate::audio::frames::{FRAME_BYTES, FRAME_DURATION};
use crate::audio::mulaw::SILENCE as MULAW_SILENCE;

/// A chunk of speech to play: μ-law audio and the text it speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The reply (utterance) this chunk belongs to.
    pub utterance: TurnId,
    /// Text spoken by this chunk ("" for pure audio such as a greeting jingle).
    pub text: String,
    /// 8 kHz μ-law bytes; padded with silence to whole 20 ms frames.
    pub audio: Vec<u8>,
}

/// Something to send to the carrier now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Send {
    /// One 20 ms frame of μ-law audio (160 bytes).
    Media(Vec<u8>),
    /// A mark named after the chunk whose audio was just sent.
    Mark(String),
}

/// A chunk whose audio the caller has heard (its mark came back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    pub utterance: TurnId,
    pub text: String,
    /// Whether this was the last chunk queued so far (playback has caught up).
    pub drained: bool,
}

/// What [`Playout::clear`] threw away.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cleared {
    /// Frames that were queued but never sent.
    pub unsent_frames: usize,
    /// Chunks sent (in whole or part) whose marks had not come back: not heard.
    pub unheard: Vec<(TurnId, String)>,
}

#[derive(Debug)]
struct Pending {
    mark: String,
    utterance: TurnId,
    text: String,
    /// Once the mark is sent: when its echo is overdue.
    overdue_at: Option<Instant>,
}

/// The outbound pacer and mark ledger for one call.
#[derive(Debug)]
pub struct Playout {
    /// Chunks not yet fully sent: (chunk, frames already sent of it).
    queue: VecDeque<(Chunk, usize)>,
    /// Marks sent (or to be sent) and not yet echoed, oldest first.
    in_flight: VecDeque<Pending>,
    /// Marks whose echoes must be ignored (they were cleared).
    cleared: VecDeque<String>,
    /// A mark to send right after the frame that completed a chunk.
    mark_due: Option<String>,
    /// When the frame at index `frames_since_anchor` is due.
    anchor: Option<Instant>,
    frames_since_anchor: u32,
    lead_frames: u32,
    next_mark: u64,
    frames_sent: u64,
    /// The queue ran dry after the last frame sent.
    starved: bool,
    /// How long after its audio should have played a mark's echo is given up on.
    mark_timeout: Duration,
}

impl Playout {
    /// `lead_frames` frames may be sent ahead of real time to absorb network jitter.
    pub fn new(lead_frames: usize) -> Self {
        Self {
            queue: VecDeque::new(),
            in_flight: VecDeque::new(),
            cleared: VecDeque::new(),
            mark_due: None,
            anchor: None,
            frames_since_anchor: 0,
            lead_frames: lead_frames as u32,
            next_mark: 0,
            frames_sent: 0,
            starved: false,
            mark_timeout: Duration::from_secs(3),
        }
    }

    /// Give up waiting for a mark's echo this long after its audio should have played.
    pub fn with_mark_timeout(mut self, timeout: Duration) -> Self {
        self.mark_timeout = timeout;
        self
    }

    /// When the oldest sent mark's echo becomes overdue, if any is awaited.
    pub fn mark_deadline(&self) -> Option<Instant> {
        self.in_flight.iter().filter_map(|p| p.overdue_at).min()
    }

    /// Chunks whose marks are overdue at `now`, treated as heard (a carrier that never
    /// echoes marks must not leave the bot "speaking" forever). Oldest first.
    pub fn expire(&mut self, now: Instant) -> Vec<Heard> {
        let Some(pos) = self
            .in_flight
            .iter()
            .rposition(|p| p.overdue_at.is_some_and(|t| t <= now))
        else {
            return Vec::new();
        };
        let name = self.in_flight[pos].mark.clone();
        self.on_mark(&name)
    }

    /// Queue a chunk of speech behind whatever is playing.
    pub fn push(&mut self, mut chunk: Chunk) {
        if chunk.audio.is_empty() && chunk.text.is_empty() {
            return;
        }
        let rem = chunk.audio.len() % FRAME_BYTES;
        if rem != 0 {
            chunk
                .audio
                .resize(chunk.audio.len() + FRAME_BYTES - rem, MULAW_SILENCE);
        }
        self.queue.push_back((chunk, 0));
    }

    /// Whether audio is queued or awaiting its mark (the bot is "speaking").
    pub fn is_active(&self) -> bool {
        !self.queue.is_empty() || !self.in_flight.is_empty() || self.mark_due.is_some()
    }

    /// Frames sent since the call started.
    pub fn frames_sent(&self) -> u64 {
        self.frames_sent
    }

    /// When [`Playout::poll`] next has something to send, if anything is queued.
    pub fn next_deadline(&self, now: Instant) -> Option<Instant> {
        if self.mark_due.is_some() || self.queue.front().is_some_and(|(c, _)| c.audio.is_empty()) {
            return Some(now);
        }
        if self.queue.is_empty() {
            return None;
        }
        match self.anchor {
            None => Some(now),
            Some(anchor) => {
                let idx = self.frames_since_anchor.saturating_sub(self.lead_frames);
                Some(anchor + FRAME_DURATION * idx)
            }
        }
    }

    /// Everything due at `now`, in order.
    pub fn poll(&mut self, now: Instant) -> Vec<Send> {
        let mut out = Vec::new();
        loop {
            if let Some(mark) = self.mark_due.take() {
                self.arm_mark(&mark, now);
                out.push(Send::Mark(mark));
            }
            // A text-only chunk (the tail of a sentence whose audio already went out)
            // only needs its mark, right behind the audio before it.
            if self.queue.front().is_some_and(|(c, _)| c.audio.is_empty()) {
                if let Some((chunk, _)) = self.queue.pop_front() {
                    let mark = self.new_mark(&chunk);
                    self.arm_mark(&mark, now);
                    out.push(Send::Mark(mark));
                }
                continue;
            }
            let Some(due) = self.next_deadline(now) else {
                break;
            };
            if due > now {
                break;
            }
            // After the queue ran dry, new audio starts a new schedule at `now`;
            // otherwise a late poll catches up on the frames already due.
            if self.anchor.is_none() || (self.starved && due < now) {
                self.anchor = Some(now);
                self.frames_since_anchor = 0;
            }
            self.starved = false;
            out.push(Send::Media(self.take_frame()));
            self.frames_since_anchor += 1;
            self.frames_sent += 1;
        }
        out
    }

    fn take_frame(&mut self) -> Vec<u8> {
        let (chunk, sent) = self
            .queue
            .front_mut()
            .expect("take_frame with an empty queue");
        let start = *sent * FRAME_BYTES;
        let frame = chunk
            .audio
            .get(start..start + FRAME_BYTES)
            .map(<[u8]>::to_vec);
        *sent += 1;
        if *sent * FRAME_BYTES >= chunk.audio.len() {
            let (chunk, _) = self.queue.pop_front().expect("front exists");
            self.mark_due = Some(self.new_mark(&chunk));
            self.starved = self.queue.is_empty();
        }
        frame.unwrap_or_else(|| vec![MULAW_SILENCE; FRAME_BYTES])
    }

    /// A mark goes out at `now`: its audio finishes playing at most the lead ahead.
    fn arm_mark(&mut self, mark: &str, now: Instant) {
        let lead = FRAME_DURATION * self.lead_frames;
        if let Some(p) = self.in_flight.iter_mut().find(|p| p.mark == mark) {
            p.overdue_at = Some(now + lead + self.mark_timeout);
        }
    }

    /// Name a mark for `chunk` and remember it as awaiting its echo.
    fn new_mark(&mut self, chunk: &Chunk) -> String {
        let mark = format!("u{}-c{}", chunk.utterance, self.next_mark);
        self.next_mark += 1;
        self.in_flight.push_back(Pending {
            mark: mark.clone(),
            utterance: chunk.utterance,
            text: chunk.text.clone(),
            overdue_at: None,
        });
        mark
    }

    /// The carrier echoed a mark. Returns the chunks it confirms as heard, oldest
    /// first (marks come back in order, so older unechoed ones were heard too); none
    /// for marks that were cleared or are unknown (a misbehaving peer).
    pub fn on_mark(&mut self, name: &str) -> Vec<Heard> {
        if let Some(pos) = self.cleared.iter().position(|m| m == name) {
            self.cleared.remove(pos);
            return Vec::new();
        }
        let Some(pos) = self.in_flight.iter().position(|p| p.mark == name) else {
            return Vec::new();
        };
        let done: Vec<Pending> = self.in_flight.drain(..=pos).collect();
        let drained = !self.is_active();
        let last = done.len() - 1;
        done.into_iter()
            .enumerate()
            .map(|(i, p)| Heard {
                utterance: p.utterance,
                text: p.text,
                drained: drained && i == last,
            })
            .collect()
    }

    /// Stop playback at once (barge-in): drop unsent audio; chunks awaiting their mark
    /// were not heard. The caller must send a `clear` to the carrier.
    pub fn clear(&mut self) -> Cleared {
        let unsent_frames = self
            .queue
            .iter()
            .map(|(c, sent)| c.audio.len() / FRAME_BYTES - sent)
            .sum();
        let mut unheard: Vec<(TurnId, String)> = Vec::new();
        for p in self.in_flight.drain(..) {
            self.cleared.push_back(p.mark);
            unheard.push((p.utterance, p.text));
        }
        // A chunk partly sent has no mark yet; its text is unheard as well.
        for (c, _) in self.queue.drain(..) {
            unheard.push((c.utterance, c.text));
        }
        if let Some(m) = self.mark_due.take() {
            // Its Pending was already moved to `cleared` above; it is never sent.
            self.cleared.retain(|x| *x != m);
        }
        // Keep the ignore list bounded even if a peer never echoes.
        while self.cleared.len() > 256 {
            self.cleared.pop_front();
        }
        self.anchor = None;
        self.frames_since_anchor = 0;
        Cleared {
            unsent_frames,
            unheard,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(u: u64, text: &str, frames: usize) -> Chunk {
        Chunk {
            utterance: TurnId(u),
            text: text.into(),
            audio: vec![0x55; frames * FRAME_BYTES],
        }
    }

    fn ms(n: u64) -> std::time::Duration {
        std::time::Duration::from_millis(n)
    }

    #[test]
    fn paces_frames_at_20ms_and_marks_each_chunk() {
        let t0 = Instant::now();
        let mut p = Playout::new(0);
        p.push(chunk(1, "Hello there.", 3));
        p.push(chunk(1, "How can I help?", 2));
        let mut log = Vec::new();
        let mut now = t0;
        while let Some(due) = p.next_deadline(now) {
            now = now.max(due);
            for s in p.poll(now) {
                log.push((now.duration_since(t0).as_millis(), s));
            }
        }
        let media_times: Vec<u128> = log
            .iter()
            .filter(|(_, s)| matches!(s, Send::Media(_)))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(media_times, vec![0, 20, 40, 60, 80]);
        let marks: Vec<&str> = log
            .iter()
            .filter_map(|(_, s)| {
                if let Send::Mark(m) = s {
                    Some(m.as_str())
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(marks.len(), 2);
        // Each mark directly follows the last frame of its chunk.
        let idx = log
            .iter()
            .position(|(_, s)| matches!(s, Send::Mark(_)))
            .unwrap();
        assert_eq!(log[idx - 1].0, 40);
        assert!(log.iter().all(|(_, s)| match s {
            Send::Media(f) => f.len() == FRAME_BYTES,
            Send::Mark(_) => true,
        }));
    }

    #[test]
    fn lead_frames_are_sent_ahead() {
        let t0 = Instant::now();
        let mut p = Playout::new(2);
        p.push(chunk(1, "a", 5));
        let sent = p.poll(t0);
        assert_eq!(
            sent.iter().filter(|s| matches!(s, Send::Media(_))).count(),
            3
        );
        assert_eq!(p.next_deadline(t0), Some(t0 + ms(20)));
    }

    #[test]
    fn late_poll_catches_up_without_bursting_forever() {
        let t0 = Instant::now();
        let mut p = Playout::new(0);
        p.push(chunk(1, "a", 10));
        p.poll(t0);
        // The task was late by 50 ms: the frames already due go out now.
        let sent = p.poll(t0 + ms(50));
        assert_eq!(
            sent.iter().filter(|s| matches!(s, Send::Media(_))).count(),
            2
        );
        assert_eq!(p.next_deadline(t0 + ms(50)), Some(t0 + ms(60)));
    }

    #[test]
    fn gap_reanchors_clock() {
        let t0 = Instant::now();
        let mut p = Playout::new(0);
        p.push(chunk(1, "a", 1));
        p.poll(t0);
        assert_eq!(p.next_deadline(t0 + ms(500)), None);
        p.push(chunk(2, "b", 2));
        let later = t0 + ms(500);
        assert_eq!(
            p.poll(later)
                .iter()
                .filter(|s| matches!(s, Send::Media(_)))
                .count(),
            1
        );
        assert_eq!(p.next_deadline(later), Some(later + ms(20)));
    }

    #[test]
    fn marks_report_heard_text_in_order() {
        let t0 = Instant::now();
        let mut p = Playout::new(10);
        p.push(chunk(7, "One.", 1));
        p.push(chunk(7, "Two.", 1));
        let marks: Vec<String> = p
            .poll(t0)
            .into_iter()
            .filter_map(|s| if let Send::Mark(m) = s { Some(m) } else { None })
            .collect();
        assert_eq!(marks.len(), 2);
        let h = p.on_mark(&marks[0]).pop().unwrap();
        assert_eq!(
            (h.utterance, h.text.as_str(), h.drained),
            (TurnId(7), "One.", false)
        );
        let h = p.on_mark(&marks[1]).pop().unwrap();
        assert!(h.drained);
        assert!(!p.is_active());
        assert_eq!(p.on_mark("bogus"), vec![]);
    }

    #[test]
    fn a_skipped_echo_counts_the_older_chunks_as_heard_too() {
        let t0 = Instant::now();
        let mut p = Playout::new(10);
        p.push(chunk(3, "One.", 1));
        p.push(chunk(3, "Two.", 1));
        let marks: Vec<String> = p
            .poll(t0)
            .into_iter()
            .filter_map(|s| if let Send::Mark(m) = s { Some(m) } else { None })
            .collect();
        let heard: Vec<String> = p.on_mark(&marks[1]).into_iter().map(|h| h.text).collect();
        assert_eq!(heard, vec!["One.", "Two."]);
        assert!(!p.is_active());
    }

    #[test]
    fn marks_never_echoed_time_out_as_heard() {
        let t0 = Instant::now();
        let mut p = Playout::new(0).with_mark_timeout(ms(3000));
        p.push(chunk(4, "One.", 1));
        p.push(chunk(4, "Two.", 1));
        assert!(p.mark_deadline().is_none(), "nothing sent yet");
        p.poll(t0);
        p.poll(t0 + ms(20));
        p.poll(t0 + ms(40));
        // The first mark went out right behind the first frame, at t0.
        assert_eq!(p.mark_deadline(), Some(t0 + ms(3000)));
        assert!(p.expire(t0 + ms(2999)).is_empty());
        let h = p.expire(t0 + ms(3000));
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].text, "One.");
        let h = p.expire(t0 + ms(5000));
        assert_eq!((h[0].text.as_str(), h[0].drained), ("Two.", true));
        assert!(!p.is_active());
        assert_eq!(p.mark_deadline(), None);
    }

    #[test]
    fn clear_drops_unsent_and_reports_unheard() {
        let t0 = Instant::now();
        let mut p = Playout::new(0);
        p.push(chunk(1, "Heard.", 1));
        p.push(chunk(1, "Sent not heard.", 1));
        p.push(chunk(1, "Never sent.", 5));
        let mut marks = Vec::new();
        for t in [0, 20, 40] {
            for s in p.poll(t0 + ms(t)) {
                if let Send::Mark(m) = s {
                    marks.push(m);
                }
            }
        }
        assert_eq!(marks.len(), 2);
        assert_eq!(p.on_mark(&marks[0]).pop().unwrap().text, "Heard.");
        let cleared = p.clear();
        assert_eq!(cleared.unsent_frames, 4);
        assert_eq!(
            cleared.unheard,
            vec![
                (TurnId(1), "Sent not heard.".to_string()),
                (TurnId(1), "Never sent.".to_string())
            ]
        );
        // Twilio echoes the pending mark after clear: it is ignored.
        assert_eq!(p.on_mark(&marks[1]), vec![]);
        assert!(!p.is_active());
        assert_eq!(p.next_deadline(t0), None);
    }

    #[test]
    fn partial_frames_are_padded_with_silence() {
        let t0 = Instant::now();
        let mut p = Playout::new(0);
        p.push(Chunk {
            utterance: TurnId(1),
            text: String::new(),
            audio: vec![0x10; 200],
        });
        let frames: Vec<Vec<u8>> = [0u64, 20]
            .iter()
            .flat_map(|t| p.poll(t0 + ms(*t)))
            .filter_map(|s| {
                if let Send::Media(f) = s {
                    Some(f)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1][39], 0x10);
        assert_eq!(frames[1][40], MULAW_SILENCE);
    }
}
