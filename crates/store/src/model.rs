//! Records as stored and returned.

use serde::Serialize;

/// Status of a pipeline run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Created, not started.
    Queued,
    /// Blocks are executing.
    Running,
    /// Every block succeeded.
    Success,
    /// At least one block failed.
    Failed,
    /// Stopped before finishing.
    Cancelled,
}

/// Status of one block within a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockStatus {
    /// Waiting for upstream blocks.
    Pending,
    /// An attempt is executing.
    Running,
    /// Failed an attempt and waits for the next.
    Retrying,
    /// Finished with output (or none) and passed its tests.
    Success,
    /// Failed its last attempt.
    Failed,
    /// Not run because an upstream block failed.
    UpstreamFailed,
    /// Not run because the run was cancelled.
    Cancelled,
    /// Not run, or ran and chose not to go on: a condition answered false, a sensor timed
    /// out with `soft_fail`, an upstream block was skipped, a fan-out had no children.
    Skipped,
    /// A sensor waiting for its next poke (it holds no slot meanwhile).
    Waiting,
}

macro_rules! text_enum {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
            /// Parse the stored spelling.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$v),)* _ => None }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(RunStatus { Queued => "queued", Running => "running", Success => "success", Failed => "failed", Cancelled => "cancelled" });
text_enum!(BlockStatus {
    Pending => "pending", Running => "running", Retrying => "retrying", Success => "success",
    Failed => "failed", UpstreamFailed => "upstream_failed", Cancelled => "cancelled",
    Skipped => "skipped", Waiting => "waiting",
});

impl BlockStatus {
    /// True once the block will not change again in this run.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            BlockStatus::Success
                | BlockStatus::Failed
                | BlockStatus::UpstreamFailed
                | BlockStatus::Cancelled
                | BlockStatus::Skipped
        )
    }
}

/// A pipeline run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Run id.
    pub id: String,
    /// Pipeline name.
    pub pipeline: String,
    /// Current status.
    pub status: RunStatus,
    /// What started it: `manual`, a trigger name...
    pub trigger: String,
    /// Run variables as JSON text.
    pub variables: String,
    /// Creation time, Unix ms.
    pub created_at: i64,
    /// Start time, Unix ms.
    pub started_at: Option<i64>,
    /// End time, Unix ms.
    pub finished_at: Option<i64>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// One block of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockRunRecord {
    /// Run id.
    pub run_id: String,
    /// Block run key: the block name, or for a child of a fan-out `name[i]`, `name[i.j]`.
    pub key: String,
    /// Block name.
    pub block: String,
    /// A child's name (its `child_key` value), if it has one.
    pub label: Option<String>,
    /// Position in the pipeline's topological order.
    pub position: i64,
    /// Current status.
    pub status: BlockStatus,
    /// Attempts started so far.
    pub attempt: i64,
    /// Start of the latest attempt, Unix ms.
    pub started_at: Option<i64>,
    /// End of the latest attempt, Unix ms.
    pub finished_at: Option<i64>,
    /// Output rows.
    pub rows: Option<i64>,
    /// Output bytes (Arrow IPC as stored).
    pub bytes: Option<i64>,
    /// Object-store path of the output.
    pub output: Option<String>,
    /// Why the latest attempt failed.
    pub error: Option<String>,
    /// A waiting sensor's next poke, Unix ms.
    pub wake_at: Option<i64>,
    /// A sensor's first poke, Unix ms (its timeout counts from there).
    pub first_at: Option<i64>,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRecord {
    /// Order within the run.
    pub seq: i64,
    /// Block that wrote it, or none for the run itself.
    pub block: Option<String>,
    /// Attempt of that block.
    pub attempt: Option<i64>,
    /// Time, Unix ms.
    pub at: i64,
    /// Level: trace, debug, info, warn, error.
    pub level: String,
    /// The text.
    pub message: String,
}

/// The end of one block attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockEnd {
    /// Final status of the attempt.
    pub status: BlockStatus,
    /// End time, Unix ms.
    pub at: i64,
    /// Output rows.
    pub rows: Option<i64>,
    /// Output bytes.
    pub bytes: Option<i64>,
    /// Output location.
    pub output: Option<String>,
    /// Failure message.
    pub error: Option<String>,
}
