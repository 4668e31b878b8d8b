//! Tests for [`super`]: every supported input format, downmix, writing, `to_phone`.

use super::*;
use std::f32::consts::TAU;

fn write_spec(spec: WavSpec, frames: usize, sample: impl Fn(usize, u16) -> f64) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    {
        let mut w = WavWriter::new(&mut buf, spec).expect("writer");
        for i in 0..frames {
            for ch in 0..spec.channels {
                let v = sample(i, ch);
                match (spec.sample_format, spec.bits_per_sample) {
                    (SampleFormat::Float, _) => w.write_sample(v as f32).expect("f32"),
                    (SampleFormat::Int, 8) => w.write_sample((v * 128.0) as i8).expect("i8"),
                    (SampleFormat::Int, 16) => w.write_sample((v * 32768.0) as i16).expect("i16"),
                    (SampleFormat::Int, b) => w
                        .write_sample((v * (1u64 << (b - 1)) as f64) as i32)
                        .expect("i32"),
                }
            }
        }
        w.finalize().expect("finalize");
    }
    buf.into_inner()
}

fn spec(channels: u16, rate: u32, bits: u16, fmt: SampleFormat) -> WavSpec {
    WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: fmt,
    }
}

#[test]
fn reads_all_integer_depths_and_float() {
    for (bits, fmt, tol) in [
        (8, SampleFormat::Int, 1.0 / 64.0),
        (16, SampleFormat::Int, 1e-4),
        (24, SampleFormat::Int, 1e-6),
        (32, SampleFormat::Int, 1e-6),
        (32, SampleFormat::Float, 1e-7),
    ] {
        let bytes = write_spec(spec(1, 11_025, bits, fmt), 100, |i, _| {
            0.5 * ((i as f64) * 0.1).sin()
        });
        let pcm = read_wav_bytes(&bytes).expect("read");
        assert_eq!(pcm.rate, 11_025);
        assert_eq!(pcm.samples.len(), 100);
        for (i, &s) in pcm.samples.iter().enumerate() {
            let want = 0.5 * ((i as f64) * 0.1).sin();
            assert!(
                (s as f64 - want).abs() <= tol,
                "{bits}-bit {fmt:?} sample {i}: {s} vs {want}"
            );
        }
    }
}

#[test]
fn downmixes_multichannel_by_averaging() {
    let bytes = write_spec(spec(3, 48_000, 16, SampleFormat::Int), 10, |_, ch| {
        [0.5, -0.25, 0.25][ch as usize]
    });
    let pcm = read_wav_bytes(&bytes).expect("read");
    assert_eq!(pcm.samples.len(), 10);
    for s in pcm.samples {
        assert!((s - 0.5 / 3.0).abs() < 1e-3, "{s}");
    }
    assert_eq!(downmix(&[1.0, 0.0, 0.5, 0.5, 9.0], 2), vec![0.5, 0.5]);
    assert!(downmix(&[1.0], 0).is_empty());
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    assert!(matches!(
        read_wav_bytes(b"not a wav file"),
        Err(WavError::Hound(_))
    ));
    assert!(read_wav_bytes(&[]).is_err());
    let mut truncated = write_spec(spec(1, 8_000, 16, SampleFormat::Int), 100, |_, _| 0.1);
    truncated.truncate(60);
    let _ = read_wav_bytes(&truncated); // either Ok(shorter) or Err, never a panic
}

#[test]
fn mono_write_read_round_trip_via_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mono.wav");
    let pcm = Pcm::new(16_000, (0..320).map(|i| (i as f32 / 320.0) - 0.5).collect());
    write_wav_mono(&path, &pcm).expect("write");
    let back = read_wav(&path).expect("read");
    assert_eq!(back.rate, 16_000);
    assert_eq!(back.samples.len(), 320);
    for (a, b) in pcm.samples.iter().zip(&back.samples) {
        assert!((a - b).abs() < 1.0 / 16384.0);
    }
    let reader = WavReader::open(&path).expect("open");
    assert_eq!(reader.spec(), spec(1, 16_000, 16, SampleFormat::Int));
    assert_eq!(
        wav_bytes_mono(&pcm).expect("bytes"),
        std::fs::read(&path).expect("file")
    );
}

#[test]
fn stereo_write_keeps_channels_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("stereo.wav");
    write_wav_stereo(&path, 8_000, &[0.5; 4], &[-0.5; 4]).expect("write");
    let reader = WavReader::open(&path).expect("open");
    assert_eq!(reader.spec(), spec(2, 8_000, 16, SampleFormat::Int));
    let raw: Vec<i16> = reader
        .into_samples::<i16>()
        .map(|s| s.expect("s"))
        .collect();
    assert_eq!(
        raw,
        vec![16384, -16384, 16384, -16384, 16384, -16384, 16384, -16384]
    );
    assert!(matches!(
        write_wav_stereo(&path, 8_000, &[0.0; 3], &[0.0; 4]),
        Err(WavError::ChannelMismatch { left: 3, right: 4 })
    ));
    assert!(write_wav_mono(&path, &Pcm::new(0, vec![])).is_err());
}

#[test]
fn to_phone_resamples_and_encodes() {
    let rate = 22_050;
    let pcm = Pcm::new(
        rate,
        (0..rate as usize)
            .map(|i| 0.5 * (TAU * 440.0 * i as f32 / rate as f32).sin())
            .collect(),
    );
    let ulaw = to_phone(&pcm).expect("to_phone");
    assert_eq!(ulaw.len(), 8_000);
    let back = mulaw::decode_to_f32(&ulaw);
    let mid = &back[2_000..6_000];
    let peak = mid.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!((peak - 0.5).abs() < 0.03, "peak {peak}");
    // Already 8 kHz: no resampling, just encoding.
    let direct = Pcm::new(8_000, vec![0.0, 0.5, -0.5]);
    assert_eq!(
        to_phone(&direct).expect("phone"),
        mulaw::encode_from_f32(&direct.samples)
    );
    assert!((pcm.duration_secs() - 1.0).abs() < 1e-9);
    assert_eq!(pcm.resampled(8_000).expect("rs").samples.len(), 8_000);
}

#[test]
fn greeting_fixture_is_8k_mono_speech() {
    let bytes = include_bytes!("../../audio-fixtures/greeting.wav");
    let reader = WavReader::new(Cursor::new(&bytes[..])).expect("wav");
    assert_eq!(reader.spec(), spec(1, 8_000, 16, SampleFormat::Int));
    let pcm = read_wav_bytes(bytes).expect("read");
    let secs = pcm.duration_secs();
    assert!((2.0..3.5).contains(&secs), "duration {secs}");
    let rms = (pcm.samples.iter().map(|s| s * s).sum::<f32>() / pcm.samples.len() as f32).sqrt();
    assert!(rms > 0.05, "too quiet: {rms}");
    assert_eq!(to_phone(&pcm).expect("phone").len(), pcm.samples.len());
}
