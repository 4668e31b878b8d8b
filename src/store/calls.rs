//! Call records: one row per phone call, created when the media stream starts and
//! finished when it ends. Served as JSON at `GET /calls/{callSid}`.

use serde::{Deserialize, Serialize};

use super::{Row, Store, StoreError};

/// One line of the call transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptLine {
    /// `caller` or `agent`.
    pub speaker: String,
    /// The agent that spoke (agent lines only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub text: String,
    /// The caller talked over this line; `text` is what they actually heard.
    #[serde(default)]
    pub interrupted: bool,
}

/// What is known when a call starts.
#[derive(Debug, Clone, Default)]
pub struct NewCall {
    pub call_sid: String,
    pub stream_sid: String,
    pub account_sid: String,
    pub from: String,
    pub to: String,
    /// How the call's audio arrives (codec and transport).
    pub media: CallMedia,
}

/// How a call's audio reaches the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallMedia {
    /// `pcmu` (G.711 μ-law, 8 kHz: carriers) or `opus` (48 kHz: the browser softphone).
    pub codec: String,
    /// `twilio-media-streams` or `browser-websocket`.
    pub transport: String,
}

impl CallMedia {
    /// A carrier's Media Streams socket: μ-law at 8 kHz.
    pub fn twilio() -> Self {
        Self {
            codec: "pcmu".into(),
            transport: "twilio-media-streams".into(),
        }
    }

    /// The browser softphone (`/phone`): Opus over the page's websocket.
    pub fn browser_opus() -> Self {
        Self {
            codec: "opus".into(),
            transport: "browser-websocket".into(),
        }
    }
}

impl Default for CallMedia {
    fn default() -> Self {
        Self::twilio()
    }
}

/// Everything recorded about one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    pub call_sid: String,
    pub stream_sid: String,
    pub account_sid: String,
    pub from: String,
    pub to: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub frames_in: u64,
    pub frames_out: u64,
    pub errors: u64,
    /// Agent names in the order they became active.
    pub agents: Vec<String>,
    pub transcript: Vec<TranscriptLine>,
    /// How the call ended (`completed`, `escalated`, `hangup`, …), as the call
    /// decided it; the store only keeps the word.
    pub outcome: Option<String>,
    /// The full call trace (handoffs, tool calls, latencies).
    pub trace: serde_json::Value,
    pub recording: Option<String>,
    /// `pcmu`, `opus`; absent on records older than the field.
    #[serde(default)]
    pub codec: Option<String>,
    /// `twilio-media-streams`, `browser-websocket`; absent on older records.
    #[serde(default)]
    pub transport: Option<String>,
}

/// The final state of a call, written when it ends (and as progress while it runs).
#[derive(Debug, Clone, Default)]
pub struct CallUpdate {
    pub frames_in: u64,
    pub frames_out: u64,
    pub errors: u64,
    pub agents: Vec<String>,
    pub transcript: Vec<TranscriptLine>,
    pub trace: serde_json::Value,
    pub recording: Option<String>,
    /// Set when the call has ended: how it ended, as a word (`completed`, …).
    pub outcome: Option<String>,
}

