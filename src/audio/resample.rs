//! Sample-rate conversion over `rubato` 0.16: a streaming [`StreamResampler`]
//! for real-time 20 ms frames and a one-shot [`resample`].
//!
//! ## Algorithm and latency
//! For rate pairs whose reduced ratio fits a 20 ms chunk (every telephone and
//! TTS pair we use: 8k⇄16k, 22 050/24 000/16 000/44 100/48 000 → 8k) the engine
//! is rubato's `FftFixedInOut`: each 20 ms input chunk is FFT-filtered with a
//! Blackman-Harris windowed-sinc anti-aliasing filter (cut-off just below the
//! lower of the two Nyquist frequencies) and overlap-added. Its algorithmic
//! delay is half an output chunk, i.e. **10 ms**; the wrapper drops those
//! leading delay samples so output is time-aligned with input, and
//! [`StreamResampler::flush`] pushes the tail out. Output for a chunk is
//! available as soon as the 20 ms chunk is complete, so with frame-aligned
//! input the total latency is 10 ms plus the frame itself. (With an odd chunk,
//! e.g. 441 samples at 22 050 Hz, output is half an input sample — 23 µs — early.)
//!
//! Awkward ratios (reduced input chunk > 100 ms, e.g. 44 101 Hz) fall back to
//! rubato's `SincFixedIn` (128-tap sinc, 20 ms chunks; delay ≈ 64 input samples).
//!
//! Equal rates are a passthrough with no delay.

use rubato::{
    FftFixedInOut, Resampler, SincFixedIn, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};

use super::frames::samples_per_frame;

/// Errors from resampling.
#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    /// A sample rate of zero (or otherwise unusable).
    #[error("invalid sample rates: {from} Hz -> {to} Hz")]
    InvalidRate {
        /// Input rate.
        from: u32,
        /// Output rate.
        to: u32,
    },
    /// The underlying rubato engine failed.
    #[error("resampler engine: {0}")]
    Engine(String),
}

/// Largest reduced input chunk (in ms) for which the FFT engine is used.
const MAX_FFT_CHUNK_MS: usize = 100;

enum Engine {
    Fft(Box<FftFixedInOut<f32>>),
    Sinc(Box<SincFixedIn<f32>>),
}

impl Engine {
    fn new(from: u32, to: u32) -> Result<Self, ResampleError> {
        let (from_us, to_us) = (from as usize, to as usize);
        let chunk = samples_per_frame(from).max(1);
        let gcd = gcd(from_us, to_us);
        let min_chunk = from_us / gcd;
        let engine_err =
            |e: rubato::ResamplerConstructionError| ResampleError::Engine(e.to_string());
        if min_chunk * 1000 / from_us <= MAX_FFT_CHUNK_MS {
            let fft = FftFixedInOut::<f32>::new(from_us, to_us, chunk, 1).map_err(engine_err)?;
            Ok(Engine::Fft(Box::new(fft)))
        } else {
            let params = SincInterpolationParameters {
                sinc_len: 128,
                f_cutoff: rubato::calculate_cutoff(128, WindowFunction::BlackmanHarris2),
                oversampling_factor: 256,
                interpolation: SincInterpolationType::Linear,
                window: WindowFunction::BlackmanHarris2,
            };
            let ratio = to as f64 / from as f64;
            let sinc = SincFixedIn::<f32>::new(ratio, 1.0, params, chunk, 1).map_err(engine_err)?;
            Ok(Engine::Sinc(Box::new(sinc)))
        }
    }

    fn input_frames_next(&self) -> usize {
        match self {
            Engine::Fft(r) => r.input_frames_next(),
            Engine::Sinc(r) => r.input_frames_next(),
        }
    }

    fn output_frames_max(&self) -> usize {
        match self {
            Engine::Fft(r) => r.output_frames_max(),
            Engine::Sinc(r) => r.output_frames_max(),
        }
    }

    fn output_delay(&self) -> usize {
        match self {
            Engine::Fft(r) => r.output_delay(),
            Engine::Sinc(r) => r.output_delay(),
        }
    }

    fn reset(&mut self) {
        match self {
            Engine::Fft(r) => r.reset(),
            Engine::Sinc(r) => r.reset(),
        }
    }

    /// Processes exactly one input chunk; returns the number of output samples.
    fn process(&mut self, input: &[f32], output: &mut [f32]) -> Result<usize, ResampleError> {
        let wave_in = [input];
        let mut wave_out = [output];
        let res = match self {
            Engine::Fft(r) => r.process_into_buffer(&wave_in, &mut wave_out, None),
            Engine::Sinc(r) => r.process_into_buffer(&wave_in, &mut wave_out, None),
        };
        res.map(|(_, n)| n)
            .map_err(|e| ResampleError::Engine(e.to_string()))
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

struct Stream {
    engine: Engine,
    /// Input waiting for a full engine chunk.
    pending: Vec<f32>,
    /// Scratch output for one chunk.
    scratch: Vec<f32>,
    /// Leading delay samples still to drop.
    skip: usize,
    total_in: u64,
    total_out: u64,
}

impl Stream {
    fn run_chunk(&mut self, chunk: &[f32], out: &mut Vec<f32>) -> Result<(), ResampleError> {
        let n = self.engine.process(chunk, &mut self.scratch)?;
        let produced = &self.scratch[..n];
        let dropped = self.skip.min(n);
        self.skip -= dropped;
        out.extend_from_slice(&produced[dropped..]);
        self.total_out += (n - dropped) as u64;
        Ok(())
    }
}

/// Streaming mono resampler: push any number of samples at `from` Hz, get
/// samples at `to` Hz, time-aligned with the input; call [`flush`](Self::flush)
/// at the end of the stream.
pub struct StreamResampler {
    from: u32,
    to: u32,
    stream: Option<Stream>,
}

impl std::fmt::Debug for StreamResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamResampler")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("passthrough", &self.stream.is_none())
            .finish()
    }
}

