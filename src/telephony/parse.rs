//! Stateless, lenient parsing of one JSON text frame into a typed message.
//!
//! Owns the JSON field helpers (numbers accepted as `"5"` or `5`), the base64
//! engine and the per-event field extraction. Stream state (start/stop order,
//! `streamSid` checks) lives in [`Decoder`](super::Decoder).

use std::collections::BTreeMap;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde_json::{Map, Value};

use super::error::ProtocolError;
use super::messages::{Dtmf, Inbound, Mark, MediaChunk, MediaFormat, StartMeta, Stop, Track};

/// Standard alphabet; encodes with padding, decodes with or without it.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

type Obj = Map<String, Value>;

/// A parsed frame: the message plus its `sequenceNumber`, if it had a valid one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub msg: Inbound,
    pub sequence_number: Option<u64>,
}

/// Parse a text frame into an object with a string `event`.
pub(crate) fn parse_object(text: &str) -> Result<(Obj, String), ProtocolError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| ProtocolError::Json(e.to_string()))?;
    let Value::Object(obj) = value else {
        return Err(ProtocolError::Json("expected a JSON object".to_string()));
    };
    let event = req_str(&obj, "event", "message", "event")?;
    Ok((obj, event))
}

/// Parse one Twilio → server frame, without any stream-state checks.
pub(crate) fn parse_inbound(text: &str, max_payload: usize) -> Result<Parsed, ProtocolError> {
    let (obj, event) = parse_object(text)?;
    let sequence_number = obj.get("sequenceNumber").and_then(lenient_u64);
    let msg = match event.as_str() {
        "connected" => Inbound::Connected {
            protocol: opt_str(&obj, "protocol", "connected", "protocol")?.unwrap_or_default(),
            version: opt_str(&obj, "version", "connected", "version")?.unwrap_or_default(),
        },
        "start" => Inbound::Start(parse_start(&obj)?),
        "media" => Inbound::Media(parse_media(&obj, max_payload)?),
        "dtmf" => {
            let body = req_obj(&obj, "dtmf", "dtmf", "dtmf")?;
            Inbound::Dtmf(Dtmf {
                stream_sid: req_str(&obj, "streamSid", "dtmf", "streamSid")?,
                track: opt_str(body, "track", "dtmf", "dtmf.track")?
                    .map_or(Track::Inbound, |t| Track::from_wire(&t)),
                digit: req_str(body, "digit", "dtmf", "dtmf.digit")?,
            })
        }
        "mark" => {
            let body = req_obj(&obj, "mark", "mark", "mark")?;
            Inbound::Mark(Mark {
                stream_sid: req_str(&obj, "streamSid", "mark", "streamSid")?,
                name: req_str(body, "name", "mark", "mark.name")?,
            })
        }
        "stop" => {
            // Never refuse a stop over cosmetic fields: ids default to "".
            let empty = Obj::new();
            let body = match obj.get("stop") {
                Some(Value::Object(b)) => b,
                _ => &empty,
            };
            Inbound::Stop(Stop {
                stream_sid: req_str(&obj, "streamSid", "stop", "streamSid")?,
                account_sid: opt_str(body, "accountSid", "stop", "stop.accountSid")?
                    .unwrap_or_default(),
                call_sid: opt_str(body, "callSid", "stop", "stop.callSid")?.unwrap_or_default(),
            })
        }
        _ => Inbound::Unknown { event },
    };
    Ok(Parsed {
        msg,
        sequence_number,
    })
}

fn parse_start(obj: &Obj) -> Result<StartMeta, ProtocolError> {
    const EV: &str = "start";
    let body = req_obj(obj, "start", EV, "start")?;
    let inner_sid = opt_str(body, "streamSid", EV, "start.streamSid")?;
    let outer_sid = opt_str(obj, "streamSid", EV, "streamSid")?;
    let stream_sid = match (inner_sid, outer_sid) {
        (Some(a), Some(b)) if a != b => {
            return Err(ProtocolError::StreamMismatch {
                expected: a,
                got: b,
            })
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => {
            return Err(ProtocolError::MissingField {
                event: EV,
                field: "start.streamSid",
            })
        }
    };
    let tracks = match body.get("tracks") {
        None | Some(Value::Null) => vec![Track::Inbound],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(Track::from_wire(s)),
                _ => Err(invalid(EV, "start.tracks", "expected strings")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid(EV, "start.tracks", "expected an array")),
    };
    let custom_parameters = match body.get("customParameters") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(params)) => params
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    Value::Number(_) | Value::Bool(_) => v.to_string(),
                    _ => return Err(invalid(EV, "start.customParameters", "nested value")),
                };
                Ok((k.clone(), v))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid(EV, "start.customParameters", "expected an object")),
    };
    let fmt = req_obj(body, "mediaFormat", EV, "start.mediaFormat")?;
    let encoding = req_str(fmt, "encoding", EV, "start.mediaFormat.encoding")?;
    let sample_rate = req_u64(fmt, "sampleRate", EV, "start.mediaFormat.sampleRate")?;
    let channels = req_u64(fmt, "channels", EV, "start.mediaFormat.channels")?;
    let media_format = match (u32::try_from(sample_rate), u16::try_from(channels)) {
        (Ok(sample_rate), Ok(channels)) => MediaFormat {
            encoding,
            sample_rate,
            channels,
        },
        _ => {
            return Err(ProtocolError::UnsupportedFormat {
                encoding,
                sample_rate,
                channels,
            })
        }
    };
    Ok(StartMeta {
        stream_sid,
        account_sid: req_str(body, "accountSid", EV, "start.accountSid")?,
        call_sid: req_str(body, "callSid", EV, "start.callSid")?,
        tracks,
        custom_parameters,
        media_format,
    })
}

