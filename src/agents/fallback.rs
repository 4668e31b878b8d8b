//! A chain of chat models for one agent: the primary, then each `[model] fallback` in
//! turn, behind a circuit breaker per model.
//!
//! A model that fails before its reply is committed — it cannot connect, answers an
//! HTTP error, sends no first event within its first-event timeout (a streamed tool
//! call then has the model's total timeout), sends a malformed stream, or drops the
//! connection before any text — is skipped and the next model
//! serves the same request (the same messages: the caller's words and the history are
//! untouched). The reply is committed at its first text delta or at its finish; tool
//! calls are held until then, so a stream cut in the middle of a tool call also
//! falls through. After the commit, an error ends the reply as it does without a
//! chain (the runner apologises and offers a person).
//!
//! Every switch is reported in the stream as [`ChatEvent::Switched`] (the runner
//! traces it and the call counts it in Prometheus). The breaker (per server and model,
//! shared by every agent's chain) opens after `failures_to_open` failures in a row: while open, requests go
//! straight to the next model, without waiting on the failing one; after `cooldown`
//! one request probes it again (half-open), and a success closes it.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use tokio::time::Instant;

use crate::agents::model::{ChatEvent, ChatModel, ChatRequest, ChatStream, ModelError};
pub use crate::breaker::{Breaker, BreakerConfig};

/// One model of a chain.
pub struct Link {
    pub model: Arc<dyn ChatModel>,
    /// From the request to the model's first event; longer counts as a failure.
    pub first_event_timeout: Duration,
    /// Shared by every chain that uses the same server and model: one agent's
    /// failure spares the next agent the wait.
    pub breaker: Arc<Breaker>,
}

/// The primary model and its fallbacks, tried in order.
pub struct FallbackModel {
    links: Vec<Link>,
}

impl FallbackModel {
    /// `links[0]` is the primary.
    pub fn new(links: Vec<Link>) -> Self {
        Self { links }
    }

    pub fn links(&self) -> &[Link] {
        &self.links
    }
}

/// Why a model was skipped, as a short word for traces and metric labels.
fn reason(e: &ModelError) -> &'static str {
    match e {
        ModelError::Timeout(_) => "timeout",
        ModelError::Http(_) => "connect",
        ModelError::Status { .. } => "status",
        ModelError::Protocol(_) => "malformed",
        ModelError::Config(_) => "config",
        ModelError::Other(_) => "error",
    }
}

/// Start `model` on `request` and wait for its first event, at most `timeout`.
async fn first_event(
    model: &dyn ChatModel,
    request: ChatRequest,
    timeout: std::time::Duration,
) -> Result<(Option<Result<ChatEvent, ModelError>>, ChatStream), ModelError> {
    let opened = tokio::time::timeout(timeout, async {
        let mut stream = model.stream(request).await?;
        let first = stream.next().await;
        Ok((first, stream))
    })
    .await;
    opened.unwrap_or_else(|_| Err(ModelError::Timeout(timeout.as_millis() as u64)))
}

/// Read from the first event up to the reply's commit point (the first text delta or
/// the finish), holding tool-call deltas; the events read and the rest of the stream.
/// No deadline of its own: a streaming tool call takes as long as the model's total
/// timeout allows.
async fn up_to_commit(
    first: Option<Result<ChatEvent, ModelError>>,
    mut stream: ChatStream,
) -> Result<(Vec<ChatEvent>, ChatStream), ModelError> {
    let mut held = Vec::new();
    let mut next = first;
    loop {
        match next {
            Some(Ok(ev)) => {
                let commit = matches!(ev, ChatEvent::TextDelta(_) | ChatEvent::Finish(_));
                held.push(ev);
                if commit {
                    return Ok((held, stream));
                }
            }
            Some(Err(e)) => return Err(e),
            None if held.is_empty() => {
                return Err(ModelError::Protocol(
                    "the stream ended with no event".into(),
                ))
            }
            None => {
                return Err(ModelError::Protocol(
                    "the stream ended mid tool call".into(),
                ))
            }
        }
        next = stream.next().await;
    }
}

