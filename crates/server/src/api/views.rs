//! What the API answers with: one type per response body, so `/api/openapi.json` describes
//! each one and the UI's client is generated from it.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use weft_store::{AttemptRecord, BlockRunRecord, LogRecord, RunRecord};

use crate::reload::Status;
use crate::workspace::Problem;

/// Every pipeline the server runs.
#[derive(Serialize, ToSchema)]
pub struct PipelineList {
    /// By name.
    pub pipelines: Vec<PipelineSummary>,
}

/// A pipeline as the list shows it.
#[derive(Serialize, ToSchema)]
pub struct PipelineSummary {
    /// Its folder's name.
    pub name: String,
    /// Free text from pipeline.yaml.
    #[schema(required = true)]
    pub description: Option<String>,
    /// How many blocks it has.
    pub blocks: usize,
    /// Runs of it at the same time at most.
    #[schema(required = true)]
    pub max_active_runs: Option<usize>,
    /// Why its files on disk do not load, if they do not.
    #[schema(required = true)]
    pub problem: Option<Problem>,
    /// Whether the server runs it: a pipeline whose files have not loaded since the server
    /// started is listed with its problem only.
    pub loaded: bool,
    /// Its triggers.
    pub triggers: Vec<TriggerRef>,
}

/// A trigger named in a pipeline.
#[derive(Serialize, ToSchema)]
pub struct TriggerRef {
    /// Trigger name.
    pub name: String,
    /// `schedule` or `api`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Free text from triggers.yaml.
    #[schema(required = true)]
    pub description: Option<String>,
}

/// One pipeline with its DAG.
#[derive(Serialize, ToSchema)]
pub struct PipelineDetail {
    /// Its folder's name.
    pub name: String,
    /// Free text from pipeline.yaml.
    #[schema(required = true)]
    pub description: Option<String>,
    /// Blocks of one run at the same time at most.
    pub concurrency: usize,
    /// Runs of it at the same time at most.
    #[schema(required = true)]
    pub max_active_runs: Option<usize>,
    /// Variables every run gets.
    pub variables: BTreeMap<String, String>,
    /// Where run summaries are sent: only scheme and host (webhook URLs often hold tokens).
    pub notify: NotifyView,
    /// Its blocks, in pipeline.yaml's order.
    pub blocks: Vec<BlockView>,
    /// Upstream → downstream.
    pub edges: Vec<Edge>,
    /// The latest load of its files.
    #[schema(required = true)]
    pub status: Option<Status>,
    /// Its triggers.
    pub triggers: Vec<TriggerRef>,
}

/// Where a pipeline's run summaries go.
#[derive(Serialize, ToSchema)]
pub struct NotifyView {
    /// Told of failed runs.
    #[schema(required = true)]
    pub on_failure: Option<String>,
    /// Told of successful runs.
    #[schema(required = true)]
    pub on_success: Option<String>,
}

/// A block of a pipeline, with what it may touch and use.
#[derive(Serialize, ToSchema)]
pub struct BlockView {
    /// Block name.
    pub name: String,
    /// loader, transformer, exporter, sensor, condition, callback, ...
    pub kind: String,
    /// rust, python, sql, wasm or package.
    pub language: String,
    /// The source as pipeline.yaml writes it.
    pub source: String,
    /// The blocks it reads.
    pub upstream: Vec<String>,
    /// The blocks that read it.
    pub downstream: Vec<String>,
    /// Attempts after the first.
    pub retries: u32,
    /// Time limit of one attempt, ms.
    pub timeout_ms: u64,
    /// Memory limit, bytes.
    pub memory_limit: u64,
    /// Bytes one read may take, bytes.
    pub read_limit: u64,
    /// Whether each row of its output starts a child of the blocks after it.
    pub dynamic: bool,
    /// Whether it gathers its fan-out's children into one output.
    pub reduce: bool,
    /// Condition blocks asked before it runs.
    pub conditions: Vec<String>,
    /// Callback blocks told how it ended.
    pub callbacks: Vec<String>,
    /// What it may touch.
    pub grants: GrantsView,
}

