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

/// The end-of-run table: block, status, attempts, rows, duration, error. The children of a
/// fan-out share one row with counts per status.
pub fn summary_table(blocks: &[BlockSummary]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(["block", "status", "attempts", "rows", "duration", "error"]);
    for group in fan_groups(blocks, |b| b.block.as_str()) {
        if let [b] = group {
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
            continue;
        }
        let rows: u64 = group.iter().filter_map(|b| b.rows).sum();
        t.add_row([
            format!("{} ({} children)", block_of(&group[0].block), group.len()),
            status_counts(group.iter().map(|b| b.status)),
            group
                .iter()
                .map(|b| b.attempts)
                .max()
                .unwrap_or(0)
                .to_string(),
            rows.to_string(),
            duration(group.iter().map(|b| b.duration).max().unwrap_or_default()),
            first_error(group.iter().map(|b| (b.block.as_str(), b.error.as_deref()))),
        ]);
    }
    t.to_string()
}

/// The block of a block run key (`clean[3]` → `clean`).
pub fn block_of(key: &str) -> &str {
    key.split('[').next().unwrap_or(key)
}

/// Runs of consecutive items of the same block when they are children (keys with `[`); other
/// items stand alone.
pub fn fan_groups<T>(items: &[T], key: impl Fn(&T) -> &str) -> Vec<&[T]> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=items.len() {
        let split = i == items.len() || {
            let (a, b) = (key(&items[start]), key(&items[i]));
            !(a.contains('[') && b.contains('[') && block_of(a) == block_of(b))
        };
        if split {
            groups.push(&items[start..i]);
            start = i;
        }
    }
    groups
}

/// `9 success, 1 failed`.
pub fn status_counts(statuses: impl Iterator<Item = weft_store::BlockStatus>) -> String {
    let mut counts: Vec<(weft_store::BlockStatus, usize)> = Vec::new();
    for s in statuses {
        match counts.iter_mut().find(|(c, _)| *c == s) {
            Some((_, n)) => *n += 1,
            None => counts.push((s, 1)),
        }
    }
    counts
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn first_error<'a>(errors: impl Iterator<Item = (&'a str, Option<&'a str>)>) -> String {
    errors
        .filter_map(|(k, e)| e.map(|e| format!("{k}: {}", short(e, 80))))
        .next()
        .unwrap_or_default()
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

/// The recorded blocks of a run as a table; a fan-out's children share one row with counts
/// per status (`expand` lists every child).
pub fn block_runs_table(blocks: &[BlockRunRecord], expand: bool) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header([
        "block", "status", "attempt", "rows", "bytes", "duration", "error",
    ]);
    let span = |b: &BlockRunRecord| match (b.started_at, b.finished_at) {
        (Some(s), Some(f)) => Duration::from_millis((f - s).max(0) as u64),
        _ => Duration::ZERO,
    };
    let groups = if expand {
        blocks.chunks(1).collect()
    } else {
        fan_groups(blocks, |b| b.key.as_str())
    };
    for group in groups {
        if let [b] = group {
            let name = match &b.label {
                Some(l) => format!("{} {l}", b.key),
                None => b.key.clone(),
            };
            t.add_row([
                name,
                b.status.to_string(),
                b.attempt.to_string(),
                b.rows.map(|r| r.to_string()).unwrap_or_default(),
                b.bytes.map(|r| r.to_string()).unwrap_or_default(),
                if b.started_at.is_some() && b.finished_at.is_some() {
                    duration(span(b))
                } else {
                    String::new()
                },
                b.error.as_deref().map(|e| short(e, 90)).unwrap_or_default(),
            ]);
            continue;
        }
        t.add_row([
            format!("{} ({} children)", group[0].block, group.len()),
            status_counts(group.iter().map(|b| b.status)),
            group
                .iter()
                .map(|b| b.attempt)
                .max()
                .unwrap_or(0)
                .to_string(),
            group.iter().filter_map(|b| b.rows).sum::<i64>().to_string(),
            group
                .iter()
                .filter_map(|b| b.bytes)
                .sum::<i64>()
                .to_string(),
            duration(group.iter().map(span).max().unwrap_or_default()),
            first_error(group.iter().map(|b| (b.key.as_str(), b.error.as_deref()))),
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
