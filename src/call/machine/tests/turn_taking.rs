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
