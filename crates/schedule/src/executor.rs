//! The run loop: records a run, dispatches ready blocks concurrently (bounded by the
//! pipeline's `concurrency`), propagates failures downstream, and records the outcome.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use weft_data::Table;
use weft_io::IoContext;
use weft_pipeline::Pipeline;
use weft_runtime::Runtime;
use weft_store::{BlockStatus, NewRun, RunStatus, Store};

use crate::attempt::{run_block, BlockJob};
use crate::clock::{new_run_id, now_ms, now_rfc3339};
use crate::error::ScheduleError;
use crate::event::{BlockSummary, Event, Observer};
use crate::logs::RunLog;
use crate::outputs::Outputs;

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
            blocks: req.pipeline.blocks.iter().map(|b| b.name.clone()).collect(),
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
        let mut variables = pipeline.variables.clone();
        variables.extend(req.variables.clone());
        variables
            .entry("execution_date".into())
            .or_insert_with(now_rfc3339);
        variables.insert("run_id".into(), run_id.clone());
        variables.insert("pipeline".into(), pipeline.name.clone());
        let names: Vec<&str> = pipeline.blocks.iter().map(|b| b.name.as_str()).collect();

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
        observer.event(&Event::RunStarted {
            run_id: run_id.clone(),
            blocks: names.iter().map(|s| s.to_string()).collect(),
        });

        let first_seq = if !first_run {
            self.store.next_log_seq(&run_id).await?
        } else {
            0
        };
        let log = Arc::new(RunLog::start(
            self.store.clone(),
            run_id.clone(),
            first_seq,
            observer.clone(),
            run_redactor(self.io.as_deref(), &pipeline),
        ));
        let mut plan = Plan::new(&pipeline);
        let variables = Arc::new(variables);
        let mut running: JoinSet<(BlockSummary, Option<Table>)> = JoinSet::new();
        let mut tasks: HashMap<tokio::task::Id, String> = HashMap::new();
        let mut outputs: HashMap<String, Option<Table>> = HashMap::new();
        let mut summaries: HashMap<String, BlockSummary> = HashMap::new();
        let mut store_error = None;
        let prior_attempts = if !first_run {
            self.restore(&run_id, &mut plan, &mut outputs, &mut summaries, &observer)
                .await?
        } else {
            HashMap::new()
        };

        let cancel = req.cancel.clone();
        loop {
            // Start ready blocks in pipeline order, up to the pipeline's concurrency.
            let free = pipeline.concurrency.saturating_sub(running.len());
            let ready = if cancel.is_cancelled() {
                Vec::new()
            } else {
                plan.take_ready(free)
            };
            for index in ready {
                let block = pipeline.blocks[index].clone();
                let inputs = block
                    .upstream
                    .iter()
                    .filter_map(|u| outputs.get(u).cloned().flatten().map(|t| (u.clone(), t)))
                    .collect();
                let job = BlockJob {
                    run_id: run_id.clone(),
                    component: req.components.get(&block.name).cloned(),
                    block,
                    inputs,
                    variables: variables.clone(),
                    runtime: self.runtime.clone(),
                    io: self.io.clone(),
                    store: self.store.clone(),
                    outputs: self.outputs.clone(),
                    log: log.clone(),
                    observer: observer.clone(),
                    cancel: cancel.clone(),
                    prior_attempts: 0,
                };
                let name = job.block.name.clone();
                let job = BlockJob {
                    prior_attempts: prior_attempts.get(&name).copied().unwrap_or(0),
                    ..job
                };
                let handle = running.spawn(run_block(job));
                tasks.insert(handle.id(), name);
            }
            let done = tokio::select! {
                done = running.join_next_with_id() => done,
                // Wake up to stop dispatching; running blocks end on their own within a tick.
                _ = cancel.cancelled(), if !running.is_empty() && !plan.cancel_seen => {
                    plan.cancel_seen = true;
                    continue;
                }
            };
            let Some(done) = done else { break };
            let (summary, table) = match done {
                Ok((id, s)) => {
                    tasks.remove(&id);
                    s
                }
                Err(e) => {
                    // A host bug inside the block task: its block fails, the run goes on.
                    let name = tasks.remove(&e.id()).unwrap_or_default();
                    (failed_summary(&name, format!("internal error: {e}")), None)
                }
            };
            let name = summary.block.clone();
            if summary.status == BlockStatus::Success {
                outputs.insert(name.clone(), table);
                plan.succeeded(&name);
            } else if summary.status == BlockStatus::Cancelled {
                // Its downstream blocks stay unstarted and are marked cancelled below.
                plan.stopped(&name);
            } else {
                let skipped = plan.failed(&name);
                let reason = format!("upstream block \"{name}\" failed");
                if let Err(e) = self
                    .store
                    .skip_blocks(&run_id, &skipped, BlockStatus::UpstreamFailed, &reason)
                    .await
                {
                    store_error.get_or_insert(e);
                }
                for s in skipped {
                    let summary = BlockSummary {
                        block: s.clone(),
                        status: BlockStatus::UpstreamFailed,
                        attempts: 0,
                        rows: None,
                        bytes: None,
                        duration: Default::default(),
                        error: Some(reason.clone()),
                    };
                    observer.event(&Event::BlockFinished {
                        summary: summary.clone(),
                    });
                    summaries.insert(s, summary);
                }
            }
            // Outputs no downstream block still needs are released early.
            outputs.retain(|n, _| plan.still_needed(n));
            summaries.insert(name, summary);
        }

        if cancel.is_cancelled() {
            let never_ran = plan.never_started();
            self.store
                .skip_blocks(
                    &run_id,
                    &never_ran,
                    BlockStatus::Cancelled,
                    "the run was cancelled",
                )
                .await?;
            for name in never_ran {
                let summary = BlockSummary {
                    block: name.clone(),
                    status: BlockStatus::Cancelled,
                    attempts: 0,
                    rows: None,
                    bytes: None,
                    duration: Default::default(),
                    error: Some("the run was cancelled".into()),
                };
                observer.event(&Event::BlockFinished {
                    summary: summary.clone(),
                });
                summaries.insert(name, summary);
            }
        }
        let blocks: Vec<BlockSummary> = pipeline
            .blocks
            .iter()
            .map(|b| {
                summaries
                    .remove(&b.name)
                    .unwrap_or_else(|| failed_summary(&b.name, "did not run".into()))
            })
            .collect();
        let status = if blocks.iter().all(|b| b.status == BlockStatus::Success) {
            RunStatus::Success
        } else if cancel.is_cancelled() {
            RunStatus::Cancelled
        } else {
            RunStatus::Failed
        };
        let failed: Vec<&str> = blocks
            .iter()
            .filter(|b| b.status == BlockStatus::Failed)
            .map(|b| b.block.as_str())
            .collect();
        let error = (!failed.is_empty()).then(|| format!("failed blocks: {}", failed.join(", ")));
        if let Ok(log) = Arc::try_unwrap(log) {
            log.finish().await?;
        }
        if let Some(e) = store_error {
            return Err(e.into());
        }
        self.store
            .set_run_status(&run_id, status, now_ms(), error.as_deref())
            .await?;
        let summary = RunSummary {
            run_id,
            status,
            blocks,
        };
        if let Some(url) = crate::notify::target(&pipeline, status) {
            let body = crate::notify::payload(&pipeline, &req.trigger, &summary, error.as_deref());
            let (url, id) = (url.to_string(), summary.run_id.clone());
            // Delivered in the background (retries take a while): the run's slot is free at
            // once; see [`Executor::notified`].
            self.notifications.spawn(async move {
                let shown = crate::notify::shown(&url);
                match crate::notify::deliver(&url, &body).await {
                    Ok(_) => tracing::info!("run {id}: told {shown}"),
                    Err(e) => tracing::warn!("run {id}: webhook to {shown}: {e}"),
                }
            });
        }
        Ok(summary)
    }
}

