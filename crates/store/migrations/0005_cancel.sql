-- A cancel asked of a run that another process drives: that process sees it and stops the run.
ALTER TABLE weft_runs ADD COLUMN cancel_requested BIGINT;
