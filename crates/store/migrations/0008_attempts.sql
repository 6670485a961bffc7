-- The most memory a block run's latest attempt held at once, and the attempts before it that
-- did not succeed (retries, and what a retried run's block had failed with): a block run's
-- own row holds only its latest attempt.
ALTER TABLE weft_block_runs ADD COLUMN peak_memory BIGINT;
CREATE TABLE IF NOT EXISTS weft_block_attempts (
    run_id      TEXT NOT NULL,
    run_key     TEXT NOT NULL,
    attempt     BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    status      TEXT NOT NULL,
    error       TEXT,
    peak_memory BIGINT,
    PRIMARY KEY (run_id, run_key, attempt)
);