impl Executor {
    /// Bring a recorded run's blocks into `plan`: those that succeeded are done (their
    /// outputs read back when a block still to run needs them), those that failed stay
    /// failed, the rest wait to run. Returns the attempts already started per block.
    async fn restore(
        &self,
        run_id: &str,
        plan: &mut Plan,
        outputs: &mut HashMap<String, Option<Table>>,
        summaries: &mut HashMap<String, BlockSummary>,
        observer: &Arc<dyn Observer>,
    ) -> Result<HashMap<String, u32>, ScheduleError> {
        let records = self.store.block_runs(run_id).await?;
        let mut attempts = HashMap::new();
        // Outputs of succeeded blocks that a block still to run reads are read back first: a
        // block whose output is gone runs again instead of failing the run.
        let succeeded: std::collections::HashSet<&str> = records
            .iter()
            .filter(|r| r.status == BlockStatus::Success)
            .map(|r| r.block.as_str())
            .collect();
        let mut lost = std::collections::HashSet::new();
        for r in records.iter().filter(|r| r.status == BlockStatus::Success) {
            let needed = plan.index.contains_key(&r.block)
                && plan.downstream[plan.index[&r.block]]
                    .iter()
                    .any(|&d| !succeeded.contains(plan.names[d].as_str()));
            if !needed {
                continue;
            }
            let table = match &r.output {
                Some(p) => match self.outputs.get(p).await {
                    Ok(t) => Some(t),
                    Err(e) => {
                        tracing::warn!("run {run_id}: block \"{}\" runs again: {e}", r.block);
                        lost.insert(r.block.clone());
                        continue;
                    }
                },
                None => None,
            };
            outputs.insert(r.block.clone(), table);
        }
        for r in &records {
            if !plan.index.contains_key(&r.block) {
                continue;
            }
            attempts.insert(r.block.clone(), r.attempt.max(0) as u32);
            let summary = BlockSummary {
                block: r.block.clone(),
                status: r.status,
                attempts: r.attempt.max(0) as u32,
                rows: r.rows.map(|n| n as u64),
                bytes: r.bytes.map(|n| n as u64),
                duration: std::time::Duration::from_millis(
                    r.finished_at
                        .zip(r.started_at)
                        .map_or(0, |(f, s)| (f - s).max(0) as u64),
                ),
                error: r.error.clone(),
            };
            match r.status {
                BlockStatus::Success if lost.contains(&r.block) => {}
                BlockStatus::Success => {
                    plan.succeeded(&r.block);
                    observer.event(&Event::BlockFinished {
                        summary: summary.clone(),
                    });
                    summaries.insert(r.block.clone(), summary);
                }
                s if s.is_final() => {
                    if plan.is_waiting(&r.block) {
                        let skipped = plan.failed(&r.block);
                        let reason = format!("upstream block \"{}\" failed", r.block);
                        self.store
                            .skip_blocks(run_id, &skipped, BlockStatus::UpstreamFailed, &reason)
                            .await?;
                    }
                    observer.event(&Event::BlockFinished {
                        summary: summary.clone(),
                    });
                    summaries.insert(r.block.clone(), summary);
                }
                _ => {}
            }
        }
        // Blocks skipped above because of a failure recorded before the crash.
        for name in plan.names.clone() {
            if !plan.is_waiting(&name) && !summaries.contains_key(&name) {
                let summary = BlockSummary {
                    block: name.clone(),
                    status: BlockStatus::UpstreamFailed,
                    attempts: 0,
                    rows: None,
                    bytes: None,
                    duration: Default::default(),
                    error: Some("an upstream block failed".into()),
                };
                observer.event(&Event::BlockFinished {
                    summary: summary.clone(),
                });
                summaries.insert(name, summary);
            }
        }
        Ok(attempts)
    }
}

