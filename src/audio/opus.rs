//! Opus (RFC 6716) for the browser softphone, sans-IO: an [`OpusEncoder`] that takes
//! PCM at the call's rate and returns one packet per 20 ms, and an [`OpusDecoder`] that
//! turns packets (or a lost packet, concealed) back into PCM at the call's rate.
//!
//! Opus runs at 48 kHz here (what browsers' WebCodecs `AudioEncoder` produces); the
//! conversion to and from the call's rate (8 kHz telephone, 16 kHz STT) goes through
//! [`StreamResampler`]. The codec is libopus through `audiopus` (the system library,
//! Debian `libopus-dev`). Samples are `f32` in `[-1.0, 1.0]`, mono.

use audiopus::coder::{Decoder, Encoder};
use audiopus::packet::Packet;
use audiopus::{Application, Bandwidth, Bitrate, Channels, MutSignals, SampleRate};

use super::resample::{ResampleError, StreamResampler};

/// Opus's own rate here (Hz).
pub const OPUS_RATE: u32 = 48_000;
/// Samples in one 20 ms Opus frame at [`OPUS_RATE`].
pub const OPUS_FRAME_SAMPLES: usize = 960;
/// Longest audio one packet may hold: 120 ms (RFC 6716 §3.2.5) at 48 kHz.
const MAX_PACKET_SAMPLES: usize = 5760;
/// Largest packet the encoder may write (RFC 6716 §3.4: 1275 bytes per frame; a
/// 20 ms mono frame at our bitrate is far smaller).
const MAX_PACKET_BYTES: usize = 1500;
/// Packets of concealment at most for one gap: longer gaps are silence, not a
/// smeared copy of the last sound.
pub const MAX_CONCEALED_FRAMES: usize = 5;

