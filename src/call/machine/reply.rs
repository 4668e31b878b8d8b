//! The reply being spoken: its sentences, their audio cut into marked chunks, and what
//! the caller has heard of it.
//!
//! [`Reply`] queues each sentence for synthesis and cuts its audio into chunks of
//! `frames_per_mark` frames as it arrives; sentences play in order, so only the first
//! unfinished one may queue audio. Each chunk carries the words it is expected to
//! contain — placed by a speaking-rate estimate until the sentence's audio is complete,
//! then the rest — so the mark echo of a chunk tells which words were heard. The
//! playout owns the chunks from there.
//!
//! The machine's side: [`Machine::say`] queues a sentence, [`Machine::on_tts_audio`]
//! feeds audio, and the reply is finished in `Machine::pump` once it is heard in full.

use std::time::Instant;

use super::{merge, Action, Machine, State, TurnId};
use crate::audio::frames::FRAME_BYTES;
use crate::call::playout::Chunk;
use crate::call::turn_text::{word_count, word_range, words_spoken};

/// Rough speaking rate used to place words in audio before a sentence's length is known.
const CHARS_PER_SECOND: f32 = 14.0;
/// μ-law bytes per second of outbound audio (8 kHz, one byte per sample).
const BYTES_PER_SECOND: f32 = 8000.0;

/// How a call ends once the reply leading to it is heard.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum EndAfter {
    Transfer(String),
    Hangup,
}

/// One sentence of a reply, as it is synthesized and queued.
#[derive(Debug)]
struct Sentence {
    text: String,
    /// μ-law not yet cut into a chunk.
    pending: Vec<u8>,
    /// Audio bytes queued so far.
    queued: usize,
    /// Words already attached to queued chunks.
    words_used: usize,
    done: bool,
}

/// The reply of one turn.
#[derive(Debug)]
pub(super) struct Reply {
    pub(super) turn: TurnId,
    pub(super) agent: String,
    sentences: Vec<Sentence>,
    /// Text of the chunks the caller heard, in order.
    heard: Vec<String>,
    /// Chunks whose mark came back (with or without words attached).
    pub(super) chunks_heard: usize,
    pub(super) agent_done: bool,
    pub(super) end: Option<EndAfter>,
    /// The interrupted turn this reply re-states (false interruption), with what the
    /// caller had heard of it before.
    pub(super) resumes: Option<(TurnId, String)>,
}

impl Reply {
    pub(super) fn new(turn: TurnId, agent: &str) -> Self {
        Self {
            turn,
            agent: agent.to_string(),
            sentences: Vec::new(),
            heard: Vec::new(),
            chunks_heard: 0,
            agent_done: false,
            end: None,
            resumes: None,
        }
    }

    /// Queue a sentence; returns its sequence number.
    fn add_sentence(&mut self, text: String) -> u32 {
        let seq = self.sentences.len() as u32;
        self.sentences.push(Sentence {
            text,
            pending: Vec::new(),
            queued: 0,
            words_used: 0,
            done: false,
        });
        seq
    }

    /// Audio for sentence `seq` (`done`: its last). Returns the chunks now ready for
    /// playout, in play order; unknown sentences are ignored.
    pub(super) fn add_audio(
        &mut self,
        seq: u32,
        audio: &[u8],
        done: bool,
        chunk_bytes: usize,
    ) -> Vec<Chunk> {
        let chunk_bytes = chunk_bytes.max(1);
        let mut out = Vec::new();
        let Some(sentence) = self.sentences.get_mut(seq as usize) else {
            return out;
        };
        sentence.pending.extend_from_slice(audio);
        sentence.done |= done;
        for s in self.sentences.iter_mut() {
            let total_words = word_count(&s.text);
            let estimate = (s.text.len() as f32 / CHARS_PER_SECOND * BYTES_PER_SECOND).max(1.0);
            while s.pending.len() >= chunk_bytes || (s.done && !s.pending.is_empty()) {
                let take = chunk_bytes.min(s.pending.len());
                let bytes: Vec<u8> = s.pending.drain(..take).collect();
                s.queued += bytes.len();
                let last = s.done && s.pending.is_empty();
                let upto = if last {
                    total_words
                } else {
                    words_spoken(&s.text, s.queued as f32 / estimate)
                        .min(total_words.saturating_sub(1))
                };
                let text = word_range(&s.text, s.words_used, upto);
                s.words_used = s.words_used.max(upto);
                out.push(Chunk {
                    utterance: self.turn,
                    text,
                    audio: bytes,
                });
            }
            if s.done && s.words_used < total_words {
                // Audio ended early (or was empty): the remaining words ride on a mark.
                let text = word_range(&s.text, s.words_used, total_words);
                s.words_used = total_words;
                out.push(Chunk {
                    utterance: self.turn,
                    text,
                    audio: Vec::new(),
                });
            }
            if !s.done {
                break;
            }
        }
        out
    }

    /// Every sentence is synthesized and cut into chunks.
    pub(super) fn synthesized(&self) -> bool {
        self.sentences
            .iter()
            .all(|s| s.done && s.pending.is_empty())
    }

    /// The caller heard a chunk of this reply carrying `text`.
    pub(super) fn on_heard(&mut self, text: &str) {
        self.chunks_heard += 1;
        if !text.is_empty() {
            self.heard.push(text.to_string());
        }
    }

