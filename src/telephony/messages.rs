//! Typed Twilio Media Streams messages: what Twilio sends ([`Inbound`]) and
//! what the server sends back ([`Outbound`]). Plain data, no parsing here.

use std::collections::BTreeMap;

use serde::Serialize;

/// The only media format the pipeline accepts: G.711 μ-law.
pub const MULAW_ENCODING: &str = "audio/x-mulaw";
/// Sample rate of Twilio Media Streams audio.
pub const SAMPLE_RATE_HZ: u32 = 8000;

/// A message Twilio sends to the media websocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Inbound {
    /// First message after the websocket opens.
    Connected {
        /// Always `"Call"` today.
        protocol: String,
        /// Protocol version, e.g. `"1.0.0"`.
        version: String,
    },
    /// Stream metadata; sent once.
    Start(StartMeta),
    /// One chunk of caller (or, on dual-track streams, callee) audio.
    Media(MediaChunk),
    /// A keypad digit (bidirectional streams only).
    Dtmf(Dtmf),
    /// Echo of a server `mark`: the audio before it has played (or was cleared).
    Mark(Mark),
    /// The stream ended (hang-up, TwiML replaced, or stream stopped).
    Stop(Stop),
    /// An event this crate does not know; log and count it, do not fail.
    Unknown {
        /// The raw `event` value.
        event: String,
    },
}

impl Inbound {
    /// The wire `event` name of this message.
    pub fn event_name(&self) -> &str {
        match self {
            Inbound::Connected { .. } => "connected",
            Inbound::Start(_) => "start",
            Inbound::Media(_) => "media",
            Inbound::Dtmf(_) => "dtmf",
            Inbound::Mark(_) => "mark",
            Inbound::Stop(_) => "stop",
            Inbound::Unknown { event } => event,
        }
    }
}

/// Contents of the `start` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartMeta {
    /// `MZ…` stream id; every later message carries it.
    pub stream_sid: String,
    /// `AC…` account id.
    pub account_sid: String,
    /// `CA…` call id (needed for REST call updates such as transfers).
    pub call_sid: String,
    /// Which tracks will be streamed.
    pub tracks: Vec<Track>,
    /// `<Parameter>`s from the TwiML `<Stream>`.
    pub custom_parameters: BTreeMap<String, String>,
    /// Audio format of `media` payloads.
    pub media_format: MediaFormat,
}

/// `start.mediaFormat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaFormat {
    /// E.g. `"audio/x-mulaw"`.
    pub encoding: String,
    /// Samples per second, e.g. 8000.
    pub sample_rate: u32,
    /// Channel count, 1 for Twilio.
    pub channels: u16,
}

impl MediaFormat {
    /// The format Twilio uses and the pipeline requires: μ-law, 8 kHz, mono.
    pub fn mulaw_8k_mono() -> Self {
        MediaFormat {
            encoding: MULAW_ENCODING.to_string(),
            sample_rate: SAMPLE_RATE_HZ,
            channels: 1,
        }
    }

    /// Whether this is the supported μ-law 8 kHz mono format.
    pub fn is_supported(&self) -> bool {
        self.encoding == MULAW_ENCODING && self.sample_rate == SAMPLE_RATE_HZ && self.channels == 1
    }
}

/// Which leg of the call a media chunk or digit belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Track {
    /// The caller (audio from the phone towards Twilio).
    Inbound,
    /// Audio Twilio plays to the caller.
    Outbound,
    /// Anything else Twilio may add; kept verbatim.
    Other(String),
}

impl Track {
    /// Parse a wire value; accepts both the media form (`inbound`) and the
    /// dtmf form (`inbound_track`).
    pub fn from_wire(s: &str) -> Track {
        match s {
            "inbound" | "inbound_track" => Track::Inbound,
            "outbound" | "outbound_track" => Track::Outbound,
            other => Track::Other(other.to_string()),
        }
    }

    /// Wire value as used in `media.track` and `start.tracks`.
    pub fn media_wire(&self) -> &str {
        match self {
            Track::Inbound => "inbound",
            Track::Outbound => "outbound",
            Track::Other(s) => s,
        }
    }

    /// Wire value as used in `dtmf.track` (`inbound_track`).
    pub fn dtmf_wire(&self) -> &str {
        match self {
            Track::Inbound => "inbound_track",
            Track::Outbound => "outbound_track",
            Track::Other(s) => s,
        }
    }
}

/// One `media` message: decoded μ-law bytes plus their position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaChunk {
    /// Stream id.
    pub stream_sid: String,
    /// Which leg this audio is from.
    pub track: Track,
    /// Chunk counter, starting at 1.
    pub chunk: u64,
    /// Milliseconds since the stream started.
    pub timestamp_ms: u64,
    /// Raw μ-law bytes (base64-decoded; 160 bytes per 20 ms).
    pub payload: Vec<u8>,
}

/// A `dtmf` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dtmf {
    /// Stream id.
    pub stream_sid: String,
    /// Track (Twilio sends `inbound_track`).
    pub track: Track,
    /// The key: `0`-`9`, `*`, `#` (kept as sent).
    pub digit: String,
}

/// A `mark` echoed by Twilio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mark {
    /// Stream id.
    pub stream_sid: String,
    /// The name the server gave the mark.
    pub name: String,
}

/// A `stop` message. Account and call ids are empty if Twilio omitted them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stop {
    /// Stream id.
    pub stream_sid: String,
    /// `stop.accountSid`.
    pub account_sid: String,
    /// `stop.callSid`.
    pub call_sid: String,
}

/// A message the server sends to Twilio (bidirectional streams).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Outbound {
    /// Audio to play: raw μ-law 8 kHz mono bytes (base64-encoded on the wire).
    Media {
        /// Stream id from `start`.
        stream_sid: String,
        /// Raw μ-law bytes, no header.
        payload: Vec<u8>,
    },
    /// Ask Twilio to echo `name` once all audio queued before it has played.
    Mark {
        /// Stream id from `start`.
        stream_sid: String,
        /// Mark name, echoed back verbatim.
        name: String,
    },
    /// Drop all queued audio; Twilio echoes every pending mark.
    Clear {
        /// Stream id from `start`.
        stream_sid: String,
    },
}

impl Outbound {
    /// The wire `event` name of this message.
    pub fn event_name(&self) -> &'static str {
        match self {
            Outbound::Media { .. } => "media",
            Outbound::Mark { .. } => "mark",
            Outbound::Clear { .. } => "clear",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_wire_forms() {
        assert_eq!(Track::from_wire("inbound"), Track::Inbound);
        assert_eq!(Track::from_wire("inbound_track"), Track::Inbound);
        assert_eq!(Track::from_wire("outbound_track"), Track::Outbound);
        assert_eq!(Track::from_wire("both"), Track::Other("both".into()));
        assert_eq!(Track::Inbound.dtmf_wire(), "inbound_track");
        assert_eq!(Track::Inbound.media_wire(), "inbound");
    }

    #[test]
    fn media_format_support() {
        assert!(MediaFormat::mulaw_8k_mono().is_supported());
        let mut f = MediaFormat::mulaw_8k_mono();
        f.channels = 2;
        assert!(!f.is_supported());
        let mut f = MediaFormat::mulaw_8k_mono();
        f.sample_rate = 16000;
        assert!(!f.is_supported());
        let mut f = MediaFormat::mulaw_8k_mono();
        f.encoding = "audio/l16".into();
        assert!(!f.is_supported());
    }
}
