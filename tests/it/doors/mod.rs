//! The sandbox's doors, attacked the way hostile block code would: from a Rust block (the
//! probe), a Python block (`tests/blocks/python/doors.py`) and, where it applies, a SQL block.
//! Each attempt is refused with a message naming what was refused, leaves no trace on the
//! host, and the host stays healthy: a plain block in the same run still succeeds.

mod build;
mod files;
mod grants;
mod limits;
mod network;
mod schema;
mod secrets;
mod server;
mod sql;

use serde_json::Value;

use crate::support::*;

/// The `outcome` column of a block's one-row output.
pub fn outcome(p: &Project, run: &str, block: &str) -> String {
    let t = output_table(p, run, block);
    let rows: Value = serde_json::from_str(&t.to_json(Some(1)).unwrap()).unwrap();
    rows[0]["outcome"]
        .as_str()
        .unwrap_or_else(|| panic!("{block} has no outcome: {rows}"))
        .to_string()
}

/// A block's error in a run summary.
pub fn error_of(summary: &Value, name: &str) -> String {
    block(summary, name)["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A block entry using the Python door block with `config`.
pub fn py_door(name: &str, config: &str, extra: &str) -> String {
    format!(
        "  - {{ name: {name}, kind: loader, source: {}, config: {config}{extra} }}\n",
        py("doors.py")
    )
}

/// A plain block that must still succeed in the same run.
pub const HEALTHY: &str =
    "  - { name: healthy, kind: loader, source: {probe}, config: { mode: rows, rows: 3 } }\n";
