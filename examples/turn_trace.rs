//! Play WAVs through a call's caller-audio path offline and show what the server
//! would make of them: the VAD's speech probability for every 20 ms frame (after the
//! 8 kHz μ-law line), where the call machine ends each caller turn, how much audio each
//! turn sends to STT and — with `--stt` — the agent turns it would start, with the
//! configured recogniser's transcripts (returned `--decode` ms after each turn end, so
//! a caller who goes on after a pause is continued as on a call; the agent never
//! replies). The files are one call, `--gap` ms of line silence apart, so VAD state
//! carries over as it does on a real call.
//!
//! `cargo run --example turn_trace -- [--config FILE] [--stt [--whole]] [--gap MS]
//! [--decode MS] FILE.wav...`
//! (`--whole`: transcribe each whole file through the line path, without VAD gating).
//! Legend: `#` ≥ vad_on, `+` ≥ vad_off, `.` ≥ 0.1, blank below.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use switchboard::call::caller_audio::CallerAudio;
use switchboard::call::machine::{Action, Input, Machine};
use switchboard::config::Config;
use switchboard::replay::scenario::wav_frames;
use switchboard::speech::{SttEvent, SttInput};
use switchboard::store::Store;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut config_path: Option<PathBuf> = None;
    let mut stt_on = false;
    let mut whole = false;
    let mut gap_ms = 2000u64;
    let mut decode_ms = 600u64;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" => config_path = args.next().map(PathBuf::from),
            "--stt" => stt_on = true,
            "--whole" => whole = true,
            "--gap" => gap_ms = args.next().context("--gap MS")?.parse()?,
            "--decode" => decode_ms = args.next().context("--decode MS")?.parse()?,
            _ => files.push(a),
        }
    }
    let config = Config::load(config_path.as_deref())?;
    let store = Store::open_in_memory()?;
    let voice = tokio::task::spawn_blocking(move || {
        switchboard::providers::voice_stack(&config, &store).map(|v| (v, config))
    })
    .await??;
    let (voice, config) = voice;
    let vad = voice.vad.as_ref().context("no VAD configured")?.create()?;
    let mut stt = match (&voice.stt, stt_on) {
        (Some(s), true) => Some(s.open().await?),
        _ => None,
    };
    let cfg = config.call.machine();
    let (on, off) = (cfg.vad_on, cfg.vad_off);
    let mut audio = CallerAudio::new(Some(vad), None);
    let mut machine = Machine::new(cfg);
    let t0 = Instant::now();
    machine.handle(t0, Input::Start { greeting: None });
    let mut tick = 0u64;
    let mut due = std::collections::VecDeque::new();
    for path in files {
        let mut frames = wav_frames(std::path::Path::new(&path))?;
        if whole {
            // The whole file through the same line path, no VAD gating.
            if let Some(s) = stt.as_mut() {
                let mut a = CallerAudio::new(None, None);
                for f in &frames {
                    for frame in a.push(f) {
                        s.input.send(SttInput::Audio(frame.pcm16k)).await?;
                    }
                }
                println!("{path}: whole file {}", final_text(s).await?);
            }
            continue;
        }
        frames.extend(std::iter::repeat_n([0xFF; 160], (gap_ms / 20) as usize));
        let mut line = String::new();
        let mut sent = 0usize;
        let mut turns = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            // One 20 ms file frame is one line frame.
            let Some(frame) = audio.push(f).pop() else {
                continue;
            };
            let p = frame.speech_prob;
            tick += 1;
            let now = t0 + Duration::from_millis(20 * tick);
            machine.handle(
                now,
                Input::Audio {
                    pcm16k: frame.pcm16k,
                    speech_prob: p,
                },
            );
            // Finals come back `decode` ms after their flush, as from a busy recogniser.
            while due.front().is_some_and(|d| *d <= tick) {
                due.pop_front();
                let (text, confidence, continued) = match stt.as_mut() {
                    Some(s) => next_final(s).await?,
                    None => (String::new(), 0.0, false),
                };
                machine.handle(
                    now,
                    Input::SttFinal {
                        text,
                        confidence,
                        continued,
                    },
                );
            }
            while let Some(a) = machine.poll_action() {
                match a {
                    Action::SttAudio(pcm) => {
                        sent += pcm.len();
                        if let Some(s) = &stt {
                            s.input.send(SttInput::Audio(pcm)).await?;
                        }
                    }
                    Action::SttContinue => {
                        turns.push(format!("  caller goes on at {} ms: continue", i * 20));
                        if let Some(s) = &stt {
                            s.input.send(SttInput::Continue).await?;
                        }
                    }
                    Action::SttFlush => {
                        if let Some(s) = &stt {
                            s.input.send(SttInput::Flush).await?;
                        }
                        turns.push(format!(
                            "  turn ends at {} ms, {} ms sent to STT",
                            i * 20,
                            sent / 16
                        ));
                        sent = 0;
                        due.push_back(tick + decode_ms / 20);
                    }
                    Action::StartTurn { turn, input } => {
                        turns.push(format!("  agent turn {turn}: {input:?}"));
                        // No reply: listen again.
                        machine.handle(now, Input::AgentDone { turn });
                    }
                    _ => {}
                }
            }
            if i % 50 == 0 {
                line.push_str(&format!("\n{:5} ms ", i * 20));
            }
            line.push(match p {
                p if p >= on => '#',
                p if p >= off => '+',
                p if p >= 0.1 => '.',
                _ => ' ',
            });
        }
        println!("{path}: {} frames{}", frames.len(), line.trim_end());
        for t in turns {
            println!("  {t}");
        }
    }
    Ok(())
}

async fn final_text(s: &mut switchboard::speech::SttStream) -> anyhow::Result<String> {
    s.input.send(SttInput::Flush).await?;
    Ok(format!("{:?}", next_final(s).await?.0))
}

async fn next_final(s: &mut switchboard::speech::SttStream) -> anyhow::Result<(String, f32, bool)> {
    while let Some(ev) = s.events.recv().await {
        if let SttEvent::Final {
            text,
            confidence,
            continued,
            ..
        } = ev
        {
            return Ok((text, confidence, continued));
        }
    }
    anyhow::bail!("STT stream ended")
}
