//! The keypad: digits until `#` or the timeout, digits joining the utterance they were typed with or the turn in flight.

use super::*;

#[test]
fn dtmf_digits_are_collected_until_hash_or_timeout() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    for d in ['4', '4', '1'] {
        assert!(started_turn(&r.input(Input::Dtmf { digit: d })).is_none());
    }
    let acts = r.input(Input::Dtmf { digit: '#' });
    assert_eq!(
        started_turn(&acts).map(|t| t.1),
        Some(CallerInput::Dtmf {
            digits: "441".into()
        })
    );
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.input(Input::Dtmf { digit: '0' });
    let acts = r.advance(1_600);
    assert_eq!(
        started_turn(&acts).map(|t| t.1),
        Some(CallerInput::Dtmf { digits: "0".into() })
    );
}

#[test]
fn digits_typed_while_speech_is_transcribed_join_that_utterance() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let acts = r.speak_and_pause();
    assert!(acts.contains(&Action::SttFlush));
    for d in ['1', '0', '0', '3', '#'] {
        let acts = r.input(Input::Dtmf { digit: d });
        assert!(
            started_turn(&acts).is_none(),
            "no turn before the transcript"
        );
    }
    let acts = r.input(Input::SttFinal {
        text: "My account number is.".into(),
        confidence: 0.9,
        continued: false,
    });
    assert_eq!(
        started_turn(&acts).map(|t| t.1),
        Some(CallerInput::Speech {
            text: "My account number is 1003".into(),
            confidence: 0.9
        })
    );
    // Digits held for an utterance that turned out silent become a turn of their own.
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.speak_and_pause();
    r.input(Input::Dtmf { digit: '0' });
    r.input(Input::Dtmf { digit: '#' });
    let acts = r.input(Input::SttFinal {
        text: String::new(),
        confidence: 0.0,
        continued: false,
    });
    assert_eq!(
        started_turn(&acts).map(|t| t.1),
        Some(CallerInput::Dtmf { digits: "0".into() })
    );
}

#[test]
fn keys_pressed_while_thinking_join_the_turn_in_flight() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "my account number is");
    assert_eq!(r.m.state(), State::Thinking);
    let mut acts = Vec::new();
    for d in "1003#".chars() {
        acts.extend(r.input(Input::Dtmf { digit: d }));
    }
    assert!(acts.contains(&Action::CancelTurn { turn }), "{acts:?}");
    assert!(acts.contains(&Action::RetractTurn { turn }), "{acts:?}");
    let (new_turn, input) = started_turn(&acts).expect("the joined turn");
    assert!(new_turn > turn);
    assert_eq!(
        input,
        CallerInput::Speech {
            text: "my account number is 1003".into(),
            confidence: 0.9
        }
    );
    // The old turn's reply, if it comes late, is ignored; the new one is spoken.
    r.agent_says(turn, &["Stale reply."], 2);
    let played = r.agent_says(new_turn, &["Thanks, I found your account."], 2);
    let all: Vec<Action> = played.into_iter().chain(r.play_all()).collect();
    assert!(all
        .iter()
        .any(|a| matches!(a, Action::Speak { utterance, .. } if *utterance == new_turn)));
    assert!(!all
        .iter()
        .any(|a| matches!(a, Action::Speak { utterance, .. } if *utterance == turn)));
}
