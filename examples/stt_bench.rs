//! STT benchmark: WER (clean and through the 8 kHz μ-law telephone path), real-time
//! factor and per-utterance latency of the embedded Whisper model.
//!
//! `cargo run --release --example stt_bench -- [--model tiny.en|base] [--threads N]
//! [--dir DIR] [--ctx full,64,...] [--prompt TEXT] [-v]`
//! DIR defaults to `/usr/share/pocketsphinx/test/data` (Debian `pocketsphinx-testdata`,
//! all ten transcribed clips), falling back to `tests/fixtures/speech`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use switchboard::speech::stt::eval::{self, Clip};
use switchboard::speech::stt::wer::WerCount;
use switchboard::speech::stt::whisper::engine::{WhisperConfig, WhisperEngine};
use switchboard::speech::stt::whisper::WhisperModel;

/// Clips listed in pocketsphinx's `<s> text </s> (id)` transcription files.
fn pocketsphinx_clips(root: &Path) -> Vec<Clip> {
    let mut clips = Vec::new();
    for (sub, list) in [
        ("librivox", "transcription"),
        ("cards", "cards.transcription"),
    ] {
        let Ok(text) = std::fs::read_to_string(root.join(sub).join(list)) else {
            continue;
        };
        for line in text.lines() {
            let Some((words, id)) = line.rsplit_once('(') else {
                continue;
            };
            let id = id.trim().trim_end_matches(')');
            let reference = words
                .replace("<s>", "")
                .replace("</s>", "")
                .trim()
                .to_string();
            let wav = root.join(sub).join(format!("{id}.wav"));
            if let Ok(pcm) = eval::read_wav_16k(&wav) {
                clips.push(Clip {
                    name: format!("{sub}/{id}"),
                    pcm,
                    reference,
                });
            }
        }
    }
    clips
}

/// Caller turns of the replay scenarios in `dir` (`audio-fixtures/`) that have a `text`,
/// already at telephone quality (8 kHz), brought to 16 kHz.
fn scenario_clips(dir: &Path) -> Result<Vec<Clip>, Box<dyn std::error::Error>> {
    let mut clips = Vec::new();
    for path in switchboard::replay::scenario::discover(&[dir.to_path_buf()])? {
        let scenario = switchboard::replay::scenario::Scenario::load(&path)?;
        for turn in &scenario.turns {
            let (Some(text), Some(wav)) = (&turn.text, scenario.wav_path(turn)) else {
                continue;
            };
            let pcm = switchboard::audio::wav::read_wav(&wav)?.resampled(16_000)?;
            clips.push(Clip {
                name: wav
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                pcm: pcm.samples,
                reference: text.clone(),
            });
        }
    }
    Ok(clips)
}

/// CPU seconds (user + system) this process has used, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0 // utime, stime (fields 14, 15); USER_HZ = 100
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let opt = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let threads: usize = opt("--threads")
        .map(|t| t.parse())
        .transpose()?
        .unwrap_or(2);
    let dir = opt("--dir").map(PathBuf::from);
    let whisper: WhisperModel = opt("--model")
        .map(|m| m.parse())
        .transpose()?
        .unwrap_or_default();
    let verbose = args.iter().any(|a| a == "-v");
    let sys = PathBuf::from("/usr/share/pocketsphinx/test/data");
    let prompt = opt("--prompt");
    let clips = match dir {
        Some(d) if d.join("librivox").is_dir() => pocketsphinx_clips(&d),
        Some(d) if d.join("callers").is_dir() => scenario_clips(&d)?,
        Some(d) => eval::load_clips(&d)?,
        None if sys.is_dir() => pocketsphinx_clips(&sys),
        None => eval::load_clips(&eval::fixtures_dir())?,
    };
    let audio_s: f64 = clips.iter().map(|c| c.pcm.len() as f64 / 16_000.0).sum();
    println!(
        "Whisper {whisper}: {} clips, {:.1} s of audio, {threads} threads",
        clips.len(),
        audio_s
    );
    let tel: Vec<Vec<f32>> = clips
        .iter()
        .map(|c| eval::telephone(&c.pcm))
        .collect::<Result<_, _>>()?;

    let root = eval::model_cache_root();
    let t0 = Instant::now();
    let model = switchboard::speech::stt::whisper::ensure_ggml(&root, whisper)?;
    println!("ensure_ggml: {:.2} s", t0.elapsed().as_secs_f64());

    println!("\n| audio_ctx | WER clean | WER tel | RTF (tel, wall) | latency mean / min / max (tel, wall) | CPU s per utterance (tel) |");
    println!("|---|---|---|---|---|---|");
    let margins: Vec<Option<usize>> = opt("--ctx")
        .unwrap_or_else(|| "full,64,32".into())
        .split(',')
        .map(|m| {
            if m == "full" {
                Ok(None)
            } else {
                m.parse().map(Some)
            }
        })
        .collect::<Result<_, _>>()?;
    for margin in margins {
        let cfg = WhisperConfig {
            model: whisper,
            threads,
            audio_ctx_margin: margin,
            initial_prompt: prompt.clone(),
            ..WhisperConfig::default()
        };
        let engine = WhisperEngine::load(&model, cfg)?;
        let mut state = engine.new_state()?;
        let _ = engine.transcribe(&mut state, &clips[0].pcm)?; // warm-up
        let mut clean = WerCount::default();
        let mut phone = WerCount::default();
        let mut lat = Vec::new();
        let mut cpu = 0.0;
        for (clip, t) in clips.iter().zip(&tel) {
            let c = engine.transcribe(&mut state, &clip.pcm)?;
            clean += WerCount::score(&clip.reference, &c.text);
            let (s, c0) = (Instant::now(), cpu_seconds());
            let p = engine.transcribe(&mut state, t)?;
            lat.push(s.elapsed().as_secs_f64());
            cpu += cpu_seconds() - c0;
            phone += WerCount::score(&clip.reference, &p.text);
            if verbose {
                println!(
                    "  {} | {} | clean: {} | tel: {} ({:.2}, {:.2} s)",
                    clip.name,
                    clip.reference,
                    c.text,
                    p.text,
                    p.confidence,
                    lat.last().copied().unwrap_or_default()
                );
            }
        }
        let total: f64 = lat.iter().sum();
        let min = lat.iter().cloned().fold(f64::MAX, f64::min);
        let max = lat.iter().cloned().fold(0.0, f64::max);
        let label = match margin {
            None => "full (1500)".to_string(),
            Some(m) => format!(
                "audio + {m} frames (≥ {})",
                WhisperConfig::default().min_audio_ctx
            ),
        };
        println!(
            "| {label} | {:.1} % | {:.1} % | {:.3} | {:.2} / {:.2} / {:.2} s | {:.2} |",
            clean.wer() * 100.0,
            phone.wer() * 100.0,
            total / audio_s,
            total / lat.len() as f64,
            min,
            max,
            cpu / lat.len() as f64
        );
    }
    Ok(())
}
