//! The browser softphone's wire protocol, and its bridge to Media Streams, sans-IO.
//!
//! A page (`/phone`) sends the microphone as Opus and plays the bot's Opus; the call
//! itself runs on the same path as a carrier's call. [`BrowserBridge`] stands where
//! the carrier would: it turns the page's messages into the Media Streams messages
//! Twilio would send (`connected`, `start`, 20 ms μ-law `media`, `dtmf`, `mark`,
//! `stop`) and the session's replies (`media`, `mark`, `clear`) into the page's.
//!
//! ## The page's protocol (one websocket, `/phone/ws`)
//! Page → server:
//! - binary: a 2-byte big-endian sequence number, then one Opus packet (48 kHz mono,
//!   20 ms: WebCodecs `AudioEncoder`). A gap in the numbers is concealed (libopus PLC).
//! - text: `{"event":"dtmf","digit":"5"}`, `{"event":"mark","name":"…"}` (the audio
//!   before that mark has played), `{"event":"hangup"}`.
//!
//! Server → page:
//! - text `{"event":"started","callSid":"…"}` first;
//! - binary: sequence number + Opus packet of the bot's voice, 20 ms each, paced in
//!   real time by the call's playout;
//! - text `{"event":"mark","name":"…"}` after the audio it follows (echo it once that
//!   audio has played), `{"event":"clear"}` (barge-in: drop what is queued).
//!
//! Like Twilio, the bridge itself echoes every mark still pending when the session
//! sends `clear`, so what the call records as heard is exactly what played before
//! the page was told to stop (later echoes of those marks from the page are ignored).
//!
//! Timing: the Opus encoder works in whole 20 ms frames behind a 10 ms resampler, so
//! a mark reaches the page up to 20 ms before the last of the audio it follows (the
//! rest goes out with the next audio); padding a frame at every mark instead would
//! put gaps into continuous speech. A `clear` empties the encoder and the resampler.

use std::collections::VecDeque;

use serde::Deserialize;

use super::client::{decode_outbound, ClientEncoder};
use super::messages::{Dtmf, Inbound, Mark, MediaFormat, Outbound, StartMeta, Stop, Track};
use crate::audio::frames::{Framer, PHONE_RATE};
use crate::audio::mulaw;
use crate::audio::opus::{OpusDecoder, OpusEncoder, OpusError};

/// Longest gap (packets) concealed for one jump in the sequence numbers; a larger
/// jump is a restarted encoder, not loss.
const MAX_GAP: u16 = 50;
/// Packets in a row that look late before the bridge takes them as the page's new
/// numbering (one wild number must not silence the packets that follow it).
const RESYNC_AFTER: u32 = 3;

/// Something wrong with one message from the page: counted and dropped.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("binary frame shorter than its 2-byte sequence number")]
    ShortFrame,
    #[error("undecodable Opus packet: {0}")]
    Opus(#[from] OpusError),
    #[error("text message is not a softphone event: {0}")]
    Json(String),
    #[error("digit {0:?} is not a keypad key")]
    BadDigit(String),
}

impl BrowserError {
    /// A short name for metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            BrowserError::ShortFrame => "short_frame",
            BrowserError::Opus(_) => "opus",
            BrowserError::Json(_) => "json",
            BrowserError::BadDigit(_) => "bad_digit",
        }
    }
}

/// A message for the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToPage {
    Text(String),
    Binary(Vec<u8>),
}

/// What the bridge has seen (reported in the log when the call ends).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeStats {
    pub packets_in: u64,
    pub packets_out: u64,
    /// Packets concealed because their sequence numbers never arrived.
    pub concealed: u64,
    /// Messages from the page dropped as malformed.
    pub dropped: u64,
}

#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum PageEvent {
    Dtmf { digit: String },
    Mark { name: String },
    Hangup,
}

/// One softphone call's bridge between the page and a Media Streams session.
pub struct BrowserBridge {
    call_sid: String,
    stream_sid: String,
    twilio: ClientEncoder,
    decoder: OpusDecoder,
    encoder: OpusEncoder,
    /// Caller audio (μ-law) not yet a whole 20 ms frame.
    framer: Framer,
    expected_seq: Option<u16>,
    out_seq: u16,
    /// Marks sent to the page and not yet echoed, oldest first.
    pending_marks: VecDeque<String>,
    /// Packets in a row that arrived behind the expected number.
    late_in_a_row: u32,
    /// The page hung up (`stop` sent to the session).
    stopped: bool,
    stats: BridgeStats,
}

impl BrowserBridge {
    /// A bridge for call `call_sid`.
    pub fn new(call_sid: &str) -> Result<Self, OpusError> {
        Ok(Self {
            call_sid: call_sid.to_string(),
            stream_sid: format!("MZ{call_sid}"),
            twilio: ClientEncoder::new(),
            decoder: OpusDecoder::new(PHONE_RATE)?,
            encoder: OpusEncoder::new(PHONE_RATE)?,
            framer: Framer::new(),
            expected_seq: None,
            out_seq: 0,
            pending_marks: VecDeque::new(),
            late_in_a_row: 0,
            stopped: false,
            stats: BridgeStats::default(),
        })
    }

    pub fn stats(&self) -> &BridgeStats {
        &self.stats
    }