/// Errors from the Opus wrappers.
#[derive(Debug, thiserror::Error)]
pub enum OpusError {
    /// libopus refused (a corrupt packet, a bad parameter).
    #[error("opus: {0}")]
    Codec(#[from] audiopus::Error),
    /// Converting to or from 48 kHz failed.
    #[error(transparent)]
    Resample(#[from] ResampleError),
}

fn to_i16(x: f32) -> i16 {
    (x.clamp(-1.0, 1.0) * 32767.0).round() as i16
}

/// Encodes mono PCM at `rate` into 20 ms Opus packets (VoIP mode, 24 kbit/s, in-band
/// FEC on for 10 % loss, bandwidth capped at the input's, complexity 5).
pub struct OpusEncoder {
    encoder: Encoder,
    rate: u32,
    upsampler: Option<StreamResampler>,
    /// 48 kHz samples not yet a whole frame.
    pending: Vec<f32>,
    scratch: Vec<i16>,
}

impl OpusEncoder {
    /// An encoder for PCM at `rate` Hz (8 000, 16 000, 48 000, …).
    pub fn new(rate: u32) -> Result<Self, OpusError> {
        let mut encoder = Encoder::new(SampleRate::Hz48000, Channels::Mono, Application::Voip)?;
        encoder.set_bitrate(Bitrate::BitsPerSecond(24_000))?;
        encoder.set_inband_fec(true)?;
        encoder.set_packet_loss_perc(10)?;
        // Nothing above the input's Nyquist frequency is worth bits (or CPU): 8 kHz
        // telephone audio is narrowband, 16 kHz wideband.
        let bandwidth = match rate {
            0..=8_000 => Bandwidth::Narrowband,
            8_001..=16_000 => Bandwidth::Wideband,
            _ => Bandwidth::Fullband,
        };
        encoder.set_max_bandwidth(bandwidth)?;
        // Complexity 5 of 10 halves the encoder's time (≈ 100 µs per 20 ms frame
        // instead of ≈ 190 µs, BENCHMARKS.md) for speech at telephone bandwidth.
        encoder.set_complexity(5)?;
        let upsampler = (rate != OPUS_RATE)
            .then(|| StreamResampler::new(rate, OPUS_RATE))
            .transpose()?;
        Ok(Self {
            encoder,
            rate,
            upsampler,
            pending: Vec::with_capacity(2 * OPUS_FRAME_SAMPLES),
            scratch: Vec::with_capacity(OPUS_FRAME_SAMPLES),
        })
    }

    /// Add PCM; returns the packets of every whole 20 ms now available (a partial
    /// frame waits for more).
    pub fn push(&mut self, pcm: &[f32]) -> Result<Vec<Vec<u8>>, OpusError> {
        match self.upsampler.as_mut() {
            Some(r) => {
                let up = r.push(pcm)?;
                self.pending.extend_from_slice(&up);
            }
            None => self.pending.extend_from_slice(pcm),
        }
        let mut packets = Vec::new();
        let whole = self.pending.len() / OPUS_FRAME_SAMPLES * OPUS_FRAME_SAMPLES;
        for frame in self.pending[..whole].chunks_exact(OPUS_FRAME_SAMPLES) {
            self.scratch.clear();
            self.scratch.extend(frame.iter().map(|&x| to_i16(x)));
            let mut out = vec![0u8; MAX_PACKET_BYTES];
            let n = self.encoder.encode(&self.scratch, &mut out)?;
            out.truncate(n);
            packets.push(out);
        }
        self.pending.drain(..whole);
        Ok(packets)
    }

    /// Drop buffered audio, the resampler's history included (a barge-in cleared
    /// the bot's speech: none of it may start the next reply).
    pub fn reset(&mut self) {
        self.pending.clear();
        if self.upsampler.is_some() {
            self.upsampler = StreamResampler::new(self.rate, OPUS_RATE).ok();
        }
    }

    /// Encode what is left, padded with silence to a whole frame.
    pub fn flush(&mut self) -> Result<Vec<Vec<u8>>, OpusError> {
        if let Some(r) = self.upsampler.as_mut() {
            let tail = r.flush()?;
            self.pending.extend_from_slice(&tail);
        }
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let pad = OPUS_FRAME_SAMPLES - self.pending.len() % OPUS_FRAME_SAMPLES;
        if pad < OPUS_FRAME_SAMPLES {
            self.pending.resize(self.pending.len() + pad, 0.0);
        }
        self.push(&[])
    }
}

/// Decodes Opus packets into mono PCM at `rate`, concealing lost packets.
pub struct OpusDecoder {
    decoder: Decoder,
    downsampler: Option<StreamResampler>,
    pcm: Vec<i16>,
    /// Samples (48 kHz) in the last packet: a lost packet is concealed at that length.
    last_samples: usize,
}

impl OpusDecoder {
    /// A decoder producing PCM at `rate` Hz.
    pub fn new(rate: u32) -> Result<Self, OpusError> {
        let downsampler = (rate != OPUS_RATE)
            .then(|| StreamResampler::new(OPUS_RATE, rate))
            .transpose()?;
        Ok(Self {
            decoder: Decoder::new(SampleRate::Hz48000, Channels::Mono)?,
            downsampler,
            pcm: vec![0; MAX_PACKET_SAMPLES],
            last_samples: OPUS_FRAME_SAMPLES,
        })
    }

    /// Decode one packet (any duration Opus allows, 2.5–120 ms).
    ///
    /// Errors: [`OpusError::Codec`] for a packet libopus rejects (empty, truncated,
    /// corrupt); the decoder stays usable for the next one.
    pub fn decode(&mut self, packet: &[u8]) -> Result<Vec<f32>, OpusError> {
        let packet = Packet::try_from(packet)?;
        let signals = MutSignals::try_from(&mut self.pcm[..])?;
        let n = self.decoder.decode(Some(packet), signals, false)?;
        self.last_samples = n.clamp(1, MAX_PACKET_SAMPLES);
        self.output(n)
    }

    /// Conceal `lost` packets (libopus packet-loss concealment, one packet length
    /// each, at most [`MAX_CONCEALED_FRAMES`]; longer gaps continue as silence).
    pub fn conceal(&mut self, lost: usize) -> Result<Vec<f32>, OpusError> {
        let mut out = Vec::new();
        for i in 0..lost {
            if i >= MAX_CONCEALED_FRAMES {
                let silent = vec![0.0; self.last_samples];
                out.extend(self.resampled(&silent)?);
                continue;
            }
            let signals = MutSignals::try_from(&mut self.pcm[..self.last_samples])?;
            let n = self.decoder.decode(None, signals, false)?;
            out.extend(self.output(n)?);
        }
        Ok(out)
    }

    fn output(&mut self, n: usize) -> Result<Vec<f32>, OpusError> {
        let samples: Vec<f32> = self.pcm[..n.min(self.pcm.len())]
            .iter()
            .map(|&s| f32::from(s) / 32768.0)
            .collect();
        self.resampled(&samples)
    }

    fn resampled(&mut self, samples: &[f32]) -> Result<Vec<f32>, OpusError> {
        Ok(match self.downsampler.as_mut() {
            Some(r) => r.push(samples)?,
            None => samples.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 440 Hz tone (plus a 1 kHz partial) at `rate`, `ms` long.
    fn tone(rate: u32, ms: usize) -> Vec<f32> {
        let n = rate as usize * ms / 1000;
        (0..n)
            .map(|i| {
                let t = i as f32 / rate as f32;
                0.4 * (2.0 * std::f32::consts::PI * 440.0 * t).sin()
                    + 0.1 * (2.0 * std::f32::consts::PI * 1000.0 * t).sin()
            })
            .collect()
    }

    /// Signal-to-noise ratio (dB) of `got` against `want`, best over small lags
    /// (the codec's lookahead and the resamplers delay the signal).
    fn snr_db(want: &[f32], got: &[f32], max_lag: usize) -> f32 {
        let mut best = f32::MIN;
        for lag in 0..max_lag {
            let n = want.len().min(got.len().saturating_sub(lag));
            let (mut s, mut e) = (0.0f32, 0.0f32);
            // Skip the first 100 ms: the codec is converging.
            for i in (want.len() / 10).min(n)..n {
                s += want[i] * want[i];
                let d = want[i] - got[i + lag];
                e += d * d;
            }
            best = best.max(10.0 * (s / e.max(1e-9)).log10());
        }
        best
    }

    fn round_trip(rate: u32) -> (Vec<f32>, Vec<f32>, usize) {
        let input = tone(rate, 1000);
        let mut enc = OpusEncoder::new(rate).unwrap();
        let mut dec = OpusDecoder::new(rate).unwrap();
        let mut packets = Vec::new();
        // Fed in 20 ms pieces of the call's rate, as the call produces them.
        for piece in input.chunks(rate as usize / 50) {
            packets.extend(enc.push(piece).unwrap());
        }
        packets.extend(enc.flush().unwrap());
        let count = packets.len();
        let mut out = Vec::new();
        for p in &packets {
            out.extend(dec.decode(p).unwrap());
        }
        (input, out, count)
    }

    #[test]
    fn round_trip_at_16_khz_keeps_the_signal() {
        let (input, out, packets) = round_trip(16_000);
        assert_eq!(packets, 50, "one packet per 20 ms");
        // Less only the resamplers' alignment (10 ms each way).
        assert!(
            out.len() + 320 >= input.len(),
            "{} < {}",
            out.len(),
            input.len()
        );
        let snr = snr_db(&input, &out, 16_000 / 50);
        assert!(snr > 10.0, "SNR {snr:.1} dB");
    }

    #[test]
    fn round_trip_at_8_khz_keeps_the_signal() {
        let (input, out, packets) = round_trip(8_000);
        assert_eq!(packets, 50);
        let snr = snr_db(&input, &out, 8_000 / 50);
        assert!(snr > 10.0, "SNR {snr:.1} dB");
    }

    #[test]
    fn packets_are_20_ms_at_48_khz() {
        let mut enc = OpusEncoder::new(OPUS_RATE).unwrap();
        let packets = enc.push(&tone(OPUS_RATE, 60)).unwrap();
        assert_eq!(packets.len(), 3);
        for p in &packets {
            let n = audiopus::packet::nb_samples(
                Packet::try_from(&p[..]).unwrap(),
                SampleRate::Hz48000,
            )
            .unwrap();
            assert_eq!(n, OPUS_FRAME_SAMPLES);
            assert!(
                p.len() < 200,
                "24 kbit/s is 60 bytes a packet, got {}",
                p.len()
            );
        }
    }

    #[test]
    fn a_lost_packet_is_concealed_with_a_frame_of_audio() {
        let rate = 16_000;
        let mut enc = OpusEncoder::new(rate).unwrap();
        let mut dec = OpusDecoder::new(rate).unwrap();
        let packets = enc.push(&tone(rate, 400)).unwrap();
        let mut out = Vec::new();
        for (i, p) in packets.iter().enumerate() {
            if i == 10 {
                let hidden = dec.conceal(1).unwrap();
                assert_eq!(hidden.len(), 320, "20 ms at 16 kHz");
                // Concealment continues the tone rather than dropping to silence.
                let rms = (hidden.iter().map(|x| x * x).sum::<f32>() / 320.0).sqrt();
                assert!(rms > 0.05, "rms {rms}");
                out.extend(hidden);
            } else {
                out.extend(dec.decode(p).unwrap());
            }
        }
        let mut clean = OpusDecoder::new(rate).unwrap();
        let lossless: usize = packets.iter().map(|p| clean.decode(p).unwrap().len()).sum();
        assert_eq!(out.len(), lossless, "the timeline keeps its length");
    }

    #[test]
    fn a_long_gap_becomes_silence_after_the_concealment_limit() {
        let mut dec = OpusDecoder::new(OPUS_RATE).unwrap();
        let mut enc = OpusEncoder::new(OPUS_RATE).unwrap();
        for p in enc.push(&tone(OPUS_RATE, 100)).unwrap() {
            dec.decode(&p).unwrap();
        }
        let out = dec.conceal(MAX_CONCEALED_FRAMES + 3).unwrap();
        assert_eq!(out.len(), (MAX_CONCEALED_FRAMES + 3) * OPUS_FRAME_SAMPLES);
        assert!(out[MAX_CONCEALED_FRAMES * OPUS_FRAME_SAMPLES..]
            .iter()
            .all(|&x| x == 0.0));
    }

    #[test]
    fn a_corrupt_or_empty_packet_is_an_error_not_a_panic_and_decoding_goes_on() {
        let mut dec = OpusDecoder::new(16_000).unwrap();
        assert!(dec.decode(&[]).is_err());
        // TOC byte for a code-3 packet with a frame count of zero: invalid.
        assert!(dec.decode(&[0x03, 0x00]).is_err());
        let mut enc = OpusEncoder::new(16_000).unwrap();
        let p = enc.push(&tone(16_000, 60)).unwrap();
        dec.decode(&p[0]).unwrap(); // short: the resampler's delay
        assert_eq!(dec.decode(&p[1]).unwrap().len(), 320);
    }
}
