-- Call records: one row per media stream (one phone call).
CREATE TABLE calls (
    call_sid      TEXT PRIMARY KEY,
    stream_sid    TEXT NOT NULL,
    account_sid   TEXT NOT NULL DEFAULT '',
    from_number   TEXT NOT NULL DEFAULT '',
    to_number     TEXT NOT NULL DEFAULT '',
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    frames_in     INTEGER NOT NULL DEFAULT 0,
    frames_out    INTEGER NOT NULL DEFAULT 0,
    errors        INTEGER NOT NULL DEFAULT 0,
    -- JSON array of agent names in the order they became active
    agents        TEXT NOT NULL DEFAULT '[]',
    -- JSON array of {speaker, agent, text, interrupted}
    transcript    TEXT NOT NULL DEFAULT '[]',
    -- completed | escalated | hangup (NULL while the call is live)
    outcome       TEXT,
    -- full call trace (handoffs, tool calls, latencies) as JSON
    trace         TEXT NOT NULL DEFAULT '{}',
    -- path of the caller-audio recording, if any
    recording     TEXT
);
CREATE INDEX calls_started_at ON calls (started_at DESC);
