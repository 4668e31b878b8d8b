//! The sans-IO per-stream [`Decoder`]: frame limits, protocol state
//! (connected → start → media/mark/dtmf → stop) and [`CodecStats`].
//!
//! No I/O and no clock: feed it websocket frames, get typed messages or errors.

use std::collections::BTreeMap;

use serde::Serialize;

use super::error::ProtocolError;
use super::messages::{Inbound, StartMeta};
use super::parse::parse_inbound;

/// Size limits applied before and while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Largest accepted text frame, in bytes (default 64 KiB).
    pub max_frame_bytes: usize,
    /// Largest accepted decoded media payload, in bytes (default 8000 = 1 s of μ-law).
    pub max_media_payload_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: 64 * 1024,
            max_media_payload_bytes: 8000,
        }
    }
}

/// Counters for one stream; serialisable for call records and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CodecStats {
    /// Every frame offered to the decoder (text or binary, accepted or not).
    pub frames: u64,
    /// Accepted `media` messages.
    pub media_frames: u64,
    /// Decoded μ-law bytes in accepted `media` messages.
    pub media_bytes: u64,
    /// Accepted `mark` echoes.
    pub marks: u64,
    /// Accepted `dtmf` messages.
    pub dtmf: u64,
    /// Accepted events of unknown type.
    pub unknown: u64,
    /// Accepted messages whose `sequenceNumber` was not the previous one + 1.
    pub sequence_gaps: u64,
    /// Rejected frames, by [`ProtocolError::kind`].
    pub errors: BTreeMap<&'static str, u64>,
}

impl CodecStats {
    /// Total rejected frames.
    pub fn total_errors(&self) -> u64 {
        self.errors.values().sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    AwaitingStart,
    Streaming(Box<StartMeta>),
    Stopped,
}

/// Decodes and validates one Twilio Media Streams websocket.
///
/// Rejected frames leave the state unchanged and are counted in
/// [`CodecStats::errors`]; the caller drops them unless
/// [`ProtocolError::is_fatal`] says to end the call.
///
/// Order rules: `media`/`mark`/`dtmf` need a prior `start`; one `start` per
/// stream, in μ-law 8 kHz mono; every later message must carry its
/// `streamSid`; nothing is accepted after `stop` (a `stop` before `start` is
/// accepted and ends the stream). `connected` and unknown events are accepted
/// at any point before `stop`.
#[derive(Debug, Clone)]
pub struct Decoder {
    limits: Limits,
    phase: Phase,
    last_sequence: Option<u64>,
    stats: CodecStats,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl Decoder {
    /// A decoder for a new websocket.
    pub fn new(limits: Limits) -> Self {
        Decoder {
            limits,
            phase: Phase::AwaitingStart,
            last_sequence: None,
            stats: CodecStats::default(),
        }
    }

    /// Decode one text frame.
    pub fn decode_text(&mut self, text: &str) -> Result<Inbound, ProtocolError> {
        self.stats.frames += 1;
        let result = self.decode_inner(text);
        match &result {
            Ok(msg) => self.count_ok(msg),
            Err(e) => *self.stats.errors.entry(e.kind()).or_insert(0) += 1,
        }
        result
    }

    /// Binary frames are never valid (Twilio sends JSON text); always an error.
    pub fn decode_binary(&mut self, _frame: &[u8]) -> Result<Inbound, ProtocolError> {
        self.stats.frames += 1;
        let e = ProtocolError::BinaryFrame;
        *self.stats.errors.entry(e.kind()).or_insert(0) += 1;
        Err(e)
    }

    /// The `start` metadata, once a valid `start` was accepted (and until `stop`).
    pub fn start_meta(&self) -> Option<&StartMeta> {
        match &self.phase {
            Phase::Streaming(meta) => Some(meta),
            _ => None,
        }
    }

    /// The stream id, once started (and until `stop`).
    pub fn stream_sid(&self) -> Option<&str> {
        self.start_meta().map(|m| m.stream_sid.as_str())
    }

    /// Whether a `stop` was accepted; every later frame is rejected.
    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    /// Counters so far.
    pub fn stats(&self) -> &CodecStats {
        &self.stats
    }

    /// The configured limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn decode_inner(&mut self, text: &str) -> Result<Inbound, ProtocolError> {
        if text.len() > self.limits.max_frame_bytes {
            return Err(ProtocolError::TooLarge {
                what: "frame",
                size: text.len(),
                limit: self.limits.max_frame_bytes,
            });
        }
        let parsed = parse_inbound(text, self.limits.max_media_payload_bytes)?;
        let msg = parsed.msg;
        self.check_state(&msg)?;
        // Accepted: apply the transition.
        match &msg {
            Inbound::Start(meta) => self.phase = Phase::Streaming(Box::new(meta.clone())),
            Inbound::Stop(_) => self.phase = Phase::Stopped,
            _ => {}
        }
        if let Some(seq) = parsed.sequence_number {
            if let Some(prev) = self.last_sequence {
                if prev.checked_add(1) != Some(seq) {
                    self.stats.sequence_gaps += 1;
                }
            }
            self.last_sequence = Some(seq);
        }
        Ok(msg)
    }

    fn check_state(&self, msg: &Inbound) -> Result<(), ProtocolError> {
        let expected = match &self.phase {
            Phase::Stopped => {
                return Err(ProtocolError::AfterStop {
                    event: msg.event_name().to_string(),
                })
            }
            Phase::AwaitingStart => {
                return match msg {
                    Inbound::Media(_) => Err(ProtocolError::MediaBeforeStart { event: "media" }),
                    Inbound::Mark(_) => Err(ProtocolError::MediaBeforeStart { event: "mark" }),
                    Inbound::Dtmf(_) => Err(ProtocolError::MediaBeforeStart { event: "dtmf" }),
                    Inbound::Start(meta) if !meta.media_format.is_supported() => {
                        Err(ProtocolError::UnsupportedFormat {
                            encoding: meta.media_format.encoding.clone(),
                            sample_rate: meta.media_format.sample_rate.into(),
                            channels: meta.media_format.channels.into(),
                        })
                    }
                    // connected, a valid start, an early stop, unknown events.
                    _ => Ok(()),
                };
            }
            Phase::Streaming(meta) => &meta.stream_sid,
        };
        let got = match msg {
            Inbound::Start(_) => return Err(ProtocolError::DuplicateStart),
            Inbound::Connected { .. } | Inbound::Unknown { .. } => return Ok(()),
            Inbound::Media(m) => &m.stream_sid,
            Inbound::Mark(m) => &m.stream_sid,
            Inbound::Dtmf(d) => &d.stream_sid,
            Inbound::Stop(s) => &s.stream_sid,
        };
        if got != expected {
            return Err(ProtocolError::StreamMismatch {
                expected: expected.clone(),
                got: got.clone(),
            });
        }
        Ok(())
    }

    fn count_ok(&mut self, msg: &Inbound) {
        let s = &mut self.stats;
        match msg {
            Inbound::Media(m) => {
                s.media_frames += 1;
                s.media_bytes += m.payload.len() as u64;
            }
            Inbound::Mark(_) => s.marks += 1,
            Inbound::Dtmf(_) => s.dtmf += 1,
            Inbound::Unknown { .. } => s.unknown += 1,
            Inbound::Connected { .. } | Inbound::Start(_) | Inbound::Stop(_) => {}
        }
    }
}
