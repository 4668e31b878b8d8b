//! The Twilio side of the wire, for test clients and the QA replay tool that
//! impersonate Twilio: encode [`Inbound`] messages exactly as Twilio sends them
//! (numbers as strings, `sequenceNumber` included) and decode what the server
//! sends back.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;

use super::encode::{to_json, WireName};
use super::error::ProtocolError;
use super::messages::{Inbound, MediaChunk, Outbound, Track};
use super::parse::{decode_payload, parse_object, req_obj, req_str, BASE64};

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireIn<'a> {
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<WireStart<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    media: Option<WireMedia<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dtmf: Option<WireDtmf<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mark: Option<WireName<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<WireStop<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_sid: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireStart<'a> {
    account_sid: &'a str,
    stream_sid: &'a str,
    call_sid: &'a str,
    tracks: Vec<&'a str>,
    custom_parameters: &'a BTreeMap<String, String>,
    media_format: WireFormat<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireFormat<'a> {
    encoding: &'a str,
    sample_rate: u32,
    channels: u16,
}

#[derive(Serialize)]
struct WireMedia<'a> {
    track: &'a str,
    chunk: String,
    timestamp: String,
    payload: String,
}

#[derive(Serialize)]
struct WireDtmf<'a> {
    track: &'a str,
    digit: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireStop<'a> {
    account_sid: &'a str,
    call_sid: &'a str,
}

/// Serialise a Twilio → server message as Twilio does, with the given
/// `sequenceNumber` (ignored for `connected`, which has none).
pub fn encode_inbound(msg: &Inbound, sequence_number: u64) -> String {
    let seq = Some(sequence_number.to_string());
    let wire = match msg {
        Inbound::Connected { protocol, version } => WireIn {
            event: "connected",
            protocol: Some(protocol),
            version: Some(version),
            ..WireIn::default()
        },
        Inbound::Start(meta) => WireIn {
            event: "start",
            sequence_number: seq,
            start: Some(WireStart {
                account_sid: &meta.account_sid,
                stream_sid: &meta.stream_sid,
                call_sid: &meta.call_sid,
                tracks: meta.tracks.iter().map(Track::media_wire).collect(),
                custom_parameters: &meta.custom_parameters,
                media_format: WireFormat {
                    encoding: &meta.media_format.encoding,
                    sample_rate: meta.media_format.sample_rate,
                    channels: meta.media_format.channels,
                },
            }),
            stream_sid: Some(&meta.stream_sid),
            ..WireIn::default()
        },
        Inbound::Media(m) => WireIn {
            event: "media",
            sequence_number: seq,
            media: Some(WireMedia {
                track: m.track.media_wire(),
                chunk: m.chunk.to_string(),
                timestamp: m.timestamp_ms.to_string(),
                payload: BASE64.encode(&m.payload),
            }),
            stream_sid: Some(&m.stream_sid),
            ..WireIn::default()
        },
        Inbound::Dtmf(d) => WireIn {
            event: "dtmf",
            sequence_number: seq,
            dtmf: Some(WireDtmf {
                track: d.track.dtmf_wire(),
                digit: &d.digit,
            }),
            stream_sid: Some(&d.stream_sid),
            ..WireIn::default()
        },
        Inbound::Mark(m) => WireIn {
            event: "mark",
            sequence_number: seq,
            mark: Some(WireName { name: &m.name }),
            stream_sid: Some(&m.stream_sid),
            ..WireIn::default()
        },
        Inbound::Stop(s) => WireIn {
            event: "stop",
            sequence_number: seq,
            stop: Some(WireStop {
                account_sid: &s.account_sid,
                call_sid: &s.call_sid,
            }),
            stream_sid: Some(&s.stream_sid),
            ..WireIn::default()
        },
        Inbound::Unknown { event } => WireIn {
            event,
            sequence_number: seq,
            ..WireIn::default()
        },
    };
    to_json(&wire)
}

/// Numbers messages like Twilio does: `sequenceNumber` starts at 1 on the first
/// message after `connected`; [`ClientEncoder::media`] also numbers chunks
/// (from 1) and advances `timestamp` by the payload's duration at 8 kHz.
#[derive(Debug, Clone)]
pub struct ClientEncoder {
    next_sequence: u64,
    next_chunk: u64,
    timestamp_ms: u64,
    audio_bytes: u64,
}

impl Default for ClientEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientEncoder {
    /// A fresh encoder for one stream.
    pub fn new() -> Self {
        ClientEncoder {
            next_sequence: 1,
            next_chunk: 1,
            timestamp_ms: 0,
            audio_bytes: 0,
        }
    }

    /// Encode `msg` with the next sequence number (`connected` takes none).
    pub fn encode(&mut self, msg: &Inbound) -> String {
        if matches!(msg, Inbound::Connected { .. }) {
            return encode_inbound(msg, 0);
        }
        let seq = self.next_sequence;
        self.next_sequence = self.next_sequence.saturating_add(1);
        encode_inbound(msg, seq)
    }