/// What a block may touch; everything else is denied.
#[derive(Serialize, ToSchema)]
pub struct GrantsView {
    /// URL prefixes it may read.
    pub urls: Vec<String>,
    /// Folders and tables it may write.
    pub write: Vec<String>,
    /// io_config.yaml profiles it may use.
    pub profiles: Vec<String>,
    /// Environment variables it sees.
    pub env: Vec<String>,
}

/// An edge of the DAG.
#[derive(Serialize, ToSchema)]
pub struct Edge {
    /// The upstream block.
    pub from: String,
    /// The block that reads it.
    pub to: String,
}

/// A run that was started.
#[derive(Serialize, ToSchema)]
pub struct Started {
    /// Its id.
    pub run_id: String,
}

/// The runs a backfill started.
#[derive(Serialize, ToSchema)]
pub struct BackfillStarted {
    /// How many.
    pub runs: usize,
    /// Their ids, oldest execution date first.
    pub run_ids: Vec<String>,
}

/// A page of runs.
#[derive(Serialize, ToSchema)]
pub struct RunPage {
    /// Newest first.
    pub runs: Vec<RunRecord>,
    /// Where the next page starts (`?before=`), when this one is full.
    #[schema(required = true)]
    pub next_before: Option<String>,
}

/// A run with its block runs.
#[derive(Serialize, ToSchema)]
pub struct RunDetail {
    /// The run.
    #[serde(flatten)]
    pub run: RunRecord,
    /// Each block with children: how many, and how many in each status.
    pub fan_outs: Vec<FanOut>,
    /// Its block runs, in pipeline then child order: each holds its latest attempt.
    pub blocks: Vec<BlockRunRecord>,
    /// Attempts before the latest of each block run that did not succeed.
    pub attempts: Vec<AttemptRecord>,
}

/// A block's children in a run.
#[derive(Serialize, ToSchema)]
pub struct FanOut {
    /// The block.
    pub block: String,
    /// How many children it has.
    pub children: usize,
    /// How many are in each status.
    pub statuses: BTreeMap<String, usize>,
}

/// A page of a run's block runs.
#[derive(Serialize, ToSchema)]
pub struct BlockRunPage {
    /// In pipeline then child order.
    pub blocks: Vec<BlockRunRecord>,
    /// How many there are in all.
    pub total: usize,
}

/// What a cancel did.
#[derive(Serialize, ToSchema)]
pub struct CancelAnswer {
    /// The run.
    pub run_id: String,
    /// `cancelling` (its process stops it within a tick) or `cancelled`.
    pub status: String,
}

/// What a retry started again.
#[derive(Serialize, ToSchema)]
pub struct RetryAnswer {
    /// The run.
    pub run_id: String,
    /// The block runs retried.
    pub blocks: Vec<String>,
}

/// A page of log lines.
#[derive(Serialize, ToSchema)]
pub struct LogPage {
    /// In order.
    pub logs: Vec<LogRecord>,
    /// Where the next page starts (`?after=`).
    #[schema(required = true)]
    pub next_after: Option<i64>,
}

/// The first rows of a block's output, safe to show.
#[derive(Serialize, ToSchema)]
pub struct Preview {
    /// The block run key.
    pub block: String,
    /// Rows of the whole output.
    pub rows: u64,
    /// Its columns.
    pub columns: Vec<PreviewColumn>,
    /// The first rows as records (binary values as their length and first bytes, long
    /// texts cut).
    #[schema(value_type = Vec<std::collections::HashMap<String, serde_json::Value>>)]
    pub head: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// A column of a preview.
#[derive(Serialize, ToSchema)]
pub struct PreviewColumn {
    /// Its name.
    pub name: String,
    /// Its Arrow type.
    #[serde(rename = "type")]
    pub data_type: String,
    /// Nulls in the whole output.
    pub nulls: usize,
}

/// What a trigger's call started.
#[derive(Serialize, ToSchema)]
pub struct Triggered {
    /// The run.
    pub run_id: String,
    /// Whether an earlier call with the same Idempotency-Key had started it.
    pub replayed: bool,
    /// With `?wait=`: the run as it stood when the answer was sent.
    #[serde(flatten)]
    pub run: Option<RunDetail>,
    /// With `?wait=`, once the run ended: its last output's first rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<Preview>,
}
