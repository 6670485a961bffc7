//! Records as stored and returned.

use serde::Serialize;

/// Status of a pipeline run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
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
    #[schema(required = true)]
    pub started_at: Option<i64>,
    /// End time, Unix ms.
    #[schema(required = true)]
    pub finished_at: Option<i64>,
    /// Why it failed, if it did.
    #[schema(required = true)]
    pub error: Option<String>,
}

/// One block of a run.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BlockRunRecord {
    /// Run id.
    pub run_id: String,
    /// Block run key: the block name, or for a child of a fan-out `name[i]`, `name[i.j]`.
    pub key: String,
    /// Block name.
    pub block: String,
    /// A child's name (its `child_key` value), if it has one.
    #[schema(required = true)]
    pub label: Option<String>,
    /// Position in the pipeline's topological order.
    pub position: i64,
    /// Current status.
    pub status: BlockStatus,
    /// Attempts started so far.
    pub attempt: i64,
    /// Start of the latest attempt, Unix ms.
    #[schema(required = true)]
    pub started_at: Option<i64>,
    /// End of the latest attempt, Unix ms.
    #[schema(required = true)]
    pub finished_at: Option<i64>,
    /// Output rows.
    #[schema(required = true)]
    pub rows: Option<i64>,
    /// Output bytes (Arrow IPC as stored).
    #[schema(required = true)]
    pub bytes: Option<i64>,
    /// Object-store path of the output.
    #[schema(required = true)]
    pub output: Option<String>,
    /// Why the latest attempt failed.
    #[schema(required = true)]
    pub error: Option<String>,
    /// A waiting sensor's next poke, Unix ms.
    #[schema(required = true)]
    pub wake_at: Option<i64>,
    /// A sensor's first poke, Unix ms (its timeout counts from there).
    #[schema(required = true)]
    pub first_at: Option<i64>,
    /// The most memory the latest attempt held at once, bytes (its linear memory and the
    /// tables the host made for it); none for SQL blocks and attempts that did not run.
    #[schema(required = true)]
    pub peak_memory: Option<i64>,
}

/// An earlier attempt of a block run that did not succeed (the block run's record holds
/// its latest attempt).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AttemptRecord {
    /// Block run key.
    pub key: String,
    /// Which attempt (1 is the first).
    pub attempt: i64,
    /// Start, Unix ms.
    #[schema(required = true)]
    pub started_at: Option<i64>,
    /// End, Unix ms.
    #[schema(required = true)]
    pub finished_at: Option<i64>,
    /// How it ended: retrying, failed or cancelled.
    pub status: BlockStatus,
    /// Why.
    #[schema(required = true)]
    pub error: Option<String>,
    /// The most memory it held at once, bytes.
    #[schema(required = true)]
    pub peak_memory: Option<i64>,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LogRecord {
    /// Order within the run.
    pub seq: i64,
    /// Block that wrote it, or none for the run itself.
    #[schema(required = true)]
    pub block: Option<String>,
    /// Attempt of that block.
    #[schema(required = true)]
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
    /// The most memory the attempt held at once, bytes, when a component ran.
    pub peak_memory: Option<i64>,
}