#[async_trait::async_trait]
impl ChatModel for FallbackModel {
    fn name(&self) -> String {
        let names: Vec<String> = self.links.iter().map(|l| l.model.name()).collect();
        names.join(" > ")
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, ModelError> {
        let mut switches: Vec<ChatEvent> = Vec::new();
        let mut last_error = None;
        let n = self.links.len();
        for (i, link) in self.links.iter().enumerate() {
            let now = Instant::now();
            let is_last = i + 1 == n;
            // The last model is always tried: an open breaker there would only
            // trade an answer for silence.
            if !is_last && !link.breaker.allow(now) {
                switches.push(ChatEvent::Switched {
                    from: link.model.name(),
                    to: self.links[i + 1].model.name(),
                    reason: "breaker_open".into(),
                });
                continue;
            }
            let attempt = match first_event(
                link.model.as_ref(),
                request.clone(),
                link.first_event_timeout,
            )
            .await
            {
                Ok((first, rest)) => up_to_commit(first, rest).await,
                Err(e) => Err(e),
            };
            match attempt {
                Ok((held, rest)) => {
                    link.breaker.success();
                    let head = switches.into_iter().chain(held).map(Ok);
                    return Ok(stream::iter(head).chain(rest).boxed());
                }
                Err(e) => {
                    link.breaker.failure(Instant::now());
                    tracing::warn!(model = %link.model.name(), error = %e, "chat model failed before replying");
                    if let Some(next) = self.links.get(i + 1) {
                        switches.push(ChatEvent::Switched {
                            from: link.model.name(),
                            to: next.model.name(),
                            reason: reason(&e).into(),
                        });
                    }
                    last_error = Some(e);
                }
            }
        }
        let error = last_error.unwrap_or_else(|| ModelError::Config("an empty model chain".into()));
        if switches.is_empty() {
            return Err(error);
        }
        // Every model failed: the switches are still traced and counted, then the error.
        let events = switches.into_iter().map(Ok).chain([Err(error)]);
        Ok(stream::iter(events).boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::model::FinishReason;
    use futures::stream::BoxStream;

    /// A model that fails in a chosen way, or answers `text`.
    struct Fake {
        name: &'static str,
        behaviour: Behaviour,
        calls: std::sync::atomic::AtomicUsize,
    }

    #[derive(Clone, Copy)]
    enum Behaviour {
        Answer,
        Refuse,
        Hang,
        CutMidToolCall,
        CutAfterText,
    }

    impl Fake {
        fn new(name: &'static str, behaviour: Behaviour) -> Arc<Self> {
            Arc::new(Self {
                name,
                behaviour,
                calls: Default::default(),
            })
        }
        fn calls(&self) -> usize {
            self.calls.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    #[async_trait::async_trait]
    impl ChatModel for Fake {
        fn name(&self) -> String {
            self.name.into()
        }
        async fn stream(&self, _: ChatRequest) -> Result<ChatStream, ModelError> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let events: BoxStream<'static, Result<ChatEvent, ModelError>> = match self.behaviour {
                Behaviour::Answer => stream::iter(vec![
                    Ok(ChatEvent::TextDelta(format!("{} here.", self.name))),
                    Ok(ChatEvent::Finish(FinishReason::Stop)),
                ])
                .boxed(),
                Behaviour::Refuse => return Err(ModelError::Http("connection refused".into())),
                Behaviour::Hang => stream::pending().boxed(),
                Behaviour::CutMidToolCall => stream::iter(vec![
                    Ok(ChatEvent::ToolCallDelta {
                        index: 0,
                        id: Some("c1".into()),
                        name: Some("issue_refund".into()),
                        arguments: "{\"charge".into(),
                    }),
                    Err(ModelError::Http("connection reset".into())),
                ])
                .boxed(),
                Behaviour::CutAfterText => stream::iter(vec![
                    Ok(ChatEvent::TextDelta("Let me ".into())),
                    Err(ModelError::Http("connection reset".into())),
                ])
                .boxed(),
            };
            Ok(events)
        }
    }

    fn chain(models: &[Arc<Fake>]) -> FallbackModel {
        FallbackModel::new(
            models
                .iter()
                .map(|m| Link {
                    model: m.clone(),
                    first_event_timeout: Duration::from_millis(2000),
                    breaker: Arc::new(Breaker::new(BreakerConfig::default())),
                })
                .collect(),
        )
    }

    fn request() -> ChatRequest {
        ChatRequest {
            agent: "billing".into(),
            model: String::new(),
            messages: vec![],
            tools: vec![],
            temperature: None,
        }
    }

    async fn events(m: &FallbackModel) -> Vec<Result<ChatEvent, String>> {
        let s = m.stream(request()).await.expect("a stream");
        s.map(|r| r.map_err(|e| e.to_string())).collect().await
    }

    fn switched(from: &str, to: &str, reason: &str) -> Result<ChatEvent, String> {
        Ok(ChatEvent::Switched {
            from: from.into(),
            to: to.into(),
            reason: reason.into(),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_primary_falls_through_then_is_skipped_until_the_cooldown() {
        let primary = Fake::new("primary", Behaviour::Refuse);
        let fallback = Fake::new("fallback", Behaviour::Answer);
        let m = chain(&[primary.clone(), fallback.clone()]);
        let first = events(&m).await;
        assert_eq!(first[0], switched("primary", "fallback", "connect"));
        assert_eq!(first[1], Ok(ChatEvent::TextDelta("fallback here.".into())));
        // Open: the primary is not asked again until the cooldown.
        let second = events(&m).await;
        assert_eq!(second[0], switched("primary", "fallback", "breaker_open"));
        assert_eq!(primary.calls(), 1);
        tokio::time::advance(Duration::from_secs(31)).await;
        events(&m).await;
        assert_eq!(primary.calls(), 2, "one probe after the cooldown");
        assert_eq!(fallback.calls(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_primary_is_given_up_after_its_first_event_timeout() {
        let m = chain(&[
            Fake::new("primary", Behaviour::Hang),
            Fake::new("fallback", Behaviour::Answer),
        ]);
        let t0 = Instant::now();
        let got = events(&m).await;
        assert_eq!(t0.elapsed(), Duration::from_millis(2000));
        assert_eq!(got[0], switched("primary", "fallback", "timeout"));
    }

    #[tokio::test]
    async fn a_stream_cut_before_its_reply_is_committed_falls_through() {
        let m = chain(&[
            Fake::new("primary", Behaviour::CutMidToolCall),
            Fake::new("fallback", Behaviour::Answer),
        ]);
        let got = events(&m).await;
        assert_eq!(got[0], switched("primary", "fallback", "connect"));
        assert!(
            !got.iter()
                .any(|e| matches!(e, Ok(ChatEvent::ToolCallDelta { .. }))),
            "the cut tool call is never passed on: {got:?}"
        );
    }

    #[tokio::test]
    async fn after_the_commit_an_error_is_passed_on() {
        let fallback = Fake::new("fallback", Behaviour::Answer);
        let m = chain(&[
            Fake::new("primary", Behaviour::CutAfterText),
            fallback.clone(),
        ]);
        let got = events(&m).await;
        assert_eq!(got[0], Ok(ChatEvent::TextDelta("Let me ".into())));
        assert!(got[1].is_err());
        assert_eq!(fallback.calls(), 0);
    }

    #[tokio::test]
    async fn when_every_model_fails_the_switches_are_reported_then_the_last_error() {
        let m = chain(&[
            Fake::new("a", Behaviour::Refuse),
            Fake::new("b", Behaviour::Refuse),
        ]);
        let got = events(&m).await;
        assert_eq!(got[0], switched("a", "b", "connect"));
        assert!(
            got[1].as_ref().is_err_and(|e| e.contains("refused")),
            "{got:?}"
        );
        assert_eq!(m.name(), "a > b");
        let single = chain(&[Fake::new("a", Behaviour::Refuse)]);
        assert!(matches!(
            single.stream(request()).await,
            Err(ModelError::Http(_))
        ));
    }
}
