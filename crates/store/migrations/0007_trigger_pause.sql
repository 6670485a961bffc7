-- A trigger paused from the UI or CLI: schedules fire no runs (their ticks still move, so a
-- resume does not make up the paused ones) and API calls are refused, until it is resumed.
ALTER TABLE weft_triggers ADD COLUMN paused_at BIGINT;
