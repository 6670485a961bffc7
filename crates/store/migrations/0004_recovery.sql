-- Which process drives a run, so a restarted server can tell an orphaned run from a live one.
ALTER TABLE weft_runs ADD COLUMN owner TEXT;
CREATE INDEX IF NOT EXISTS weft_runs_status ON weft_runs (status, created_at);

-- Every process that runs pipelines (a `weft serve`, a `weft run`), with a heartbeat.
CREATE TABLE IF NOT EXISTS weft_instances (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
