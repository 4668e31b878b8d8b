//! Barge-in: clear and cancel at once, keep only what was heard; coughs and backchannels are not interruptions; a re-spoken reply's interruption keeps all that was heard.

use super::*;

#[test]
fn barge_in_clears_cancels_and_keeps_only_heard_text() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "charged twice");
    r.agent_says(
        turn,
        &[
            "One two three four five six seven eight nine ten.",
            "Eleven twelve.",
        ],
        100,
    );
    // Play 1.2 s with marks echoed: the first sentence's first chunks are heard.
    for _ in 0..60 {
        let acts = r.advance(20);
        for a in acts {
            if let Action::Mark(m) = a {
                r.input(Input::Mark { name: m });
            }
        }
    }
    let speech_start = r.now;
    let acts = r.caller(300, SPEECH);
    let clear_at = r
        .log
        .iter()
        .find(|(_, a)| *a == Action::Clear)
        .map(|(t, _)| *t)
        .expect("clear sent");
    let reaction = (r.t0 + clear_at) - speech_start;
    assert!(
        reaction <= Duration::from_millis(200),
        "barge-in took {reaction:?}"
    );
    assert!(acts.contains(&Action::CancelSpeech { utterance: turn }));
    assert_eq!(r.m.state(), State::CallerSpeaking);
    r.caller(600, QUIET);
    let acts = r.input(Input::SttFinal {
        text: "wait, which card was it".into(),
        confidence: 0.9,
        continued: false,
    });
    let heard = acts.iter().find_map(|a| match a {
        Action::RecordHeard { turn: t, heard, .. } if *t == turn => Some(heard.clone()),
        _ => None,
    });
    let heard = heard.expect("heard text recorded");
    assert!(
        !heard.is_empty() && heard.split_whitespace().count() < 10,
        "heard {heard:?}"
    );
    assert!("One two three four five six seven eight nine ten.".starts_with(&heard));
    assert!(started_turn(&acts).is_some());
}

#[test]
fn cough_over_the_bot_does_not_interrupt() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "hello");
    r.agent_says(turn, &["A fairly long answer that keeps going."], 50);
    r.advance(200);
    let acts = r.caller(100, SPEECH);
    assert!(!acts.contains(&Action::Clear));
    r.caller(600, QUIET);
    assert_eq!(r.m.state(), State::Speaking);
}

#[test]
fn backchannel_is_a_false_interruption_and_the_rest_is_respoken() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "charged twice");
    r.agent_says(
        turn,
        &["I see a duplicate charge from March twelfth for forty dollars."],
        40,
    );
    // The caller has heard the start of it.
    r.play_for(300);
    r.caller(300, SPEECH);
    r.caller(600, QUIET);
    let acts = r.input(Input::SttFinal {
        text: "uh-huh".into(),
        confidence: 0.9,
        continued: false,
    });
    assert!(started_turn(&acts).is_none());
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::Measure(Measure::FalseInterruption { .. }))));
    let respoken = acts.iter().find_map(|a| match a {
        Action::Speak { text, .. } => Some(text.clone()),
        _ => None,
    });
    assert!(respoken
        .expect("rest re-spoken")
        .ends_with("forty dollars."));
    assert!(!acts.iter().any(|a| matches!(a, Action::RecordHeard { .. })));
}

/// A reply cut by a false interruption is re-spoken from where the caller stopped
/// hearing it; a real barge-in on that re-spoken rest records, for the reply's own
/// turn, everything heard of it: the part before the "uh-huh" and the part after.
#[test]
fn a_real_barge_in_on_a_respoken_reply_keeps_all_that_was_heard() {
    let mut r = Rig::new();
    let (turn, reply, heard_before) = r.respoken_rest();
    // The caller really talks over the re-spoken rest.
    let acts = r.talk_over(400, "no wait, which card");
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
