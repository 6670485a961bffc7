//! [`Executor`]: records a run, drives it (see [`crate::drive`]) and records its outcome,
//! tells its callbacks and webhook.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use weft_io::IoContext;
use weft_pipeline::Pipeline;
use weft_runtime::Runtime;
use weft_store::{BlockStatus, NewRun, RunStatus, Store};

use crate::clock::{new_run_id, now_ms, now_rfc3339};
use crate::drive::Drive;
use crate::error::ScheduleError;
use crate::event::{BlockSummary, Event, Observer};
use crate::local::{LocalDispatch, RunContext};
use crate::logs::RunLog;
use crate::outputs::Outputs;
use crate::plan::Plan;

/// Where a block's compiled component is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRef {
    /// Content hash identifying the component.
    pub key: String,
    /// The `.wasm` component.
    pub wasm: PathBuf,
    /// Its precompiled native code, if built.
    pub cwasm: Option<PathBuf>,
    /// The SHA-256 (hex) weft recorded for `cwasm` when it compiled it; the code is loaded
    /// only when the file still matches.
    pub cwasm_digest: Option<String>,
    /// Set when the component is the shared Python runner: the block's source it runs.
    pub script: Option<Arc<Script>>,
}

/// A Python block run from its source by the shared runner component, while its own
/// component is still being built: the source travels with each call, around its config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The module the file makes (`clean` for `clean.py`).
    pub module: String,
    /// The file as pipeline.yaml writes it, for tracebacks.
    pub file: String,
    /// The source text.
    pub source: String,
}

impl Script {
    /// The text the runner receives as its config: the source around the block's
    /// `config`. With `check`, the runner only compiles the source and runs nothing.
    pub fn envelope(&self, config: &serde_json::Value, check: bool) -> String {
        serde_json::json!({
            "module": self.module,
            "file": self.file,
            "source": self.source,
            "config": config,
            "check": check,
        })
        .to_string()
    }
}

/// A request to run a pipeline once.
pub struct RunRequest {
    /// The validated pipeline.
    pub pipeline: Arc<Pipeline>,
    /// The component of every block, by block name.
    pub components: HashMap<String, ComponentRef>,
    /// Variables given for this run; they override the pipeline's defaults.
    pub variables: BTreeMap<String, String>,
    /// What started the run (`manual`, a trigger name).
    pub trigger: String,
    /// Use this id instead of a new one.
    pub run_id: Option<String>,
    /// The run already exists in the store under `run_id`: recorded with
    /// [`Executor::record`], interrupted by a crash, or reopened for a retry. Its blocks that
    /// succeeded keep their stored outputs and are not run again; the others run as new
    /// attempts.
    pub recorded: bool,
    /// Cancelling it stops the run: running blocks are interrupted within one epoch tick,
    /// blocks not started are marked cancelled.
    pub cancel: CancellationToken,
    /// Blocks that do not run but lend their outputs from an earlier run (see
    /// `Pipeline::select`): the quick edit-run loop of one block.
    pub borrow: Option<Borrow>,
}

/// Outputs taken from an earlier run instead of running their blocks.
#[derive(Debug, Clone)]
pub struct Borrow {
    /// The run whose outputs are taken.
    pub run: String,
    /// The blocks whose outputs (every child of them, too) are taken.
    pub blocks: Vec<String>,
}

/// A run ready to be recorded (see [`Executor::prepare`]).
#[derive(Debug, Clone)]
pub struct PreparedRun {
    /// Run id.
    pub id: String,
    pipeline: String,
    trigger: String,
    variables: String,
    created_at: i64,
    blocks: Vec<String>,
    owner: Option<String>,
}

impl PreparedRun {
    /// The row as the store takes it.
    pub fn as_new_run(&self) -> NewRun<'_> {
        NewRun {
            id: &self.id,
            pipeline: &self.pipeline,
            trigger: &self.trigger,
            variables: &self.variables,
            created_at: self.created_at,
            blocks: &self.blocks,
            owner: self.owner.as_deref(),
        }
    }
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Run id.
    pub run_id: String,
    /// Final status.
    pub status: RunStatus,
    /// Every block, in pipeline order.
    pub blocks: Vec<BlockSummary>,
}

/// Runs pipelines: one per call, many calls may share an executor.
#[derive(Clone)]
pub struct Executor {
    runtime: Arc<Runtime>,
    store: Store,
    outputs: Outputs,
    io: Option<Arc<IoContext>>,
    owner: Option<String>,
    notifications: tokio_util::task::TaskTracker,
    cancels: crate::cancels::Cancels,
}

impl Executor {
    /// An executor over a runtime, a state store and an output store.
    pub fn new(runtime: Arc<Runtime>, store: Store, outputs: Outputs) -> Self {
        Executor {
            runtime,
            store,
            outputs,
            io: None,
            owner: None,
            notifications: tokio_util::task::TaskTracker::new(),
            cancels: Default::default(),
        }
    }

