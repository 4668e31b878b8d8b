//! Deterministic tests of every transition of the call state machine. Time is a
//! plain `Instant` advanced by hand; audio frames carry a scripted VAD probability.

use std::time::{Duration, Instant};

use super::*;
use crate::audio::frames::FRAME_BYTES;

const SPEECH: f32 = 0.9;
const QUIET: f32 = 0.05;

struct Rig {
    m: Machine,
    t0: Instant,
    now: Instant,
    log: Vec<(Duration, Action)>,
}

impl Rig {
    fn new() -> Self {
        Self::with(MachineConfig {
            playout_lead_frames: 0,
            ..MachineConfig::default()
        })
    }

    fn with(cfg: MachineConfig) -> Self {
        let t0 = Instant::now();
        Self {
            m: Machine::new(cfg),
            t0,
            now: t0,
            log: Vec::new(),
        }
    }

    /// How many logged actions match `f`.
    fn logged(&self, f: impl Fn(&Action) -> bool) -> usize {
        self.log.iter().filter(|(_, a)| f(a)).count()
    }

    fn drain(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        while let Some(a) = self.m.poll_action() {
            self.log.push((self.now - self.t0, a.clone()));
            out.push(a);
        }
        out
    }

    fn input(&mut self, i: Input) -> Vec<Action> {
        self.m.handle(self.now, i);
        self.drain()
    }

    /// Advance time by `ms`, firing timers on the way, echoing nothing.
    fn advance(&mut self, ms: u64) -> Vec<Action> {
        let end = self.now + Duration::from_millis(ms);
        let mut out = Vec::new();
        while let Some(t) = self.m.poll_timeout(self.now).filter(|t| *t <= end) {
            self.now = self.now.max(t);
            self.m.handle_timeout(self.now);
            out.extend(self.drain());
        }
        self.now = end;
        out
    }

    /// Feed `ms` of caller audio at VAD probability `p`, one frame per 20 ms, letting
    /// timers (playout) run in between.
    fn caller(&mut self, ms: u64, p: f32) -> Vec<Action> {
        let mut out = Vec::new();
        for _ in 0..ms / 20 {
            out.extend(self.advance(20));
            out.extend(self.input(Input::Audio {
                pcm16k: vec![0.0; 320],
                speech_prob: p,
            }));
        }
        out
    }

    /// The caller speaks for 600 ms, then is quiet long enough to end the turn.
    fn speak_and_pause(&mut self) -> Vec<Action> {
        let mut acts = self.caller(600, SPEECH);
        acts.extend(self.caller(600, QUIET));
        acts
    }

    /// Play out everything, echoing each mark as the carrier would.
    fn play_all(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        for _ in 0..10_000 {
            let acts = self.advance(20);
            let marks: Vec<String> = acts
                .iter()
                .filter_map(|a| {
                    if let Action::Mark(m) = a {
                        Some(m.clone())
                    } else {
                        None
                    }
                })
                .collect();
            out.extend(acts);
            for m in marks {
                out.extend(self.input(Input::Mark { name: m }));
            }
            if self.m.poll_timeout(self.now).is_none() || self.m.state() == State::Listening {
                break;
            }
        }
        out
    }

    /// Play out for `ms`, echoing each mark as the carrier would.
    fn play_for(&mut self, ms: u64) -> Vec<Action> {
        let mut out = Vec::new();
        for _ in 0..ms / 20 {
            let acts = self.advance(20);
            for a in &acts {
                if let Action::Mark(m) = a {
                    out.extend(self.input(Input::Mark { name: m.clone() }));
                }
            }
            out.extend(acts);
        }
        out
    }

    /// Let the bot play for `heard_ms`, then talk over it for 300 ms and pause until
    /// the turn ends; STT answers `text`.
    fn talk_over(&mut self, heard_ms: u64, text: &str) -> Vec<Action> {
        self.play_for(heard_ms);
        self.caller(300, SPEECH);
        self.caller(600, QUIET);
        self.input(Input::SttFinal {
            text: text.into(),
            confidence: 0.9,
            continued: false,
        })
    }

