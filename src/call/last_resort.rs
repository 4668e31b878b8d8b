//! What the caller hears when speech synthesis fails outright (every voice of the
//! chain): two lines recorded ahead of time with the default voice and built into
//! the binary, so no provider is needed to say them.
//!
//! The first sentence of a reply that cannot be spoken is replaced by
//! [`LastResort::sorry`] (the rest of that reply is skipped: it cannot be spoken
//! either); on the [`GIVE_UP_AFTER`]th reply that cannot be spoken in one call the
//! caller hears [`LastResort::goodbye`] and the call ends — never silence.
//! Recorded with the embedded Piper "joe" voice (the default voice; its licence note is
//! in the README) by
//! `examples/render_phrase.rs`, 8 kHz mono 16-bit.

use std::sync::OnceLock;

use crate::audio::mulaw;

/// Replies that could not be spoken, in one call, before the call is ended.
pub const GIVE_UP_AFTER: u32 = 2;

/// The recorded lines, as 8 kHz μ-law.
pub struct LastResort {
    pub sorry: Vec<u8>,
    pub goodbye: Vec<u8>,
}

/// "Sorry, I'm having some trouble on my end. Please bear with me."
const SORRY_WAV: &[u8] = include_bytes!("../../assets/last-resort/sorry.wav");
/// "I'm sorry, we're having technical problems right now. Please call back in a
/// little while. Goodbye."
const GOODBYE_WAV: &[u8] = include_bytes!("../../assets/last-resort/goodbye.wav");

fn decode(wav: &[u8]) -> Vec<u8> {
    let Ok(reader) = hound::WavReader::new(std::io::Cursor::new(wav)) else {
        return Vec::new();
    };
    let pcm: Vec<f32> = reader
        .into_samples::<i16>()
        .filter_map(Result::ok)
        .map(|s| s as f32 / 32768.0)
        .collect();
    mulaw::encode_from_f32(&pcm)
}

impl LastResort {
    /// The built-in lines (decoded once).
    pub fn get() -> &'static LastResort {
        static LINES: OnceLock<LastResort> = OnceLock::new();
        LINES.get_or_init(|| LastResort {
            sorry: decode(SORRY_WAV),
            goodbye: decode(GOODBYE_WAV),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_lines_are_8_khz_speech_of_a_few_seconds() {
        for wav in [SORRY_WAV, GOODBYE_WAV] {
            let spec = hound::WavReader::new(std::io::Cursor::new(wav))
                .unwrap()
                .spec();
            assert_eq!(
                (spec.sample_rate, spec.channels, spec.bits_per_sample),
                (8000, 1, 16)
            );
        }
        let lines = LastResort::get();
        for (line, min_s, max_s) in [(&lines.sorry, 2.0, 6.0), (&lines.goodbye, 3.0, 9.0)] {
            let seconds = line.len() as f64 / 8000.0;
            assert!((min_s..max_s).contains(&seconds), "{seconds} s");
            // Not silence.
            let loud = line.iter().filter(|&&b| (b & 0x7F) < 0x60).count();
            assert!(
                loud > line.len() / 10,
                "{loud} loud samples of {}",
                line.len()
            );
        }
    }
}
