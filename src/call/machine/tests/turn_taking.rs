//! Turn-taking: the greeting, endpointing (silence, unfinished words, noise) and robustness to inputs out of order.

use super::*;

#[test]
fn greeting_is_spoken_then_listening_with_reprompt() {
    let mut r = Rig::new();
    let acts = r.input(Input::Start {
        greeting: Some(("triage".into(), "Hi, how can I help?".into())),
    });
    assert_eq!(
        acts,
        vec![Action::Speak {
            utterance: TurnId::GREETING,
            seq: 0,
            text: "Hi, how can I help?".into()
        }]
    );
    r.input(Input::TtsAudio {
        utterance: TurnId::GREETING,
        seq: 0,
        audio: vec![1; 3 * FRAME_BYTES],
    });
    r.input(Input::TtsDone {
        utterance: TurnId::GREETING,
        seq: 0,
    });
    r.play_all();
    assert_eq!(r.logged(|a| matches!(a, Action::Media(_))), 3);
    assert_eq!(r.m.state(), State::Listening);
    // Re-prompt after 8 s of silence.
    let acts = r.advance(8_000);
    assert_eq!(started_turn(&acts).map(|t| t.1), Some(CallerInput::Silence));
}

#[test]
fn endpoint_after_silence_starts_exactly_one_turn() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let acts = r.caller(400, SPEECH);
    assert_eq!(r.m.state(), State::CallerSpeaking);
    // Pre-roll and live audio go to STT.
    assert!(count(&acts, |a| matches!(a, Action::SttAudio(_))) >= 2);
    let acts = r.caller(480, QUIET);
    assert!(
        !acts.contains(&Action::SttFlush),
        "not before 500 ms of silence"
    );
    let acts = r.caller(40, QUIET);
    assert_eq!(count(&acts, |a| *a == Action::SttFlush), 1);
    let acts = r.input(Input::SttFinal {
        text: "I was charged twice".into(),
        confidence: 0.8,
        continued: false,
    });
    assert_eq!(
        started_turn(&acts),
        Some((
            TurnId(1),
            CallerInput::Speech {
                text: "I was charged twice".into(),
                confidence: 0.8
            }
        ))
    );
    // A duplicate final never starts a second reply.
    let acts = r.input(Input::SttFinal {
        text: "I was charged twice".into(),
        confidence: 0.8,
        continued: false,
    });
    assert!(started_turn(&acts).is_none());
}

#[test]
fn unfinished_words_wait_longer() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.caller(400, SPEECH);
    r.input(Input::SttPartial {
        text: "my account number is, um".into(),
    });
    let acts = r.caller(800, QUIET);
    assert!(
        !acts.contains(&Action::SttFlush),
        "a pause after 'um' is not the end"
    );
    r.caller(300, SPEECH);
    r.input(Input::SttPartial {
        text: "my account number is 4 4 1 2".into(),
    });
    let acts = r.caller(520, QUIET);
    assert!(acts.contains(&Action::SttFlush));
}

#[test]
fn short_noise_does_not_start_a_turn_and_empty_final_returns_to_listening() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let acts = r.caller(40, SPEECH); // below min_speech
    assert_eq!(r.m.state(), State::Listening, "{acts:?}");
    r.caller(100, QUIET);
    r.caller(200, SPEECH);
    r.caller(600, QUIET);
    let acts = r.input(Input::SttFinal {
        text: "".into(),
        confidence: 0.0,
        continued: false,
    });
    assert!(started_turn(&acts).is_none());
    assert_eq!(r.m.state(), State::Listening);
}

#[test]
fn machine_survives_out_of_order_and_unknown_inputs() {
    let mut r = Rig::new();
    r.input(Input::Mark {
        name: "nope".into(),
    });
    r.input(Input::TtsAudio {
        utterance: TurnId(9),
        seq: 3,
        audio: vec![1; 7],
    });
    r.input(Input::TtsDone {
        utterance: TurnId(9),
        seq: 3,
    });
    r.input(Input::AgentDone { turn: TurnId(42) });
    r.input(Input::SttFinal {
        text: "hello".into(),
        confidence: 1.0,
        continued: false,
    });
    assert_eq!(r.m.state(), State::Listening);
}