    /// The agent of `turn` says `sentences`; each is synthesized to `frames` frames.
    fn agent_says(&mut self, turn: u64, sentences: &[&str], frames: usize) -> Vec<Action> {
        let mut out = Vec::new();
        for s in sentences {
            out.extend(self.input(Input::AgentSay {
                turn,
                agent: "billing".into(),
                text: s.to_string(),
            }));
        }
        out.extend(self.input(Input::AgentDone { turn }));
        for seq in 0..sentences.len() as u32 {
            out.extend(self.input(Input::TtsAudio {
                utterance: turn,
                seq,
                audio: vec![0x42; frames * FRAME_BYTES],
            }));
            out.extend(self.input(Input::TtsDone {
                utterance: turn,
                seq,
            }));
        }
        out
    }
}

fn started_turn(actions: &[Action]) -> Option<(u64, CallerInput)> {
    actions.iter().find_map(|a| match a {
        Action::StartTurn { turn, input } => Some((*turn, input.clone())),
        _ => None,
    })
}

fn count(actions: &[Action], f: impl Fn(&Action) -> bool) -> usize {
    actions.iter().filter(|a| f(a)).count()
}

/// Caller says something and STT returns `text`; returns the started turn.
fn caller_turn(r: &mut Rig, text: &str) -> u64 {
    let acts = r.speak_and_pause();
    assert!(
        acts.contains(&Action::SttFlush),
        "endpoint reached: {acts:?}"
    );
    let acts = r.input(Input::SttFinal {
        text: text.into(),
        confidence: 0.9,
        continued: false,
    });
    started_turn(&acts).expect("turn started").0
}

#[test]
fn greeting_is_spoken_then_listening_with_reprompt() {
    let mut r = Rig::new();
    let acts = r.input(Input::Start {
        greeting: Some(("triage".into(), "Hi, how can I help?".into())),
    });
    assert_eq!(
        acts,
        vec![Action::Speak {
            utterance: 1,
            seq: 0,
            text: "Hi, how can I help?".into()
        }]
    );
    r.input(Input::TtsAudio {
        utterance: 1,
        seq: 0,
        audio: vec![1; 3 * FRAME_BYTES],
    });
    r.input(Input::TtsDone {
        utterance: 1,
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
            1,
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
fn machine_survives_out_of_order_and_unknown_inputs() {
    let mut r = Rig::new();
    r.input(Input::Mark {
        name: "nope".into(),
    });
    r.input(Input::TtsAudio {
        utterance: 9,
        seq: 3,
        audio: vec![1; 7],
    });
    r.input(Input::TtsDone {
        utterance: 9,
        seq: 3,
    });
    r.input(Input::AgentDone { turn: 42 });
    r.input(Input::SttFinal {
        text: "hello".into(),
        confidence: 1.0,
        continued: false,
    });
    assert_eq!(r.m.state(), State::Listening);
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

/// A reply cut by a false interruption is re-spoken from where the caller stopped
/// hearing it; a real barge-in on that re-spoken rest records, for the reply's own
/// turn, everything heard of it: the part before the "uh-huh" and the part after.
#[test]
fn a_real_barge_in_on_a_respoken_reply_keeps_all_that_was_heard() {
    let mut r = Rig::new();
    r.input(Input::Start { greeting: None });
    let turn = caller_turn(&mut r, "charged twice");
    let reply = "One two three four five six seven eight nine ten eleven twelve thirteen fourteen.";
    r.agent_says(turn, &[reply], 60);
    let acts = r.talk_over(400, "uh-huh");
    let (respoken_turn, rest) = acts
        .iter()
        .find_map(|a| match a {
            Action::Speak {
                utterance, text, ..
            } => Some((*utterance, text.clone())),
            _ => None,
        })
        .expect("the unheard rest is re-spoken");
    assert!(reply.ends_with(&rest), "{rest:?}");
    let heard_before = reply[..reply.len() - rest.len()].trim().to_string();
    assert!(!heard_before.is_empty());
    // The rest plays for a while, then the caller really talks over it.
    r.input(Input::TtsAudio {
        utterance: respoken_turn,
        seq: 0,
        audio: vec![0x42; 60 * FRAME_BYTES],
    });
    r.input(Input::TtsDone {
        utterance: respoken_turn,
        seq: 0,
    });
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
