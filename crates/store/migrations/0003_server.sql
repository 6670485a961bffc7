-- A retried webhook with the same Idempotency-Key gets the run the first call started.
CREATE TABLE IF NOT EXISTS weft_idempotency (
    pipeline    TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    key         TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (pipeline, trigger, key)
);
