//! `switchboard replay` end to end against the in-process foundation server: a
//! scenario with a committed caller WAV and DTMF is replayed in both speeds, the
//! call record is fetched and checked, the stereo recording and JSON report are
//! written; the CLI exits non-zero with a diff on a wrong expectation and writes
//! JUnit XML.

use std::path::{Path, PathBuf};

use switchboard::config::Config;
use switchboard::replay::{replay_scenario, InProcessServer, Options, Scenario, Speed};

use crate::harness::write_tone_wav;

fn caller_wav() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("audio-fixtures/callers/wrong-number-1.wav")
}

/// A foundation server config whose greeting is `greeting_ms` of tone.
fn config_toml(dir: &Path, greeting_ms: u32) -> String {
    let greeting = dir.join("greeting.wav");
    write_tone_wav(&greeting, 16000, greeting_ms);
    format!(
        "[call]\ngreeting_wav = {:?}\nplayout_lead_frames = 0\n[speech]\nstt = \"none\"\ntts = \"none\"\n",
        greeting.display().to_string()
    )
}

fn scenario_toml(expect: &str) -> String {
    format!(
        "from = \"+15551230001\"\nreply_gap_ms = 300\nreply_timeout_ms = 1000\n\
         [params]\nTenant = \"qa\"\n\
         [[turns]]\nwav = {:?}\ntext = \"Oh, sorry, wrong number. Bye.\"\ndtmf = \"5\"\nsilence_after_ms = 400\n\
         [expect]\n{expect}\n",
        caller_wav().display().to_string()
    )
}

async fn replay_once(speed: Speed) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_parts(&config_toml(dir.path(), 1000), "test", Vec::new()).unwrap();
    let server = InProcessServer::start(config).await.unwrap();
    let path = dir.path().join("foundation-call.toml");
    let expect =
        "outcome = \"completed\"\nmin_bot_audio_ms = 900\nmust_not_say = [\"transferring you\"]";
    std::fs::write(&path, scenario_toml(expect)).unwrap();
    let scenario = Scenario::load(&path).unwrap();
    let out = dir.path().join("out");
    let opts = Options {
        speed,
        out: Some(out.clone()),
        ..Options::default()
    };
    let http = reqwest::Client::new();
    let report = replay_scenario(&scenario, &server.target, &http, &opts).await;
    assert_eq!(report.error, None, "{}", report.summary_with_diff());
    assert!(report.passed, "{}", report.summary_with_diff());

    // The record the server kept is the call we made.
    assert_eq!(report.record["callSid"], report.call_sid.as_str());
    assert_eq!(report.record["from"], "+15551230001");
    assert_eq!(report.outcome.as_deref(), Some("completed"));
    assert_eq!(
        report.record["framesIn"].as_u64(),
        Some(report.line.frames_sent),
        "the server counted every frame the simulated phone sent"
    );
    assert_eq!(report.line.dtmf_sent, 1);
    assert_eq!(report.line_ms, report.line.frames_sent * 20);
    // The whole 1 s greeting was heard before the caller spoke, marks all echoed.
    let turn = &report.turns[0].stats;
    assert_eq!(turn.heard_before_ms, 1000);
    assert!(!turn.talked_over_bot);
    assert!(turn.started_ms.unwrap() >= 1000 + 300, "{turn:?}");
    assert!(report.line.marks_received >= 5);
    assert_eq!(report.line.marks_echoed, report.line.marks_received);
    assert_eq!(report.line.bot_bytes_played, 8000);
    assert_eq!(turn.latency_ms, None, "the foundation does not reply");

    // Outputs: the report and a stereo recording aligned with the line clock.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("foundation-call.json")).unwrap())
            .unwrap();
    assert_eq!(json["passed"], true);
    assert_eq!(json["turns"][0]["text"], "Oh, sorry, wrong number. Bye.");
    let mut wav = hound::WavReader::open(out.join("foundation-call.wav")).unwrap();
    assert_eq!(wav.spec().channels, 2);
    let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    assert_eq!(samples.len() as u64, report.line_ms * 8 * 2);
    let energy = |ch: usize, from_ms: u64, to_ms: u64| -> f64 {
        let (a, b) = ((from_ms * 8) as usize, (to_ms * 8) as usize);
        samples[a * 2..b * 2]
            .iter()
            .skip(ch)
            .step_by(2)
            .map(|s| (*s as f64).powi(2))
            .sum::<f64>()
            / (b - a) as f64
    };
    let speech_at = turn.started_ms.unwrap();
    assert!(energy(1, 0, 1000) > 1e5, "greeting on the right");
    assert!(
        energy(0, 0, 1000) < 10.0,
        "caller quiet during the greeting"
    );
    assert!(
        energy(0, speech_at, speech_at + 2000) > 1e4,
        "caller on the left"
    );
    assert!(
        energy(1, speech_at, speech_at + 2000) < 10.0,
        "bot quiet then"
    );
}

#[tokio::test(start_paused = true)]
async fn realtime_replay_against_the_foundation_server() {
    replay_once(Speed::Realtime).await;
}

#[tokio::test(start_paused = true)]
async fn fast_replay_sends_the_same_line_to_the_server() {
    replay_once(Speed::Fast).await;
}

#[test]
fn cli_wrong_expectation_fails_with_a_diff_and_junit() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, config_toml(dir.path(), 300)).unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    std::fs::write(
        scenarios.join("right.toml"),
        scenario_toml("outcome = \"completed\""),
    )
    .unwrap();
    std::fs::write(
        scenarios.join("wrong.toml"),
        scenario_toml("outcome = \"escalated\"\nagents = [\"triage\", \"billing\"]"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let junit = dir.path().join("junit.xml");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("--config")
        .arg(&config)
        .args(["replay", "--speed", "fast", "--out"])
        .arg(&out)
        .arg("--junit")
        .arg(&junit)
        .arg(&scenarios)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("PASS  right  triage  completed  1 turns"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("FAIL  wrong"), "{stdout}");
    assert!(
        stdout.contains("agents\n      - expected: triage → billing\n      + actual:   triage"),
        "{stdout}"
    );
    assert!(
        stdout.contains("outcome\n      - expected: escalated\n      + actual:   completed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("replayed 2 scenarios (fast): 1 passed, 1 failed, 0 errors"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"tests="2" failures="1" errors="0""#),
        "{xml}"
    );
    assert!(
        xml.contains("expectations not met: agents, outcome"),
        "{xml}"
    );
    for f in ["right.json", "right.wav", "wrong.json", "wrong.wav"] {
        assert!(out.join(f).exists(), "{f}");
    }
}
