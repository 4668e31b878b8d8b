//! Call end: transfer and hangup after the last reply is heard, and the silent caller let go with a goodbye.

use super::*;

#[test]
fn escalation_transfers_after_the_reply_is_heard() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "I want a person");
    r.input(Input::AgentEscalate {
        turn,
        brief: "Caller wants a person about a refund.".into(),
    });
    let acts = r.agent_says(turn, &["Sure, one moment."], 10);
    assert!(
        !acts.iter().any(|a| matches!(a, Action::Transfer { .. })),
        "not before it is heard"
    );
    let acts = r.play_all();
    assert!(acts.contains(&Action::Transfer {
        brief: "Caller wants a person about a refund.".into()
    }));
    assert_eq!(r.m.state(), State::Ended);
}

#[test]
fn goodbye_hangs_up_and_silent_caller_is_let_go() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "that's all, bye");
    r.input(Input::AgentEndCall { turn });
    r.agent_says(turn, &["Thanks for calling, goodbye."], 5);
    assert!(r.play_all().contains(&Action::Hangup));

    // A silent line: two re-prompts, then the closing silent turn, whose goodbye is
    // heard in full before the hang-up (the agents' goodbye comes on that turn).
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let mut silences = 0;
    for _ in 0..3 {
        let acts = r.advance(8_000);
        assert!(
            !acts.contains(&Action::Hangup),
            "never hang up on a re-prompt timer"
        );
        let (turn, input) = started_turn(&acts).expect("a silent turn");
        assert_eq!(input, CallerInput::Silence);
        silences += 1;
        let line = if silences < 3 {
            "Are you still there?"
        } else {
            "I'll let you go now. Goodbye!"
        };
        r.agent_says(turn, &[line], 2);
        let played = r.play_all();
        if silences < 3 {
            assert!(!played.contains(&Action::Hangup), "re-prompt {silences}");
        } else {
            let last_media = played.iter().rposition(|a| matches!(a, Action::Media(_)));
            let hangup = played.iter().position(|a| *a == Action::Hangup);
            assert!(
                matches!((last_media, hangup), (Some(m), Some(h)) if h > m),
                "the goodbye plays, then the hang-up: {played:?}"
            );
        }
    }
    assert_eq!(r.m.state(), State::Ended);

    // The closing turn ends the call even when the agent says nothing.
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    for n in 0..3 {
        let acts = r.advance(8_000);
        let (turn, _) = started_turn(&acts).expect("a silent turn");
        if n < 2 {
            r.agent_says(turn, &["Are you still there?"], 2);
            r.play_all();
        } else {
            let mut acts = r.input(Input::AgentDone { turn });
            acts.extend(r.play_all());
            assert!(acts.contains(&Action::Hangup), "{acts:?}");
        }
    }
}

#[test]
fn closing_clears_the_reply_says_one_line_and_hangs_up_deaf_to_the_caller() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "I was charged twice");
    r.agent_says(turn, &["I can see two charges on your account."], 40);
    r.play_for(200);
    let acts = r.input(Input::Close {
        text: "Sorry, we have to end the call now.".into(),
    });
    assert!(acts.contains(&Action::Clear), "{acts:?}");
    assert!(acts.contains(&Action::CancelSpeech { utterance: turn }));
    let heard = acts.iter().find_map(|a| match a {
        Action::RecordHeard { turn: t, heard, .. } => Some((*t, heard.clone())),
        _ => None,
    });
    let (heard_turn, heard) = heard.expect("the cut reply keeps what was heard");
    assert_eq!(heard_turn, turn);
    assert!(!heard.is_empty() && heard.len() < "I can see two charges on your account.".len());
    let closing = acts
        .iter()
        .find_map(|a| match a {
            Action::Speak {
                utterance, text, ..
            } => Some((*utterance, text.clone())),
            _ => None,
        })
        .expect("closing line spoken");
    assert_eq!(closing.1, "Sorry, we have to end the call now.");
    // The caller talks and presses keys: ignored.
    let acts = r.caller(400, SPEECH);
    assert_eq!(
        count(&acts, |a| matches!(
            a,
            Action::Clear | Action::StartTurn { .. }
        )),
        0
    );
    r.input(Input::Dtmf { digit: '0' });
    r.input(Input::TtsAudio {
        utterance: closing.0,
        seq: 0,
        audio: vec![0x42; 20 * FRAME_BYTES],
    });
    r.input(Input::TtsDone {
        utterance: closing.0,
        seq: 0,
    });
    let acts = r.play_all();
    assert_eq!(r.logged(|a| matches!(a, Action::StartTurn { .. })), 1);
    assert!(acts.contains(&Action::Hangup), "{acts:?}");
    assert_eq!(r.m.state(), State::Ended);
}

#[test]
fn closing_lets_an_escalation_reply_play_and_the_transfer_go_ahead() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "I want a person");
    r.input(Input::AgentEscalate {
        turn,
        brief: "Caller wants a person.".into(),
    });
    r.agent_says(turn, &["Sure, one moment."], 10);
    r.play_for(60);
    let acts = r.input(Input::Close {
        text: "Sorry, we have to end the call now.".into(),
    });
    assert!(
        !acts
            .iter()
            .any(|a| matches!(a, Action::Clear | Action::Speak { .. })),
        "{acts:?}"
    );
    let acts = r.play_all();
    assert!(acts.contains(&Action::Transfer {
        brief: "Caller wants a person.".into()
    }));
}

#[test]
fn closing_a_respoken_reply_keeps_all_that_was_heard_of_its_turn() {
    let mut r = Rig::new();
    let (turn, reply, heard_before) = r.respoken_rest();
    r.play_for(400);
    let acts = r.input(Input::Close {
        text: "Sorry, we have to end the call now.".into(),
    });
    let (heard_turn, heard) = acts
        .iter()
        .find_map(|a| match a {
            Action::RecordHeard { turn, heard, .. } => Some((*turn, heard.clone())),
            _ => None,
        })
        .expect("heard text recorded");
    assert_eq!(heard_turn, turn, "recorded for the reply's own turn");
    assert!(
        heard.starts_with(&heard_before) && heard.len() > heard_before.len(),
        "heard {heard:?}, before the false interruption {heard_before:?}"
    );
    assert!(reply.starts_with(&heard), "heard {heard:?}");
}