    /// Let blocks read and write within their grants, with the project's io profiles.
    pub fn with_io(mut self, io: Arc<IoContext>) -> Self {
        self.io = Some(io);
        self
    }

    /// Stop runs of this executor's owner that another process asks to cancel (through
    /// `Store::request_cancel`), checking every [`crate::CANCEL_POLL`] until `stop`.
    pub fn watch_cancels(&self, stop: CancellationToken) {
        if let Some(owner) = &self.owner {
            self.cancels.watch(self.store.clone(), owner.clone(), stop);
        }
    }

    /// Let the cancel watcher (see [`Executor::watch_cancels`]) stop run `id` through
    /// `token` until the guard drops — for runs that wait before [`Executor::run`] takes
    /// them (for a slot, say); `run` tracks the runs it drives itself.
    pub fn track(&self, id: &str, token: CancellationToken) -> crate::Registered {
        self.cancels.register(id, token)
    }

    /// Wait for run webhooks still being delivered (each gives up after its retries).
    pub async fn notified(&self) {
        self.notifications.close();
        self.notifications.wait().await;
        self.notifications.reopen();
    }

    /// The state store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The output store.
    pub fn outputs(&self) -> &Outputs {
        &self.outputs
    }

    /// Record `req` as a queued run and return its id, so callers can answer with the id
    /// before the run starts; then [`Executor::run`] it (`req` is marked recorded).
    ///
    /// # Errors
    /// [`ScheduleError::Store`] when the run cannot be recorded.
    pub async fn record(&self, req: &mut RunRequest) -> Result<String, ScheduleError> {
        let prepared = self.prepare(req);
        self.store.create_run(&prepared.as_new_run()).await?;
        Ok(prepared.id)
    }

    /// Fix `req`'s id and `execution_date` (so a resumed run sees the same one) and mark it
    /// recorded; returns the row to record, for callers that record runs in their own
    /// transaction (see `Store::fire_schedule`).
    pub fn prepare(&self, req: &mut RunRequest) -> PreparedRun {
        let id = req.run_id.clone().unwrap_or_else(new_run_id);
        if !req.pipeline.variables.contains_key("execution_date") {
            req.variables
                .entry("execution_date".into())
                .or_insert_with(now_rfc3339);
        }
        req.run_id = Some(id.clone());
        req.recorded = true;
        PreparedRun {
            id,
            pipeline: req.pipeline.name.clone(),
            trigger: req.trigger.clone(),
            variables: serde_json::to_string(&req.variables).unwrap_or_else(|_| "{}".into()),
            created_at: now_ms(),
            blocks: req
                .pipeline
                .blocks
                .iter()
                .filter(|b| !b.is_attached())
                .map(|b| b.name.clone())
                .collect(),
            owner: self.owner.clone(),
        }
    }

    /// The new runs this executor records belong to instance `owner` (see
    /// [`crate::Instance`]), so a crash of this process can be told from a live run.
    pub fn with_owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// The instance this executor's runs belong to.
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// Run a pipeline to completion. Block failures are part of the summary; only failures of
    /// the state store end the call with an error.
    ///
    /// # Errors
    /// [`ScheduleError::Store`] when the run cannot be recorded.
    pub async fn run(
        &self,
        req: RunRequest,
        observer: Arc<dyn Observer>,
    ) -> Result<RunSummary, ScheduleError> {
        let mut req = req;
        let first_run = !req.recorded;
        if first_run {
            let prepared = self.prepare(&mut req);
            self.store.create_run(&prepared.as_new_run()).await?;
        }
        let pipeline = req.pipeline.clone();
        let run_id = req.run_id.clone().unwrap_or_else(new_run_id);
        let _registered = self.cancels.register(&run_id, req.cancel.clone());
        if !self.store.start_run(&run_id, now_ms()).await? {
            // Ended while it waited (cancelled, or ended by another process), or a cancel was
            // asked before it started: nothing runs.
            let now = now_ms();
            self.store
                .abandon_run(&run_id, RunStatus::Cancelled, "the run was cancelled", now)
                .await?;
            let status = self.store.run(&run_id).await?.status;
            return Ok(RunSummary {
                run_id,
                status,
                blocks: Vec::new(),
            });
        }
        let plan = Plan::new(&pipeline);
        observer.event(&Event::RunStarted {
            run_id: run_id.clone(),
            blocks: plan.blocks().map(str::to_string).collect(),
        });
        let first_seq = if first_run {
            0
        } else {
            self.store.next_log_seq(&run_id).await?
        };
        let log = Arc::new(RunLog::start(
            self.store.clone(),
            run_id.clone(),
            first_seq,
            observer.clone(),
            run_redactor(self.io.as_deref(), &pipeline),
        ));
        let context = Arc::new(RunContext {
            run_id: run_id.clone(),
            variables: Arc::new(run_variables(&pipeline, &req, &run_id)),
            pipeline: pipeline.clone(),
            components: std::mem::take(&mut req.components),
            runtime: self.runtime.clone(),
            io: self.io.clone(),
            store: self.store.clone(),
            outputs: self.outputs.clone(),
            log: log.clone(),
            observer,
            cancel: req.cancel.clone(),
            cache: Default::default(),
            loaded: Default::default(),
            durable: crate::durable::Durable::new(pipeline.concurrency),
        });
        let dispatch = Arc::new(LocalDispatch {
            run: context.clone(),
        });
        let mut drive = Drive::new(context.clone(), plan, dispatch);
        if let Some(b) = &req.borrow {
            if let Err(e) = drive.borrow(&b.run, &b.blocks).await {
                let message = e.to_string();
                self.store
                    .set_run_status(&run_id, RunStatus::Failed, now_ms(), Some(&message))
                    .await?;
                return Err(e);
            }
        }
        if !first_run {
            drive.restore().await?;
        }
        let driven = drive.run(pipeline.concurrency).await;
        let summary = self.summarize(&drive, &req);
        let error = run_error(&summary.blocks);
        crate::callbacks::for_run(&context, summary.status, error.as_deref()).await;
        drop(drive);
        drop(context);
        if let Ok(log) = Arc::try_unwrap(log) {
            log.finish().await?;
        }
        driven?;
        self.store.drop_pending_blocks(&run_id).await?;
        self.store
            .set_run_status(&run_id, summary.status, now_ms(), error.as_deref())
            .await?;
        self.notify(&pipeline, &req.trigger, &summary, error.as_deref());
        Ok(summary)
    }