    /// The turn whose reply this is: its own, or the one a re-spoken rest re-states.
    pub(super) fn answers(&self) -> TurnId {
        self.resumes.as_ref().map_or(self.turn, |(t, _)| *t)
    }

    /// (all the caller heard of the turn's reply — of a re-spoken rest, what was heard
    /// before the false interruption too —, the rest of this reply not heard).
    pub(super) fn cut(&self) -> (String, String) {
        let heard_now = self.heard.join(" ");
        let full: Vec<&str> = self.sentences.iter().map(|s| s.text.as_str()).collect();
        let unheard = word_range(&full.join(" "), word_count(&heard_now), usize::MAX);
        let heard = match &self.resumes {
            Some((_, before)) => merge(before.clone(), &heard_now),
            None => heard_now,
        };
        (heard, unheard)
    }
}

impl Machine {
    /// Queue a sentence of `turn`'s reply for synthesis.
    pub(super) fn say(&mut self, turn: TurnId, agent: &str, text: String) {
        let text = text.trim().to_string();
        let reply = match self.reply.as_mut().filter(|r| r.turn == turn) {
            Some(r) => r,
            None => self.reply.insert(Reply::new(turn, agent)),
        };
        reply.agent = agent.to_string();
        if !agent.is_empty() {
            self.last_agent = agent.to_string();
        }
        if text.is_empty() {
            return;
        }
        let seq = reply.add_sentence(text.clone());
        self.actions.push_back(Action::Speak {
            utterance: turn,
            seq,
            text,
        });
    }

    /// The call ends (`end`) once `turn`'s reply is heard, if `turn` is still running.
    pub(super) fn set_end(&mut self, turn: TurnId, end: EndAfter) {
        if self.running_turn != Some(turn) {
            return;
        }
        let reply = match self.reply.as_mut().filter(|r| r.turn == turn) {
            Some(r) => r,
            None => self.reply.insert(Reply::new(turn, "")),
        };
        reply.end = Some(end);
    }

    /// TTS audio (or the end of a sentence's audio) arrived: queue its chunks.
    pub(super) fn on_tts_audio(
        &mut self,
        now: Instant,
        utterance: TurnId,
        seq: u32,
        audio: Vec<u8>,
        done: bool,
    ) {
        let chunk_bytes = self.cfg.frames_per_mark * FRAME_BYTES;
        let Some(reply) = self.reply.as_mut().filter(|r| r.turn == utterance) else {
            return;
        };
        if !audio.is_empty() && utterance == self.turn {
            self.clock.first_audio(now);
        }
        let chunks = reply.add_audio(seq, &audio, done, chunk_bytes);
        let pushed = !chunks.is_empty();
        for chunk in chunks {
            self.playout.push(chunk);
        }
        if pushed && self.state == State::Thinking && !self.transcripts.awaiting() {
            self.state = State::Speaking;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNK: usize = 10 * FRAME_BYTES;

    fn texts(chunks: &[Chunk]) -> Vec<&str> {
        chunks.iter().map(|c| c.text.as_str()).collect()
    }

    #[test]
    fn audio_is_cut_into_chunks_whose_words_add_up_to_the_sentence() {
        let mut r = Reply::new(TurnId(3), "billing");
        let text = "I can see two charges of fifty nine dollars on March twelfth.";
        r.add_sentence(text.into());
        // About 4.4 s of speech at the estimate: 1.6 s arrives, then the rest.
        let mut chunks = r.add_audio(0, &vec![0x42; 8 * CHUNK], false, CHUNK);
        assert_eq!(chunks.len(), 8);
        assert!(chunks
            .iter()
            .all(|c| c.utterance == TurnId(3) && c.audio.len() == CHUNK));
        let early = texts(&chunks).join(" ").split_whitespace().count();
        assert!(
            early > 0 && early < 12,
            "words placed by the estimate: {early}"
        );
        chunks.extend(r.add_audio(0, &vec![0x42; CHUNK / 2], true, CHUNK));
        let all: Vec<&str> = texts(&chunks)
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect();
        assert_eq!(all.join(" "), text);
        assert!(r.synthesized());
    }

    #[test]
    fn sentences_queue_in_order_and_words_without_audio_ride_on_a_mark() {
        let mut r = Reply::new(TurnId(1), "triage");
        r.add_sentence("First one.".into());
        r.add_sentence("Second one.".into());
        assert!(
            r.add_audio(1, &vec![0x42; CHUNK], true, CHUNK).is_empty(),
            "waits for the first"
        );
        let chunks = r.add_audio(0, &[], true, CHUNK);
        assert_eq!(texts(&chunks), ["First one.", "Second one."]);
        assert!(
            chunks[0].audio.is_empty(),
            "no audio: the words ride on a mark"
        );
        assert_eq!(chunks[1].audio.len(), CHUNK);
        assert!(
            r.add_audio(7, &[1, 2], true, CHUNK).is_empty(),
            "unknown sentence"
        );
    }

    #[test]
    fn the_cut_splits_heard_from_unheard_words() {
        let mut r = Reply::new(TurnId(1), "billing");
        r.add_sentence("I see two charges.".into());
        r.add_sentence("Shall I refund one?".into());
        r.on_heard("I see");
        r.on_heard("");
        assert_eq!(r.chunks_heard, 2);
        assert_eq!(
            r.cut(),
            (
                "I see".to_string(),
                "two charges. Shall I refund one?".to_string()
            )
        );
    }
}
