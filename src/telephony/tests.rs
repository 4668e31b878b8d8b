//! Decoder tests against real Twilio message samples (`tests/fixtures/twilio/`):
//! every event, the protocol-state errors, limits and stats.

use std::collections::BTreeMap;

use super::*;

mod props;

const SID: &str = "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";

const CONNECTED: &str = include_str!("../../tests/fixtures/twilio/connected.json");
const START: &str = include_str!("../../tests/fixtures/twilio/start.json");
const MEDIA: &str = include_str!("../../tests/fixtures/twilio/media.json");
const DTMF: &str = include_str!("../../tests/fixtures/twilio/dtmf.json");
const MARK: &str = include_str!("../../tests/fixtures/twilio/mark.json");
const STOP: &str = include_str!("../../tests/fixtures/twilio/stop.json");
const OUT_MEDIA: &str = include_str!("../../tests/fixtures/twilio/outbound_media.json");
const OUT_MARK: &str = include_str!("../../tests/fixtures/twilio/outbound_mark.json");
const OUT_CLEAR: &str = include_str!("../../tests/fixtures/twilio/outbound_clear.json");

/// A decoder that has accepted `connected` and `start`.
fn started() -> Decoder {
    let mut d = Decoder::default();
    d.decode_text(CONNECTED).expect("connected");
    d.decode_text(START).expect("start");
    d
}

fn start_meta() -> StartMeta {
    StartMeta {
        stream_sid: SID.into(),
        account_sid: "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX".into(),
        call_sid: "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX".into(),
        tracks: vec![Track::Inbound],
        custom_parameters: BTreeMap::from([
            ("FirstName".to_string(), "Jane".to_string()),
            ("LastName".to_string(), "Doe".to_string()),
            ("RemoteParty".to_string(), "Bob".to_string()),
        ]),
        media_format: MediaFormat::mulaw_8k_mono(),
    }
}

/// `start.json` with a JSON pointer replaced by `value`.
fn start_with(pointer: &str, value: serde_json::Value) -> String {
    let mut v: serde_json::Value = serde_json::from_str(START).expect("fixture");
    *v.pointer_mut(pointer).expect("pointer") = value;
    v.to_string()
}

#[test]
fn fixtures_decode_to_typed_messages() {
    let mut d = Decoder::default();
    assert_eq!(
        d.decode_text(CONNECTED),
        Ok(Inbound::Connected {
            protocol: "Call".into(),
            version: "1.0.0".into()
        })
    );
    assert_eq!(d.decode_text(START), Ok(Inbound::Start(start_meta())));
    assert_eq!(d.stream_sid(), Some(SID));
    let mut payload = vec![0xffu8; 80];
    payload.extend([0x7f; 80]);
    assert_eq!(
        d.decode_text(MEDIA),
        Ok(Inbound::Media(MediaChunk {
            stream_sid: SID.into(),
            track: Track::Inbound,
            chunk: 1,
            timestamp_ms: 5,
            payload,
        }))
    );
    assert_eq!(
        d.decode_text(MARK),
        Ok(Inbound::Mark(Mark {
            stream_sid: SID.into(),
            name: "my label".into()
        }))
    );
    assert_eq!(
        d.decode_text(DTMF),
        Ok(Inbound::Dtmf(Dtmf {
            stream_sid: SID.into(),
            track: Track::Inbound,
            digit: "1".into()
        }))
    );
    assert_eq!(
        d.decode_text(STOP),
        Ok(Inbound::Stop(Stop {
            stream_sid: SID.into(),
            account_sid: "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX".into(),
            call_sid: "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX".into(),
        }))
    );
    assert!(d.is_stopped());
    let s = d.stats();
    assert_eq!(
        (
            s.frames,
            s.media_frames,
            s.media_bytes,
            s.marks,
            s.dtmf,
            s.unknown
        ),
        (6, 1, 160, 1, 1, 0)
    );
    assert_eq!(s.total_errors(), 0);
}

