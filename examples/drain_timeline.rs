//! Measures the graceful drain of the real binary: what happens, and when, after
//! SIGTERM with live calls (BENCHMARKS.md, "Drain timeline").
//!
//! ```sh
//! cargo build --release --bin switchboard --example drain_timeline
//! target/release/examples/drain_timeline --binary target/release/switchboard \
//!     --calls 8 --drain-s 3 [--hangup-ms 1000] [--embedded]
//! ```
//!
//! Starts the binary in foundation mode (a greeting WAV, no speech models; with
//! `--embedded` the default embedded stack, so the closing line is spoken) with its own
//! SQLite store and recordings in a temp dir, opens `--calls` Media Streams calls that
//! stream caller audio in real time (20 ms frames) and echo marks, sends SIGTERM, and
//! prints, in ms after the signal: `/readyz` 503, a new stream refused, each call's
//! stream closed (the closing line's frames counted), the process exit and its code,
//! and whether every record was written with an outcome and an end time. With
//! `--hangup-ms` the callers hang up themselves that long after the signal (the
//! process should exit as soon as the last call ends, before the drain timeout).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio_tungstenite::tungstenite::Message;

struct Args {
    binary: String,
    calls: usize,
    drain_s: u64,
    hangup_ms: Option<u64>,
    /// Serve the embedded voice stack (the closing line is spoken) instead of
    /// foundation mode (greeting only, no voice for the closing line).
    embedded: bool,
}

