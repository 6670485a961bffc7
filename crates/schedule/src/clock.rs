//! Wall-clock helpers and run ids.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A new run id: sortable by time, readable, unique (`20261125T140312-3f9a1c`).
pub fn new_run_id() -> String {
    let now = OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]");
    let stamp = now.format(&fmt).unwrap_or_else(|_| "run".into());
    format!("{stamp}-{:06x}", rand::random::<u32>() & 0xff_ffff)
}

/// Now as RFC 3339, for the `execution_date` default.
pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
