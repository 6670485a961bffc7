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
    /// The run was already recorded with [`Executor::record`] under `run_id`.
    pub recorded: bool,
    /// Cancelling it stops the run: running blocks are interrupted within one epoch tick,
    /// blocks not started are marked cancelled.
    pub cancel: CancellationToken,
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
}

impl Executor {
    /// An executor over a runtime, a state store and an output store.
    pub fn new(runtime: Arc<Runtime>, store: Store, outputs: Outputs) -> Self {
        Executor {
            runtime,
            store,
            outputs,
            io: None,
        }
    }

    /// Let blocks read and write within their grants, with the project's io profiles.
    pub fn with_io(mut self, io: Arc<IoContext>) -> Self {
        self.io = Some(io);
        self
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
    /// before the run starts; run it later with `recorded: true` and that `run_id`.
    ///
    /// # Errors
    /// [`ScheduleError::Store`] when the run cannot be recorded.
    pub async fn record(&self, req: &RunRequest) -> Result<String, ScheduleError> {
        let run_id = req.run_id.clone().unwrap_or_else(new_run_id);
        self.record_as(req, &run_id).await?;
        Ok(run_id)
    }

    async fn record_as(&self, req: &RunRequest, run_id: &str) -> Result<(), ScheduleError> {
        let names: Vec<&str> = req
            .pipeline
            .blocks
            .iter()
            .map(|b| b.name.as_str())
            .collect();
        let vars_json = serde_json::to_string(&req.variables).unwrap_or_else(|_| "{}".into());
        self.store
            .create_run(&NewRun {
                id: run_id,
                pipeline: &req.pipeline.name,
                trigger: &req.trigger,
                variables: &vars_json,
                created_at: now_ms(),
                blocks: &names,
            })
            .await?;
        Ok(())
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
        if !req.recorded {
            self.record_as(&req, &run_id).await?;
        }
        self.store
            .set_run_status(&run_id, RunStatus::Running, now_ms(), None)
            .await?;
        observer.event(&Event::RunStarted {
            run_id: run_id.clone(),
            blocks: names.iter().map(|s| s.to_string()).collect(),
        });

        let log = Arc::new(RunLog::start(
            self.store.clone(),
            run_id.clone(),
            observer.clone(),
            self.io
                .as_ref()
                .map(|io| io.redactor().clone())
                .unwrap_or_default(),
        ));
        let mut plan = Plan::new(&pipeline);
        let variables = Arc::new(variables);
        let mut running: JoinSet<(BlockSummary, Option<Table>)> = JoinSet::new();
        let mut tasks: HashMap<tokio::task::Id, String> = HashMap::new();
        let mut outputs: HashMap<String, Option<Table>> = HashMap::new();
        let mut summaries: HashMap<String, BlockSummary> = HashMap::new();
        let mut store_error = None;

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
                };
                let name = job.block.name.clone();
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
        Ok(RunSummary {
            run_id,
            status,
            blocks,
        })
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
