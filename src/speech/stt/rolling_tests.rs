//! Tests for the rolling re-decode stream driver, with a scripted transcriber.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::*;

/// Answers "N ms" for N ms of audio; optionally blocks each decode until released.
struct Fake {
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    gate: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

impl Fake {
    fn new(gate: Option<std::sync::mpsc::Receiver<()>>) -> Arc<Self> {
        Arc::new(Self {
            calls: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            gate: Mutex::new(gate),
        })
    }
}

impl Transcriber for Fake {
    type Session = ();
    fn session(&self) -> Result<(), SpeechError> {
        Ok(())
    }
    fn transcribe(&self, _: &mut (), pcm: &[f32]) -> Result<Transcript, SpeechError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(rx) = self.gate.lock().unwrap().as_ref() {
            let _ = rx.recv();
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let silent = pcm.iter().all(|x| *x == 0.0);
        Ok(Transcript {
            text: if silent {
                String::new()
            } else {
                format!("{} ms", ms(pcm.len() as u64))
            },
            confidence: 0.9,
        })
    }
}

fn speech(ms_len: u64) -> SttInput {
    SttInput::Audio(vec![0.1; samples(ms_len)])
}

fn cfg(partial_ms: u64) -> RollingConfig {
    RollingConfig {
        partial_interval_ms: partial_ms,
        min_partial_ms: partial_ms,
        ..RollingConfig::default()
    }
}

/// The next event other than [`SttEvent::Decoded`] (timing, checked on its own).
async fn next(s: &mut SttStream) -> Option<SttEvent> {
    loop {
        match s.events.recv().await {
            Some(SttEvent::Decoded { .. }) => continue,
            other => return other,
        }
    }
}

async fn collect_until_final(s: &mut SttStream) -> Vec<SttEvent> {
    let mut out = Vec::new();
    while let Some(ev) = next(s).await {
        let done = matches!(ev, SttEvent::SpeechEnded { .. })
            || matches!(&ev, SttEvent::Final { text, .. } if text.is_empty());
        out.push(ev);
        if done {
            break;
        }
    }
    out
}

#[tokio::test]
async fn final_covers_audio_since_flush_with_timestamps() {
    let fake = Fake::new(None);
    let mut s = open(fake.clone(), cfg(0)).await.unwrap();
    s.input.send(speech(500)).await.unwrap();
    s.input.send(speech(700)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    let first = collect_until_final(&mut s).await;
    assert_eq!(
        first,
        vec![
            SttEvent::SpeechStarted { at_ms: 0 },
            SttEvent::Final {
                text: "1200 ms".into(),
                start_ms: 0,
                end_ms: 1200,
                confidence: 0.9,
                continued: false,
            },
            SttEvent::SpeechEnded { at_ms: 1200 },
        ]
    );
    // Audio of the next turn may arrive while a final is being decoded.
    s.input.send(speech(300)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    let second = collect_until_final(&mut s).await;
    assert_eq!(second[0], SttEvent::SpeechStarted { at_ms: 1200 });
    assert_eq!(
        second[1],
        SttEvent::Final {
            text: "300 ms".into(),
            start_ms: 1200,
            end_ms: 1500,
            confidence: 0.9,
            continued: false,
        }
    );
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2, "partials disabled");
}

#[tokio::test]
async fn flush_without_audio_gives_empty_final_and_no_speech_events() {
    let mut s = open(Fake::new(None), cfg(600)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    let ev = next(&mut s).await.unwrap();
    assert_eq!(
        ev,
        SttEvent::Final {
            text: String::new(),
            start_ms: 0,
            end_ms: 0,
            confidence: 0.0,
            continued: false,
        }
    );
    drop(s.input);
    assert_eq!(s.events.recv().await, None, "closing input closes events");
}

#[tokio::test]
async fn partials_follow_the_growing_buffer_one_decode_at_a_time() {
    let (release, gate) = std::sync::mpsc::channel();
    let fake = Fake::new(Some(gate));
    let mut s = open(fake.clone(), cfg(600)).await.unwrap();
    s.input.send(speech(600)).await.unwrap();
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::SpeechStarted { at_ms: 0 })
    );
    // The first partial decode is now blocked; more audio must not start a second one.
    for _ in 0..3 {
        s.input.send(speech(600)).await.unwrap();
    }
    while fake.calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    release.send(()).unwrap();
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::Partial {
            text: "600 ms".into(),
            at_ms: 600
        })
    );
    // Next partial re-decodes everything received meanwhile.
    release.send(()).unwrap();
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::Partial {
            text: "2400 ms".into(),
            at_ms: 2400
        })
    );
    s.input.send(SttInput::Flush).await.unwrap();
    release.send(()).unwrap();
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::Final {
            text: "2400 ms".into(),
            start_ms: 0,
            end_ms: 2400,
            confidence: 0.9,
            continued: false,
        })
    );
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::SpeechEnded { at_ms: 2400 })
    );
    assert_eq!(fake.max_in_flight.load(Ordering::SeqCst), 1);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn partials_are_skipped_when_busy_but_finals_wait() {
    let c = cfg(600);
    let busy = c.decode_slots.clone().acquire_owned().await.unwrap();
    let fake = Fake::new(None);
    let mut s = open(fake.clone(), c).await.unwrap();
    s.input.send(speech(1800)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::SpeechStarted { at_ms: 0 })
    );
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        fake.calls.load(Ordering::SeqCst),
        0,
        "no decode while the slot is taken"
    );
    drop(busy);
    let ev = next(&mut s).await.unwrap();
    assert!(
        matches!(ev, SttEvent::Final { ref text, .. } if text == "1800 ms"),
        "{ev:?}"
    );
    assert_eq!(
        fake.calls.load(Ordering::SeqCst),
        1,
        "the skipped partial is not replayed"
    );
}

