//! Renders a phrase with the embedded Piper voice (the default voice) to an 8 kHz mono
//! 16-bit WAV, the telephone format: how `assets/last-resort/*.wav` were made.
//!
//! ```sh
//! cargo run --release --example render_phrase -- assets/last-resort/sorry.wav \
//!     "Sorry, I'm having some trouble on my end. Please bear with me."
//! ```
//!
//! Needs the model cache (`switchboard models fetch`) and espeak-ng.

use futures::StreamExt;
use switchboard::audio::resample::StreamResampler;
use switchboard::speech::models::ModelCache;
use switchboard::speech::tts::piper::PiperTts;
use switchboard::speech::TextToSpeech;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(out), Some(text)) = (args.next(), args.next()) else {
        eprintln!("usage: render_phrase OUT.wav TEXT");
        std::process::exit(2);
    };
    let cache = ModelCache::new(switchboard::cache::models_root());
    let tts = PiperTts::from_cache(&cache).expect("the Piper voice (switchboard models fetch)");
    let mut stream = tts.synthesize(&text).await.expect("synthesis");
    let mut resampler = StreamResampler::new(tts.sample_rate(), 8000).unwrap();
    let mut pcm = Vec::new();
    while let Some(chunk) = stream.next().await {
        pcm.extend(resampler.push(&chunk.expect("audio")).unwrap());
    }
    pcm.extend(resampler.flush().unwrap());
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    let mut w = hound::WavWriter::create(&out, spec).unwrap();
    for s in pcm {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
    println!("wrote {out}");
}
