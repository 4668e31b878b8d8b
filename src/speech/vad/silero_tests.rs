//! Silero VAD on real human speech (Debian `pocketsphinx-testdata`) and on silence/noise.
//! Needs the model cache (`switchboard models fetch`) and the Debian test data.

use super::*;
use crate::speech::models::{packages_for, Group};

const SPEECH_WAV: &str =
    "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav";

fn factory(rate: u32) -> SileroVadFactory {
    let cache = ModelCache::from_env();
    if let Err(e) = cache.check(&packages_for(&[Group::Runtime, Group::Vad])) {
        panic!("Silero VAD tests need the model cache: {e}");
    }
    SileroVadFactory::from_cache(&cache, rate).expect("load silero")
}

fn speech_16k() -> Vec<f32> {
    let mut r = hound::WavReader::open(SPEECH_WAV).unwrap_or_else(|e| {
        panic!("{SPEECH_WAV}: {e}; install it with `apt-get install -y pocketsphinx-testdata`")
    });
    assert_eq!(r.spec().sample_rate, 16000);
    r.samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect()
}

/// 16 kHz → 8 kHz: a short windowed low-pass then every second sample (good enough for a VAD test).
fn to_8k(x: &[f32]) -> Vec<f32> {
    const H: [f32; 7] = [-0.031, 0.0, 0.281, 0.5, 0.281, 0.0, -0.031];
    (0..x.len() / 2)
        .map(|i| {
            let c = 2 * i as isize;
            H.iter()
                .enumerate()
                .map(|(k, h)| {
                    let j = c + k as isize - 3;
                    if j >= 0 && (j as usize) < x.len() {
                        h * x[j as usize]
                    } else {
                        0.0
                    }
                })
                .sum()
        })
        .collect()
}

fn speech_fraction(frames: &[VadFrame]) -> f32 {
    frames.iter().filter(|f| f.probability > 0.5).count() as f32 / frames.len().max(1) as f32
}

#[test]
fn human_speech_is_detected_at_8k_and_16k() {
    let pcm16 = speech_16k();
    for (rate, pcm) in [(16000, pcm16.clone()), (8000, to_8k(&pcm16))] {
        let mut vad = factory(rate).detector();
        // push in 20 ms telephone-sized pieces to exercise the chunk buffer
        let piece = rate as usize / 50;
        let mut frames = Vec::new();
        for p in pcm.chunks(piece) {
            frames.extend(vad.push(p).unwrap());
        }
        assert_eq!(frames.len(), pcm.len() / vad.chunk_len());
        let frac = speech_fraction(&frames);
        assert!(
            frac > 0.5,
            "{rate} Hz: only {frac:.2} of frames were speech"
        );
        let last = frames.last().unwrap().end_ms;
        let dur_ms =
            (pcm.len() / vad.chunk_len() * vad.chunk_len()) as u64 * 1000 / u64::from(rate);
        assert_eq!(last, dur_ms);
    }
}

#[test]
fn silence_and_faint_noise_are_not_speech() {
    let mut vad = factory(8000).detector();
    let silence = vad.push(&vec![0.0; 8000]).unwrap();
    assert!(silence.iter().all(|f| f.probability < 0.2), "{silence:?}");
    let mut seed = 1u32;
    let noise: Vec<f32> = (0..16000)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            0.003 * ((seed >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0)
        })
        .collect();
    let frames = vad.push(&noise).unwrap();
    assert!(speech_fraction(&frames) < 0.05, "noise judged speech");
}

#[test]
fn reset_gives_identical_decisions_and_state_matters() {
    let pcm = to_8k(&speech_16k());
    let f = factory(8000);
    let mut a = f.detector();
    let first = a.push(&pcm[..16000]).unwrap();
    a.reset();
    let again = a.push(&pcm[..16000]).unwrap();
    let p = |v: &[VadFrame]| v.iter().map(|f| f.probability).collect::<Vec<_>>();
    assert_eq!(p(&first), p(&again));
    // A fresh detector fed the second half directly differs from one that heard the first
    // half: the recurrent state is carried between chunks.
    let mut b = f.detector();
    let cold = b.push(&pcm[16000..24000]).unwrap();
    let warm = a.push(&pcm[16000..24000]).unwrap();
    assert_ne!(p(&cold), p(&warm));
}

#[test]
fn rejects_unsupported_rate() {
    let cache = ModelCache::from_env();
    let env = crate::speech::onnx::environment(&cache).expect("onnxruntime in cache");
    let model = cache.path(paths::SILERO_VAD);
    assert!(SileroVadFactory::load(&env, &model, 44100).is_err());
}