fn parse_media(obj: &Obj, max_payload: usize) -> Result<MediaChunk, ProtocolError> {
    const EV: &str = "media";
    let stream_sid = req_str(obj, "streamSid", EV, "streamSid")?;
    let body = req_obj(obj, "media", EV, "media")?;
    let track =
        opt_str(body, "track", EV, "media.track")?.map_or(Track::Inbound, |t| Track::from_wire(&t));
    let chunk = req_u64(body, "chunk", EV, "media.chunk")?;
    let timestamp_ms = req_u64(body, "timestamp", EV, "media.timestamp")?;
    let payload = req_str(body, "payload", EV, "media.payload")?;
    Ok(MediaChunk {
        stream_sid,
        track,
        chunk,
        timestamp_ms,
        payload: decode_payload(&payload, max_payload)?,
    })
}

/// Base64-decode a media payload, refusing oversize input before decoding it.
pub(crate) fn decode_payload(b64: &str, max_payload: usize) -> Result<Vec<u8>, ProtocolError> {
    let estimate = b64.len() / 4 * 3;
    if estimate > max_payload.saturating_add(3) {
        return Err(ProtocolError::TooLarge {
            what: "media payload",
            size: estimate,
            limit: max_payload,
        });
    }
    let bytes = BASE64
        .decode(b64.as_bytes())
        .map_err(|_| ProtocolError::InvalidBase64)?;
    if bytes.len() > max_payload {
        return Err(ProtocolError::TooLarge {
            what: "media payload",
            size: bytes.len(),
            limit: max_payload,
        });
    }
    Ok(bytes)
}

fn invalid(event: &'static str, field: &'static str, reason: &str) -> ProtocolError {
    ProtocolError::InvalidField {
        event,
        field,
        reason: reason.to_string(),
    }
}

/// A non-negative integer given as a JSON number or a decimal string.
pub(crate) fn lenient_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

pub(crate) fn req_obj<'a>(
    obj: &'a Obj,
    key: &str,
    event: &'static str,
    field: &'static str,
) -> Result<&'a Obj, ProtocolError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(ProtocolError::MissingField { event, field }),
        Some(Value::Object(o)) => Ok(o),
        Some(_) => Err(invalid(event, field, "expected an object")),
    }
}

pub(crate) fn opt_str(
    obj: &Obj,
    key: &str,
    event: &'static str,
    field: &'static str,
) -> Result<Option<String>, ProtocolError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(event, field, "expected a string")),
    }
}

pub(crate) fn req_str(
    obj: &Obj,
    key: &str,
    event: &'static str,
    field: &'static str,
) -> Result<String, ProtocolError> {
    opt_str(obj, key, event, field)?.ok_or(ProtocolError::MissingField { event, field })
}

fn req_u64(
    obj: &Obj,
    key: &str,
    event: &'static str,
    field: &'static str,
) -> Result<u64, ProtocolError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(ProtocolError::MissingField { event, field }),
        Some(v) => {
            lenient_u64(v).ok_or_else(|| invalid(event, field, "expected a non-negative integer"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_numbers() {
        assert_eq!(lenient_u64(&json!("5")), Some(5));
        assert_eq!(lenient_u64(&json!(5)), Some(5));
        assert_eq!(lenient_u64(&json!("-5")), None);
        assert_eq!(lenient_u64(&json!("+5")), None);
        assert_eq!(lenient_u64(&json!("")), None);
        assert_eq!(lenient_u64(&json!(5.5)), None);
        assert_eq!(lenient_u64(&json!("99999999999999999999999")), None);
    }

    #[test]
    fn payload_limits_checked_before_and_after_decoding() {
        assert_eq!(decode_payload("AAEC", 3), Ok(vec![0, 1, 2]));
        assert_eq!(decode_payload("AAE", 3), Ok(vec![0, 1]));
        assert!(matches!(
            decode_payload("AAECAw==", 3),
            Err(ProtocolError::TooLarge { size: 4, .. })
        ));
        let huge = "A".repeat(1_000_000);
        assert!(matches!(
            decode_payload(&huge, 8000),
            Err(ProtocolError::TooLarge { .. })
        ));
        assert_eq!(
            decode_payload("!!!!", 8000),
            Err(ProtocolError::InvalidBase64)
        );
    }
}
