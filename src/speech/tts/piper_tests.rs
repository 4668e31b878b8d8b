//! Piper tests. All but the clause splitter need the model cache
//! (`switchboard models fetch`) and `espeak-ng` on PATH.

use std::sync::OnceLock;
use std::time::Duration;

use super::*;
use crate::speech::models::{packages_for, Group};

fn cache() -> ModelCache {
    let cache = ModelCache::from_env();
    if let Err(e) = cache.check(&packages_for(&[Group::Runtime, Group::Tts])) {
        panic!("Piper tests need the model cache: {e}");
    }
    cache
}

fn load() -> PiperTts {
    PiperTts::from_cache(&cache()).expect("load piper voice")
}

fn shared() -> &'static PiperTts {
    static VOICE: OnceLock<PiperTts> = OnceLock::new();
    VOICE.get_or_init(load)
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|s| s * s).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

#[test]
fn clauses_split_at_punctuation_but_not_inside_numbers() {
    let c = split_clauses("Hello, world! It's 4.50 at 10:30; ok?  Then go... Fine");
    let got: Vec<(&str, Option<char>)> = c.iter().map(|c| (c.text.as_str(), c.punct)).collect();
    assert_eq!(
        got,
        vec![
            ("Hello", Some(',')),
            ("world", Some('!')),
            ("It's 4.50 at 10:30", Some(';')),
            ("ok", Some('?')),
            ("Then go", Some('.')),
            ("Fine", None),
        ]
    );
    assert!(split_clauses(" ... , ").is_empty());
}

#[tokio::test]
async fn phonemes_keep_punctuation_and_ids_are_framed() {
    let tts = shared();
    let ipa = tts
        .phonemize(&Clause {
            text: "Hello there".into(),
            punct: Some('?'),
        })
        .await
        .unwrap();
    assert!(
        ipa.starts_with("h") && ipa.ends_with('?') && ipa.contains(' '),
        "{ipa}"
    );
    let ids = tts.phoneme_ids("ab");
    // ^ _ a _ b _ $  with the joe voice's map: ^=1 _=0 $=2 a=14 b=15
    assert_eq!(ids, vec![1, 0, 14, 0, 15, 0, 2]);
    // unknown symbols are skipped, not fatal
    assert_eq!(tts.phoneme_ids("a\u{2603}"), vec![1, 0, 14, 0, 2]);
}

#[tokio::test]
async fn synthesizes_non_silent_audio_of_plausible_length_per_clause() {
    let tts = shared();
    assert_eq!(tts.sample_rate(), 22050);
    let mut stream = tts
        .synthesize("Thanks for calling Acme support. Your refund of $49.99 was sent on March 12.")
        .await
        .unwrap();
    let mut chunks = Vec::new();
    while let Some(c) = stream.next().await {
        chunks.push(c.unwrap());
    }
    assert_eq!(chunks.len(), 2, "one chunk per clause");
    let all: Vec<f32> = chunks.concat();
    let secs = all.len() as f32 / 22050.0;
    // ~24 spoken words: between 3 and 12 seconds at any sane speaking rate
    assert!((3.0..12.0).contains(&secs), "{secs} s");
    for c in &chunks {
        assert!(rms(c) > 0.02, "clause too quiet: rms {}", rms(c));
        assert!(c.iter().all(|s| (-1.0..=1.0).contains(s) && s.is_finite()));
    }
}

#[tokio::test]
async fn dropping_the_stream_cancels_the_remaining_clauses() {
    let tts = load();
    let text = (1..=12)
        .map(|i| format!("This is clause number {i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stream = tts.synthesize(&text).await.unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert!(!first.is_empty());
    drop(stream);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tts.active_streams() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "worker did not stop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done = tts.clauses_synthesized();
    assert!(done <= 4, "{done} of 12 clauses synthesised after cancel");
}

#[test]
fn missing_voice_files_say_how_to_fix() {
    let cache = cache();
    let env = crate::speech::onnx::environment(&cache).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = PiperConfig::from_cache(&ModelCache::new(dir.path()));
    cfg.espeak_bin = "espeak-ng".into();
    let err = PiperTts::load(&env, &cfg).err().expect("must fail");
    assert!(matches!(err, SpeechError::ModelMissing(_)), "{err}");
    assert!(
        err.to_string().contains("switchboard models fetch"),
        "{err}"
    );
}

#[tokio::test]
async fn missing_espeak_is_reported_on_the_stream() {
    let cache = cache();
    let env = crate::speech::onnx::environment(&cache).unwrap();
    let mut cfg = PiperConfig::from_cache(&cache);
    cfg.espeak_bin = "/nonexistent/espeak-ng".into();
    let tts = PiperTts::load(&env, &cfg).unwrap();
    let mut s = tts.synthesize("Hello.").await.unwrap();
    let err = s.next().await.unwrap().unwrap_err();
    assert!(err.to_string().contains("espeak-ng"), "{err}");
    assert!(s.next().await.is_none());
}

#[test]
fn a_long_first_clause_is_split_before_a_function_word_near_the_target() {
    let clauses =
        split_clauses("I'm sorry to hear you were charged twice for your plan. Let me check.");
    let split = split_first_clause(clauses, 4);
    // No function word within one word of the 4th: split at the target.
    let texts: Vec<(&str, Option<char>)> =
        split.iter().map(|c| (c.text.as_str(), c.punct)).collect();
    assert_eq!(
        texts,
        vec![
            ("I'm sorry to hear", None),
            ("you were charged twice for your plan", Some('.')),
            ("Let me check", Some('.')),
        ]
    );
    // A seam before "for", where the target falls.
    let split = split_first_clause(
        split_clauses("Please hold on for a moment while I look."),
        3,
    );
    assert_eq!(split[0].text, "Please hold on");
    assert_eq!(split[1].text, "for a moment while I look");
}

#[test]
fn short_first_clauses_and_a_zero_setting_are_left_whole() {
    let short = split_clauses("Sure, I can help with your invoice.");
    assert_eq!(split_first_clause(short.clone(), 4), short);
    let long = split_clauses("I can see two charges on your card from March twelfth.");
    assert_eq!(split_first_clause(long.clone(), 0), long);
    assert!(split_first_clause(Vec::new(), 4).is_empty());
}

#[test]
fn the_seam_keeps_only_a_little_of_the_voices_silence() {
    let mut head = [vec![0.5; 100], vec![0.0; 500]].concat();
    trim_silence(&mut head, true, 20);
    assert_eq!(head.len(), 120);
    let mut tail = [vec![0.0; 500], vec![0.5; 100]].concat();
    trim_silence(&mut tail, false, 20);
    assert_eq!(tail.len(), 120);
    let mut quiet = vec![0.0; 50];
    trim_silence(&mut quiet, true, 20);
    assert_eq!(quiet.len(), 20);
}

#[test]
fn the_seam_moves_to_a_neighbouring_function_word() {
    let split = split_first_clause(
        split_clauses("I have looked at the account and found two charges."),
        4,
    );
    assert_eq!(
        split[0].text, "I have looked",
        "before 'at', not between 'at' and 'the'"
    );
    let split = split_first_clause(
        split_clauses("We have already sent a new invoice to your email address."),
        4,
    );
    assert_eq!(split[0].text, "We have already sent");
}
