//! A caller who goes on: pauses inside a turn, continued transcripts, turns retracted before their reply was heard, and transcripts that come late or never.

use super::*;

#[test]
fn speech_while_thinking_merges_into_one_turn() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "I was charged twice");
    // The caller goes on before any reply audio.
    let acts = r.caller(300, SPEECH);
    assert!(acts.contains(&Action::CancelTurn { turn }));
    assert!(acts.contains(&Action::RetractTurn { turn }));
    r.caller(600, QUIET);
    let acts = r.input(Input::SttFinal {
        text: "for my subscription".into(),
        confidence: 0.9,
        continued: false,
    });
    let (_, input) = started_turn(&acts).expect("merged turn");
    assert_eq!(
        input,
        CallerInput::Speech {
            text: "I was charged twice for my subscription".into(),
            confidence: 0.9
        }
    );
    // Stale output of the cancelled turn is ignored.
    let acts = r.input(Input::AgentSay {
        turn,
        agent: "billing".into(),
        text: "stale".into(),
    });
    assert!(acts.is_empty());
}

#[test]
fn a_pause_inside_a_turn_before_its_transcript_keeps_both_halves() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let acts = r.speak_and_pause();
    assert!(acts.contains(&Action::SttFlush));
    // The caller goes on before the first half's transcript is back: STT is told the
    // new audio continues the flushed utterance.
    let acts = r.caller(400, SPEECH);
    assert!(started_turn(&acts).is_none());
    let cont = acts.iter().position(|a| *a == Action::SttContinue);
    let audio = acts.iter().position(|a| matches!(a, Action::SttAudio(_)));
    assert!(cont.expect("continue") < audio.expect("audio"), "{acts:?}");
    assert_eq!(r.m.state(), State::CallerSpeaking);
    let acts = r.input(Input::SttFinal {
        text: "Thank you, that helps.".into(),
        confidence: 0.9,
        continued: false,
    });
    assert!(started_turn(&acts).is_none(), "first half waits: {acts:?}");
    let acts = r.caller(600, QUIET);
    assert!(acts.contains(&Action::SttFlush));
    let acts = r.input(Input::SttFinal {
        text: "Goodbye.".into(),
        confidence: 0.9,
        continued: false,
    });
    let (_, input) = started_turn(&acts).expect("one turn");
    assert_eq!(
        input,
        CallerInput::Speech {
            text: "Thank you, that helps. Goodbye.".into(),
            confidence: 0.9
        }
    );
    assert_eq!(r.logged(|a| matches!(a, Action::StartTurn { .. })), 1);
}

#[test]
fn a_continued_transcript_replaces_the_halves_even_when_finals_come_late() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.speak_and_pause();
    r.caller(400, SPEECH);
    // The second half ends before STT answered for the first.
    let acts = r.caller(600, QUIET);
    assert!(acts.contains(&Action::SttFlush));
    let acts = r.input(Input::SttFinal {
        text: "Oh.".into(),
        confidence: 0.5,
        continued: false,
    });
    assert!(
        started_turn(&acts).is_none(),
        "the second final is still due"
    );
    let acts = r.input(Input::SttFinal {
        text: "Oh, sorry, wrong number. Bye.".into(),
        confidence: 0.9,
        continued: true,
    });
    let (_, input) = started_turn(&acts).expect("one turn");
    assert_eq!(
        input,
        CallerInput::Speech {
            text: "Oh, sorry, wrong number. Bye.".into(),
            confidence: 0.9
        }
    );
}

#[test]
fn going_on_before_the_reply_is_heard_retracts_and_continues_the_turn() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "I was charged");
    let acts = r.caller(300, SPEECH);
    assert!(acts.contains(&Action::RetractTurn { turn }));
    assert!(acts.contains(&Action::SttContinue));
    r.caller(600, QUIET);
    let acts = r.input(Input::SttFinal {
        text: "I was charged twice".into(),
        confidence: 0.9,
        continued: true,
    });
    let (_, input) = started_turn(&acts).expect("merged turn");
    assert_eq!(
        input,
        CallerInput::Speech {
            text: "I was charged twice".into(),
            confidence: 0.9
        }
    );
}

fn final_input(text: &str, continued: bool) -> Input {
    Input::SttFinal {
        text: text.into(),
        confidence: 0.9,
        continued,
    }
}

#[test]
fn a_short_yes_after_a_pause_is_one_answer_not_a_false_interruption() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "I was charged twice");
    r.agent_says(turn, &["Shall I refund it?"], 10);
    r.play_all();
    assert_eq!(r.m.state(), State::Listening);
    // "Yeah." [pause] "sure" — the pause ends the turn, the caller goes on.
    r.caller(300, SPEECH);
    r.caller(600, QUIET);
    let acts = r.caller(300, SPEECH);
    assert!(acts.contains(&Action::SttContinue));
    assert!(
        !acts
            .iter()
            .any(|a| matches!(a, Action::Measure(Measure::BargeIn { .. }))),
        "nothing was interrupted: {acts:?}"
    );
    r.input(final_input("Yeah.", false));
    r.caller(600, QUIET);
    let acts = r.input(final_input("Yeah, sure.", true));
    let (_, input) = started_turn(&acts).expect("the answer is a turn of its own");
    assert_eq!(
        input,
        CallerInput::Speech {
            text: "Yeah, sure.".into(),
            confidence: 0.9
        }
    );
}

