-- Triggers follow pipelines/<name>/triggers.yaml (the file is the truth; the store keeps what
-- must survive restarts): API token hashes and the last schedule tick fired.
CREATE TABLE IF NOT EXISTS weft_triggers (
    pipeline    TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    spec        TEXT NOT NULL,
    token_hash  TEXT,
    last_tick   BIGINT,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (pipeline, name)
);
