//! Audio primitives for the telephone leg. Owns:
//!
//! - [`mulaw`]: G.711 μ-law encode/decode (bit-exact with ITU-T G.191), slice and `f32` helpers;
//! - [`resample`]: streaming and one-shot sample-rate conversion (rubato, band-limited, 10 ms delay);
//! - [`wav`]: reading any WAV into mono [`Pcm`], writing 16-bit WAVs, [`to_phone`] conversion;
//! - [`opus`]: Opus encoder/decoder (libopus via audiopus) for the browser softphone, 20 ms packets at 48 kHz;
//! - [`frames`]: 20 ms framing constants and the [`Framer`] that cuts byte streams into 160-byte frames.
//!
//! Samples are `f32` in `[-1.0, 1.0]` everywhere except the μ-law wire bytes.
//! This module knows nothing of telephony JSON, speech models or agents.

pub mod frames;
pub mod mulaw;
pub mod opus;
pub mod resample;
pub mod wav;

pub use frames::{
    samples_per_frame, Framer, SampleFramer, FRAMES_PER_SECOND, FRAME_BYTES, FRAME_MS,
    FRAME_SAMPLES, PHONE_RATE,
};
pub use mulaw::{decode_to_f32, encode_from_f32, SILENCE as MULAW_SILENCE};
pub use resample::{resample, ResampleError, StreamResampler};
pub use wav::{
    read_wav, read_wav_bytes, to_phone, write_wav_mono, write_wav_stereo, Pcm, WavError,
};
