//! WAV files (via `hound`): read any PCM/float WAV into mono [`Pcm`], write
//! 16-bit mono/stereo WAVs, and convert to telephone μ-law with [`to_phone`].

use std::io::{Cursor, Read, Seek, Write};
use std::path::Path;

use hound::{SampleFormat, WavReader, WavSpec, WavWriter};

use super::frames::PHONE_RATE;
use super::mulaw;
use super::resample::{resample, ResampleError};

/// Errors reading, writing or converting WAV audio.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// Malformed file or I/O failure (from `hound`).
    #[error("wav: {0}")]
    Hound(#[from] hound::Error),
    /// A format we cannot represent (e.g. zero channels or rate).
    #[error("unsupported wav format: {0}")]
    Unsupported(String),
    /// Stereo channels of different lengths.
    #[error("stereo channels differ in length: {left} vs {right}")]
    ChannelMismatch {
        /// Left channel length.
        left: usize,
        /// Right channel length.
        right: usize,
    },
    /// Resampling failed.
    #[error(transparent)]
    Resample(#[from] ResampleError),
}

/// Mono audio: `f32` samples in `[-1.0, 1.0]` at `rate` Hz.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pcm {
    /// Sample rate in Hz.
    pub rate: u32,
    /// Mono samples.
    pub samples: Vec<f32>,
}

impl Pcm {
    /// Wraps samples at a rate.
    pub fn new(rate: u32, samples: Vec<f32>) -> Self {
        Self { rate, samples }
    }

    /// Duration in seconds (0 if the rate is 0).
    pub fn duration_secs(&self) -> f64 {
        if self.rate == 0 {
            0.0
        } else {
            self.samples.len() as f64 / self.rate as f64
        }
    }

    /// This audio resampled to `rate` Hz (passthrough if equal).
    pub fn resampled(&self, rate: u32) -> Result<Pcm, ResampleError> {
        Ok(Pcm::new(rate, resample(&self.samples, self.rate, rate)?))
    }
}

/// Reads a WAV file into mono [`Pcm`] (channels averaged).
pub fn read_wav(path: impl AsRef<Path>) -> Result<Pcm, WavError> {
    read_wav_from(WavReader::open(path)?)
}

/// Reads WAV bytes held in memory into mono [`Pcm`].
pub fn read_wav_bytes(bytes: &[u8]) -> Result<Pcm, WavError> {
    read_wav_from(WavReader::new(Cursor::new(bytes))?)
}

/// Reads 8/16/24/32-bit integer or 32-bit float WAV of any channel count and
/// rate, downmixing to mono.
pub fn read_wav_from<R: Read>(reader: WavReader<R>) -> Result<Pcm, WavError> {
    let spec = reader.spec();
    if spec.channels == 0 || spec.sample_rate == 0 {
        return Err(WavError::Unsupported(format!(
            "{} channels at {} Hz",
            spec.channels, spec.sample_rate
        )));
    }
    let interleaved: Vec<f32> = match spec.sample_format {
        SampleFormat::Float => {
            if spec.bits_per_sample != 32 {
                return Err(WavError::Unsupported(format!(
                    "{}-bit float",
                    spec.bits_per_sample
                )));
            }
            reader.into_samples::<f32>().collect::<Result<_, _>>()?
        }
        SampleFormat::Int => {
            let bits = spec.bits_per_sample;
            if !(1..=32).contains(&bits) {
                return Err(WavError::Unsupported(format!("{bits}-bit integer")));
            }
            let scale = 1.0 / (1u64 << (bits - 1)) as f64;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| (v as f64 * scale) as f32))
                .collect::<Result<_, _>>()?
        }
    };
    Ok(Pcm::new(
        spec.sample_rate,
        downmix(&interleaved, spec.channels as usize),
    ))
}

/// Averages interleaved channels to mono (a trailing partial frame is dropped).
pub fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    match channels {
        0 => Vec::new(),
        1 => interleaved.to_vec(),
        n => interleaved
            .chunks_exact(n)
            .map(|f| f.iter().sum::<f32>() / n as f32)
            .collect(),
    }
}

fn spec16(channels: u16, rate: u32) -> WavSpec {
    WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: SampleFormat::Int,
    }
}

fn check_rate(rate: u32) -> Result<(), WavError> {
    if rate == 0 {
        return Err(WavError::Unsupported("0 Hz".into()));
    }
    Ok(())
}

/// Writes mono 16-bit PCM to any seekable writer.
pub fn write_wav_mono_to<W: Write + Seek>(writer: W, pcm: &Pcm) -> Result<(), WavError> {
    check_rate(pcm.rate)?;
    let mut w = WavWriter::new(writer, spec16(1, pcm.rate))?;
    for &s in &pcm.samples {
        w.write_sample(mulaw::f32_to_i16(s))?;
    }
    w.finalize()?;
    Ok(())
}

/// Writes a mono 16-bit WAV file.
pub fn write_wav_mono(path: impl AsRef<Path>, pcm: &Pcm) -> Result<(), WavError> {
    let file = std::io::BufWriter::new(std::fs::File::create(path).map_err(hound::Error::from)?);
    write_wav_mono_to(file, pcm)
}

/// A mono 16-bit WAV as bytes.
pub fn wav_bytes_mono(pcm: &Pcm) -> Result<Vec<u8>, WavError> {
    let mut buf = Cursor::new(Vec::new());
    write_wav_mono_to(&mut buf, pcm)?;
    Ok(buf.into_inner())
}

/// Writes stereo 16-bit PCM (two equal-length channels) to any seekable writer.
pub fn write_wav_stereo_to<W: Write + Seek>(
    writer: W,
    rate: u32,
    left: &[f32],
    right: &[f32],
) -> Result<(), WavError> {
    check_rate(rate)?;
    if left.len() != right.len() {
        return Err(WavError::ChannelMismatch {
            left: left.len(),
            right: right.len(),
        });
    }
    let mut w = WavWriter::new(writer, spec16(2, rate))?;
    for (&l, &r) in left.iter().zip(right) {
        w.write_sample(mulaw::f32_to_i16(l))?;
        w.write_sample(mulaw::f32_to_i16(r))?;
    }
    w.finalize()?;
    Ok(())
}

/// Writes a stereo 16-bit WAV file (e.g. caller left, bot right).
pub fn write_wav_stereo(
    path: impl AsRef<Path>,
    rate: u32,
    left: &[f32],
    right: &[f32],
) -> Result<(), WavError> {
    let file = std::io::BufWriter::new(std::fs::File::create(path).map_err(hound::Error::from)?);
    write_wav_stereo_to(file, rate, left, right)
}

/// Converts audio to telephone format: resample to 8 kHz, then μ-law encode.
pub fn to_phone(pcm: &Pcm) -> Result<Vec<u8>, WavError> {
    let at_8k = resample(&pcm.samples, pcm.rate, PHONE_RATE)?;
    Ok(mulaw::encode_from_f32(&at_8k))
}

#[cfg(test)]
#[path = "wav_tests.rs"]
mod tests;