#[tokio::test]
async fn silence_only_turn_gives_empty_final_then_speech_ended() {
    let mut s = open(Fake::new(None), cfg(0)).await.unwrap();
    s.input
        .send(SttInput::Audio(vec![0.0; 8000]))
        .await
        .unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::SpeechStarted { at_ms: 0 })
    );
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::Final {
            text: String::new(),
            start_ms: 0,
            end_ms: 500,
            confidence: 0.9,
            continued: false,
        })
    );
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::SpeechEnded { at_ms: 500 })
    );
}

#[tokio::test]
async fn a_long_turn_arriving_in_one_burst_is_never_dropped() {
    // The call loop uses try_send: a whole 30 s turn (1500 frames) delivered at once
    // must fit, Flush included, even while a decode is blocked.
    let (release, gate) = std::sync::mpsc::channel();
    let fake = Fake::new(Some(gate));
    let mut s = open(fake.clone(), cfg(0)).await.unwrap();
    s.input.try_send(speech(1000)).unwrap();
    s.input.try_send(SttInput::Flush).unwrap();
    for _ in 0..1500 {
        s.input.try_send(speech(20)).expect("frame accepted");
    }
    s.input.try_send(SttInput::Flush).expect("flush accepted");
    release.send(()).unwrap();
    release.send(()).unwrap();
    let first = collect_until_final(&mut s).await;
    assert!(first
        .iter()
        .any(|e| matches!(e, SttEvent::Final { text, .. } if text == "1000 ms")));
    let second = collect_until_final(&mut s).await;
    assert!(
        second
            .iter()
            .any(|e| matches!(e, SttEvent::Final { text, .. } if text == "30000 ms")),
        "{second:?}"
    );
}

