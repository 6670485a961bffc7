-- Block runs are keyed by block run key: the block name, or for a child of a fan-out the
-- name with its index path (`clean[3]`, `clean[3.0]`). Existing rows keep their block name as
-- key. `label` names a child (its `child_key` value); a sensor waiting for its next poke
-- keeps when (`wake_at`) and since when it pokes (`first_at`).
CREATE TABLE weft_block_runs_v2 (
    run_id      TEXT NOT NULL,
    run_key     TEXT NOT NULL,
    block       TEXT NOT NULL,
    position    INTEGER NOT NULL,
    label       TEXT,
    status      TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    rows_out    BIGINT,
    bytes_out   BIGINT,
    output      TEXT,
    error       TEXT,
    wake_at     BIGINT,
    first_at    BIGINT,
    PRIMARY KEY (run_id, run_key)
);
INSERT INTO weft_block_runs_v2 (run_id, run_key, block, position, status, attempt, started_at, finished_at, rows_out, bytes_out, output, error)
    SELECT run_id, block, block, position, status, attempt, started_at, finished_at, rows_out, bytes_out, output, error FROM weft_block_runs;
DROP TABLE weft_block_runs;
ALTER TABLE weft_block_runs_v2 RENAME TO weft_block_runs;
CREATE INDEX IF NOT EXISTS weft_block_runs_block ON weft_block_runs (run_id, block);