/// When in the quiet the machine sent `action`, in ms of silence (frames of 20 ms).
fn quiet_until(r: &mut Rig, action: &Action, max_ms: u64) -> Option<u64> {
    for i in 1..=max_ms / 20 {
        if r.caller(20, QUIET).contains(action) {
            return Some(i * 20);
        }
    }
    None
}

#[test]
fn stt_hears_of_each_pause_and_of_speech_after_it() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.caller(600, SPEECH);
    assert_eq!(
        quiet_until(&mut r, &Action::SttPause, 400),
        Some(100),
        "speculate_after"
    );
    let acts = r.caller(200, SPEECH);
    assert_eq!(count(&acts, |a| *a == Action::SttResume), 1);
    assert_eq!(count(&acts, |a| *a == Action::SttPause), 0);
    let acts = r.caller(520, QUIET);
    assert_eq!(count(&acts, |a| *a == Action::SttPause), 1, "one per pause");
    assert_eq!(count(&acts, |a| *a == Action::SttFlush), 1);
    // Nothing of the kind while the bot is thinking.
    let acts = r.caller(400, QUIET);
    assert!(!acts.contains(&Action::SttPause) && !acts.contains(&Action::SttResume));
}

#[test]
fn a_complete_request_heard_at_the_pause_ends_the_turn_sooner() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.caller(1200, SPEECH);
    assert_eq!(quiet_until(&mut r, &Action::SttPause, 200), Some(100));
    r.caller(60, QUIET);
    // The speculative decode comes back 160 ms into the silence.
    let acts = r.input(Input::SttTentative {
        text: "I was charged twice this month.".into(),
    });
    assert!(!acts.contains(&Action::SttFlush), "not under 250 ms");
    assert_eq!(
        quiet_until(&mut r, &Action::SttFlush, 500),
        Some(100),
        "ends at 260 ms of silence, not 500"
    );
    // A decode that comes back after the complete-request wait ends the turn at once.
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.caller(1200, SPEECH);
    r.caller(400, QUIET);
    let acts = r.input(Input::SttTentative {
        text: "Can you send me my invoice?".into(),
    });
    assert_eq!(count(&acts, |a| *a == Action::SttFlush), 1);
}

#[test]
fn words_that_trail_off_at_the_pause_keep_listening() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.caller(1200, SPEECH);
    r.caller(200, QUIET);
    let acts = r.input(Input::SttTentative {
        text: "I was charged for the".into(),
    });
    assert!(!acts.contains(&Action::SttFlush));
    let at = quiet_until(&mut r, &Action::SttFlush, 1500).expect("ends in the end");
    assert_eq!(200 + at, 1200, "endpoint_silence_unfinished");
}

#[test]
fn a_transcript_from_before_the_caller_went_on_does_not_end_the_turn_early() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.caller(800, SPEECH);
    r.caller(200, QUIET);
    r.caller(400, SPEECH); // went on: the decode of the first part is void
    r.input(Input::SttTentative {
        text: "I was charged twice.".into(),
    });
    let at = quiet_until(&mut r, &Action::SttFlush, 800).expect("turn ends");
    assert_eq!(
        at, 500,
        "the plain endpoint: no transcript of this pause yet"
    );
}

#[test]
fn without_speculation_stt_is_never_told_of_pauses() {
    let mut r = Rig::with(MachineConfig {
        speculate_after: Duration::ZERO,
        playout_lead_frames: 0,
        ..MachineConfig::default()
    });
    r.input(Input::Start { greeting: None });
    r.caller(600, SPEECH);
    let acts = r.caller(600, QUIET);
    assert!(!acts.contains(&Action::SttPause));
    assert!(acts.contains(&Action::SttFlush));
}

#[test]
fn a_streaming_recognisers_interim_text_in_a_pause_does_not_end_the_turn_early() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.caller(1200, SPEECH);
    r.caller(300, QUIET);
    let acts = r.input(Input::SttPartial {
        text: "I was charged twice.".into(),
    });
    assert!(
        !acts.contains(&Action::SttFlush),
        "an interim partial may lag the audio"
    );
    assert_eq!(
        quiet_until(&mut r, &Action::SttFlush, 400),
        Some(200),
        "the plain 500 ms"
    );
}
