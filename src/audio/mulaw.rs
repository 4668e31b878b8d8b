//! G.711 μ-law companding: 16-bit linear PCM ⇄ 8-bit μ-law codes.
//!
//! The encoder is bit-exact with the ITU-T G.191 Software Tool Library
//! reference (`ulaw_compress`), which is what telephone equipment implements.
//! It differs from CPython's `audioop.lin2ulaw` (the Sun `g711.c` lineage, also
//! used by SoX) on 508 of the 65 536 inputs: audioop takes the magnitude of a
//! negative sample as `-(x >> 2)` while G.191 uses the one's complement
//! `(!x) >> 2`, so audioop rounds some negative samples one step further from
//! zero (e.g. `-1` becomes `0x7E` instead of the negative-zero code `0x7F`).
//! G.191 is the symmetric one: `encode(x)` and `encode(-x - 1)` differ only in
//! the sign bit. Decoding is identical in both references.
//!
//! Both directions are verified against all codes / all inputs in the tests
//! (fixtures from `scripts/gen_mulaw_vectors.py`).

/// The μ-law code for digital silence (positive zero).
pub const SILENCE: u8 = 0xFF;

/// Decode table: μ-law code → linear i16 (G.711 / G.191 `ulaw_expand`).
static DECODE_TABLE: [i16; 256] = build_decode_table();

const fn build_decode_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0usize;
    while code < 256 {
        let inverted = !(code as u8);
        let exponent = ((inverted >> 4) & 0x07) as i32;
        let mantissa = (inverted & 0x0F) as i32;
        let step = 4 << (exponent + 1);
        let magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 4 * 33;
        table[code] = if code < 0x80 {
            -magnitude as i16
        } else {
            magnitude as i16
        };
        code += 1;
    }
    table
}

/// Decodes one μ-law code to a linear 16-bit sample.
#[inline]
pub fn decode(code: u8) -> i16 {
    DECODE_TABLE[code as usize]
}

/// Encodes one linear 16-bit sample to μ-law (ITU-T G.191 rounding).
#[inline]
pub fn encode(sample: i16) -> u8 {
    // 14-bit magnitude (one's complement for negatives) plus the μ-law bias of 33.
    let (magnitude, sign) = if sample < 0 {
        ((!sample) >> 2, 0x00u8)
    } else {
        (sample >> 2, 0x80u8)
    };
    let biased = (magnitude as u16 + 33).min(0x1FFF);
    // Segment number 1..=8: one more than the bit length of `biased >> 6`.
    let segment = 17 - (biased >> 6).leading_zeros();
    let high = 8 - segment as u16;
    let low = 0x0F - ((biased >> segment) & 0x0F);
    ((high << 4) | low) as u8 | sign
}

/// Decodes a slice of μ-law codes to linear 16-bit samples.
pub fn decode_slice(codes: &[u8]) -> Vec<i16> {
    codes.iter().map(|&c| decode(c)).collect()
}

/// Encodes a slice of linear 16-bit samples to μ-law codes.
pub fn encode_slice(samples: &[i16]) -> Vec<u8> {
    samples.iter().map(|&s| encode(s)).collect()
}

/// Decodes μ-law codes to `f32` samples in `[-1.0, 1.0)` (i16 / 32768).
pub fn decode_to_f32(codes: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(codes.len());
    decode_to_f32_into(codes, &mut out);
    out
}

/// Like [`decode_to_f32`] but appends to an existing buffer (no allocation
/// once `out` has capacity).
pub fn decode_to_f32_into(codes: &[u8], out: &mut Vec<f32>) {
    out.extend(codes.iter().map(|&c| f32::from(decode(c)) / 32768.0));
}

/// Converts an `f32` sample to i16, clamping to `[-1.0, 1.0]`; NaN becomes 0.
#[inline]
pub fn f32_to_i16(sample: f32) -> i16 {
    // Round half away from zero; `as` saturates out-of-range values and maps NaN
    // to 0. (Avoids `f32::round`, a libm call on baseline x86-64.)
    let v = sample * 32768.0;
    (v + 0.5f32.copysign(v)) as i16
}

/// Encodes `f32` samples (nominally `[-1.0, 1.0]`, clamped) to μ-law codes.
pub fn encode_from_f32(samples: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len());
    encode_from_f32_into(samples, &mut out);
    out
}

/// Like [`encode_from_f32`] but appends to an existing buffer.
pub fn encode_from_f32_into(samples: &[f32], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| encode(f32_to_i16(s))));
}

#[cfg(test)]
mod tests {
    use super::*;