    /// Whether the session has been sent `stop` (the page hung up or went away).
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// The first messages: `connected` and `start` (μ-law 8 kHz, as the call path
    /// expects; `start_params` are its custom parameters, the stream token that says
    /// who is calling) for the session, `started` for the page.
    pub fn open(&mut self, start_params: &[(String, String)]) -> (Vec<String>, ToPage) {
        let start = StartMeta {
            stream_sid: self.stream_sid.clone(),
            account_sid: String::new(),
            call_sid: self.call_sid.clone(),
            tracks: vec![Track::Inbound],
            custom_parameters: start_params.iter().cloned().collect(),
            media_format: MediaFormat::mulaw_8k_mono(),
        };
        let session = vec![
            self.twilio.encode(&Inbound::Connected {
                protocol: "Call".into(),
                version: "1.0.0".into(),
            }),
            self.twilio.encode(&Inbound::Start(start)),
        ];
        let page = serde_json::json!({"event": "started", "callSid": self.call_sid});
        (session, ToPage::Text(page.to_string()))
    }

    /// One binary message from the page: Opus caller audio → `media` messages.
    pub fn page_audio(&mut self, frame: &[u8]) -> Result<Vec<String>, BrowserError> {
        let Some((seq, packet)) = frame.split_first_chunk::<2>() else {
            self.stats.dropped += 1;
            return Err(BrowserError::ShortFrame);
        };
        let seq = u16::from_be_bytes(*seq);
        let mut pcm = Vec::new();
        if let Some(expected) = self.expected_seq {
            let gap = seq.wrapping_sub(expected);
            if gap >= u16::MAX / 2 {
                self.late_in_a_row += 1;
                if self.late_in_a_row < RESYNC_AFTER {
                    // Late or repeated: it was concealed already.
                    self.stats.dropped += 1;
                    return Ok(Vec::new());
                }
                // Several in a row: the numbering jumped (a wild number before them,
                // or a restarted page encoder). Follow the page's numbers again.
            }
            if gap > 0 && gap <= MAX_GAP {
                self.stats.concealed += u64::from(gap);
                pcm.extend(self.decoder.conceal(usize::from(gap))?);
            }
        }
        let decoded = match self.decoder.decode(packet) {
            Ok(d) => d,
            Err(e) => {
                self.stats.dropped += 1;
                return Err(e.into());
            }
        };
        self.expected_seq = Some(seq.wrapping_add(1));
        self.late_in_a_row = 0;
        self.stats.packets_in += 1;
        pcm.extend(decoded);
        let bytes = mulaw::encode_from_f32(&pcm);
        let mut frames = Vec::new();
        self.framer.push_with(&bytes, |f| frames.push(f.to_vec()));
        Ok(frames
            .iter()
            .map(|f| self.twilio.media(&self.stream_sid, f))
            .collect())
    }

    /// One text message from the page → Media Streams messages (none for a late
    /// mark echo). `hangup` becomes `stop`.
    pub fn page_text(&mut self, text: &str) -> Result<Vec<String>, BrowserError> {
        let event: PageEvent = serde_json::from_str(text).map_err(|e| {
            self.stats.dropped += 1;
            BrowserError::Json(e.to_string())
        })?;
        let msg = match event {
            PageEvent::Dtmf { digit } => {
                let valid = digit.chars().count() == 1
                    && digit
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '*' || c == '#');
                if !valid {
                    self.stats.dropped += 1;
                    return Err(BrowserError::BadDigit(digit));
                }
                Inbound::Dtmf(Dtmf {
                    stream_sid: self.stream_sid.clone(),
                    track: Track::Inbound,
                    digit,
                })
            }
            PageEvent::Mark { name } => {
                // Echoed once, in order; a name already echoed (by a clear) is dropped.
                let Some(i) = self.pending_marks.iter().position(|m| *m == name) else {
                    return Ok(Vec::new());
                };
                let mut out = Vec::new();
                for m in self.pending_marks.drain(..=i).collect::<Vec<_>>() {
                    out.push(self.mark_echo(m));
                }
                return Ok(out);
            }
            PageEvent::Hangup if self.stopped => return Ok(Vec::new()),
            PageEvent::Hangup => {
                self.stopped = true;
                Inbound::Stop(Stop {
                    stream_sid: self.stream_sid.clone(),
                    account_sid: String::new(),
                    call_sid: self.call_sid.clone(),
                })
            }
        };
        Ok(vec![self.twilio.encode(&msg)])
    }

    fn mark_echo(&mut self, name: String) -> String {
        self.twilio.encode(&Inbound::Mark(Mark {
            stream_sid: self.stream_sid.clone(),
            name,
        }))
    }

    /// One message from the session → messages for the page, and mark echoes for the
    /// session (a `clear` echoes every pending mark, as Twilio does).
    pub fn session_text(&mut self, text: &str) -> (Vec<ToPage>, Vec<String>) {
        let Ok(msg) = decode_outbound(text) else {
            return (Vec::new(), Vec::new());
        };
        match msg {
            Outbound::Media { payload, .. } => {
                let pcm = mulaw::decode_to_f32(&payload);
                let packets = self.encoder.push(&pcm).unwrap_or_default();
                let page = packets
                    .into_iter()
                    .map(|p| {
                        let mut frame = self.out_seq.to_be_bytes().to_vec();
                        self.out_seq = self.out_seq.wrapping_add(1);
                        self.stats.packets_out += 1;
                        frame.extend(p);
                        ToPage::Binary(frame)
                    })
                    .collect();
                (page, Vec::new())
            }
            Outbound::Mark { name, .. } => {
                self.pending_marks.push_back(name.clone());
                let page = serde_json::json!({"event": "mark", "name": name});
                (vec![ToPage::Text(page.to_string())], Vec::new())
            }
            Outbound::Clear { .. } => {
                self.encoder.reset();
                let echoes = std::mem::take(&mut self.pending_marks)
                    .into_iter()
                    .map(|m| self.mark_echo(m))
                    .collect();
                let page = serde_json::json!({"event": "clear"}).to_string();
                (vec![ToPage::Text(page)], echoes)
            }
        }
    }
}

#[cfg(test)]
#[path = "tests/browser.rs"]
mod tests;