    /// The run's summary: every block run in pipeline then child order, and the run's status.
    fn summarize(&self, drive: &Drive, req: &RunRequest) -> RunSummary {
        let blocks: Vec<BlockSummary> = drive
            .plan
            .statuses()
            .into_iter()
            .map(|(key, status)| {
                drive.summaries.get(&key).cloned().unwrap_or_else(|| {
                    let why = match status {
                        Some(_) => "ended without a record",
                        None => "did not run",
                    };
                    failed_summary(&key.to_string(), why.into())
                })
            })
            .collect();
        let status = if req.cancel.is_cancelled() {
            RunStatus::Cancelled
        } else if blocks
            .iter()
            .all(|b| matches!(b.status, BlockStatus::Success | BlockStatus::Skipped))
        {
            RunStatus::Success
        } else {
            RunStatus::Failed
        };
        RunSummary {
            run_id: drive.run.run_id.clone(),
            status,
            blocks,
        }
    }

    /// POST the run's summary to the pipeline's webhook, in the background (retries take a
    /// while): the run's slot is free at once; see [`Executor::notified`].
    fn notify(
        &self,
        pipeline: &Pipeline,
        trigger: &str,
        summary: &RunSummary,
        error: Option<&str>,
    ) {
        if let Some(url) = crate::notify::target(pipeline, summary.status) {
            let body = crate::notify::payload(pipeline, trigger, summary, error);
            let (url, id) = (url.to_string(), summary.run_id.clone());
            self.notifications.spawn(async move {
                let shown = crate::notify::shown(&url);
                match crate::notify::deliver(&url, &body).await {
                    Ok(_) => tracing::info!("run {id}: told {shown}"),
                    Err(e) => tracing::warn!("run {id}: webhook to {shown}: {e}"),
                }
            });
        }
    }
}

/// The run's variables: the pipeline's defaults, the given ones, and the built-ins.
fn run_variables(pipeline: &Pipeline, req: &RunRequest, run_id: &str) -> BTreeMap<String, String> {
    let mut variables = pipeline.variables.clone();
    variables.extend(req.variables.clone());
    variables
        .entry("execution_date".into())
        .or_insert_with(now_rfc3339);
    variables.insert("run_id".into(), run_id.to_string());
    variables.insert("pipeline".into(), pipeline.name.clone());
    variables
}

/// `failed blocks: a, b` naming the block runs that failed, if any.
fn run_error(blocks: &[BlockSummary]) -> Option<String> {
    let failed: Vec<&str> = blocks
        .iter()
        .filter(|b| b.status == BlockStatus::Failed)
        .map(|b| b.block.as_str())
        .collect();
    (!failed.is_empty()).then(|| format!("failed blocks: {}", failed.join(", ")))
}

/// The summary of a block run that failed without an attempt.
pub(crate) fn failed_summary(block: &str, error: String) -> BlockSummary {
    BlockSummary {
        block: block.to_string(),
        status: BlockStatus::Failed,
        attempts: 0,
        rows: None,
        bytes: None,
        duration: Default::default(),
        error: Some(error),
    }
}

/// What the run's log masks: the profiles' secrets and every environment value granted to a
/// block of the pipeline.
fn run_redactor(io: Option<&weft_io::IoContext>, pipeline: &Pipeline) -> weft_io::Redactor {
    let granted = pipeline
        .blocks
        .iter()
        .flat_map(|b| b.grants.env.iter())
        .filter_map(|name| std::env::var(name).ok())
        .collect();
    io.map(|io| io.redactor().clone())
        .unwrap_or_default()
        .extended(granted)
}
