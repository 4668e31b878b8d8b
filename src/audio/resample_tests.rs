//! Sine-wave tests for [`super`]: frequency, amplitude, length, alignment, aliasing.

use super::*;
use std::f32::consts::TAU;

fn sine(freq: f32, rate: u32, secs: f32, amp: f32) -> Vec<f32> {
    let n = (rate as f32 * secs) as usize;
    (0..n)
        .map(|i| amp * (TAU * freq * i as f32 / rate as f32).sin())
        .collect()
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

/// Amplitude of the `freq` component (single-bin DFT).
fn tone_amplitude(x: &[f32], freq: f32, rate: u32) -> f32 {
    let (mut re, mut im) = (0.0f64, 0.0f64);
    for (i, &v) in x.iter().enumerate() {
        let ph = (TAU * freq * i as f32 / rate as f32) as f64;
        re += v as f64 * ph.cos();
        im += v as f64 * ph.sin();
    }
    (2.0 * (re * re + im * im).sqrt() / x.len() as f64) as f32
}

/// The steady-state middle of a signal (skip edges).
fn middle(x: &[f32]) -> &[f32] {
    let q = x.len() / 4;
    &x[q..x.len() - q]
}

fn check_tone(from: u32, to: u32, freq: f32) {
    let input = sine(freq, from, 1.0, 0.5);
    let out = resample(&input, from, to).expect("resample");
    let want_len = (input.len() as u64 * to as u64 + from as u64 / 2) / from as u64;
    assert_eq!(out.len() as u64, want_len, "{from}->{to} length");
    let mid = middle(&out);
    let amp = tone_amplitude(mid, freq, to);
    assert!(
        (amp - 0.5).abs() < 0.02,
        "{from}->{to} {freq} Hz amplitude {amp}"
    );
    // Nearly all energy is at the tone (frequency preserved, no spurs).
    let tone_rms = amp / 2f32.sqrt();
    let total = rms(mid);
    assert!(
        (total - tone_rms).abs() / tone_rms < 0.02,
        "{from}->{to} rms {total} vs {tone_rms}"
    );
    // And it is at the requested frequency, not a neighbour.
    assert!(tone_amplitude(mid, freq * 1.1, to) < 0.02);
}

#[test]
fn tones_survive_every_phone_pair() {
    check_tone(8_000, 16_000, 1_000.0);
    check_tone(16_000, 8_000, 1_000.0);
    check_tone(22_050, 8_000, 440.0);
    check_tone(24_000, 8_000, 2_500.0);
    check_tone(16_000, 8_000, 3_000.0);
    check_tone(48_000, 8_000, 700.0);
    check_tone(8_000, 16_000, 3_300.0);
}

#[test]
fn output_is_time_aligned_with_input() {
    for (from, to) in [
        (8_000, 16_000),
        (16_000, 8_000),
        (22_050, 8_000),
        (24_000, 8_000),
    ] {
        // With an odd chunk (441 at 22.05 kHz) rubato's integer delay leaves the
        // output half an input sample (~23 µs) early; even chunks are exact.
        let chunk = StreamResampler::new(from, to).expect("new").chunk_len();
        let lead = if chunk % 2 == 1 { 0.5 } else { 0.0 };
        let freq = 300.0;
        let input = sine(freq, from, 0.5, 0.5);
        let out = resample(&input, from, to).expect("resample");
        let n = out.len();
        let err: Vec<f32> = (n / 4..3 * n / 4)
            .map(|i| {
                let t = i as f32 / to as f32 + lead / from as f32;
                out[i] - 0.5 * (TAU * freq * t).sin()
            })
            .collect();
        // Half an input sample of misalignment would give > 0.01 here.
        assert!(
            rms(&err) < 1e-3,
            "{from}->{to} misaligned: err rms {}",
            rms(&err)
        );
    }
}

#[test]
fn tones_above_target_nyquist_are_suppressed() {
    // 5 kHz and 6 kHz would alias to 3 kHz / 2 kHz at 8 kHz output.
    for (from, freq) in [
        (16_000, 5_000.0),
        (22_050, 5_000.0),
        (24_000, 6_000.0),
        (22_050, 4_600.0),
    ] {
        let input = sine(freq, from, 1.0, 0.5);
        let out = resample(&input, from, 8_000).expect("resample");
        let level = rms(middle(&out)) / (0.5 / 2f32.sqrt());
        // At least 40 dB down.
        assert!(level < 0.01, "{from}: {freq} Hz leaked at {level}");
    }
}

#[test]
fn streaming_in_odd_pieces_equals_one_shot() {
    let input = sine(440.0, 22_050, 0.7, 0.4);
    let one_shot = resample(&input, 22_050, 8_000).expect("one-shot");
    let mut rs = StreamResampler::new(22_050, 8_000).expect("new");
    let mut streamed = Vec::new();
    let mut pos = 0;
    for (i, size) in [1usize, 7, 441, 1000, 3, 882, 5000]
        .iter()
        .cycle()
        .enumerate()
    {
        if pos >= input.len() || i > 10_000 {
            break;
        }
        let end = (pos + size).min(input.len());
        streamed.extend(rs.push(&input[pos..end]).expect("push"));
        pos = end;
    }
    streamed.extend(rs.flush().expect("flush"));
    assert_eq!(streamed, one_shot);
}

#[test]
fn twenty_ms_frames_give_steady_output() {
    let mut rs = StreamResampler::new(8_000, 16_000).expect("new");
    assert_eq!(rs.chunk_len(), 160);
    assert_eq!(rs.delay_samples(), 160); // 10 ms at 16 kHz
    let frame = sine(1_000.0, 8_000, 0.02, 0.5);
    let first = rs.push(&frame).expect("push");
    assert_eq!(first.len(), 160); // delay dropped
    for _ in 0..10 {
        assert_eq!(rs.push(&frame).expect("push").len(), 320);
    }
    assert_eq!(rs.flush().expect("flush").len(), 160);

    let mut down = StreamResampler::new(22_050, 8_000).expect("new");
    assert_eq!(down.chunk_len(), 441);
    let frame = sine(440.0, 22_050, 0.02, 0.5);
    down.push(&frame).expect("push");
    assert_eq!(down.push(&frame).expect("push").len(), 160);
}

#[test]
fn same_rate_is_passthrough() {
    let input = vec![0.1, -0.2, 0.3];
    assert_eq!(resample(&input, 8_000, 8_000).expect("same"), input);
    let mut rs = StreamResampler::new(16_000, 16_000).expect("new");
    assert_eq!(rs.push(&input).expect("push"), input);
    assert!(rs.flush().expect("flush").is_empty());
    assert_eq!(rs.delay_samples(), 0);
}

#[test]
fn zero_rate_is_an_error() {
    assert!(matches!(
        StreamResampler::new(0, 8_000),
        Err(ResampleError::InvalidRate { from: 0, to: 8_000 })
    ));
    assert!(resample(&[0.0], 8_000, 0).is_err());
}

#[test]
fn empty_and_tiny_inputs() {
    assert!(resample(&[], 16_000, 8_000).expect("empty").is_empty());
    assert_eq!(resample(&[0.5; 3], 8_000, 16_000).expect("tiny").len(), 6);
}

#[test]
fn awkward_ratio_uses_sinc_fallback() {
    let rs = StreamResampler::new(44_101, 8_000).expect("new");
    assert_eq!(rs.chunk_len(), 882);
    check_tone(44_101, 8_000, 1_000.0);
}

#[test]
fn reset_clears_state() {
    let mut rs = StreamResampler::new(16_000, 8_000).expect("new");
    rs.push(&[0.9; 100]).expect("push");
    rs.reset();
    let out = resample(&[0.0; 320], 16_000, 8_000).expect("zeros");
    let mut again = rs.push(&[0.0; 320]).expect("push");
    again.extend(rs.flush().expect("flush"));
    assert_eq!(again, out);
}
