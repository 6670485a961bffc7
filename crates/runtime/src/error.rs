//! Why a block run or a component load failed, classified by whose fault it is.

use std::path::PathBuf;
use std::time::Duration;

/// A failure of the runtime, naming the block and, for guest faults, the WIT function.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The wasmtime engine could not be configured (a host bug or an unsupported machine).
    #[error("cannot start the Wasm engine: {0}")]
    Engine(String),
    /// A component file could not be read, compiled or deserialized.
    #[error("cannot load component {path}: {reason}")]
    Load {
        /// The `.wasm` or `.cwasm` file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The component does not implement the `weft:block/block` world, or imports something
    /// the host does not provide.
    #[error("block \"{block}\": component does not fit the weft:block world: {reason}")]
    Incompatible {
        /// The block.
        block: String,
        /// What is missing or mistyped.
        reason: String,
    },
    /// The block's instance could not be created.
    #[error("block \"{block}\": cannot instantiate: {reason}")]
    Instantiate {
        /// The block.
        block: String,
        /// What went wrong.
        reason: String,
    },
    /// The guest trapped (panic, unreachable, out-of-bounds access, stack overflow...).
    #[error("block \"{block}\" trapped in `{function}`: {trap}{}", guest_said(.stderr))]
    Trap {
        /// The block.
        block: String,
        /// The exported WIT function that was running.
        function: &'static str,
        /// What the trap was (`wasm `unreachable` instruction executed`, ...).
        trap: String,
        /// The last lines the guest wrote to stderr (a panic message, usually).
        stderr: String,
    },
    /// The block ran past its `timeout`.
    #[error("block \"{block}\" timed out after {} (its `timeout`); raise `timeout` in pipeline.yaml if the work is expected to take longer", humantime_secs(*.limit))]
    Timeout {
        /// The block.
        block: String,
        /// The limit that was hit.
        limit: Duration,
    },
    /// The run was cancelled while the block ran.
    #[error("block \"{block}\" was cancelled")]
    Cancelled {
        /// The block.
        block: String,
    },
    /// The block tried to grow its memory past its `memory_limit`.
    #[error("block \"{block}\" exceeded its memory limit of {} (asked for {}); raise `memory_limit` in pipeline.yaml or process less data at once", mib(*.limit), mib(*.requested))]
    MemoryLimit {
        /// The block.
        block: String,
        /// The limit in bytes.
        limit: u64,
        /// Total bytes the failed growth would have reached.
        requested: u64,
    },
    /// A host call the block made exceeded one of its budgets (memory held in host tables,
    /// a query's memory, bytes, rows, log volume); the message names it and how to raise it.
    #[error("block \"{block}\" stopped: {message}")]
    Budget {
        /// The block.
        block: String,
        /// Which budget, how much, and how to raise it.
        message: String,
    },
    /// The block returned an error from `run`.
    #[error("block \"{block}\" failed: {kind}: {message}")]
    Failed {
        /// The block.
        block: String,
        /// `invalid-input`, `denied`, `io` or `failed`.
        kind: &'static str,
        /// The block's message.
        message: String,
    },
    /// One of the block's tests failed on its output.
    #[error("block \"{block}\": test `{test}` failed: {message}")]
    TestFailed {
        /// The block.
        block: String,
        /// The test name.
        test: String,
        /// The test's message.
        message: String,
    },
}

impl RuntimeError {
    /// True when another attempt could succeed (not for incompatible components).
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            RuntimeError::Engine(_)
                | RuntimeError::Load { .. }
                | RuntimeError::Incompatible { .. }
                | RuntimeError::Cancelled { .. }
                | RuntimeError::Budget { .. }
                // A missing grant or a bad input fails the same way every time.
                | RuntimeError::Failed {
                    kind: "denied" | "invalid-input",
                    ..
                }
        )
    }
}

/// The guest's last words on stderr (a panic message or an exception), on one line.
fn guest_said(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let tail = &lines[lines.len().saturating_sub(3)..];
    format!("; the block wrote: {}", tail.join(" "))
}

fn humantime_secs(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
