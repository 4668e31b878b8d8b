//! Carrying out what the machine and the agents ask: audio, marks and clears to the
//! carrier, audio to STT, turns to the agent link, sentences to TTS, heard text and
//! retractions to the conversation (by turn id), and the transfer to a person, which
//! runs beside the loop.

use super::*;

impl<K: Sink<WsFrame> + Unpin> Session<K> {
    pub(super) fn on_agent_event(&mut self, turn: TurnId, event: RunEvent) {
        match event {
            RunEvent::Say { agent, text } => self.feed(Input::AgentSay { turn, agent, text }),
            RunEvent::Escalate { reason, brief } => {
                info!(%reason, "escalating to a person");
                self.report.escalation_brief = Some(brief.clone());
                self.feed(Input::AgentEscalate { turn, brief });
            }
            RunEvent::EndCall => self.feed(Input::AgentEndCall { turn }),
            RunEvent::Handoff(h) => {
                if !h.refused {
                    let trigger = serde_json::to_value(h.trigger).ok();
                    let trigger = trigger
                        .as_ref()
                        .and_then(|t| t.as_str())
                        .unwrap_or("unknown");
                    self.deps
                        .metrics
                        .handoffs
                        .with_label_values(&[&h.from, &h.to, trigger])
                        .inc();
                }
            }
            RunEvent::ModelSwitched(s) => {
                self.deps
                    .metrics
                    .model_fallbacks
                    .with_label_values(&[&s.agent, &s.from, &s.to, &s.reason])
                    .inc();
            }
            RunEvent::AgentChanged { .. } | RunEvent::ToolCall(_) => {}
        }
    }

    /// Carry out every action the machine has queued.
    pub(super) async fn dispatch(&mut self) {
        while let Some(action) = self.machine.poll_action() {
            match action {
                Action::Media(payload) => {
                    self.report.frames_out += 1;
                    self.deps.metrics.frames_out.inc();
                    if let Some(audio) = self.audio.as_mut() {
                        audio.bot_sent(&payload);
                    }
                    self.send_msg(|sid| Outbound::Media {
                        stream_sid: sid,
                        payload,
                    })
                    .await;
                }
                Action::Mark(name) => {
                    self.report.marks_sent += 1;
                    self.send_msg(|sid| Outbound::Mark {
                        stream_sid: sid,
                        name,
                    })
                    .await;
                }
                Action::Clear => {
                    if let Some(audio) = self.audio.as_mut() {
                        audio.bot_cleared();
                    }
                    self.send_msg(|sid| Outbound::Clear { stream_sid: sid })
                        .await
                }
                Action::SttAudio(pcm) => self.stt_send(SttInput::Audio(pcm)),
                Action::SttFlush => self.stt_send(SttInput::Flush),
                Action::SttContinue => self.stt_send(SttInput::Continue),
                Action::SttPause => self.stt_send(SttInput::Pause),
                Action::SttResume => self.stt_send(SttInput::Resume),
                Action::StartTurn { turn, input } => match self.agent.as_mut() {
                    Some(link) => link.start_turn(turn, input),
                    None => {
                        if !matches!(input, CallerInput::Silence) {
                            debug!(?input, "no agent runtime: caller turn ignored");
                        }
                        self.feed(Input::AgentDone { turn });
                    }
                },
                Action::CancelTurn { turn } => {
                    if let Some(link) = self.agent.as_mut() {
                        link.cancel(turn);
                    }
                }
                Action::Speak {
                    utterance,
                    seq,
                    text,
                } => self.tts.speak(SpeakJob {
                    utterance,
                    seq,
                    text,
                }),
                Action::CancelSpeech { utterance } => self.tts.cancel_through(utterance),
                Action::RecordHeard { turn, heard, .. } => {
                    if let Some(link) = self.agent.as_mut() {
                        link.record_heard(turn, heard);
                    }
                }
                Action::RetractTurn { turn } => {
                    if let Some(link) = self.agent.as_mut() {
                        link.retract(turn);
                    }
                }
                Action::Transfer { brief } => {
                    self.transfer(brief);
                }
                // After our closing line the call ends as shut down (interrupted).
                Action::Hangup if self.closing_deadline.is_some() => self.end = Some(End::Shutdown),
                Action::Hangup => self.end = Some(End::HungUp),
                Action::Measure(m) => self.report.measure(&self.deps.metrics, m),
            }
        }
    }

    /// Hands the call to a person: the brief is saved, then the Twilio REST call (with
    /// its retries) runs beside the loop, which goes on reading and pacing frames; its
    /// result comes back through [`Session::on_transferred`].
    pub(super) fn transfer(&mut self, brief: String) {
        self.report.escalation_brief = Some(brief);
        // The whisper route reads the brief from the record when the person answers.
        self.save_progress();
        let Some(t) = self.deps.voice.transfer.clone() else {
            info!("no transfer number configured: a call back was arranged");
            self.end = Some(End::HungUp);
            return;
        };
        let call_sid = self
            .start
            .as_ref()
            .map(|s| s.call_sid.clone())
            .unwrap_or_default();
        let saved = self.writer.as_ref().map(RecordWriter::flushed);
        self.transferring = Some(tokio::spawn(async move {
            if let Some(saved) = saved {
                saved.await;
            }
            t.transfer(&call_sid)
                .await
                .map(|()| t.number.clone())
                .map_err(|e| e.to_string())
        }));
    }

    /// The transfer's result: the person's number, or why it failed (the call ends).
    pub(super) fn on_transferred(&mut self, result: Result<String, String>) {
        match result {
            Ok(number) => {
                info!(to = %number, "call transferred to a person");
                self.report.transferred_to = Some(number);
                // Twilio ends the stream (stop) once the new TwiML runs.
            }
            Err(e) => {
                warn!(error = %e, "transfer failed; ending the call");
                self.end = Some(End::HungUp);
            }
        }
    }

    pub(super) async fn send_msg(&mut self, msg: impl FnOnce(String) -> Outbound) {
        let Some(sid) = self.start.as_ref().map(|s| s.stream_sid.clone()) else {
            return;
        };
        self.send(WsFrame::Text(telephony::encode(&msg(sid)))).await;
    }

    /// Send one frame; a socket that fails or takes longer than [`SEND_TIMEOUT`]
    /// (a half-open peer whose buffers are full) is taken for lost.
    pub(super) async fn send(&mut self, frame: WsFrame) {
        if !self.socket_ok {
            return;
        }
        match tokio::time::timeout(SEND_TIMEOUT, self.out.send(frame)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => self.socket_ok = false,
            Err(_) => {
                warn!("the carrier's socket took too long to take a frame; treating it as lost");
                self.socket_ok = false;
            }
        }
    }
}
