//! The Twilio Media Streams wire format, sans-IO.
//!
//! Owns: the typed messages Twilio sends ([`Inbound`]) and we send back
//! ([`Outbound`]); the per-stream [`Decoder`] that parses text frames, enforces
//! size [`Limits`] and protocol order (connected → start → media/mark/dtmf →
//! stop, one `streamSid`, μ-law 8 kHz mono only) and keeps [`CodecStats`];
//! [`encode`] for server frames; the Twilio side ([`encode_inbound`],
//! [`ClientEncoder`], [`decode_outbound`]) for test clients and QA replay;
//! TwiML documents ([`twiml`]); `X-Twilio-Signature` validation
//! ([`signature`]); the stream tokens `/twiml` issues and `/media` verifies
//! ([`stream_token`]); and the browser softphone's protocol, bridged to Media
//! Streams ([`browser`]).
//!
//! Does not own: sockets, the HTTP server, timing/pacing of audio, μ-law
//! sample conversion (see `audio`), or the Twilio REST client (`call::transfer`).
//!
//! ```
//! use switchboard::telephony::{encode, Decoder, Inbound, Outbound};
//! let mut dec = Decoder::default();
//! let start = r#"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1",
//!   "streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"customParameters":{},
//!   "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"}"#;
//! assert!(matches!(dec.decode_text(start), Ok(Inbound::Start(_))));
//! let reply = encode(&Outbound::Clear { stream_sid: "MZ1".into() });
//! assert_eq!(reply, r#"{"event":"clear","streamSid":"MZ1"}"#);
//! ```

pub mod browser;
mod client;
mod decoder;
mod encode;
mod error;
mod messages;
mod parse;
pub mod signature;
pub mod stream_token;
pub mod twiml;

#[cfg(test)]
mod tests;

pub use client::{decode_outbound, encode_inbound, ClientEncoder};
pub use decoder::{CodecStats, Decoder, Limits};
pub use encode::encode;
pub use error::ProtocolError;
pub use messages::{
    Dtmf, Inbound, Mark, MediaChunk, MediaFormat, Outbound, StartMeta, Stop, Track, MULAW_ENCODING,
    SAMPLE_RATE_HZ,
};
pub use signature::{compute_signature, validate};
pub use twiml::{connect_stream, dial};