#[tokio::test]
async fn continue_decodes_the_last_utterance_with_the_new_audio() {
    let fake = Fake::new(None);
    let mut s = open(fake.clone(), cfg(0)).await.unwrap();
    s.input.send(speech(1000)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    s.input.send(SttInput::Continue).await.unwrap();
    s.input.send(speech(500)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    let finals = |evs: Vec<SttEvent>| -> Vec<(String, u64, bool)> {
        evs.into_iter()
            .filter_map(|e| match e {
                SttEvent::Final {
                    text,
                    start_ms,
                    continued,
                    ..
                } => Some((text, start_ms, continued)),
                _ => None,
            })
            .collect()
    };
    let first = finals(collect_until_final(&mut s).await);
    assert_eq!(first, vec![("1000 ms".to_string(), 0, false)]);
    let second = finals(collect_until_final(&mut s).await);
    assert_eq!(second, vec![("1500 ms".to_string(), 0, true)]);
    // Without a Continue the next utterance stands alone again.
    s.input.send(speech(300)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    let third = finals(collect_until_final(&mut s).await);
    assert_eq!(third, vec![("300 ms".to_string(), 1500, false)]);
}

#[tokio::test]
async fn a_refused_continue_is_never_joined_later() {
    let fake = Fake::new(None);
    let mut s = open(fake.clone(), cfg(0)).await.unwrap();
    let next_final = async |s: &mut SttStream| loop {
        if let Some(SttEvent::Final {
            text, continued, ..
        }) = next(s).await
        {
            return (text, continued);
        }
    };
    // Too long to join: the next utterance stands alone...
    s.input.send(speech(21_000)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    s.input.send(SttInput::Continue).await.unwrap();
    s.input.send(speech(500)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    assert_eq!(next_final(&mut s).await, ("21000 ms".into(), false));
    assert_eq!(next_final(&mut s).await, ("500 ms".into(), false));
    // ...and so does the one after it: joining it would drop the first part's words.
    s.input.send(SttInput::Continue).await.unwrap();
    s.input.send(speech(300)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    assert_eq!(next_final(&mut s).await, ("300 ms".into(), false));
}

fn silence(ms_len: u64) -> SttInput {
    SttInput::Audio(vec![0.0; samples(ms_len)])
}

/// Events up to and including the final, with the `Decoded` that preceded it.
async fn until_final(s: &mut SttStream) -> (Vec<SttEvent>, Option<(u64, bool)>) {
    let (mut out, mut decoded) = (Vec::new(), None);
    while let Some(ev) = s.events.recv().await {
        if let SttEvent::Decoded {
            queue_ms,
            speculative,
            ..
        } = ev
        {
            decoded = Some((queue_ms, speculative));
            continue;
        }
        let done = matches!(ev, SttEvent::Final { .. });
        out.push(ev);
        if done {
            break;
        }
    }
    (out, decoded)
}

/// A stream over a gated fake after `ms_len` of speech and a `Pause`, once the
/// speculative decode has started (each `release.send(())` lets one decode finish).
async fn paused_mid_decode(ms_len: u64) -> (std::sync::mpsc::Sender<()>, Arc<Fake>, SttStream) {
    let (release, gate) = std::sync::mpsc::channel();
    let fake = Fake::new(Some(gate));
    let s = open(fake.clone(), cfg(0)).await.unwrap();
    s.input.send(speech(ms_len)).await.unwrap();
    s.input.send(SttInput::Pause).await.unwrap();
    while fake.calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    (release, fake, s)
}

#[tokio::test]
async fn a_pause_decodes_at_once_and_a_flush_after_silence_reuses_it() {
    let fake = Fake::new(None);
    let mut s = open(fake.clone(), cfg(0)).await.unwrap();
    s.input.send(speech(1000)).await.unwrap();
    s.input.send(SttInput::Pause).await.unwrap();
    // The speculative text comes back (Tentative) while the caller is still quiet.
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::SpeechStarted { at_ms: 0 })
    );
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::Tentative {
            text: "1000 ms".into(),
            at_ms: 1000
        })
    );
    s.input.send(silence(300)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    let (events, decoded) = until_final(&mut s).await;
    assert_eq!(
        events,
        vec![SttEvent::Final {
            text: "1000 ms".into(),
            start_ms: 0,
            end_ms: 1300,
            confidence: 0.9,
            continued: false,
        }]
    );
    assert_eq!(decoded.map(|d| d.1), Some(true), "reported as speculative");
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1, "decoded once");
}

#[tokio::test]
async fn speech_after_a_pause_voids_the_speculative_decode() {
    let fake = Fake::new(None);
    let mut s = open(fake.clone(), cfg(0)).await.unwrap();
    s.input.send(speech(800)).await.unwrap();
    s.input.send(SttInput::Pause).await.unwrap();
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::SpeechStarted { at_ms: 0 })
    );
    assert!(matches!(
        next(&mut s).await,
        Some(SttEvent::Tentative { .. })
    ));
    s.input.send(SttInput::Resume).await.unwrap();
    s.input.send(speech(700)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    let (events, decoded) = until_final(&mut s).await;
    assert_eq!(
        events,
        vec![SttEvent::Final {
            text: "1500 ms".into(),
            start_ms: 0,
            end_ms: 1500,
            confidence: 0.9,
            continued: false,
        }],
        "the final covers the words after the pause too"
    );
    assert_eq!(decoded.map(|d| d.1), Some(false));
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_flush_during_the_speculative_decode_waits_for_it_instead_of_decoding_again() {
    let (release, fake, mut s) = paused_mid_decode(1200).await;
    s.input.send(silence(260)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    // The next turn's audio may already be arriving.
    s.input.send(speech(400)).await.unwrap();
    release.send(()).unwrap();
    let (events, decoded) = until_final(&mut s).await;
    assert_eq!(
        events.last(),
        Some(&SttEvent::Final {
            text: "1200 ms".into(),
            start_ms: 0,
            end_ms: 1460,
            confidence: 0.9,
            continued: false,
        })
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, SttEvent::Tentative { .. })),
        "a flushed speculation is the final, not a tentative text"
    );
    assert_eq!(decoded.map(|d| d.1), Some(true));
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
    // The next utterance is decoded normally afterwards.
    s.input.send(SttInput::Flush).await.unwrap();
    release.send(()).unwrap();
    let (events, _) = until_final(&mut s).await;
    assert!(events.contains(&SttEvent::Final {
        text: "400 ms".into(),
        start_ms: 1460,
        end_ms: 1860,
        confidence: 0.9,
        continued: false,
    }));
}

#[tokio::test]
async fn a_decode_waiting_for_a_busy_slot_reports_its_queue_time() {
    let c = cfg(0);
    let busy = c.decode_slots.clone().acquire_owned().await.unwrap();
    let mut s = open(Fake::new(None), c).await.unwrap();
    s.input.send(speech(500)).await.unwrap();
    s.input.send(SttInput::Flush).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    drop(busy);
    let (_, decoded) = until_final(&mut s).await;
    let (queue_ms, speculative) = decoded.expect("timing reported");
    assert!(queue_ms >= 50, "waited {queue_ms} ms for the slot");
    assert!(!speculative);
}

#[tokio::test]
async fn the_caller_going_on_after_the_flush_never_loses_the_flushed_final() {
    let (release, _fake, mut s) = paused_mid_decode(1000).await;
    s.input.send(SttInput::Flush).await.unwrap();
    // The caller went on: the next utterance continues this one and pauses too.
    s.input.send(SttInput::Continue).await.unwrap();
    s.input.send(speech(500)).await.unwrap();
    s.input.send(SttInput::Resume).await.unwrap();
    s.input.send(SttInput::Pause).await.unwrap();
    release.send(()).unwrap();
    let (events, decoded) = until_final(&mut s).await;
    assert_eq!(
        events.last(),
        Some(&SttEvent::Final {
            text: "1000 ms".into(),
            start_ms: 0,
            end_ms: 1000,
            confidence: 0.9,
            continued: false,
        }),
        "the flushed utterance gets its final from the speculative decode"
    );
    assert_eq!(decoded.map(|d| d.1), Some(true));
    // The joined utterance's own pause decodes both parts.
    release.send(()).unwrap();
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::SpeechEnded { at_ms: 1000 })
    );
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::Tentative {
            text: "1500 ms".into(),
            at_ms: 1500
        })
    );
}