#[test]
fn an_empty_continued_transcript_keeps_the_first_half() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.speak_and_pause();
    r.caller(300, SPEECH);
    r.input(final_input("I was charged twice", false));
    r.caller(600, QUIET);
    // The joined decode failed.
    let acts = r.input(final_input("", true));
    let (_, input) = started_turn(&acts).expect("turn");
    assert_eq!(
        input,
        CallerInput::Speech {
            text: "I was charged twice".into(),
            confidence: 0.9
        }
    );
}

#[test]
fn digits_survive_a_retracted_turn_that_the_caller_continues() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.caller(600, SPEECH);
    for d in ['1', '0', '0', '3', '#'] {
        r.input(Input::Dtmf { digit: d });
    }
    r.caller(600, QUIET);
    let acts = r.input(final_input("My account number is", false));
    let (turn, _) = started_turn(&acts).expect("turn");
    // The caller goes on before any reply: retracted, re-transcribed as one.
    let acts = r.caller(300, SPEECH);
    assert!(acts.contains(&Action::RetractTurn { turn }));
    r.caller(600, QUIET);
    let acts = r.input(final_input(
        "My account number is, and I was charged twice",
        true,
    ));
    let (_, input) = started_turn(&acts).expect("merged turn");
    assert_eq!(
        input,
        CallerInput::Speech {
            text: "My account number is, and I was charged twice 1003".into(),
            confidence: 0.9
        }
    );
}

#[test]
fn a_transcript_owed_for_a_turn_given_up_on_is_dropped() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.speak_and_pause();
    r.advance(15_000);
    assert_eq!(r.m.state(), State::Listening);
    // The caller tries again; then the stale transcript arrives, then the real one.
    r.speak_and_pause();
    let acts = r.input(final_input("stale words", false));
    assert!(started_turn(&acts).is_none(), "{acts:?}");
    let acts = r.input(final_input("I need a refund", false));
    let (_, input) = started_turn(&acts).expect("turn");
    assert_eq!(
        input,
        CallerInput::Speech {
            text: "I need a refund".into(),
            confidence: 0.9
        }
    );
}

#[test]
fn the_transcript_deadline_is_cleared_when_the_caller_is_still_talking() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    r.speak_and_pause();
    r.caller(300, SPEECH);
    r.input(final_input("first half", false));
    // Still talking 20 s later: no timer is overdue (a past deadline would spin).
    r.caller(20_000, SPEECH);
    assert!(r.m.poll_timeout(r.now).is_none_or(|t| t > r.now));
}

#[test]
fn going_on_while_the_reply_is_still_being_synthesized_continues_the_turn() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "My bill looks wrong.");
    // The agent has answered in text, but no audio has gone out yet.
    r.input(Input::AgentSay {
        turn,
        agent: "billing".into(),
        text: "Your latest bill is paid.".into(),
    });
    let acts = r.caller(300, SPEECH);
    assert!(acts.contains(&Action::CancelSpeech { utterance: turn }));
    assert!(acts.contains(&Action::RetractTurn { turn }));
    assert!(acts.contains(&Action::SttContinue));
    r.caller(600, QUIET);
    let acts = r.input(final_input(
        "My bill looks wrong. It says I owe two hundred dollars.",
        true,
    ));
    assert!(!acts.iter().any(|a| matches!(a, Action::RecordHeard { .. })));
    let (_, input) = started_turn(&acts).expect("one turn");
    assert_eq!(
        input,
        CallerInput::Speech {
            text: "My bill looks wrong. It says I owe two hundred dollars.".into(),
            confidence: 0.9
        }
    );
}

#[test]
fn a_transcript_that_never_comes_does_not_hang_the_call() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let acts = r.speak_and_pause();
    assert!(acts.contains(&Action::SttFlush));
    assert_eq!(r.m.state(), State::Thinking);
    // Speech recognition lost the turn (or its Flush): after stt_timeout, listen again.
    r.advance(14_000);
    assert_eq!(r.m.state(), State::Thinking);
    r.advance(1_000);
    assert_eq!(r.m.state(), State::Listening);
    // A transcript arriving after that starts nothing.
    let acts = r.input(Input::SttFinal {
        text: "late words".into(),
        confidence: 0.9,
        continued: false,
    });
    assert!(started_turn(&acts).is_none());
    // The caller is re-prompted as after any silence.
    let acts = r.advance(8_000);
    assert!(matches!(
        started_turn(&acts),
        Some((_, CallerInput::Silence))
    ));
}
