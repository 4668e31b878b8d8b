//! Evaluation helpers for speech recognition: loading reference clips and simulating
//! the telephone channel (16 kHz → 8 kHz → G.711 μ-law → 8 kHz → 16 kHz).
//!
//! Used by the WER regression test and the STT benchmark examples. The telephone path
//! is the call path's own: [`crate::audio`]'s resampler and G.711 μ-law codec.

use std::path::{Path, PathBuf};

use crate::audio::mulaw;
use crate::audio::resample::resample;

use crate::speech::SpeechError;

/// One evaluation clip: 16 kHz mono PCM and its reference transcript.
#[derive(Debug, Clone)]
pub struct Clip {
    pub name: String,
    pub pcm: Vec<f32>,
    pub reference: String,
}

/// Model cache root: the project's one rule, [`crate::cache::models_root`].
pub use crate::cache::models_root as model_cache_root;

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

/// Pass 16 kHz audio through the telephone path: 8 kHz, μ-law round trip, back to 16 kHz.
pub fn telephone(pcm16k: &[f32]) -> Result<Vec<f32>, SpeechError> {
    let err = |e: crate::audio::ResampleError| SpeechError::Model(format!("resampler: {e}"));
    let narrow = resample(pcm16k, 16_000, 8_000).map_err(err)?;
    let coded = mulaw::decode_to_f32(&mulaw::encode_from_f32(&narrow));
    resample(&coded, 8_000, 16_000).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

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
