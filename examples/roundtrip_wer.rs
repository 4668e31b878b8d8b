//! TTS → STT round trip: each support-desk sentence in
//! `tests/fixtures/support_sentences.txt` is spoken by the embedded Piper voice, passed
//! through the telephone path (8 kHz μ-law), transcribed by embedded Whisper and scored.
//!
//! `cargo run --release --example roundtrip_wer` (models from `switchboard models fetch`).

use std::time::Instant;

use switchboard::audio::resample::resample;
use switchboard::speech::models::ModelCache;
use switchboard::speech::stt::eval::{model_cache_root, telephone};
use switchboard::speech::stt::wer::WerCount;
use switchboard::speech::stt::whisper::engine::{WhisperConfig, WhisperEngine};
use switchboard::speech::tts::piper::PiperTts;
use switchboard::speech::TextToSpeech;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = model_cache_root();
    let tts = PiperTts::from_cache(&ModelCache::new(&root))?;
    let stt = WhisperEngine::from_cache(&root, WhisperConfig::default())?;
    let mut state = stt.new_state()?;
    let text = std::fs::read_to_string("tests/fixtures/support_sentences.txt")?;
    let (mut errors, mut words) = (0, 0);
    let started = Instant::now();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let pcm = tts.synthesize_all(line).await?;
        let pcm16k = resample(&pcm, tts.sample_rate(), 16_000)?;
        let heard = stt.transcribe(&mut state, &telephone(&pcm16k)?)?.text;
        let score = WerCount::score(line, &heard);
        errors += score.errors;
        words += score.ref_words;
        if score.errors > 0 {
            println!("{:>2} errors | {line}\n          | {heard}", score.errors);
        }
    }
    println!(
        "round-trip WER {:.1} % ({errors} errors / {words} words), {:.1} s",
        100.0 * errors as f64 / words.max(1) as f64,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
