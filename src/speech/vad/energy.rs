//! A cheap energy-based VAD: no model files, a few nanoseconds per sample.
//!
//! Used as a fallback when the Silero model is unavailable and in tests. It tracks
//! an adaptive noise floor (fast down, slow up) and maps the frame's level above
//! that floor to a probability with a logistic curve. It cannot tell speech from
//! loud noise; Silero can.

use crate::speech::{SpeechError, Vad, VadFactory, VadFrame};

/// Settings for [`EnergyVad`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnergyVadConfig {
    pub sample_rate: u32,
    /// Frame length in milliseconds (one decision per frame).
    pub frame_ms: u32,
    /// Level above the noise floor (dB) that maps to probability 0.5.
    pub margin_db: f32,
    /// Absolute level (dBFS) below which a frame is never speech.
    pub min_db: f32,
    /// dB per logistic unit: smaller = harder decisions.
    pub slope_db: f32,
}

impl Default for EnergyVadConfig {
    fn default() -> Self {
        EnergyVadConfig {
            sample_rate: 8000,
            frame_ms: 20,
            margin_db: 12.0,
            min_db: -50.0,
            slope_db: 3.0,
        }
    }
}

/// Makes [`EnergyVad`] instances.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnergyVadFactory {
    pub config: EnergyVadConfig,
}

impl VadFactory for EnergyVadFactory {
    fn create(&self) -> Result<Box<dyn Vad>, SpeechError> {
        Ok(Box::new(EnergyVad::new(self.config)))
    }
}

/// Per-call energy detector.
#[derive(Debug, Clone)]
pub struct EnergyVad {
    config: EnergyVadConfig,
    frame_len: usize,
    acc: f64,
    n: usize,
    noise_db: f32,
    samples_done: u64,
}

const INITIAL_NOISE_DB: f32 = -70.0;

impl EnergyVad {
    pub fn new(config: EnergyVadConfig) -> Self {
        let frame_len =
            (config.sample_rate as usize * config.frame_ms.max(1) as usize / 1000).max(1);
        EnergyVad {
            config,
            frame_len,
            acc: 0.0,
            n: 0,
            noise_db: INITIAL_NOISE_DB,
            samples_done: 0,
        }
    }

    fn decide(&mut self) -> f32 {
        let rms = (self.acc / self.n.max(1) as f64).sqrt() as f32;
        let db = 20.0 * rms.max(1e-6).log10();
        // Noise floor: follow quiet frames quickly, loud ones very slowly.
        let rate = if db < self.noise_db { 0.3 } else { 0.005 };
        self.noise_db += (db - self.noise_db) * rate;
        if db < self.config.min_db {
            return 0.0;
        }
        let threshold = (self.noise_db + self.config.margin_db).max(self.config.min_db);
        1.0 / (1.0 + (-(db - threshold) / self.config.slope_db.max(0.1)).exp())
    }
}

impl Vad for EnergyVad {
    fn sample_rate(&self) -> u32 {
        self.config.sample_rate
    }

    fn push(&mut self, pcm: &[f32]) -> Result<Vec<VadFrame>, SpeechError> {
        let mut frames = Vec::new();
        for &s in pcm {
            let s = if s.is_finite() { f64::from(s) } else { 0.0 };
            self.acc += s * s;
            self.n += 1;
            if self.n == self.frame_len {
                let probability = self.decide();
                self.samples_done += self.frame_len as u64;
                frames.push(VadFrame {
                    probability,
                    end_ms: self.samples_done * 1000 / u64::from(self.config.sample_rate.max(1)),
                });
                self.acc = 0.0;
                self.n = 0;
            }
        }
        Ok(frames)
    }

    fn reset(&mut self) {
        self.acc = 0.0;
        self.n = 0;
        self.noise_db = INITIAL_NOISE_DB;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(ms: u32, amp: f32) -> Vec<f32> {
        (0..8 * ms).map(|i| amp * (i as f32 * 0.3).sin()).collect()
    }

    fn noise(ms: u32, amp: f32, seed: &mut u32) -> Vec<f32> {
        (0..8 * ms)
            .map(|_| {
                *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                amp * ((*seed >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0)
            })
            .collect()
    }

    #[test]
    fn loud_frames_after_quiet_are_speech() {
        let mut vad = EnergyVad::new(EnergyVadConfig::default());
        let mut seed = 7;
        let quiet = vad.push(&noise(500, 0.001, &mut seed)).unwrap();
        assert_eq!(quiet.len(), 25);
        assert!(quiet.iter().all(|f| f.probability < 0.1), "{quiet:?}");
        let loud = vad.push(&tone(200, 0.3)).unwrap();
        assert!(loud.iter().all(|f| f.probability > 0.9), "{loud:?}");
        assert_eq!(loud.last().unwrap().end_ms, 700);
        let after = vad.push(&noise(200, 0.001, &mut seed)).unwrap();
        assert!(after.iter().all(|f| f.probability < 0.1));
    }

    #[test]
    fn digital_silence_and_partial_frames() {
        let mut vad = EnergyVad::new(EnergyVadConfig::default());
        assert!(vad.push(&[0.0; 100]).unwrap().is_empty());
        let f = vad.push(&[0.0; 60]).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].probability, 0.0);
        assert_eq!(f[0].end_ms, 20);
    }
}
