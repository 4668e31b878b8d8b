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

/// The softphone's bridge, one 20 ms frame each way: the page's Opus packet
/// (48 kHz) decoded to 8 kHz μ-law media, and the bot's μ-law frame encoded to Opus.
fn softphone(c: &mut Criterion) {
    use switchboard::audio::opus::{OpusEncoder, OPUS_RATE};
    use switchboard::telephony::browser::BrowserBridge;
    use switchboard::telephony::{encode, Outbound};

    let mut enc = OpusEncoder::new(OPUS_RATE).expect("encoder");
    let packets: Vec<Vec<u8>> = enc
        .push(&sine(300.0, OPUS_RATE, 960 * 100))
        .expect("encode");
    c.bench_function("softphone_page_opus_20ms_to_mulaw_media", |b| {
        let mut bridge = BrowserBridge::new("WBbench").expect("bridge");
        let mut seq = 0u16;
        let mut i = 0;
        b.iter(|| {
            let mut frame = seq.to_be_bytes().to_vec();
            frame.extend(&packets[i % packets.len()]);
            seq = seq.wrapping_add(1);
            i += 1;
            black_box(bridge.page_audio(black_box(&frame)).expect("decode"));
        })
    });
    let media = encode(&Outbound::Media {
        stream_sid: "MZWBbench".into(),
        payload: frame_for_bench(),
    });
    c.bench_function("softphone_bot_mulaw_20ms_to_opus", |b| {
        let mut bridge = BrowserBridge::new("WBbench").expect("bridge");
        b.iter(|| black_box(bridge.session_text(black_box(&media))))
    });
}

fn frame_for_bench() -> Vec<u8> {
    mulaw::encode_from_f32(&sine(440.0, 8_000, FRAME_BYTES))
}

criterion_group!(benches, bench, softphone);
criterion_main!(benches);
