//! Property tests: the decoder never panics on arbitrary or mutated input, and
//! every message survives encode → decode unchanged.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::Value;

use super::super::parse::parse_inbound;
use super::super::*;
use super::{CONNECTED, DTMF, MARK, MEDIA, START, STOP};

const KNOWN: [&str; 6] = ["connected", "start", "media", "dtmf", "mark", "stop"];
const TRACK_NAMES: [&str; 4] = ["inbound", "inbound_track", "outbound", "outbound_track"];

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

fn track() -> impl Strategy<Value = Track> {
    prop_oneof![
        Just(Track::Inbound),
        Just(Track::Outbound),
        any::<String>()
            .prop_filter("reserved track name", |s| !TRACK_NAMES
                .contains(&s.as_str()))
            .prop_map(Track::Other),
    ]
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..400)
}

fn start_meta(sid: String, format: MediaFormat) -> impl Strategy<Value = StartMeta> {
    (
        any::<String>(),
        any::<String>(),
        prop::collection::vec(track(), 0..3),
        prop::collection::btree_map(any::<String>(), any::<String>(), 0..4),
    )
        .prop_map(
            move |(account_sid, call_sid, tracks, custom_parameters)| StartMeta {
                stream_sid: sid.clone(),
                account_sid,
                call_sid,
                tracks,
                custom_parameters,
                media_format: format.clone(),
            },
        )
}

/// One in-stream message (media, mark, dtmf or unknown) for stream `sid`.
fn stream_msg(sid: String) -> impl Strategy<Value = Inbound> {
    let (s1, s2, s3) = (sid.clone(), sid.clone(), sid);
    prop_oneof![
        (track(), any::<u64>(), any::<u64>(), payload()).prop_map(
            move |(track, chunk, ts, payload)| {
                Inbound::Media(MediaChunk {
                    stream_sid: s1.clone(),
                    track,
                    chunk,
                    timestamp_ms: ts,
                    payload,
                })
            }
        ),
        any::<String>().prop_map(move |name| Inbound::Mark(Mark {
            stream_sid: s2.clone(),
            name
        })),
        (track(), any::<String>()).prop_map(move |(track, digit)| Inbound::Dtmf(Dtmf {
            stream_sid: s3.clone(),
            track,
            digit
        })),
        any::<String>()
            .prop_filter("known event", |e| !KNOWN.contains(&e.as_str()))
            .prop_map(|event| Inbound::Unknown { event }),
    ]
}

/// A whole well-formed stream: start, some messages, stop.
fn stream() -> impl Strategy<Value = Vec<Inbound>> {
    any::<String>().prop_flat_map(|sid| {
        (
            start_meta(sid.clone(), MediaFormat::mulaw_8k_mono()),
            prop::collection::vec(stream_msg(sid.clone()), 0..8),
            (any::<String>(), any::<String>()),
        )
            .prop_map(move |(meta, body, (account_sid, call_sid))| {
                let mut all = vec![
                    Inbound::Connected {
                        protocol: "Call".into(),
                        version: "1.0.0".into(),
                    },
                    Inbound::Start(meta),
                ];
                all.extend(body);
                all.push(Inbound::Stop(Stop {
                    stream_sid: sid.clone(),
                    account_sid,
                    call_sid,
                }));
                all
            })
    })
}

fn outbound() -> impl Strategy<Value = Outbound> {
    prop_oneof![
        (any::<String>(), payload()).prop_map(|(stream_sid, payload)| Outbound::Media {
            stream_sid,
            payload
        }),
        (any::<String>(), any::<String>())
            .prop_map(|(stream_sid, name)| Outbound::Mark { stream_sid, name }),
        any::<String>().prop_map(|stream_sid| Outbound::Clear { stream_sid }),
    ]
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        Just(Value::String("8000".into())),
        Just(Value::String("AAAA".into())),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer to a node inside `v` (not the root).
fn pointers(v: &Value, prefix: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = format!("{prefix}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let p = format!("{prefix}/{i}");
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        _ => {}
    }
}

fn fixture() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![CONNECTED, START, MEDIA, DTMF, MARK, STOP])
}

