//! Evaluation helpers for speech recognition: loading reference clips and simulating
//! the telephone channel (16 kHz → 8 kHz → G.711 μ-law → 8 kHz → 16 kHz).
//!
//! Used by the WER regression test and the STT benchmark example. The μ-law codec
//! here is the textbook G.711 algorithm (bias 0x84, 14-bit magnitude), kept local so
//! evaluation does not depend on the call path's own codec.

use std::path::{Path, PathBuf};

use rubato::{FftFixedIn, Resampler};

use super::SpeechError;

/// One evaluation clip: 16 kHz mono PCM and its reference transcript.
#[derive(Debug, Clone)]
pub struct Clip {
    pub name: String,
    pub pcm: Vec<f32>,
    pub reference: String,
}

/// Model cache root by the project rule: `$SWITCHBOARD_MODELS_DIR`, else
/// `$XDG_CACHE_HOME/switchboard/models`, else `~/.cache/switchboard/models`.
pub fn model_cache_root() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = env("SWITCHBOARD_MODELS_DIR") {
        return p;
    }
    let base = env("XDG_CACHE_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("switchboard").join("models")
}

/// Directory of the committed real-speech fixtures.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/speech")
}

/// Load every `NAME.wav` with a sibling `NAME.txt` reference from `dir`, sorted by name.
pub fn load_clips(dir: &Path) -> Result<Vec<Clip>, SpeechError> {
    let mut clips = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    entries.sort();
    for wav in entries {
        let txt = wav.with_extension("txt");
        if !txt.is_file() {
            continue;
        }
        let reference = std::fs::read_to_string(&txt)?.trim().to_string();
        let name = wav
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        clips.push(Clip {
            name,
            pcm: read_wav_16k(&wav)?,
            reference,
        });
    }
    Ok(clips)
}

/// Read a 16 kHz mono 16-bit WAV as `f32` in `[-1, 1]`.
pub fn read_wav_16k(path: &Path) -> Result<Vec<f32>, SpeechError> {
    let reader = hound::WavReader::open(path)
        .map_err(|e| SpeechError::Model(format!("{}: {e}", path.display())))?;
    let spec = reader.spec();
    if spec.sample_rate != 16_000 || spec.channels != 1 || spec.bits_per_sample != 16 {
        return Err(SpeechError::Model(format!(
            "{}: expected 16 kHz mono 16-bit, got {spec:?}",
            path.display()
        )));
    }
    reader
        .into_samples::<i16>()
        .map(|s| {
            s.map(|v| v as f32 / 32768.0)
                .map_err(|e| SpeechError::Model(format!("{}: {e}", path.display())))
        })
        .collect()
}

/// G.711 μ-law encode one linear sample (`[-1, 1]`).
pub fn mulaw_encode(x: f32) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32635;
    let s = (x.clamp(-1.0, 1.0) * 32767.0) as i32;
    let sign = if s < 0 { 0x80 } else { 0 };
    let mag = s.abs().min(CLIP) + BIAS;
    let exponent = (31 - (mag as u32).leading_zeros()) as i32 - 7; // 0..=7
    let mantissa = (mag >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// G.711 μ-law decode one byte to linear `[-1, 1]`.
pub fn mulaw_decode(b: u8) -> f32 {
    let b = !b as i32;
    let sign = b & 0x80;
    let exponent = (b >> 4) & 0x07;
    let mantissa = b & 0x0f;
    let mag = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    let v = if sign != 0 { -mag } else { mag };
    v as f32 / 32768.0
}

/// Resample a whole mono buffer, compensating the resampler delay so output is
/// time-aligned with input and `len × to / from` samples long.
pub fn resample(pcm: &[f32], from: usize, to: usize) -> Result<Vec<f32>, SpeechError> {
    let err = |e: &dyn std::fmt::Display| SpeechError::Model(format!("resampler: {e}"));
    let mut r = FftFixedIn::<f32>::new(from, to, 1024, 2, 1).map_err(|e| err(&e))?;
    let delay = r.output_delay();
    let want = pcm.len() * to / from;
    let mut out = Vec::with_capacity(want + delay + 2048);
    let mut pos = 0;
    while pos + r.input_frames_next() <= pcm.len() {
        let n = r.input_frames_next();
        let o = r
            .process(&[&pcm[pos..pos + n]], None)
            .map_err(|e| err(&e))?;
        out.extend_from_slice(&o[0]);
        pos += n;
    }
    if pos < pcm.len() {
        let o = r
            .process_partial(Some(&[&pcm[pos..]]), None)
            .map_err(|e| err(&e))?;
        out.extend_from_slice(&o[0]);
    }
    while out.len() < want + delay {
        let o = r
            .process_partial::<&[f32]>(None, None)
            .map_err(|e| err(&e))?;
        out.extend_from_slice(&o[0]);
    }
    Ok(out[delay..delay + want].to_vec())
}

/// Pass 16 kHz audio through the telephone path: 8 kHz, μ-law round trip, back to 16 kHz.
pub fn telephone(pcm16k: &[f32]) -> Result<Vec<f32>, SpeechError> {
    let narrow = resample(pcm16k, 16_000, 8_000)?;
    let coded: Vec<f32> = narrow
        .iter()
        .map(|&x| mulaw_decode(mulaw_encode(x)))
        .collect();
    resample(&coded, 8_000, 16_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mulaw_matches_g711_reference_points() {
        assert_eq!(mulaw_encode(0.0), 0xff);
        assert_eq!(mulaw_encode(1.0), 0x80);
        assert_eq!(mulaw_encode(-1.0), 0x00);
        assert_eq!(mulaw_decode(0xff), 0.0);
        assert_eq!(mulaw_decode(0x80), 32124.0 / 32768.0);
        for i in -100..=100 {
            let x = i as f32 / 100.0;
            let y = mulaw_decode(mulaw_encode(x));
            assert!((x - y).abs() <= 0.035 * x.abs() + 0.001, "{x} -> {y}");
        }
    }

    #[test]
    fn telephone_path_keeps_length_and_a_voice_band_tone() {
        let tone: Vec<f32> = (0..16_000)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16_000.0).sin())
            .collect();
        let out = telephone(&tone).unwrap();
        assert_eq!(out.len(), tone.len());
        let err: f32 = tone[2000..14000]
            .iter()
            .zip(&out[2000..14000])
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            / 12000.0;
        assert!(err < 1e-3, "mse {err}");
    }
}
