use super::*;
use crate::audio::opus::{OpusDecoder, OpusEncoder, OPUS_RATE};
use crate::telephony::{encode, Decoder};

fn tone(rate: u32, ms: usize) -> Vec<f32> {
    (0..rate as usize * ms / 1000)
        .map(|i| 0.3 * (2.0 * std::f32::consts::PI * 300.0 * i as f32 / rate as f32).sin())
        .collect()
}

/// The page's side: 20 ms Opus packets of a tone, numbered from 0.
fn page_packets(ms: usize) -> Vec<Vec<u8>> {
    let mut enc = OpusEncoder::new(OPUS_RATE).unwrap();
    enc.push(&tone(OPUS_RATE, ms))
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut f = (i as u16).to_be_bytes().to_vec();
            f.extend(p);
            f
        })
        .collect()
}

/// A bridge whose stream the session's decoder has accepted.
fn opened() -> (BrowserBridge, Decoder) {
    let mut bridge = BrowserBridge::new("WB1").unwrap();
    let mut session = Decoder::default();
    let (msgs, page) = bridge.open(&[("StreamToken".into(), "t".into())]);
    assert_eq!(
        page,
        ToPage::Text(r#"{"callSid":"WB1","event":"started"}"#.into())
    );
    assert!(matches!(
        session.decode_text(&msgs[0]),
        Ok(Inbound::Connected { .. })
    ));
    match session.decode_text(&msgs[1]) {
        Ok(Inbound::Start(start)) => {
            assert_eq!(start.call_sid, "WB1");
            assert_eq!(start.custom_parameters["StreamToken"], "t");
            assert!(
                start.media_format.is_supported(),
                "μ-law 8 kHz for the call path"
            );
        }
        other => panic!("{other:?}"),
    }
    (bridge, session)
}

fn media_frames(session: &mut Decoder, msgs: &[String]) -> Vec<Vec<u8>> {
    msgs.iter()
        .map(|m| match session.decode_text(m) {
            Ok(Inbound::Media(chunk)) => chunk.payload,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn opus_from_the_page_becomes_20_ms_mulaw_media_on_the_call_path() {
    let (mut bridge, mut session) = opened();
    let mut frames = Vec::new();
    for p in page_packets(1000) {
        let msgs = bridge.page_audio(&p).unwrap();
        frames.extend(media_frames(&mut session, &msgs));
    }
    assert!(frames.iter().all(|f| f.len() == 160));
    // One second in, less the resamplers' alignment.
    assert!((48..=50).contains(&frames.len()), "{}", frames.len());
    let pcm: Vec<f32> = frames
        .iter()
        .flat_map(|f| mulaw::decode_to_f32(f))
        .collect();
    let rms = (pcm[800..].iter().map(|x| x * x).sum::<f32>() / (pcm.len() - 800) as f32).sqrt();
    assert!(rms > 0.1, "the tone came through: rms {rms}");
    assert_eq!(bridge.stats().packets_in, 50);
}

#[test]
fn a_missing_packet_is_concealed_and_a_late_one_dropped() {
    let (mut bridge, mut session) = opened();
    let packets = page_packets(400);
    let mut frames = 0;
    for (i, p) in packets.iter().enumerate() {
        if i == 7 {
            continue; // lost
        }
        frames += media_frames(&mut session, &bridge.page_audio(p).unwrap()).len();
    }
    assert_eq!(bridge.stats().concealed, 1);
    // The timeline keeps its length: 20 packets' worth, less the alignment.
    assert!((19..=20).contains(&frames), "{frames}");
    // Packet 7 arriving late is not played twice.
    assert!(bridge.page_audio(&packets[7]).unwrap().is_empty());
    assert_eq!(bridge.stats().dropped, 1);
}

#[test]
fn malformed_page_messages_are_errors_and_the_call_goes_on() {
    let (mut bridge, mut session) = opened();
    assert!(matches!(
        bridge.page_audio(&[1]),
        Err(BrowserError::ShortFrame)
    ));
    assert!(matches!(
        bridge.page_audio(&[0, 0]),
        Err(BrowserError::Opus(_))
    ));
    assert!(matches!(
        bridge.page_text("{nope"),
        Err(BrowserError::Json(_))
    ));
    assert!(matches!(
        bridge.page_text(r#"{"event":"dtmf","digit":"12"}"#),
        Err(BrowserError::BadDigit(_))
    ));
    assert!(matches!(
        bridge.page_text(r#"{"event":"dtmf","digit":"x"}"#),
        Err(BrowserError::BadDigit(_))
    ));
    assert_eq!(bridge.stats().dropped, 5);
    let packets = page_packets(100);
    let mut frames = 0;
    for p in &packets {
        frames += media_frames(&mut session, &bridge.page_audio(p).unwrap()).len();
    }
    assert!(frames >= 3);
    let keys = bridge
        .page_text(r##"{"event":"dtmf","digit":"#"}"##)
        .unwrap();
    assert!(matches!(session.decode_text(&keys[0]), Ok(Inbound::Dtmf(d)) if d.digit == "#"));
    let stop = bridge.page_text(r#"{"event":"hangup"}"#).unwrap();
    assert!(matches!(
        session.decode_text(&stop[0]),
        Ok(Inbound::Stop(_))
    ));
}

fn bot_media(payload: Vec<u8>) -> String {
    encode(&Outbound::Media {
        stream_sid: "MZWB1".into(),
        payload,
    })
}

#[test]
fn the_bots_audio_reaches_the_page_as_numbered_opus() {
    let (mut bridge, _) = opened();
    let bot = mulaw::encode_from_f32(&tone(8000, 400));
    let mut page = Vec::new();
    for frame in bot.chunks(160) {
        let (msgs, echoes) = bridge.session_text(&bot_media(frame.to_vec()));
        assert!(echoes.is_empty());
        page.extend(msgs);
    }
    let mut dec = OpusDecoder::new(OPUS_RATE).unwrap();
    let mut samples = 0;
    for (i, m) in page.iter().enumerate() {
        let ToPage::Binary(b) = m else {
            panic!("{m:?}")
        };
        assert_eq!(u16::from_be_bytes([b[0], b[1]]), i as u16);
        samples += dec.decode(&b[2..]).unwrap().len();
    }
    assert!(page.len() >= 19, "{}", page.len());
    assert_eq!(samples, page.len() * 960, "20 ms at 48 kHz each");
}

fn mark(name: &str) -> String {
    encode(&Outbound::Mark {
        stream_sid: "MZWB1".into(),
        name: name.into(),
    })
}

fn echoed(session: &mut Decoder, msgs: &[String]) -> Vec<String> {
    msgs.iter()
        .map(|m| match session.decode_text(m) {
            Ok(Inbound::Mark(m)) => m.name,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn marks_go_to_the_page_and_come_back_once_played_and_a_clear_echoes_the_rest() {
    let (mut bridge, mut session) = opened();
    for name in ["u1-0", "u1-1", "u1-2"] {
        let (page, echoes) = bridge.session_text(&mark(name));
        assert_eq!(
            page,
            vec![ToPage::Text(format!(
                r#"{{"event":"mark","name":"{name}"}}"#
            ))]
        );
        assert!(echoes.is_empty());
    }
    let played = bridge
        .page_text(r#"{"event":"mark","name":"u1-0"}"#)
        .unwrap();
    assert_eq!(echoed(&mut session, &played), ["u1-0"]);
    // Barge-in: the page is told to clear, the marks not played come back at once.
    let (page, echoes) = bridge.session_text(&encode(&Outbound::Clear {
        stream_sid: "MZWB1".into(),
    }));
    assert_eq!(page, vec![ToPage::Text(r#"{"event":"clear"}"#.into())]);
    assert_eq!(echoed(&mut session, &echoes), ["u1-1", "u1-2"]);
    // The page's own late echo of a cleared mark is not passed on a second time.
    assert!(bridge
        .page_text(r#"{"event":"mark","name":"u1-1"}"#)
        .unwrap()
        .is_empty());
}

#[test]
fn an_echo_that_skips_a_mark_echoes_the_earlier_one_first() {
    let (mut bridge, mut session) = opened();
    bridge.session_text(&mark("a"));
    bridge.session_text(&mark("b"));
    let played = bridge.page_text(r#"{"event":"mark","name":"b"}"#).unwrap();
    assert_eq!(echoed(&mut session, &played), ["a", "b"]);
}

#[test]
fn one_wild_sequence_number_does_not_silence_the_packets_after_it() {
    let (mut bridge, mut session) = opened();
    let packets = page_packets(400);
    for p in &packets[..5] {
        bridge.page_audio(p).unwrap();
    }
    // A number far ahead (a glitch), then the page's numbering goes on as before.
    let mut wild = packets[5].clone();
    wild[..2].copy_from_slice(&30_000u16.to_be_bytes());
    bridge.page_audio(&wild).unwrap();
    let mut frames = 0;
    for p in &packets[6..] {
        frames += media_frames(&mut session, &bridge.page_audio(p).unwrap()).len();
    }
    // Two taken for late, then the bridge follows the page again.
    assert_eq!(bridge.stats().dropped, 2);
    assert!(frames >= 10, "{frames}");
}

#[test]
fn hanging_up_twice_stops_the_stream_once() {
    let (mut bridge, mut session) = opened();
    assert!(!bridge.stopped());
    let stop = bridge.page_text(r#"{"event":"hangup"}"#).unwrap();
    assert!(matches!(
        session.decode_text(&stop[0]),
        Ok(Inbound::Stop(_))
    ));
    assert!(bridge.stopped());
    assert!(bridge
        .page_text(r#"{"event":"hangup"}"#)
        .unwrap()
        .is_empty());
}