/// Decode `frame` with a fresh and with a started decoder; check bookkeeping.
fn feed_everywhere(frame: &str) {
    for mut d in [Decoder::default(), super::started()] {
        let before = d.stats().clone();
        let result = d.decode_text(frame);
        let after = d.stats();
        assert_eq!(after.frames, before.frames + 1);
        match result {
            Ok(_) => assert_eq!(after.total_errors(), before.total_errors()),
            Err(e) => {
                assert_eq!(after.total_errors(), before.total_errors() + 1);
                assert!(!e.kind().is_empty());
                let _ = e.to_string();
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        feed_everywhere(&s);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut d = super::started();
        prop_assert_eq!(d.decode_binary(&bytes), Err(ProtocolError::BinaryFrame));
        feed_everywhere(&String::from_utf8_lossy(&bytes));
        let _ = decode_outbound(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn byte_mutated_fixtures_never_panic(
        frame in fixture(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let mut bytes = frame.as_bytes().to_vec();
        for (at, byte, op) in edits {
            if bytes.is_empty() { break; }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        feed_everywhere(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn json_mutated_fixtures_never_panic(
        frame in fixture(),
        at in any::<prop::sample::Index>(),
        replacement in arbitrary_json(),
        delete in any::<bool>(),
    ) {
        let mut v: Value = serde_json::from_str(frame).expect("fixture");
        let mut ptrs = Vec::new();
        pointers(&v, String::new(), &mut ptrs);
        let p = &ptrs[at.index(ptrs.len())];
        if delete {
            let (parent, key) = p.rsplit_once('/').expect("non-root pointer");
            if let Some(Value::Object(m)) = v.pointer_mut(parent) {
                m.remove(&key.replace("~1", "/").replace("~0", "~"));
            }
        } else if let Some(node) = v.pointer_mut(p) {
            *node = replacement;
        }
        feed_everywhere(&v.to_string());
    }

    #[test]
    fn outbound_round_trips(msg in outbound()) {
        prop_assert_eq!(decode_outbound(&encode(&msg)), Ok(msg));
    }

    #[test]
    fn inbound_streams_round_trip_through_the_decoder(msgs in stream()) {
        let mut enc = ClientEncoder::new();
        let mut d = Decoder::default();
        for msg in msgs {
            prop_assert_eq!(d.decode_text(&enc.encode(&msg)), Ok(msg));
        }
        prop_assert!(d.is_stopped());
        prop_assert_eq!(d.stats().total_errors(), 0);
        prop_assert_eq!(d.stats().sequence_gaps, 0);
    }

    #[test]
    fn start_round_trips_with_any_format(
        meta in (any::<String>(), any::<String>(), any::<u32>(), any::<u16>())
            .prop_flat_map(|(sid, encoding, sample_rate, channels)| {
                start_meta(sid, MediaFormat { encoding, sample_rate, channels })
            }),
        seq in any::<u64>(),
    ) {
        let text = encode_inbound(&Inbound::Start(meta.clone()), seq);
        let parsed = parse_inbound(&text, 8000).expect("parses");
        prop_assert_eq!(parsed.msg, Inbound::Start(meta));
        prop_assert_eq!(parsed.sequence_number, Some(seq));
    }

    #[test]
    fn twiml_parameters_never_break_out_of_attributes(
        url in any::<String>(),
        params in prop::collection::vec((any::<String>(), any::<String>()), 0..4),
    ) {
        let xml = connect_stream(&url, &params);
        // Escaped text contains no raw quote or angle bracket.
        let inner = &xml[xml.find("<Stream").unwrap_or(0)..];
        let quotes = inner.matches('"').count();
        prop_assert_eq!(quotes, 2 + 4 * params.len());
        prop_assert_eq!(inner.matches('<').count(), 4 + params.len());
    }
}

#[test]
fn custom_parameter_map_order_is_irrelevant() {
    // BTreeMap keeps parameters sorted regardless of wire order.
    let a = r#"{"event":"start","start":{"accountSid":"A","streamSid":"S","callSid":"C","customParameters":{"b":"2","a":"1"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}"#;
    let Ok(parsed) = parse_inbound(a, 10) else {
        panic!("parse")
    };
    let Inbound::Start(meta) = parsed.msg else {
        panic!("start")
    };
    let expected: BTreeMap<String, String> =
        [("a".into(), "1".into()), ("b".into(), "2".into())].into();
    assert_eq!(meta.custom_parameters, expected);
}