fn args() -> Args {
    let mut a = Args {
        binary: "target/release/switchboard".into(),
        calls: 4,
        drain_s: 3,
        hangup_ms: None,
        embedded: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--embedded" {
            a.embedded = true;
            continue;
        }
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--binary" => a.binary = value,
            "--calls" => a.calls = value.parse().expect("--calls N"),
            "--drain-s" => a.drain_s = value.parse().expect("--drain-s S"),
            "--hangup-ms" => a.hangup_ms = Some(value.parse().expect("--hangup-ms MS")),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn write_greeting(path: &Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..8000 {
        let t = i as f32 / 8000.0;
        w.write_sample(((t * 440.0 * std::f32::consts::TAU).sin() * 8000.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
}

/// What one call saw: ms after the signal its stream closed, closing-line frames.
struct CallEnd {
    closed_ms: Option<u128>,
    frames_after_signal: usize,
}

#[tokio::main]
async fn main() {
    let a = args();
    let dir = tempfile::tempdir().unwrap();
    let greeting = dir.path().join("greeting.wav");
    write_greeting(&greeting);
    let db = dir.path().join("calls.sqlite");
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ndrain_timeout_s = {}\nmax_calls = {}\n\
             closing_line = \"Sorry, we have to end the call now.\"\n\
             [store]\npath = {:?}\n[recordings]\nenabled = true\ndir = {:?}\n\
             [models]\nauto_fetch = false\n{}",
            a.drain_s,
            a.calls + 4,
            db,
            dir.path().join("recordings"),
            if a.embedded {
                String::new()
            } else {
                format!(
                    "[speech]\nstt = \"none\"\ntts = \"none\"\nvad = \"none\"\n[call]\ngreeting_wav = {greeting:?}\n"
                )
            }
        ),
    )
    .unwrap();

    let mut cmd = Command::new(&a.binary);
    for (key, _) in std::env::vars() {
        if key.starts_with("SWITCHBOARD_") && key != "SWITCHBOARD_MODELS_DIR" {
            cmd.env_remove(key);
        }
    }
    let mut child = cmd
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the binary");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send(line);
            }
        });
    }
    let addr = loop {
        let line = rx.recv().await.expect("the server exited before listening");
        if let Some(at) = line.find("127.0.0.1:") {
            if line.contains("switchboard listening") {
                let rest = &line[at..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':'))
                    .unwrap_or(rest.len());
                break rest[..end].to_string();
            }
        }
    };
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let readyz = format!("http://{addr}/readyz");
    while reqwest::get(&readyz)
        .await
        .map(|r| r.status().as_u16())
        .ok()
        != Some(200)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Live calls, streaming caller audio in real time.
    let signal_at = std::sync::Arc::new(std::sync::OnceLock::<Instant>::new());
    let mut calls = Vec::new();
    for i in 0..a.calls {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/media"))
            .await
            .expect("connect");
        let sid = format!("CAdrain{i}");
        let stream = format!("MZ{sid}");
        for m in [
            json!({"event":"connected","protocol":"Call","version":"1.0.0"}),
            json!({"event":"start","sequenceNumber":"1","streamSid":stream,
                "start":{"accountSid":"ACbench","streamSid":stream,"callSid":sid,
                "tracks":["inbound"],"customParameters":{},
                "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}),
        ] {
            ws.send(Message::Text(m.to_string().into())).await.unwrap();
        }
        let signal_at = signal_at.clone();
        let hangup = a.hangup_ms.map(Duration::from_millis);
        calls.push(tokio::spawn(async move {
            let payload = base64::engine::general_purpose::STANDARD.encode([0xFFu8; 160]);
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut n = 0u64;
            let mut end = CallEnd {
                closed_ms: None,
                frames_after_signal: 0,
            };
            let mut hung_up = false;
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        n += 1;
                        if let (Some(t0), Some(after), false) = (signal_at.get(), hangup, hung_up) {
                            if t0.elapsed() >= after {
                                let stop = json!({"event":"stop","sequenceNumber":(n + 2).to_string(),
                                    "streamSid":stream,"stop":{"accountSid":"ACbench","callSid":sid}});
                                let _ = ws.send(Message::Text(stop.to_string().into())).await;
                                hung_up = true;
                                continue;
                            }
                        }
                        if hung_up {
                            continue;
                        }
                        let media = json!({"event":"media","sequenceNumber":(n + 2).to_string(),
                            "streamSid":stream,"media":{"track":"inbound","chunk":n.to_string(),
                            "timestamp":(n * 20).to_string(),"payload":payload}});
                        if ws.send(Message::Text(media.to_string().into())).await.is_err() {
                            end.closed_ms = signal_at.get().map(|t| t.elapsed().as_millis());
                            return end;
                        }
                    }
                    msg = ws.next() => match msg {
                        Some(Ok(Message::Text(t))) => {
                            let v: Value = serde_json::from_str(&t).unwrap_or_default();
                            match v["event"].as_str() {
                                Some("media") if signal_at.get().is_some() => end.frames_after_signal += 1,
                                Some("mark") => {
                                    let echo = json!({"event":"mark","streamSid":v["streamSid"],"mark":v["mark"]});
                                    let _ = ws.send(Message::Text(echo.to_string().into())).await;
                                }
                                _ => {}
                            }
                        }
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                            end.closed_ms = signal_at.get().map(|t| t.elapsed().as_millis());
                            return end;
                        }
                        Some(Ok(_)) => {}
                    }
                }
            }
        }));
    }
    // Let the greetings play and the calls settle.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let pid = child.id().expect("running").to_string();
    let t0 = Instant::now();
    let _ = signal_at.set(t0);
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let mut not_ready_ms = None;
    while not_ready_ms.is_none() && t0.elapsed() < Duration::from_secs(5) {
        if let Ok(r) = reqwest::get(&readyz).await {
            if r.status().as_u16() == 503 {
                not_ready_ms = Some(t0.elapsed().as_micros() as f64 / 1000.0);
            }
        }
    }
    let refused = match tokio_tungstenite::connect_async(format!("ws://{addr}/media")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            format!(
                "{} at {:.1} ms",
                resp.status().as_u16(),
                t0.elapsed().as_micros() as f64 / 1000.0
            )
        }
        Ok(_) => "ACCEPTED (wrong)".into(),
        Err(e) => format!("error {e}"),
    };
    let status = child.wait().await.unwrap();
    let exit_ms = t0.elapsed().as_millis();
    let mut ends = Vec::new();
    for c in calls {
        ends.push(c.await.unwrap());
    }
    let store = switchboard::store::Store::open(&db).unwrap();
    let mut written = 0;
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for i in 0..a.calls {
        if let Some(r) = store.call(&format!("CAdrain{i}")).await.unwrap() {
            if r.ended_at.is_some() {
                written += 1;
            }
            *outcomes
                .entry(r.outcome.unwrap_or_else(|| "none".into()))
                .or_default() += 1;
        }
    }
    let closed: Vec<u128> = ends.iter().filter_map(|e| e.closed_ms).collect();
    let closing_frames: Vec<usize> = ends.iter().map(|e| e.frames_after_signal).collect();
    println!(
        "drain timeline ({} calls, drain_timeout_s = {}, hangup {:?})",
        a.calls, a.drain_s, a.hangup_ms
    );
    println!(
        "  /readyz 503        : {:.1} ms",
        not_ready_ms.unwrap_or(f64::NAN)
    );
    println!("  new stream         : {refused}");
    println!(
        "  streams closed     : first {} ms, last {} ms ({} of {})",
        closed.iter().min().copied().unwrap_or_default(),
        closed.iter().max().copied().unwrap_or_default(),
        closed.len(),
        a.calls
    );
    println!(
        "  frames after signal: min {} max {} per call (20 ms each; closing line included)",
        closing_frames.iter().min().copied().unwrap_or_default(),
        closing_frames.iter().max().copied().unwrap_or_default()
    );
    println!(
        "  process exit       : {exit_ms} ms, code {:?}",
        status.code()
    );
    println!(
        "  records            : {written} of {} ended, outcomes {outcomes:?}",
        a.calls
    );
}