    const DECODE_AUDIOOP: &[u8] =
        include_bytes!("../../tests/fixtures/audio/ulaw_decode_audioop.bin");
    const ENCODE_AUDIOOP: &[u8] =
        include_bytes!("../../tests/fixtures/audio/ulaw_encode_audioop.bin");
    const ENCODE_G191: &[u8] = include_bytes!("../../tests/fixtures/audio/ulaw_encode_g191.bin");

    fn all_i16() -> impl Iterator<Item = (usize, i16)> {
        (i16::MIN..=i16::MAX).enumerate()
    }

    #[test]
    fn decode_matches_audioop_for_all_256_codes() {
        assert_eq!(DECODE_AUDIOOP.len(), 512);
        for code in 0..=255u8 {
            let i = code as usize * 2;
            let want = i16::from_le_bytes([DECODE_AUDIOOP[i], DECODE_AUDIOOP[i + 1]]);
            assert_eq!(decode(code), want, "code {code:#04x}");
        }
    }

    #[test]
    fn encode_matches_g191_for_all_65536_inputs() {
        assert_eq!(ENCODE_G191.len(), 65536);
        for (i, x) in all_i16() {
            assert_eq!(encode(x), ENCODE_G191[i], "input {x}");
        }
    }

    #[test]
    fn encode_matches_audioop_except_documented_negative_boundaries() {
        let mut differing = 0;
        for (i, x) in all_i16() {
            let ours = encode(x);
            let theirs = ENCODE_AUDIOOP[i];
            if ours != theirs {
                differing += 1;
                // Only negative inputs, and audioop is exactly one code further from zero
                // (codes for negatives count down toward larger magnitudes).
                assert!(x < 0, "positive input {x} differs");
                assert_eq!(theirs + 1, ours, "input {x}");
            }
        }
        assert_eq!(differing, 508);
    }

    #[test]
    fn known_values() {
        assert_eq!(encode(0), 0xFF);
        assert_eq!(encode(-1), 0x7F);
        assert_eq!(encode(i16::MAX), 0x80);
        assert_eq!(encode(i16::MIN), 0x00);
        assert_eq!(decode(0xFF), 0);
        assert_eq!(decode(0x7F), 0);
        assert_eq!(decode(0x80), 32124);
        assert_eq!(decode(0x00), -32124);
        assert_eq!(decode(SILENCE), 0);
    }

    #[test]
    fn encode_of_decode_is_identity_except_negative_zero() {
        for code in 0..=255u8 {
            let back = encode(decode(code));
            let want = if code == 0x7F { 0xFF } else { code };
            assert_eq!(back, want, "code {code:#04x}");
        }
    }

    #[test]
    fn encoder_is_symmetric() {
        for x in 0..=i16::MAX {
            assert_eq!(encode(x) & 0x7F, encode(-x - 1) & 0x7F, "input {x}");
        }
    }

    #[test]
    fn slice_helpers_agree_with_scalar() {
        let pcm: Vec<i16> = vec![0, 1, -1, 1000, -1000, i16::MAX, i16::MIN];
        let codes = encode_slice(&pcm);
        assert_eq!(codes, pcm.iter().map(|&x| encode(x)).collect::<Vec<_>>());
        assert_eq!(
            decode_slice(&codes),
            codes.iter().map(|&c| decode(c)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn f32_variants_scale_and_clamp() {
        let f = decode_to_f32(&[0x80, 0x00, 0xFF]);
        assert!((f[0] - 32124.0 / 32768.0).abs() < 1e-7);
        assert!((f[1] + 32124.0 / 32768.0).abs() < 1e-7);
        assert_eq!(f[2], 0.0);
        let codes = encode_from_f32(&[2.0, -2.0, 1.0, -1.0, 0.0, f32::NAN, f32::INFINITY]);
        assert_eq!(codes, vec![0x80, 0x00, 0x80, 0x00, 0xFF, 0xFF, 0x80]);
        assert_eq!(f32_to_i16(0.5), 16384);
        assert_eq!(f32_to_i16(-1.0), -32768);
    }

    #[test]
    fn f32_round_trip_error_is_within_quantisation() {
        for i in -100..=100 {
            let x = i as f32 / 100.0;
            let y = decode_to_f32(&encode_from_f32(&[x]))[0];
            // Half the top-segment step (1024/32768) plus clipping above 32124: < 0.02.
            assert!((x - y).abs() <= 0.02, "{x} -> {y}");
        }
    }

    #[test]
    fn into_variants_append() {
        let mut out = vec![0.25f32];
        decode_to_f32_into(&[0xFF, 0xFF], &mut out);
        assert_eq!(out, vec![0.25, 0.0, 0.0]);
        let mut codes = vec![1u8];
        encode_from_f32_into(&[0.0], &mut codes);
        assert_eq!(codes, vec![1, 0xFF]);
    }
}
