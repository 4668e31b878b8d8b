//! `ProtocolError`: everything that can be wrong with one Media Streams frame,
//! plus the fatal/non-fatal policy and stable metric labels.

use thiserror::Error;

/// A frame that could not be accepted.
///
/// Most errors mean "drop this frame and count it" (see [`ProtocolError::kind`]);
/// [`ProtocolError::is_fatal`] says when the call cannot continue.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    /// A frame or a media payload exceeded the configured [`Limits`](super::Limits).
    #[error("{what} too large: {size} bytes > limit {limit}")]
    TooLarge {
        /// `"frame"` or `"media payload"`.
        what: &'static str,
        /// Observed (or, for base64, estimated lower bound of the) size in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The text frame is not a JSON object.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// `media.payload` is not valid base64.
    #[error("media payload is not valid base64")]
    InvalidBase64,
    /// `media`, `mark` or `dtmf` arrived before `start`.
    #[error("`{event}` received before `start`")]
    MediaBeforeStart {
        /// The offending event name.
        event: &'static str,
    },
    /// A frame arrived after `stop`.
    #[error("`{event}` received after `stop`")]
    AfterStop {
        /// The offending event name (unknown events keep their own name).
        event: String,
    },
    /// A second `start` on the same stream.
    #[error("duplicate `start` on one stream")]
    DuplicateStart,
    /// A frame's `streamSid` is not the one announced by `start`.
    #[error("streamSid mismatch: expected {expected}, got {got}")]
    StreamMismatch {
        /// The `streamSid` from `start`.
        expected: String,
        /// The `streamSid` of the rejected frame.
        got: String,
    },
    /// `start.mediaFormat` is not `audio/x-mulaw`, 8000 Hz, mono.
    #[error("unsupported media format: {encoding} {sample_rate} Hz x{channels}")]
    UnsupportedFormat {
        /// `mediaFormat.encoding`.
        encoding: String,
        /// `mediaFormat.sampleRate`.
        sample_rate: u64,
        /// `mediaFormat.channels`.
        channels: u64,
    },
    /// A binary websocket frame (Twilio only sends text frames).
    #[error("binary websocket frame (Twilio sends text only)")]
    BinaryFrame,
    /// A required field is absent.
    #[error("`{event}` message is missing `{field}`")]
    MissingField {
        /// The event being parsed (`"message"` when the event name itself is missing).
        event: &'static str,
        /// The JSON path of the missing field, e.g. `"media.payload"`.
        field: &'static str,
    },
    /// A field is present but has the wrong type or an unparsable value.
    #[error("`{event}` message has invalid `{field}`: {reason}")]
    InvalidField {
        /// The event being parsed.
        event: &'static str,
        /// The JSON path of the field.
        field: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// `decode_outbound` saw an event the server never sends.
    #[error("unexpected event `{0}` from server")]
    UnexpectedEvent(String),
}

impl ProtocolError {
    /// Whether the call cannot continue: the stream can never carry usable audio.
    ///
    /// Fatal: an unsupported media format, or a `start` message missing or
    /// mangling a required field (without a valid `start` every later frame
    /// would be dropped). Everything else is a counted, dropped frame.
    pub fn is_fatal(&self) -> bool {
        match self {
            ProtocolError::UnsupportedFormat { .. } => true,
            ProtocolError::MissingField { event, .. }
            | ProtocolError::InvalidField { event, .. } => *event == "start",
            _ => false,
        }
    }

    /// A stable snake_case label for metrics (`errors{kind=...}`).
    pub fn kind(&self) -> &'static str {
        match self {
            ProtocolError::TooLarge { .. } => "too_large",
            ProtocolError::Json(_) => "json",
            ProtocolError::InvalidBase64 => "invalid_base64",
            ProtocolError::MediaBeforeStart { .. } => "media_before_start",
            ProtocolError::AfterStop { .. } => "after_stop",
            ProtocolError::DuplicateStart => "duplicate_start",
            ProtocolError::StreamMismatch { .. } => "stream_mismatch",
            ProtocolError::UnsupportedFormat { .. } => "unsupported_format",
            ProtocolError::BinaryFrame => "binary_frame",
            ProtocolError::MissingField { .. } => "missing_field",
            ProtocolError::InvalidField { .. } => "invalid_field",
            ProtocolError::UnexpectedEvent(_) => "unexpected_event",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fatality_policy() {
        let unsupported = ProtocolError::UnsupportedFormat {
            encoding: "audio/l16".into(),
            sample_rate: 16000,
            channels: 1,
        };
        assert!(unsupported.is_fatal());
        assert!(ProtocolError::MissingField {
            event: "start",
            field: "start.callSid"
        }
        .is_fatal());
        assert!(!ProtocolError::MissingField {
            event: "media",
            field: "media.payload"
        }
        .is_fatal());
        assert!(!ProtocolError::BinaryFrame.is_fatal());
        assert!(!ProtocolError::DuplicateStart.is_fatal());
        assert!(!ProtocolError::InvalidBase64.is_fatal());
    }

    #[test]
    fn kinds_are_distinct_labels() {
        let all = [
            ProtocolError::TooLarge {
                what: "frame",
                size: 2,
                limit: 1,
            },
            ProtocolError::Json("x".into()),
            ProtocolError::InvalidBase64,
            ProtocolError::MediaBeforeStart { event: "media" },
            ProtocolError::AfterStop {
                event: "media".into(),
            },
            ProtocolError::DuplicateStart,
            ProtocolError::StreamMismatch {
                expected: "a".into(),
                got: "b".into(),
            },
            ProtocolError::UnsupportedFormat {
                encoding: "x".into(),
                sample_rate: 1,
                channels: 1,
            },
            ProtocolError::BinaryFrame,
            ProtocolError::MissingField {
                event: "x",
                field: "y",
            },
            ProtocolError::InvalidField {
                event: "x",
                field: "y",
                reason: "z".into(),
            },
            ProtocolError::UnexpectedEvent("x".into()),
        ];
        let kinds: std::collections::BTreeSet<_> = all.iter().map(|e| e.kind()).collect();
        assert_eq!(kinds.len(), all.len());
    }
}
