-- Which server process serves each live call, and when each process was last seen
-- alive: calls left open by a process that died (crash, kill -9, lost node) are
-- closed as `interrupted` by the next process that starts or sweeps.
ALTER TABLE calls ADD COLUMN instance TEXT;
CREATE TABLE instances (
    id         TEXT PRIMARY KEY,
    host       TEXT NOT NULL,
    started_at TEXT NOT NULL,
    -- unix seconds
    last_seen  BIGINT NOT NULL
);
CREATE INDEX calls_open ON calls (ended_at) WHERE ended_at IS NULL;