impl StreamResampler {
    /// A resampler from `from` Hz to `to` Hz (both non-zero).
    pub fn new(from: u32, to: u32) -> Result<Self, ResampleError> {
        if from == 0 || to == 0 {
            return Err(ResampleError::InvalidRate { from, to });
        }
        if from == to {
            return Ok(Self {
                from,
                to,
                stream: None,
            });
        }
        let engine = Engine::new(from, to)?;
        let chunk = engine.input_frames_next();
        let stream = Stream {
            skip: engine.output_delay(),
            scratch: vec![0.0; engine.output_frames_max()],
            pending: Vec::with_capacity(chunk),
            engine,
            total_in: 0,
            total_out: 0,
        };
        Ok(Self {
            from,
            to,
            stream: Some(stream),
        })
    }

    /// Input rate in Hz.
    pub fn input_rate(&self) -> u32 {
        self.from
    }

    /// Output rate in Hz.
    pub fn output_rate(&self) -> u32 {
        self.to
    }

    /// Input samples consumed per engine chunk (1 for passthrough).
    pub fn chunk_len(&self) -> usize {
        self.stream
            .as_ref()
            .map_or(1, |s| s.engine.input_frames_next())
    }

    /// Algorithmic delay of the engine in output samples (compensated: the
    /// wrapper drops these leading samples and [`flush`](Self::flush) emits the tail).
    pub fn delay_samples(&self) -> usize {
        self.stream.as_ref().map_or(0, |s| s.engine.output_delay())
    }

    /// Pushes input samples; returns the output that is now available.
    pub fn push(&mut self, input: &[f32]) -> Result<Vec<f32>, ResampleError> {
        let mut out = Vec::new();
        self.push_into(input, &mut out)?;
        Ok(out)
    }

    /// Like [`push`](Self::push) but appends to `out` (allocation-free once
    /// `out` has capacity).
    pub fn push_into(
        &mut self,
        mut input: &[f32],
        out: &mut Vec<f32>,
    ) -> Result<(), ResampleError> {
        let Some(s) = self.stream.as_mut() else {
            out.extend_from_slice(input);
            return Ok(());
        };
        s.total_in += input.len() as u64;
        let chunk = s.engine.input_frames_next();
        if !s.pending.is_empty() {
            let take = (chunk - s.pending.len()).min(input.len());
            s.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if s.pending.len() < chunk {
                return Ok(());
            }
            let pending = std::mem::take(&mut s.pending);
            let res = s.run_chunk(&pending, out);
            s.pending = pending;
            s.pending.clear();
            res?;
        }
        let mut chunks = input.chunks_exact(chunk);
        for c in &mut chunks {
            s.run_chunk(c, out)?;
        }
        s.pending.extend_from_slice(chunks.remainder());
        Ok(())
    }

    /// Ends the stream: returns the remaining output so that the total output
    /// length is `round(total_input * to / from)`, then resets for reuse.
    pub fn flush(&mut self) -> Result<Vec<f32>, ResampleError> {
        let (from, to) = (self.from as u64, self.to as u64);
        let Some(s) = self.stream.as_mut() else {
            return Ok(Vec::new());
        };
        let expected = (s.total_in * to + from / 2) / from;
        let chunk = s.engine.input_frames_next();
        let mut out = Vec::new();
        let mut padded = std::mem::take(&mut s.pending);
        padded.resize(chunk, 0.0);
        // Enough zero chunks to drain the delay line, plus a margin.
        let max_rounds = 2 + s.engine.output_delay() / s.scratch.len().max(1) + 1;
        let mut rounds = 0;
        while s.total_out < expected && rounds <= max_rounds {
            s.run_chunk(&padded, &mut out)?;
            padded.iter_mut().for_each(|x| *x = 0.0);
            rounds += 1;
        }
        let excess = (s.total_out.saturating_sub(expected)) as usize;
        out.truncate(out.len().saturating_sub(excess));
        self.reset();
        Ok(out)
    }

    /// Discards buffered input and engine state (e.g. on barge-in).
    pub fn reset(&mut self) {
        if let Some(s) = self.stream.as_mut() {
            s.engine.reset();
            s.pending.clear();
            s.skip = s.engine.output_delay();
            s.total_in = 0;
            s.total_out = 0;
        }
    }
}

/// One-shot mono resampling; output length is `round(len * to / from)`.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, ResampleError> {
    let mut rs = StreamResampler::new(from, to)?;
    let mut out = Vec::with_capacity(samples.len() * to as usize / from.max(1) as usize + 16);
    rs.push_into(samples, &mut out)?;
    out.extend(rs.flush()?);
    Ok(out)
}

#[cfg(test)]
#[path = "resample_tests.rs"]
mod tests;
