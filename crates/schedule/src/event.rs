//! What the executor reports while a run progresses, for progress bars and live views.

use std::time::Duration;

use weft_runtime::LogLevel;
use weft_store::BlockStatus;

/// One step of a run.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run was recorded and is starting.
    RunStarted {
        /// Run id.
        run_id: String,
        /// Block names in pipeline order.
        blocks: Vec<String>,
    },
    /// An attempt of a block started.
    BlockStarted {
        /// Block name.
        block: String,
        /// Attempt number, from 1.
        attempt: u32,
    },
    /// An attempt failed and another will follow after `delay`.
    BlockRetrying {
        /// Block name.
        block: String,
        /// The attempt that failed.
        attempt: u32,
        /// Why it failed.
        error: String,
        /// Wait before the next attempt.
        delay: Duration,
    },
    /// A block reached a final status.
    BlockFinished {
        /// The block's summary.
        summary: BlockSummary,
    },
    /// Bytes of a block's transfer (a download, an upload) moved so far.
    Transfer {
        /// Block name.
        block: String,
        /// What is moving (a URL).
        label: String,
        /// Bytes so far.
        done: u64,
        /// Total bytes, when known.
        total: Option<u64>,
    },
    /// A log line of a block.
    Log {
        /// Block name.
        block: String,
        /// Severity.
        level: LogLevel,
        /// The text.
        message: String,
    },
}

/// Receives [`Event`]s. Called from executor tasks: keep it quick.
pub trait Observer: Send + Sync {
    /// Handle one event.
    fn event(&self, event: &Event);
}

/// An observer that ignores everything.
pub struct Quiet;

impl Observer for Quiet {
    fn event(&self, _: &Event) {}
}

/// The outcome of one block in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockSummary {
    /// Block name.
    pub block: String,
    /// Final status.
    pub status: BlockStatus,
    /// Attempts made (0 when it never ran).
    pub attempts: u32,
    /// Output rows, if it produced output.
    pub rows: Option<u64>,
    /// Stored output bytes, if any.
    pub bytes: Option<u64>,
    /// Wall time of all attempts.
    pub duration: Duration,
    /// Why it failed or was skipped.
    pub error: Option<String>,
}