/// Now in UTC as RFC 3339 with milliseconds, always the same width
/// (`2026-03-12T09:30:00.000Z`), so the text sorts as the time does.
pub fn now_rfc3339() -> String {
    const FORMAT: &[time::format_description::FormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(FORMAT)
        .unwrap_or_default()
}

impl Store {
    /// Record the start of a call. A call SID that already has a record is refused with
    /// [`StoreError::CallExists`]: a replayed or second stream never restarts or
    /// overwrites a call (one record per CallSid, across replicas sharing the store).
    pub async fn call_started(&self, call: NewCall) -> Result<(), StoreError> {
        let instance = self.instance().id.clone();
        self.run(move |db| {
            let n = db.execute(
                "INSERT INTO calls (call_sid, stream_sid, account_sid, from_number, to_number, started_at, instance, codec, transport)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT(call_sid) DO NOTHING",
                &[&call.call_sid, &call.stream_sid, &call.account_sid, &call.from, &call.to, &now_rfc3339(), &instance, &call.media.codec, &call.media.transport],
            )?;
            if n == 0 {
                return Err(StoreError::CallExists(call.call_sid));
            }
            Ok(())
        })
        .await
    }

    /// Write the call's progress; with an outcome, also stamp the end time.
    /// Transcript and trace are masked ([`crate::redact::global`]) before they are written.
    pub async fn call_updated(
        &self,
        call_sid: &str,
        mut update: CallUpdate,
    ) -> Result<(), StoreError> {
        let call_sid = call_sid.to_string();
        // Masking walks the whole transcript and trace: on the blocking pool, and
        // before taking the connection (other calls' writes do not wait for it).
        let update = tokio::task::spawn_blocking(move || {
            let redactor = crate::redact::global();
            // Across lines too: a card keyed or said over two turns.
            let mut texts: Vec<String> = update.transcript.iter().map(|l| l.text.clone()).collect();
            crate::redact::mask_across(&mut texts);
            for (line, text) in update.transcript.iter_mut().zip(texts) {
                line.text = redactor.redact(&text).into_owned();
            }
            redactor.redact_json(&mut update.trace);
            update
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        self.run(move |db| {
            let n = db.execute(
                "UPDATE calls SET frames_in = $2, frames_out = $3, errors = $4, agents = $5,
                    transcript = $6, trace = $7, recording = COALESCE($8, recording),
                    outcome = COALESCE($9, outcome),
                    ended_at = CASE WHEN CAST($9 AS TEXT) IS NULL THEN ended_at ELSE $10 END
                 WHERE call_sid = $1",
                &[
                    &call_sid,
                    &(update.frames_in as i64),
                    &(update.frames_out as i64),
                    &(update.errors as i64),
                    &to_json(&update.agents),
                    &to_json(&update.transcript),
                    &update.trace.to_string(),
                    &update.recording,
                    &update.outcome,
                    &now_rfc3339(),
                ],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(call_sid));
            }
            Ok(())
        })
        .await
    }

    /// Recordings deleted (retention): records that linked them stop doing so.
    pub async fn recordings_deleted(&self, paths: Vec<String>) -> Result<(), StoreError> {
        self.run(move |db| {
            for p in &paths {
                db.execute(
                    "UPDATE calls SET recording = NULL WHERE recording = $1",
                    &[p],
                )?;
            }
            Ok(())
        })
        .await
    }

    /// One call by SID.
    pub async fn call(&self, call_sid: &str) -> Result<Option<CallRecord>, StoreError> {
        let call_sid = call_sid.to_string();
        self.run(move |db| {
            db.query_opt(&format!("{SELECT} WHERE call_sid = $1"), &[&call_sid])?
                .map(|r| read_row(&r))
                .transpose()
        })
        .await
    }

    /// The most recent calls, newest first.
    pub async fn recent_calls(&self, limit: usize) -> Result<Vec<CallRecord>, StoreError> {
        self.run(move |db| {
            db.query(
                &format!("{SELECT} ORDER BY started_at DESC, call_sid DESC LIMIT $1"),
                &[&(limit as i64)],
            )?
            .iter()
            .map(read_row)
            .collect()
        })
        .await
    }
}

const SELECT: &str = "SELECT call_sid, stream_sid, account_sid, from_number, to_number, started_at,
    ended_at, frames_in, frames_out, errors, agents, transcript, outcome, trace, recording, codec, transport FROM calls";

fn read_row(r: &Row) -> Result<CallRecord, StoreError> {
    let corrupt =
        |what: &str, e: &dyn std::fmt::Display| StoreError::Corrupt(format!("{what}: {e}"));
    let agents: String = r.get(10)?;
    let count = |i: usize| r.get::<i64>(i).map(|n| n.max(0) as u64);
    let transcript: String = r.get(11)?;
    let outcome: Option<String> = r.get(12)?;
    let trace: String = r.get(13)?;
    Ok(CallRecord {
        call_sid: r.get(0)?,
        stream_sid: r.get(1)?,
        account_sid: r.get(2)?,
        from: r.get(3)?,
        to: r.get(4)?,
        started_at: r.get(5)?,
        ended_at: r.get(6)?,
        frames_in: count(7)?,
        frames_out: count(8)?,
        errors: count(9)?,
        agents: serde_json::from_str(&agents).map_err(|e| corrupt("agents", &e))?,
        transcript: serde_json::from_str(&transcript).map_err(|e| corrupt("transcript", &e))?,
        outcome,
        trace: serde_json::from_str(&trace).map_err(|e| corrupt("trace", &e))?,
        recording: r.get(14)?,
        codec: r.get(15)?,
        transport: r.get(16)?,
    })
}

/// JSON text of a value that always serializes (lists of strings and plain structs).
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_call(sid: &str) -> NewCall {
        NewCall {
            call_sid: sid.into(),
            stream_sid: "MZ1".into(),
            account_sid: "AC1".into(),
            from: "+15551230001".into(),
            to: "+18005550000".into(),
            media: CallMedia::default(),
        }
    }

    #[tokio::test]
    async fn call_lifecycle_round_trips() {
        let store = Store::open_in_memory().unwrap();
        store.call_started(new_call("CA1")).await.unwrap();
        let live = store.call("CA1").await.unwrap().unwrap();
        assert_eq!(live.outcome, None);
        assert!(live.ended_at.is_none());
        assert_eq!(live.from, "+15551230001");

        let update = CallUpdate {
            frames_in: 50,
            frames_out: 100,
            errors: 2,
            agents: vec!["triage".into(), "billing".into()],
            transcript: vec![TranscriptLine {
                speaker: "agent".into(),
                agent: Some("triage".into()),
                text: "Hello".into(),
                interrupted: true,
            }],
            trace: serde_json::json!({"handoffs": []}),
            recording: Some("r.wav".into()),
            outcome: Some("escalated".into()),
        };
        store.call_updated("CA1", update).await.unwrap();
        let done = store.call("CA1").await.unwrap().unwrap();
        assert_eq!(done.outcome.as_deref(), Some("escalated"));
        assert!(done.ended_at.is_some());
        assert_eq!(done.agents, vec!["triage", "billing"]);
        assert!(done.transcript[0].interrupted);
        assert_eq!(done.frames_out, 100);
        let json = serde_json::to_value(&done).unwrap();
        assert_eq!(json["callSid"], "CA1");
        assert_eq!(json["outcome"], "escalated");
        assert_eq!(json["transcript"][0]["speaker"], "agent");
    }

    #[tokio::test]
    async fn a_second_start_never_restarts_a_call() {
        let store = Store::open_in_memory().unwrap();
        store.call_started(new_call("CA1")).await.unwrap();
        let update = CallUpdate {
            transcript: vec![TranscriptLine {
                speaker: "caller".into(),
                agent: None,
                text: "[keypad 4111111111111111#]".into(),
                interrupted: false,
            }],
            trace: serde_json::json!({"turns": [{"text": "card 4111 1111 1111 1111"}]}),
            outcome: Some("completed".into()),
            ..Default::default()
        };
        store.call_updated("CA1", update).await.unwrap();
        let err = store.call_started(new_call("CA1")).await.unwrap_err();
        assert!(matches!(err, StoreError::CallExists(_)), "{err}");
        let done = store.call("CA1").await.unwrap().unwrap();
        assert_eq!(done.outcome.as_deref(), Some("completed"), "record kept");
        assert_eq!(done.transcript[0].text, "[keypad ************1111#]");
        assert!(!done.trace.to_string().contains("1111 1111 1111 1111"));
    }

    #[tokio::test]
    async fn unknown_call_is_none_and_update_is_not_found() {
        let store = Store::open_in_memory().unwrap();
        assert!(store.call("CAnope").await.unwrap().is_none());
        let err = store
            .call_updated("CAnope", CallUpdate::default())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)));
    }

    #[tokio::test]
    async fn recent_calls_newest_first() {
        let store = Store::open_in_memory().unwrap();
        for sid in ["CA1", "CA2", "CA3"] {
            store.call_started(new_call(sid)).await.unwrap();
        }
        let calls = store.recent_calls(2).await.unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].call_sid, "CA3");
    }

    #[test]
    fn file_store_migrates_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/db.sqlite");
        Store::open(&path).unwrap();
        // Re-opening applies nothing twice.
        Store::open(&path).unwrap();
    }
}
