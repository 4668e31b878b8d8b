//! 20 ms framing for the telephone leg: constants and a [`Framer`] that turns
//! arbitrary-length input into whole frames.

use super::mulaw;

/// Telephone sample rate (G.711).
pub const PHONE_RATE: u32 = 8_000;
/// Frame duration in milliseconds.
pub const FRAME_MS: u32 = 20;
/// Samples per 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = (PHONE_RATE * FRAME_MS / 1000) as usize;
/// Bytes per 20 ms μ-law frame (one byte per sample).
pub const FRAME_BYTES: usize = FRAME_SAMPLES;
/// Frames per second.
pub const FRAMES_PER_SECOND: u32 = 1000 / FRAME_MS;
/// Duration of one frame.
pub const FRAME_DURATION: std::time::Duration = std::time::Duration::from_millis(FRAME_MS as u64);

/// Samples in one 20 ms frame at an arbitrary rate (rounded down).
pub const fn samples_per_frame(rate: u32) -> usize {
    (rate as usize * FRAME_MS as usize) / 1000
}

/// Accumulates μ-law bytes (or anything byte-shaped) and yields whole
/// [`FRAME_BYTES`]-long frames; [`Framer::finish`] pads the tail with μ-law
/// silence (`0xFF`).
#[derive(Debug, Clone, Default)]
pub struct Framer {
    pending: Vec<u8>,
}

impl Framer {
    /// An empty framer.
    pub fn new() -> Self {
        Self {
            pending: Vec::with_capacity(FRAME_BYTES),
        }
    }

    /// Appends input and returns every frame that is now complete, in order.
    pub fn push(&mut self, input: &[u8]) -> Vec<[u8; FRAME_BYTES]> {
        let mut frames = Vec::new();
        self.push_with(input, |f| frames.push(*f));
        frames
    }

    /// Appends input and calls `emit` for each completed frame (no allocation
    /// per frame).
    pub fn push_with(&mut self, mut input: &[u8], mut emit: impl FnMut(&[u8; FRAME_BYTES])) {
        if !self.pending.is_empty() {
            let need = FRAME_BYTES - self.pending.len();
            let take = need.min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() < FRAME_BYTES {
                return;
            }
            if let Ok(frame) = <&[u8; FRAME_BYTES]>::try_from(self.pending.as_slice()) {
                emit(frame);
            }
            self.pending.clear();
        }
        let mut chunks = input.chunks_exact(FRAME_BYTES);
        for chunk in &mut chunks {
            if let Ok(frame) = <&[u8; FRAME_BYTES]>::try_from(chunk) {
                emit(frame);
            }
        }
        self.pending.extend_from_slice(chunks.remainder());
    }

    /// Bytes waiting for a frame to complete (always `< FRAME_BYTES`).
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Flushes the partial frame, padded with μ-law silence; `None` if empty.
    pub fn finish(&mut self) -> Option<[u8; FRAME_BYTES]> {
        if self.pending.is_empty() {
            return None;
        }
        let mut frame = [mulaw::SILENCE; FRAME_BYTES];
        frame[..self.pending.len()].copy_from_slice(&self.pending);
        self.pending.clear();
        Some(frame)
    }

    /// Drops any partial frame (e.g. on barge-in).
    pub fn clear(&mut self) {
        self.pending.clear();
    }
}

/// Accumulates `f32` samples at any rate and yields whole 20 ms frames of
/// `frame_len` samples; the tail is padded with zeros by [`SampleFramer::finish`].
#[derive(Debug, Clone)]
pub struct SampleFramer {
    frame_len: usize,
    pending: Vec<f32>,
}

impl SampleFramer {
    /// A framer for 20 ms frames at `rate` Hz (160 samples at 8 kHz).
    pub fn for_rate(rate: u32) -> Self {
        Self::with_frame_len(samples_per_frame(rate).max(1))
    }

    /// A framer with an explicit frame length (at least 1).
    pub fn with_frame_len(frame_len: usize) -> Self {
        let frame_len = frame_len.max(1);
        Self {
            frame_len,
            pending: Vec::with_capacity(frame_len),
        }
    }

    /// Samples per frame.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Appends samples and returns every completed frame.
    pub fn push(&mut self, input: &[f32]) -> Vec<Vec<f32>> {
        self.pending.extend_from_slice(input);
        let whole = self.pending.len() / self.frame_len * self.frame_len;
        let frames = self.pending[..whole]
            .chunks_exact(self.frame_len)
            .map(<[f32]>::to_vec)
            .collect();
        self.pending.drain(..whole);
        frames
    }

    /// Samples waiting for a frame to complete.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Flushes the partial frame padded with zeros; `None` if empty.
    pub fn finish(&mut self) -> Option<Vec<f32>> {
        if self.pending.is_empty() {
            return None;
        }
        let mut frame = std::mem::take(&mut self.pending);
        frame.resize(self.frame_len, 0.0);
        Some(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants() {
        assert_eq!(FRAME_SAMPLES, 160);
        assert_eq!(FRAME_BYTES, 160);
        assert_eq!(FRAMES_PER_SECOND, 50);
        assert_eq!(samples_per_frame(16_000), 320);
        assert_eq!(samples_per_frame(22_050), 441);
        assert_eq!(samples_per_frame(24_000), 480);
    }

    #[test]
    fn framer_reassembles_arbitrary_chunks_in_order() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let mut framer = Framer::new();
        let mut out = Vec::new();
        for chunk in data.chunks(37) {
            out.extend(framer.push(chunk));
        }
        assert_eq!(out.len(), 1000 / 160);
        assert_eq!(framer.pending_len(), 1000 % 160);
        let flat: Vec<u8> = out.iter().flatten().copied().collect();
        assert_eq!(flat, data[..flat.len()]);
        let last = framer.finish().expect("partial frame");
        assert_eq!(&last[..40], &data[960..]);
        assert!(last[40..].iter().all(|&b| b == mulaw::SILENCE));
        assert!(framer.finish().is_none());
    }

    #[test]
    fn framer_exact_and_large_pushes() {
        let mut framer = Framer::new();
        assert!(framer.push(&[]).is_empty());
        assert_eq!(framer.push(&[1; 160]).len(), 1);
        assert_eq!(framer.pending_len(), 0);
        assert_eq!(framer.push(&[2; 159]).len(), 0);
        let frames = framer.push(&[3; 321]);
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0][158], 2);
        assert_eq!(frames[0][159], 3);
        assert_eq!(framer.pending_len(), 0);
        assert!(framer.finish().is_none());
    }

    #[test]
    fn framer_clear_drops_partial() {
        let mut framer = Framer::new();
        framer.push(&[1; 10]);
        framer.clear();
        assert_eq!(framer.pending_len(), 0);
        assert!(framer.finish().is_none());
    }

    #[test]
    fn sample_framer_pads_with_zero() {
        let mut framer = SampleFramer::for_rate(16_000);
        assert_eq!(framer.frame_len(), 320);
        let input: Vec<f32> = (0..700).map(|i| i as f32).collect();
        let frames = framer.push(&input);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1][0], 320.0);
        assert_eq!(framer.pending_len(), 60);
        let last = framer.finish().expect("tail");
        assert_eq!(last.len(), 320);
        assert_eq!(last[59], 699.0);
        assert_eq!(last[60], 0.0);
    }
}
