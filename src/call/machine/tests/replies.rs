//! Replies: chunked with marks, back to listening once heard (or once marks time out).

use super::*;

#[test]
fn reply_is_chunked_with_marks_and_returns_to_listening_when_heard() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "charged twice");
    let acts = r.agent_says(
        turn,
        &[
            "I can see two charges on March twelfth.",
            "Shall I refund one?",
        ],
        25,
    );
    assert_eq!(count(&acts, |a| matches!(a, Action::Speak { .. })), 2);
    assert_eq!(r.m.state(), State::Speaking);
    r.play_all();
    assert_eq!(r.logged(|a| matches!(a, Action::Media(_))), 50);
    // 25 frames per sentence in chunks of 10 → 3 marks per sentence.
    assert_eq!(r.logged(|a| matches!(a, Action::Mark(_))), 6);
    assert_eq!(r.m.state(), State::Listening);
    let measured = r.log.iter().find_map(|(_, a)| match a {
        Action::Measure(Measure::Turn {
            first_frame,
            stt_final,
            first_audio,
            ..
        }) => Some((*first_frame, *stt_final, *first_audio)),
        _ => None,
    });
    let (first_frame, stt_final, first_audio) = measured.expect("turn latency measured");
    assert!(first_audio.is_some(), "first synthesized audio is timed");
    assert!(first_frame >= stt_final);
}

#[test]
fn a_carrier_that_never_echoes_marks_still_gets_back_to_listening() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "charged twice");
    r.agent_says(turn, &["I can see two charges."], 25);
    // 25 frames = 500 ms of audio; no mark ever comes back.
    r.advance(600);
    assert_eq!(r.m.state(), State::Speaking, "still waiting for the echoes");
    r.advance(MachineConfig::default().mark_timeout.as_millis() as u64);
    assert_eq!(r.m.state(), State::Listening);
    assert_eq!(r.m.heard().1, "I can see two charges.");
}
