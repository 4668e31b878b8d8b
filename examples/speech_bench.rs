//! Measure Piper time-to-first-audio / real-time factor and VAD cost per frame.
//!
//! `cargo run --release --example speech_bench [--wav out.wav] [--wav-dir DIR]`
//! `--wav-dir` writes every synthesised support sentence as `DIR/NN.wav` (22 050 Hz)
//! plus `DIR/NN.txt`, ready for a TTS → STT round-trip WER.
//! Needs the model cache (`switchboard models fetch`), espeak-ng, and for the VAD
//! figures the Debian `pocketsphinx-testdata` package.

use std::time::{Duration, Instant};

use futures::StreamExt;
use switchboard::speech::models::ModelCache;
use switchboard::speech::tts::piper::PiperTts;
use switchboard::speech::vad::energy::{EnergyVad, EnergyVadConfig};
use switchboard::speech::vad::silero::SileroVadFactory;
use switchboard::speech::{TextToSpeech, Vad};

const SPEECH: &str =
    "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav";

fn stats(name: &str, mut v: Vec<f64>, unit: &str) {
    v.sort_by(|a, b| a.total_cmp(b));
    let med = v[v.len() / 2];
    let p90 = v[(v.len() * 9 / 10).min(v.len() - 1)];
    println!(
        "{name:40} median {med:8.3} {unit}  p90 {p90:8.3}  min {:8.3}  max {:8.3}  (n={})",
        v[0],
        v[v.len() - 1],
        v.len()
    );
}

fn write_wav(path: &str, audio: &[f32]) -> Result<(), Box<dyn std::error::Error>> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for s in audio {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)?;
    }
    w.finalize()?;
    Ok(())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let wav_out = std::env::args().skip_while(|a| a != "--wav").nth(1);
    let wav_dir = std::env::args().skip_while(|a| a != "--wav-dir").nth(1);
    if let Some(d) = &wav_dir {
        std::fs::create_dir_all(d)?;
    }
    let cache = ModelCache::from_env();
    let t = Instant::now();
    let env = switchboard::speech::onnx::environment(&cache)?;
    println!("onnxruntime init: {:?}", t.elapsed());

    // ---- Piper
    let t = Instant::now();
    let tts = PiperTts::load(
        &env,
        &switchboard::speech::tts::piper::PiperConfig::from_cache(&cache),
    )?;
    println!("piper load: {:?}", t.elapsed());
    let sentences: Vec<String> = std::fs::read_to_string("tests/fixtures/support_sentences.txt")?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect();
    let _ = tts.synthesize_all("Warm up.").await?;
    let (mut ttfa, mut rtf) = (Vec::new(), Vec::new());
    let mut sample = Vec::new();
    for s in &sentences {
        let t = Instant::now();
        let mut stream = tts.synthesize(s).await?;
        let mut first: Option<Duration> = None;
        let mut audio = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if first.is_none() {
                first = Some(t.elapsed());
            }
            audio.extend(chunk);
        }
        let total = t.elapsed().as_secs_f64();
        ttfa.push(first.unwrap_or_default().as_secs_f64() * 1000.0);
        rtf.push(total / (audio.len() as f64 / f64::from(tts.sample_rate())));
        if let Some(d) = &wav_dir {
            let n = ttfa.len();
            write_wav(&format!("{d}/{n:02}.wav"), &audio)?;
            std::fs::write(format!("{d}/{n:02}.txt"), s)?;
        }
        if sample.is_empty() {
            sample = audio;
        }
    }
    stats("piper time to first audio", ttfa, "ms");
    stats("piper real-time factor (whole sentence)", rtf, "");
    if let Some(path) = wav_out {
        write_wav(&path, &sample)?;
        let peak = sample.iter().fold(0f32, |m, s| m.max(s.abs()));
        println!("wrote {path} (peak {peak:.3})");
    }

    // ---- VAD
    let pcm16: Vec<f32> = hound::WavReader::open(SPEECH)?
        .samples::<i16>()
        .map(|s| s.map(|s| f32::from(s) / 32768.0))
        .collect::<Result<_, _>>()?;
    let pcm8: Vec<f32> = pcm16
        .chunks(2)
        .map(|c| c.iter().sum::<f32>() / c.len() as f32)
        .collect();
    for (rate, pcm) in [(8000u32, &pcm8), (16000, &pcm16)] {
        let f = SileroVadFactory::from_cache(&cache, rate)?;
        let mut per_frame = Vec::new();
        for _ in 0..5 {
            let mut v = f.detector();
            let t = Instant::now();
            let frames = v.push(pcm)?;
            per_frame.push(t.elapsed().as_secs_f64() * 1e6 / frames.len() as f64);
        }
        // 256 samples at 8 kHz and 512 at 16 kHz: 32 ms either way
        stats(
            &format!("silero vad @{rate} Hz, per 32 ms chunk"),
            per_frame,
            "µs",
        );
    }
    let mut per_frame = Vec::new();
    for _ in 0..5 {
        let mut v = EnergyVad::new(EnergyVadConfig::default());
        let t = Instant::now();
        let frames = v.push(&pcm8)?;
        per_frame.push(t.elapsed().as_secs_f64() * 1e6 / frames.len() as f64);
    }
    stats("energy vad @8000 Hz, per 20 ms frame", per_frame, "µs");
    Ok(())
}