#[test]
fn every_inbound_event_round_trips_through_the_client_encoder() {
    let mut enc = ClientEncoder::new();
    let mut d = Decoder::default();
    let msgs = [
        Inbound::Connected {
            protocol: "Call".into(),
            version: "1.0.0".into(),
        },
        Inbound::Start(start_meta()),
        Inbound::Media(MediaChunk {
            stream_sid: SID.into(),
            track: Track::Inbound,
            chunk: 1,
            timestamp_ms: 0,
            payload: vec![0, 1, 2, 255],
        }),
        Inbound::Mark(Mark {
            stream_sid: SID.into(),
            name: "utt-1-chunk-7".into(),
        }),
        Inbound::Dtmf(Dtmf {
            stream_sid: SID.into(),
            track: Track::Inbound,
            digit: "#".into(),
        }),
        Inbound::Unknown {
            event: "somethingNew".into(),
        },
        Inbound::Stop(Stop {
            stream_sid: SID.into(),
            account_sid: "AC1".into(),
            call_sid: "CA1".into(),
        }),
    ];
    for msg in msgs {
        assert_eq!(d.decode_text(&enc.encode(&msg)), Ok(msg));
    }
    assert_eq!(d.stats().sequence_gaps, 0);
    assert_eq!(d.stats().unknown, 1);
}

#[test]
fn outbound_fixtures_decode_and_reencode() {
    assert_eq!(
        decode_outbound(OUT_MEDIA),
        Ok(Outbound::Media {
            stream_sid: SID.into(),
            payload: vec![0xff, 0xff, 0x00]
        })
    );
    for fixture in [OUT_MEDIA, OUT_MARK, OUT_CLEAR] {
        let msg = decode_outbound(fixture).expect("fixture");
        let ours: serde_json::Value = serde_json::from_str(&encode(&msg)).expect("json");
        let theirs: serde_json::Value = serde_json::from_str(fixture).expect("json");
        assert_eq!(
            ours, theirs,
            "encode must produce Twilio's documented shape"
        );
    }
}

#[test]
fn numeric_fields_accept_numbers_and_strings() {
    let mut d = started();
    let msg = r#"{"event":"media","sequenceNumber":2,"media":{"track":"inbound","chunk":7,"timestamp":140,"payload":"AA=="},"streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}"#;
    match d.decode_text(msg) {
        Ok(Inbound::Media(m)) => {
            assert_eq!((m.chunk, m.timestamp_ms, m.payload), (7, 140, vec![0]))
        }
        other => panic!("unexpected {other:?}"),
    }
    let mut d = Decoder::default();
    let s = start_with("/start/mediaFormat/sampleRate", "8000".into());
    assert!(matches!(d.decode_text(&s), Ok(Inbound::Start(_))));
}

#[test]
fn media_mark_dtmf_before_start_are_rejected() {
    let mut d = Decoder::default();
    d.decode_text(CONNECTED).expect("connected");
    assert_eq!(
        d.decode_text(MEDIA),
        Err(ProtocolError::MediaBeforeStart { event: "media" })
    );
    assert_eq!(
        d.decode_text(MARK),
        Err(ProtocolError::MediaBeforeStart { event: "mark" })
    );
    assert_eq!(
        d.decode_text(DTMF),
        Err(ProtocolError::MediaBeforeStart { event: "dtmf" })
    );
    assert_eq!(d.stats().errors.get("media_before_start"), Some(&3));
    // The stream can still start afterwards.
    assert!(d.decode_text(START).is_ok());
    assert!(d.decode_text(MEDIA).is_ok());
}

