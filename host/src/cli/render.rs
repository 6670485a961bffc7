//! Shared rendering: durations, timestamps, summary tables, run lookup.

use std::time::Duration;

use comfy_table::{presets, Table};
use time::OffsetDateTime;
use weft_schedule::{BlockSummary, RunSummary};
use weft_store::{BlockRunRecord, RunRecord, Store};

use crate::error::CliError;

/// `12ms`, `3.40s`, `2m05s`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.2}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    }
}

/// Unix ms as `2026-11-25 14:03:12` (UTC).
pub fn timestamp(ms: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

fn short(s: &str, max: usize) -> String {
    let first = s.lines().next().unwrap_or("");
    if first.chars().count() > max {
        format!("{}…", first.chars().take(max).collect::<String>())
    } else {
        first.to_string()
    }
}

/// The end-of-run table: block, status, attempts, rows, duration, error.
pub fn summary_table(blocks: &[BlockSummary]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(["block", "status", "attempts", "rows", "duration", "error"]);
    for b in blocks {
        t.add_row([
            b.block.clone(),
            b.status.to_string(),
            b.attempts.to_string(),
            b.rows.map(|r| r.to_string()).unwrap_or_default(),
            if b.attempts > 0 {
                duration(b.duration)
            } else {
                String::new()
            },
            b.error.as_deref().map(|e| short(e, 90)).unwrap_or_default(),
        ]);
    }
    t.to_string()
}

/// The run summary as JSON.
pub fn summary_json(s: &RunSummary) -> String {
    let blocks: Vec<serde_json::Value> = s
        .blocks
        .iter()
        .map(|b| {
            serde_json::json!({
                "block": b.block,
                "status": b.status,
                "attempts": b.attempts,
                "rows": b.rows,
                "bytes": b.bytes,
                "duration_ms": b.duration.as_millis() as u64,
                "error": b.error,
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "run_id": s.run_id,
        "status": s.status,
        "blocks": blocks,
    }))
    .unwrap_or_default()
}

/// The recorded blocks of a run as a table.
pub fn block_runs_table(blocks: &[BlockRunRecord]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header([
        "block", "status", "attempt", "rows", "bytes", "duration", "error",
    ]);
    for b in blocks {
        t.add_row([
            b.block.clone(),
            b.status.to_string(),
            b.attempt.to_string(),
            b.rows.map(|r| r.to_string()).unwrap_or_default(),
            b.bytes.map(|r| r.to_string()).unwrap_or_default(),
            match (b.started_at, b.finished_at) {
                (Some(s), Some(f)) => duration(Duration::from_millis((f - s).max(0) as u64)),
                _ => String::new(),
            },
            b.error.as_deref().map(|e| short(e, 90)).unwrap_or_default(),
        ]);
    }
    t.to_string()
}

/// A run by id, or the newest run for `latest`.
pub async fn resolve_run(store: &Store, id: &str) -> Result<RunRecord, CliError> {
    if id == "latest" {
        return store
            .list_runs(None, 1)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                CliError::Usage("there are no runs yet; start one with `weft run PIPELINE`".into())
            });
    }
    Ok(store.run(id).await?)
}
