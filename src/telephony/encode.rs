//! Server side: serialising [`Outbound`] messages exactly as Twilio documents them.

use base64::Engine as _;
use serde::Serialize;

use super::messages::Outbound;
use super::parse::BASE64;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireOut<'a> {
    event: &'static str,
    stream_sid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    media: Option<WirePayload>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mark: Option<WireName<'a>>,
}

#[derive(Serialize)]
struct WirePayload {
    payload: String,
}

#[derive(Serialize)]
pub(crate) struct WireName<'a> {
    pub name: &'a str,
}

/// Serialise a server → Twilio message as one websocket text frame.
///
/// `{"event":"media","streamSid":"MZ…","media":{"payload":"<base64>"}}`,
/// `{"event":"mark","streamSid":"MZ…","mark":{"name":"…"}}`,
/// `{"event":"clear","streamSid":"MZ…"}`.
pub fn encode(msg: &Outbound) -> String {
    let wire = match msg {
        Outbound::Media {
            stream_sid,
            payload,
        } => WireOut {
            event: "media",
            stream_sid,
            media: Some(WirePayload {
                payload: BASE64.encode(payload),
            }),
            mark: None,
        },
        Outbound::Mark { stream_sid, name } => WireOut {
            event: "mark",
            stream_sid,
            media: None,
            mark: Some(WireName { name }),
        },
        Outbound::Clear { stream_sid } => WireOut {
            event: "clear",
            stream_sid,
            media: None,
            mark: None,
        },
    };
    to_json(&wire)
}

/// Serialise a wire struct. Plain structs of strings, numbers and maps with
/// string keys cannot fail to serialise; the fallback exists only so this
/// never panics.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| {
        tracing::error!(error = %e, "telephony: serialising a wire message failed");
        String::from("{}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_shapes_match_twilio_docs() {
        let media = Outbound::Media {
            stream_sid: "MZ1".into(),
            payload: vec![0xff, 0x7f, 0x00],
        };
        assert_eq!(
            encode(&media),
            r#"{"event":"media","streamSid":"MZ1","media":{"payload":"/38A"}}"#
        );
        let mark = Outbound::Mark {
            stream_sid: "MZ1".into(),
            name: "utt-1 \"chunk\" 7".into(),
        };
        assert_eq!(
            encode(&mark),
            r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"utt-1 \"chunk\" 7"}}"#
        );
        let clear = Outbound::Clear {
            stream_sid: "MZ1".into(),
        };
        assert_eq!(encode(&clear), r#"{"event":"clear","streamSid":"MZ1"}"#);
    }
}