fn failed_summary(block: &str, error: String) -> BlockSummary {
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

/// Which blocks are waiting, ready, running or done.
struct Plan {
    names: Vec<String>,
    index: HashMap<String, usize>,
    waiting_on: Vec<usize>,
    downstream: Vec<Vec<usize>>,
    state: Vec<Slot>,
    cancel_seen: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Waiting,
    Running,
    Done,
}

impl Plan {
    fn new(p: &Pipeline) -> Plan {
        let names: Vec<String> = p.blocks.iter().map(|b| b.name.clone()).collect();
        let index: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let mut downstream = vec![Vec::new(); names.len()];
        let mut waiting_on = vec![0; names.len()];
        for (i, b) in p.blocks.iter().enumerate() {
            for u in &b.upstream {
                downstream[index[u]].push(i);
                waiting_on[i] += 1;
            }
        }
        Plan {
            names,
            index,
            waiting_on,
            downstream,
            state: vec![Slot::Waiting; p.blocks.len()],
            cancel_seen: false,
        }
    }

    /// Up to `limit` blocks whose upstreams all succeeded and that have not started, in
    /// pipeline order; they are marked running.
    fn take_ready(&mut self, limit: usize) -> Vec<usize> {
        let ready: Vec<usize> = (0..self.names.len())
            .filter(|&i| self.state[i] == Slot::Waiting && self.waiting_on[i] == 0)
            .take(limit)
            .collect();
        for &i in &ready {
            self.state[i] = Slot::Running;
        }
        ready
    }

    fn succeeded(&mut self, name: &str) {
        let i = self.index[name];
        self.state[i] = Slot::Done;
        for &d in &self.downstream[i] {
            self.waiting_on[d] -= 1;
        }
    }

    /// Mark `name` done without releasing or skipping its downstream blocks.
    fn stopped(&mut self, name: &str) {
        let i = self.index[name];
        self.state[i] = Slot::Done;
    }

    /// Mark `name` failed; returns every block downstream of it that can no longer run.
    fn failed(&mut self, name: &str) -> Vec<String> {
        let i = self.index[name];
        self.state[i] = Slot::Done;
        let mut skipped = Vec::new();
        let mut stack = self.downstream[i].clone();
        while let Some(d) = stack.pop() {
            if self.state[d] == Slot::Waiting {
                self.state[d] = Slot::Done;
                skipped.push(self.names[d].clone());
                stack.extend(self.downstream[d].iter().copied());
            }
        }
        skipped.sort_by_key(|n| self.index[n]);
        skipped
    }

    /// True while `name` has not started.
    fn is_waiting(&self, name: &str) -> bool {
        self.state[self.index[name]] == Slot::Waiting
    }

    /// Blocks that never started, in pipeline order.
    fn never_started(&self) -> Vec<String> {
        (0..self.names.len())
            .filter(|&i| self.state[i] == Slot::Waiting)
            .map(|i| self.names[i].clone())
            .collect()
    }

    /// True while some block that reads `name` has not started.
    fn still_needed(&self, name: &str) -> bool {
        self.downstream[self.index[name]]
            .iter()
            .any(|&d| self.state[d] == Slot::Waiting)
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
