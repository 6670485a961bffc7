-- weft state store, portable between SQLite and Postgres. Times are Unix milliseconds.
CREATE TABLE IF NOT EXISTS weft_runs (
    id          TEXT PRIMARY KEY,
    pipeline    TEXT NOT NULL,
    status      TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    variables   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    error       TEXT
);
CREATE INDEX IF NOT EXISTS weft_runs_pipeline ON weft_runs (pipeline, created_at);

CREATE TABLE IF NOT EXISTS weft_block_runs (
    run_id      TEXT NOT NULL,
    block       TEXT NOT NULL,
    position    INTEGER NOT NULL,
    status      TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    rows_out    BIGINT,
    bytes_out   BIGINT,
    output      TEXT,
    error       TEXT,
    PRIMARY KEY (run_id, block)
);

CREATE TABLE IF NOT EXISTS weft_logs (
    run_id  TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    block   TEXT,
    attempt INTEGER,
    at      BIGINT NOT NULL,
    level   TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
