//! Per-20 ms-frame cost of the audio primitives (`cargo bench --bench audio`).

use std::f32::consts::TAU;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use switchboard::audio::{mulaw, StreamResampler, FRAME_BYTES};

fn sine(freq: f32, rate: u32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.5 * (TAU * freq * i as f32 / rate as f32).sin())
        .collect()
}

fn bench(c: &mut Criterion) {
    let frame_ulaw = mulaw::encode_from_f32(&sine(440.0, 8_000, FRAME_BYTES));

    c.bench_function("mulaw_decode_160B_to_f32", |b| {
        let mut out = Vec::with_capacity(FRAME_BYTES);
        b.iter(|| {
            out.clear();
            mulaw::decode_to_f32_into(black_box(&frame_ulaw), &mut out);
            black_box(&out);
        })
    });

    let frame_f32 = sine(440.0, 8_000, FRAME_BYTES);
    c.bench_function("mulaw_encode_160_f32", |b| {
        let mut out = Vec::with_capacity(FRAME_BYTES);
        b.iter(|| {
            out.clear();
            mulaw::encode_from_f32_into(black_box(&frame_f32), &mut out);
            black_box(&out);
        })
    });

    c.bench_function("decode_160B_and_resample_8k_to_16k", |b| {
        let mut rs = StreamResampler::new(8_000, 16_000).expect("resampler");
        let mut pcm = Vec::with_capacity(FRAME_BYTES);
        let mut out = Vec::with_capacity(2 * FRAME_BYTES);
        b.iter(|| {
            pcm.clear();
            out.clear();
            mulaw::decode_to_f32_into(black_box(&frame_ulaw), &mut pcm);
            rs.push_into(&pcm, &mut out).expect("push");
            black_box(&out);
        })
    });

    for (rate, n) in [(22_050u32, 441usize), (24_000, 480), (16_000, 320)] {
        let tts = sine(440.0, rate, n);
        let name = format!(
            "tts_{}k_20ms_resample_to_8k_and_encode",
            rate as f32 / 1000.0
        );
        c.bench_function(&name, |b| {
            let mut rs = StreamResampler::new(rate, 8_000).expect("resampler");
            let mut pcm = Vec::with_capacity(FRAME_BYTES);
            let mut out = Vec::with_capacity(FRAME_BYTES);
            b.iter(|| {
                pcm.clear();
                out.clear();
                rs.push_into(black_box(&tts), &mut pcm).expect("push");
                mulaw::encode_from_f32_into(&pcm, &mut out);
                black_box(&out);
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
