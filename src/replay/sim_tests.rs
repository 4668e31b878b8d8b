//! Unit tests of the simulated call against scripted server frames (no network).

use super::*;
use crate::audio::frames::FRAME_BYTES;
use crate::audio::MULAW_SILENCE;
use crate::telephony::encode;
use serde_json::Value;

const SID: &str = "MZtest";

fn ids() -> CallIds {
    CallIds {
        account_sid: "ACtest".into(),
        stream_sid: SID.into(),
        call_sid: "CAtest".into(),
        custom_parameters: BTreeMap::from([("From".into(), "+15551230001".into())]),
    }
}

fn cfg(gap_ms: u64, timeout_ms: u64, greeting: bool) -> SimConfig {
    SimConfig::from_ms(gap_ms, timeout_ms, greeting)
}

fn media(b: u8) -> String {
    encode(&Outbound::Media {
        stream_sid: SID.into(),
        payload: vec![b; FRAME_BYTES],
    })
}

fn mark(name: &str) -> String {
    encode(&Outbound::Mark {
        stream_sid: SID.into(),
        name: name.into(),
    })
}

fn clear() -> String {
    encode(&Outbound::Clear {
        stream_sid: SID.into(),
    })
}

fn parse(frames: &[String]) -> Vec<Value> {
    frames
        .iter()
        .map(|f| serde_json::from_str(f).unwrap())
        .collect()
}

fn events(frames: &[String]) -> Vec<String> {
    parse(frames)
        .iter()
        .map(|v| match v["event"].as_str().unwrap() {
            "mark" => format!("mark:{}", v["mark"]["name"].as_str().unwrap()),
            "dtmf" => format!("dtmf:{}", v["dtmf"]["digit"].as_str().unwrap()),
            e => e.to_string(),
        })
        .collect()
}

fn speech(n: usize, b: u8) -> Vec<[u8; FRAME_BYTES]> {
    vec![[b; FRAME_BYTES]; n]
}

/// Ticks until `pred` or `max` ticks, collecting everything sent.
fn run_until(
    sim: &mut CallSim,
    t0: Instant,
    max: usize,
    pred: impl Fn(&CallSim) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..max {
        if pred(sim) || sim.is_done() {
            break;
        }
        let now = t0 + Duration::from_millis(sim.ticks() * 20);
        out.extend(sim.tick(now));
    }
    out
}

#[test]
fn open_sends_connected_and_start_like_twilio() {
    let mut sim = CallSim::new(ids(), vec![], cfg(100, 100, true));
    let msgs = parse(&sim.open(Instant::now()));
    assert_eq!(msgs[0]["event"], "connected");
    assert!(msgs[0].get("sequenceNumber").is_none());
    assert_eq!(msgs[1]["event"], "start");
    assert_eq!(msgs[1]["sequenceNumber"], "1");
    assert_eq!(msgs[1]["start"]["callSid"], "CAtest");
    assert_eq!(msgs[1]["start"]["customParameters"]["From"], "+15551230001");
    assert_eq!(msgs[1]["start"]["mediaFormat"]["sampleRate"], 8000);
}