#[tokio::test]
async fn a_pause_after_a_voided_one_still_gets_its_decode() {
    let (release, _fake, mut s) = paused_mid_decode(600).await;
    // The caller goes on and pauses again while the first decode still runs.
    s.input.send(SttInput::Resume).await.unwrap();
    s.input.send(speech(400)).await.unwrap();
    s.input.send(SttInput::Pause).await.unwrap();
    release.send(()).unwrap(); // the voided decode ends
    release.send(()).unwrap(); // the second pause's decode
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::SpeechStarted { at_ms: 0 })
    );
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::Tentative {
            text: "1000 ms".into(),
            at_ms: 1000
        }),
        "the second pause is decoded, and only it is reported"
    );
    // The same words again after a cough are reported again.
    s.input.send(SttInput::Resume).await.unwrap();
    s.input.send(SttInput::Pause).await.unwrap();
    release.send(()).unwrap();
    assert_eq!(
        next(&mut s).await,
        Some(SttEvent::Tentative {
            text: "1000 ms".into(),
            at_ms: 1000
        })
    );
}

/// Fails every decode.
struct Broken;

impl Transcriber for Broken {
    type Session = ();
    fn session(&self) -> Result<(), SpeechError> {
        Ok(())
    }
    fn transcribe(&self, _: &mut (), _: &[f32]) -> Result<Transcript, SpeechError> {
        Err(SpeechError::Model("broken".into()))
    }
}

#[tokio::test]
async fn a_failed_speculative_decode_is_not_taken_as_the_final() {
    let mut s = open(Arc::new(Broken), cfg(0)).await.unwrap();
    s.input.send(speech(500)).await.unwrap();
    s.input.send(SttInput::Pause).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    s.input.send(SttInput::Flush).await.unwrap();
    let (events, decoded) = until_final(&mut s).await;
    assert!(matches!(events.last(), Some(SttEvent::Final { .. })));
    assert_eq!(
        decoded.map(|d| d.1),
        Some(false),
        "decoded again at the flush, not the failed speculation"
    );
}