    /// Encode a caller-audio `media` message with automatic chunk number and
    /// timestamp (milliseconds of μ-law audio sent before this chunk).
    pub fn media(&mut self, stream_sid: &str, payload: &[u8]) -> String {
        let chunk = MediaChunk {
            stream_sid: stream_sid.to_string(),
            track: Track::Inbound,
            chunk: self.next_chunk,
            timestamp_ms: self.timestamp_ms,
            payload: payload.to_vec(),
        };
        self.next_chunk = self.next_chunk.saturating_add(1);
        self.audio_bytes = self.audio_bytes.saturating_add(payload.len() as u64);
        self.timestamp_ms = self.audio_bytes / 8;
        self.encode(&Inbound::Media(chunk))
    }
}

/// Parse a server → Twilio frame (`media`, `mark` or `clear`).
///
/// This is the test-client side: there is no payload size limit.
pub fn decode_outbound(text: &str) -> Result<Outbound, ProtocolError> {
    let (obj, event) = parse_object(text)?;
    match event.as_str() {
        "media" => {
            let body = req_obj(&obj, "media", "media", "media")?;
            let payload = req_str(body, "payload", "media", "media.payload")?;
            Ok(Outbound::Media {
                stream_sid: req_str(&obj, "streamSid", "media", "streamSid")?,
                payload: decode_payload(&payload, usize::MAX)?,
            })
        }
        "mark" => {
            let body = req_obj(&obj, "mark", "mark", "mark")?;
            Ok(Outbound::Mark {
                stream_sid: req_str(&obj, "streamSid", "mark", "streamSid")?,
                name: req_str(body, "name", "mark", "mark.name")?,
            })
        }
        "clear" => Ok(Outbound::Clear {
            stream_sid: req_str(&obj, "streamSid", "clear", "streamSid")?,
        }),
        _ => Err(ProtocolError::UnexpectedEvent(event)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telephony::encode;
    use crate::telephony::messages::{Dtmf, Stop};

    #[test]
    fn inbound_shapes_use_string_numbers() {
        let media = Inbound::Media(MediaChunk {
            stream_sid: "MZ1".into(),
            track: Track::Inbound,
            chunk: 2,
            timestamp_ms: 20,
            payload: vec![0xff; 3],
        });
        assert_eq!(
            encode_inbound(&media, 3),
            r#"{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"2","timestamp":"20","payload":"////"},"streamSid":"MZ1"}"#
        );
        let dtmf = Inbound::Dtmf(Dtmf {
            stream_sid: "MZ1".into(),
            track: Track::Inbound,
            digit: "#".into(),
        });
        assert_eq!(
            encode_inbound(&dtmf, 5),
            r##"{"event":"dtmf","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"#"},"streamSid":"MZ1"}"##
        );
        let stop = Inbound::Stop(Stop {
            stream_sid: "MZ1".into(),
            account_sid: "AC1".into(),
            call_sid: "CA1".into(),
        });
        assert_eq!(
            encode_inbound(&stop, 9),
            r#"{"event":"stop","sequenceNumber":"9","stop":{"accountSid":"AC1","callSid":"CA1"},"streamSid":"MZ1"}"#
        );
        let connected = Inbound::Connected {
            protocol: "Call".into(),
            version: "1.0.0".into(),
        };
        assert_eq!(
            encode_inbound(&connected, 7),
            r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#
        );
    }

    #[test]
    fn client_encoder_numbers_messages_and_chunks() {
        let mut enc = ClientEncoder::new();
        let c = enc.encode(&Inbound::Connected {
            protocol: "Call".into(),
            version: "1.0.0".into(),
        });
        assert!(!c.contains("sequenceNumber"));
        let first = enc.media("MZ1", &[0u8; 160]);
        assert!(first.contains(r#""sequenceNumber":"1""#), "{first}");
        assert!(first.contains(r#""chunk":"1","timestamp":"0""#), "{first}");
        let second = enc.media("MZ1", &[0u8; 160]);
        assert!(second.contains(r#""sequenceNumber":"2""#), "{second}");
        assert!(
            second.contains(r#""chunk":"2","timestamp":"20""#),
            "{second}"
        );
    }

    #[test]
    fn decode_outbound_roundtrip_and_errors() {
        for msg in [
            Outbound::Media {
                stream_sid: "MZ".into(),
                payload: vec![1, 2, 3, 4],
            },
            Outbound::Mark {
                stream_sid: "MZ".into(),
                name: "m-1".into(),
            },
            Outbound::Clear {
                stream_sid: "MZ".into(),
            },
        ] {
            assert_eq!(decode_outbound(&encode(&msg)), Ok(msg));
        }
        assert_eq!(
            decode_outbound(r#"{"event":"start","streamSid":"MZ"}"#),
            Err(ProtocolError::UnexpectedEvent("start".into()))
        );
        assert_eq!(
            decode_outbound(r#"{"event":"clear"}"#),
            Err(ProtocolError::MissingField {
                event: "clear",
                field: "streamSid"
            })
        );
        assert_eq!(
            decode_outbound(r#"{"event":"media","streamSid":"MZ","media":{"payload":"%%"}}"#),
            Err(ProtocolError::InvalidBase64)
        );
        assert!(matches!(
            decode_outbound("[1]"),
            Err(ProtocolError::Json(_))
        ));
    }
}