#[test]
fn anything_after_stop_is_rejected() {
    let mut d = started();
    d.decode_text(STOP).expect("stop");
    for (frame, event) in [
        (MEDIA, "media"),
        (MARK, "mark"),
        (STOP, "stop"),
        (START, "start"),
        (CONNECTED, "connected"),
        (r#"{"event":"later"}"#, "later"),
    ] {
        assert_eq!(
            d.decode_text(frame),
            Err(ProtocolError::AfterStop {
                event: event.into()
            })
        );
    }
    assert_eq!(d.stats().errors.get("after_stop"), Some(&6));
}

#[test]
fn second_start_is_rejected_and_state_kept() {
    let mut d = started();
    let other = start_with("/start/streamSid", "MZother".into());
    let other = other.replace(SID, "MZother");
    assert_eq!(d.decode_text(START), Err(ProtocolError::DuplicateStart));
    assert_eq!(d.decode_text(&other), Err(ProtocolError::DuplicateStart));
    assert_eq!(d.stream_sid(), Some(SID));
    assert!(!ProtocolError::DuplicateStart.is_fatal());
}

#[test]
fn stream_sid_mismatch_is_rejected() {
    let mut d = started();
    let wrong = MEDIA.replace(SID, "MZwrong");
    assert_eq!(
        d.decode_text(&wrong),
        Err(ProtocolError::StreamMismatch {
            expected: SID.into(),
            got: "MZwrong".into()
        })
    );
    let wrong_stop = STOP.replace(SID, "MZwrong");
    assert!(matches!(
        d.decode_text(&wrong_stop),
        Err(ProtocolError::StreamMismatch { .. })
    ));
    assert!(!d.is_stopped(), "a foreign stop must not end our stream");
    // Start whose inner and outer streamSid disagree.
    let mut d = Decoder::default();
    let split = start_with("/streamSid", "MZouter".into());
    assert!(matches!(
        d.decode_text(&split),
        Err(ProtocolError::StreamMismatch { .. })
    ));
}

#[test]
fn unsupported_media_formats_are_fatal() {
    for (pointer, value) in [
        (
            "/start/mediaFormat/encoding",
            serde_json::json!("audio/l16"),
        ),
        ("/start/mediaFormat/sampleRate", serde_json::json!(16000)),
        ("/start/mediaFormat/channels", serde_json::json!(2)),
        ("/start/mediaFormat/channels", serde_json::json!(70000)),
    ] {
        let mut d = Decoder::default();
        let err = d
            .decode_text(&start_with(pointer, value))
            .expect_err("must reject");
        assert!(
            matches!(err, ProtocolError::UnsupportedFormat { .. }),
            "{err:?}"
        );
        assert!(err.is_fatal());
        assert_eq!(d.stream_sid(), None);
        assert_eq!(d.stats().errors.get("unsupported_format"), Some(&1));
    }
}

#[test]
fn malformed_start_is_fatal_missing_field() {
    let mut d = Decoder::default();
    let mut v: serde_json::Value = serde_json::from_str(START).expect("fixture");
    if let Some(start) = v.pointer_mut("/start").and_then(|s| s.as_object_mut()) {
        start.remove("callSid");
    }
    let err = d.decode_text(&v.to_string()).expect_err("must reject");
    assert_eq!(
        err,
        ProtocolError::MissingField {
            event: "start",
            field: "start.callSid"
        }
    );
    assert!(err.is_fatal());
    let err = d
        .decode_text(&start_with("/start/mediaFormat/sampleRate", "fast".into()))
        .expect_err("must reject");
    assert!(matches!(
        err,
        ProtocolError::InvalidField {
            field: "start.mediaFormat.sampleRate",
            ..
        }
    ));
}

#[test]
fn media_field_errors_are_counted_drops() {
    let mut d = started();
    let cases = [
        (
            r#"{"event":"media","streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","media":{"track":"inbound","chunk":"1","timestamp":"5"}}"#,
            "missing_field",
        ),
        (
            r#"{"event":"media","streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"*&^%"}}"#,
            "invalid_base64",
        ),
        (
            r#"{"event":"media","streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","media":{"track":"inbound","chunk":"-1","timestamp":"5","payload":""}}"#,
            "invalid_field",
        ),
        (r#"{"event":"media"}"#, "missing_field"),
        (r#"{"event":7}"#, "invalid_field"),
        (r#"{"no_event":true}"#, "missing_field"),
        ("not json", "json"),
        ("[]", "json"),
        ("", "json"),
    ];
    for (frame, kind) in cases {
        let err = d.decode_text(frame).expect_err(frame);
        assert_eq!(err.kind(), kind, "{frame}: {err}");
        assert!(!err.is_fatal(), "{frame}");
    }
    assert_eq!(d.stats().total_errors(), cases.len() as u64);
    assert_eq!(d.stats().media_frames, 0);
    assert!(
        d.decode_text(MEDIA).is_ok(),
        "errors must not poison the stream"
    );
}

#[test]
fn limits_are_enforced() {
    let limits = Limits {
        max_frame_bytes: 1024,
        max_media_payload_bytes: 100,
    };
    let mut d = Decoder::new(limits);
    d.decode_text(START).expect("start");
    assert!(matches!(
        d.decode_text(&" ".repeat(1025)),
        Err(ProtocolError::TooLarge { what: "frame", .. })
    ));
    // MEDIA carries 160 bytes > 100.
    assert!(matches!(
        d.decode_text(MEDIA),
        Err(ProtocolError::TooLarge {
            what: "media payload",
            ..
        })
    ));
    assert_eq!(d.stats().errors.get("too_large"), Some(&2));
    let defaults = Limits::default();
    assert_eq!(
        (defaults.max_frame_bytes, defaults.max_media_payload_bytes),
        (65536, 8000)
    );
}

#[test]
fn binary_frames_are_rejected_and_counted() {
    let mut d = started();
    assert_eq!(d.decode_binary(&[1, 2, 3]), Err(ProtocolError::BinaryFrame));
    assert_eq!(d.stats().errors.get("binary_frame"), Some(&1));
    assert_eq!(d.stats().frames, 3);
}

#[test]
fn unknown_events_are_typed_and_counted() {
    let mut d = started();
    assert_eq!(
        d.decode_text(r#"{"event":"transcription","foo":1}"#),
        Ok(Inbound::Unknown {
            event: "transcription".into()
        })
    );
    assert_eq!(d.stats().unknown, 1);
    assert_eq!(d.stats().total_errors(), 0);
}

#[test]
fn sequence_gaps_are_counted() {
    let mut d = started();
    d.decode_text(MEDIA).expect("seq 3 after 1");
    d.decode_text(MARK).expect("seq 4");
    assert_eq!(d.stats().sequence_gaps, 1);
}

#[test]
fn stats_serialize() {
    let mut d = started();
    let _ = d.decode_binary(b"x");
    let json = serde_json::to_value(d.stats()).expect("serialize");
    assert_eq!(json["frames"], 3);
    assert_eq!(json["errors"]["binary_frame"], 1);
}

#[test]
fn stop_before_start_ends_the_stream() {
    let mut d = Decoder::default();
    assert!(matches!(d.decode_text(STOP), Ok(Inbound::Stop(_))));
    assert!(d.is_stopped());
    assert!(matches!(
        d.decode_text(START),
        Err(ProtocolError::AfterStop { .. })
    ));
}

#[test]
fn lenient_optional_fields() {
    let mut d = Decoder::default();
    let mut v: serde_json::Value = serde_json::from_str(START).expect("fixture");
    if let Some(start) = v.pointer_mut("/start").and_then(|s| s.as_object_mut()) {
        start.remove("tracks");
        start.insert(
            "customParameters".into(),
            serde_json::json!({"n": 5, "b": true, "z": null}),
        );
    }
    match d.decode_text(&v.to_string()) {
        Ok(Inbound::Start(meta)) => {
            assert_eq!(meta.tracks, vec![Track::Inbound]);
            assert_eq!(meta.custom_parameters["n"], "5");
            assert_eq!(meta.custom_parameters["b"], "true");
            assert_eq!(meta.custom_parameters["z"], "");
        }
        other => panic!("unexpected {other:?}"),
    }
    // A bare stop is still honoured.
    let bare_stop = format!(r#"{{"event":"stop","streamSid":"{SID}"}}"#);
    assert!(matches!(d.decode_text(&bare_stop), Ok(Inbound::Stop(s)) if s.call_sid.is_empty()));
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let mut d = started();
    let deep = format!(
        r#"{{"event":"mark","x":{}{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(matches!(d.decode_text(&deep), Err(ProtocolError::Json(_))));
}