#[test]
fn every_tick_sends_one_frame_and_plays_one_frame_with_marks_at_the_cursor() {
    let t0 = Instant::now();
    let mut sim = CallSim::new(ids(), vec![], cfg(1000, 1000, true));
    sim.open(t0);
    for (i, b) in [1u8, 2, 3].iter().enumerate() {
        assert!(sim.on_server(&media(*b), t0).is_empty());
        if i == 1 {
            assert!(
                sim.on_server(&mark("after-2"), t0).is_empty(),
                "audio ahead"
            );
        }
    }
    assert!(sim.on_server(&mark("after-3"), t0).is_empty());
    let t1 = sim.tick(t0);
    assert_eq!(events(&t1), vec!["media"]);
    let t2 = sim.tick(t0);
    assert_eq!(events(&t2), vec!["media", "mark:after-2"]);
    let t3 = sim.tick(t0);
    assert_eq!(events(&t3), vec!["media", "mark:after-3"]);
    // Nothing buffered: a mark now is echoed at once.
    assert_eq!(events(&sim.on_server(&mark("now"), t0)), vec!["mark:now"]);
    let v = parse(&t1);
    assert_eq!(v[0]["media"]["chunk"], "1");
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(v[0]["media"]["payload"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        payload,
        vec![MULAW_SILENCE; FRAME_BYTES],
        "the caller is silent"
    );
    let r = sim.finish();
    assert_eq!(r.caller.len(), 3 * FRAME_BYTES);
    assert_eq!(r.bot.len(), 3 * FRAME_BYTES);
    assert_eq!(
        (r.bot[0], r.bot[FRAME_BYTES], r.bot[2 * FRAME_BYTES]),
        (1, 2, 3)
    );
    assert_eq!(r.stats.marks_echoed, 3);
    assert_eq!(r.stats.bot_bytes_played, 3 * FRAME_BYTES as u64);
}

#[test]
fn clear_drops_unplayed_audio_and_echoes_pending_marks_at_once() {
    let t0 = Instant::now();
    let mut sim = CallSim::new(ids(), vec![], cfg(1000, 1000, true));
    sim.open(t0);
    for k in 0..5u8 {
        sim.on_server(&media(10 + k), t0);
        sim.on_server(&mark(&format!("m{k}")), t0);
    }
    sim.tick(t0);
    sim.tick(t0);
    let echoed = sim.on_server(&clear(), t0);
    assert_eq!(events(&echoed), vec!["mark:m2", "mark:m3", "mark:m4"]);
    let after = sim.tick(t0);
    assert_eq!(events(&after), vec!["media"], "nothing left to play");
    let r = sim.finish();
    assert_eq!(r.stats.bot_bytes_cleared, 3 * FRAME_BYTES as u64);
    assert_eq!(r.clears.len(), 1);
    assert_eq!(r.clears[0].dropped_ms, 60);
    assert_eq!(r.clears[0].marks_flushed, 3);
    assert_eq!(r.clears[0].at_ms, 40);
    // The recording holds only what was heard: frames 10, 11, then silence.
    assert_eq!(r.bot[0], 10);
    assert_eq!(r.bot[FRAME_BYTES], 11);
    assert!(r.bot[2 * FRAME_BYTES..].iter().all(|b| *b == MULAW_SILENCE));
}

#[test]
fn turn_waits_for_the_greeting_to_finish_then_speaks_then_stops() {
    let t0 = Instant::now();
    let turn = CallerTurn {
        frames: speech(3, 0x42),
        silence_after_ms: 40,
        ..CallerTurn::default()
    };
    // Gap of 60 ms = 3 silent ticks after the greeting's last frame.
    let mut sim = CallSim::new(ids(), vec![turn], cfg(60, 200, true));
    sim.open(t0);
    sim.on_server(&media(1), t0);
    sim.on_server(&media(2), t0);
    let sent = run_until(&mut sim, t0, 100, |s| s.is_done());
    let ev = events(&sent);
    assert_eq!(ev.last().map(String::as_str), Some("stop"));
    let r = sim.finish();
    // Ticks: 2 greeting + 3 gap, then the turn waits for the next 8-tick grid point
    // (tick 8), 3 speech, then 200 ms (10 ticks, counted from the end of the input,
    // so including the 2 of trailing silence) before the caller hangs up.
    assert_eq!(r.turns[0].started_ms, Some(160));
    assert_eq!(r.turns[0].input_end_ms, Some(220));
    assert_eq!(r.turns[0].latency_ms, None, "the bot never replied");
    assert_eq!(r.stats.speech_frames_sent, 3);
    assert_eq!(r.caller[8 * FRAME_BYTES], 0x42);
    assert_eq!(r.caller[7 * FRAME_BYTES], MULAW_SILENCE);
    assert_eq!(r.caller[11 * FRAME_BYTES], MULAW_SILENCE);
    assert_eq!(r.line_ms, (8 + 3 + 10) * 20);
    assert_eq!(r.ended_by, EndedBy::Caller);
    assert_eq!(r.caller.len(), r.bot.len(), "tracks stay aligned");
}

#[test]
fn latency_is_measured_from_end_of_input_to_first_reply_frame() {
    let t0 = Instant::now();
    let turns = vec![CallerTurn {
        frames: speech(2, 0x42),
        silence_after_ms: 20,
        ..CallerTurn::default()
    }];
    let mut sim = CallSim::new(ids(), turns, cfg(40, 1000, false));
    sim.open(t0);
    sim.tick(t0); // speech 1
    sim.tick(t0); // speech 2 → input ends at 40 ms line time, t0 wall
    sim.tick(t0 + Duration::from_millis(20)); // trailing silence
    sim.on_server(&media(7), t0 + Duration::from_millis(350));
    sim.tick(t0 + Duration::from_millis(360)); // reply plays
    let r = sim.finish();
    assert_eq!(r.turns[0].input_end_ms, Some(40));
    assert_eq!(r.turns[0].latency_ms, Some(350));
    assert_eq!(r.turns[0].line_latency_ms, Some(20));
    assert_eq!(r.turns[0].reply_ms, 20);
}

#[test]
fn barge_in_starts_the_turn_mid_reply_and_a_late_clear_resets_latency() {
    let t0 = Instant::now();
    let turns = vec![CallerTurn {
        frames: speech(2, 0x42),
        barge_in_ms: Some(60),
        silence_after_ms: 0,
        ..CallerTurn::default()
    }];
    let mut sim = CallSim::new(ids(), turns, cfg(1000, 1000, true));
    sim.open(t0);
    for k in 0..10 {
        sim.on_server(&media(k), t0);
    }
    run_until(&mut sim, t0, 50, |s| {
        matches!(s.phase, Phase::Speaking { .. }) || s.is_done()
    });
    assert_eq!(
        sim.ticks(),
        4,
        "started on tick 3, once 60 ms of the reply played"
    );
    sim.tick(t0); // input ends while the bot is still talking
                  // Stale audio counts as a reply until the server's clear says otherwise.
    sim.on_server(&media(99), t0 + Duration::from_millis(5));
    sim.on_server(&clear(), t0 + Duration::from_millis(6));
    sim.on_server(&media(50), t0 + Duration::from_millis(400));
    sim.tick(t0 + Duration::from_millis(400));
    let r = sim.finish();
    let t = &r.turns[0];
    assert_eq!(t.started_ms, Some(60));
    assert_eq!(t.heard_before_ms, 60);
    assert!(t.talked_over_bot);
    assert_eq!(t.latency_ms, Some(400), "measured to the real reply");
    assert_eq!(r.clears[0].turn, Some(0));
    assert_eq!(r.clears[0].after_turn_start_ms, Some(40));
    // Bot frames 0..4 were heard, the rest was cleared, then 50.
    assert_eq!(r.bot[4 * FRAME_BYTES], 4);
    assert_eq!(r.bot[5 * FRAME_BYTES], 50);
}

#[test]
fn dtmf_digits_are_spaced_and_end_the_input() {
    let t0 = Instant::now();
    let turns = vec![CallerTurn {
        frames: speech(1, 0x42),
        dtmf: "1#".into(),
        silence_after_ms: 0,
        ..CallerTurn::default()
    }];
    let mut sim = CallSim::new(ids(), turns, cfg(1000, 100, false));
    sim.open(t0);
    let sent = run_until(&mut sim, t0, 100, |s| s.is_done());
    let ev = events(&sent);
    let d1 = ev.iter().position(|e| e == "dtmf:1").unwrap();
    let d2 = ev.iter().position(|e| e == "dtmf:#").unwrap();
    let media_between = ev[d1..d2].iter().filter(|e| *e == "media").count() as u64;
    assert_eq!(media_between, super::super::scenario::DTMF_GAP_MS / 20);
    let r = sim.finish();
    assert_eq!(r.stats.dtmf_sent, 2);
    assert_eq!(r.turns[0].input_end_ms, Some(20 + 200 + 20));
    let v = parse(&sent);
    let dtmf = v.iter().find(|m| m["event"] == "dtmf").unwrap();
    assert_eq!(dtmf["dtmf"]["track"], "inbound_track");
}

#[test]
fn fast_mode_never_skips_ahead_while_the_bot_talks() {
    let t0 = Instant::now();
    let turns = vec![CallerTurn {
        frames: speech(5, 0x42),
        ..CallerTurn::default()
    }];
    let mut sim = CallSim::new(ids(), turns, cfg(20, 1000, false));
    sim.open(t0);
    assert!(
        !sim.fast_ready(t0),
        "listening to a silent line is real time"
    );
    sim.tick(t0);
    assert!(sim.fast_ready(t0), "speaking over a quiet line");
    sim.on_server(&media(1), t0);
    assert!(!sim.fast_ready(t0), "bot audio buffered while speaking");
    sim.tick(t0);
    assert!(
        !sim.fast_ready(t0 + Duration::from_millis(50)),
        "bot just talked"
    );
    assert!(sim.fast_ready(t0 + Duration::from_millis(150)));
    run_until(&mut sim, t0 + Duration::from_secs(1), 10, |s| {
        matches!(s.phase, Phase::Listening { .. })
    });
    sim.on_server(&media(2), t0);
    assert!(
        sim.fast_ready(t0),
        "listening: buffered bot audio plays at once"
    );
}

#[test]
fn server_close_and_bad_frames() {
    let t0 = Instant::now();
    let mut sim = CallSim::new(ids(), vec![], cfg(20, 20, true));
    sim.open(t0);
    assert!(sim.on_server("not json", t0).is_empty());
    let other = encode(&Outbound::Clear {
        stream_sid: "MZother".into(),
    });
    assert!(sim.on_server(&other, t0).is_empty());
    sim.on_closed();
    assert!(sim.is_done());
    assert!(
        sim.tick(t0).is_empty(),
        "nothing is sent after the socket closed"
    );
    let r = sim.finish();
    assert_eq!(r.stats.protocol_errors, 2);
    assert!(r.stats.first_protocol_error.unwrap().contains("not json"));
    assert_eq!(r.ended_by, EndedBy::Server);
}

#[test]
fn bot_audio_flowing_across_the_end_of_input_is_not_a_reply() {
    let t0 = Instant::now();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let turns = vec![CallerTurn {
        frames: speech(1, 0x42),
        barge_in_ms: Some(20),
        ..CallerTurn::default()
    }];
    let mut sim = CallSim::new(ids(), turns, cfg(1000, 1000, true));
    sim.open(t0);
    sim.on_server(&media(1), at(0));
    sim.on_server(&media(2), at(0));
    sim.tick(at(0)); // greeting frame 1 plays
    sim.tick(at(20)); // barge-in: the caller speaks over frame 2; input ends
    sim.on_server(&media(3), at(40)); // the bot keeps talking: no clear
    sim.tick(at(40));
    sim.on_server(&media(4), at(500)); // after a pause: a new utterance
    sim.tick(at(500));
    let r = sim.finish();
    assert!(r.turns[0].talked_over_bot);
    assert_eq!(r.turns[0].input_end_ms, Some(40));
    assert_eq!(
        r.turns[0].latency_ms,
        Some(480),
        "measured to the new utterance"
    );
    assert_eq!(r.turns[0].line_latency_ms, Some(20));
}
