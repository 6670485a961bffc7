//! The run loop: asks the plan what is ready, hands it to the [`Dispatch`] (bounded by the
//! pipeline's `concurrency`), feeds each end back, records what the plan decides, wakes
//! sensors when their poke is due, and keeps outputs in memory only while a block run still
//! to start reads them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio::task::JoinSet;
use weft_store::{BlockRef, BlockStatus};

use crate::clock::now_ms;
use crate::dispatch::{Dispatch, Finished, Input, Job, OutputRef};
use crate::error::ScheduleError;
use crate::event::{BlockSummary, Event};
use crate::local::RunContext;
use crate::plan::{Decided, Plan, Ready, RunKey, Source, Status};

/// One run being driven.
pub(crate) struct Drive {
    pub(crate) run: Arc<RunContext>,
    pub(crate) plan: Plan,
    pub(crate) dispatch: Arc<dyn Dispatch>,
    /// Where each ended block run's output is stored (none: it made no table).
    pub(crate) stored: HashMap<RunKey, Option<String>>,
    /// Attempts (or pokes) already made, per block run.
    pub(crate) attempts: HashMap<RunKey, u32>,
    /// A sensor's first poke, per block run.
    pub(crate) first_at: HashMap<RunKey, i64>,
    /// The summary of every ended block run.
    pub(crate) summaries: BTreeMap<RunKey, BlockSummary>,
    /// Position of each block in the pipeline's order.
    pub(crate) positions: HashMap<String, i64>,
    /// A dynamic block run's rows as variables, once a child needed them.
    rows: HashMap<RunKey, Arc<Vec<BTreeMap<String, String>>>>,
}

impl Drive {
    pub(crate) fn new(run: Arc<RunContext>, plan: Plan, dispatch: Arc<dyn Dispatch>) -> Drive {
        let positions = plan
            .blocks()
            .enumerate()
            .map(|(i, b)| (b.to_string(), i as i64))
            .collect();
        Drive {
            run,
            plan,
            dispatch,
            stored: HashMap::new(),
            attempts: HashMap::new(),
            first_at: HashMap::new(),
            summaries: BTreeMap::new(),
            positions,
            rows: HashMap::new(),
        }
    }

    /// Drive the run until every block run has ended and every output it keeps is durable.
    ///
    /// # Errors
    /// [`ScheduleError::Store`] when a decision cannot be recorded.
    pub(crate) async fn run(&mut self, concurrency: usize) -> Result<(), ScheduleError> {
        let driven = self.drive(concurrency).await;
        self.settle().await;
        driven
    }

    /// Wait for the outputs still being stored; the summaries learn their sizes, or that
    /// they could not be stored (their block failed).
    async fn settle(&mut self) {
        for (key, recorded) in self.run.durable.settle().await {
            let Some(summary) = self.summaries.get_mut(&key) else {
                continue;
            };
            match recorded {
                Ok(bytes) => summary.bytes = Some(bytes),
                Err(e) => {
                    // Shown as ended once more: it had been shown as a success.
                    summary.status = BlockStatus::Failed;
                    summary.error = Some(e);
                    self.run.observer.event(&Event::BlockFinished {
                        summary: summary.clone(),
                    });
                }
            }
        }
    }

    /// Hand ready block runs out and take their ends until none is left.
    async fn drive(&mut self, concurrency: usize) -> Result<(), ScheduleError> {
        let mut running: JoinSet<Finished> = JoinSet::new();
        let mut tasks: HashMap<tokio::task::Id, RunKey> = HashMap::new();
        let cancel = self.run.cancel.clone();
        let mut cancel_seen = false;
        loop {
            if cancel.is_cancelled() && !cancel_seen {
                cancel_seen = true;
                let decided = self.plan.cancel();
                self.record(decided).await?;
            }
            self.plan.wake(now_ms());
            let free = concurrency.saturating_sub(running.len());
            for ready in self.plan.take_ready(free) {
                let key = ready.key.clone();
                let job = self.job(ready).await;
                let handle = running.spawn(self.dispatch.dispatch(job));
                tasks.insert(handle.id(), key);
            }
            if running.is_empty() {
                if self.plan.is_finished() {
                    return Ok(());
                }
                if self.plan.next_wake().is_none() {
                    tracing::error!(
                        "run {}: nothing runs, is ready or waits, yet the plan is open",
                        self.run.run_id
                    );
                    return Ok(());
                }
            }
            let wake = self.plan.next_wake().map(|at| {
                tokio::time::Instant::now()
                    + std::time::Duration::from_millis((at - now_ms()).max(0) as u64)
            });
            let finished = tokio::select! {
                done = running.join_next_with_id(), if !running.is_empty() => done,
                _ = sleep_until(wake), if wake.is_some() => continue,
                _ = cancel.cancelled(), if !cancel_seen => continue,
            };
            let Some(done) = finished else { continue };
            let finished = match done {
                Ok((id, f)) => {
                    tasks.remove(&id);
                    f
                }
                Err(e) => {
                    // A host bug inside the task: its block run fails, the run goes on.
                    let key = tasks.remove(&e.id()).expect("a task of this run");
                    internal_failure(key, format!("internal error: {e}"))
                }
            };
            self.finished(finished).await?;
        }
    }

    /// Feed a job's end to the plan and record what follows from it.
    async fn finished(&mut self, f: Finished) -> Result<(), ScheduleError> {
        let key = f.key.clone();
        self.attempts.insert(key.clone(), f.summary.attempts);
        if let crate::plan::Outcome::Reschedule { .. } = f.outcome {
            self.first_at.entry(key.clone()).or_insert_with(now_ms);
        } else {
            self.summaries.insert(key.clone(), f.summary);
        }
        if let Some(t) = f.output {
            if self.plan.still_needed(&key.block) {
                self.run
                    .cache
                    .lock()
                    .expect("cache lock")
                    .entry(key.block.clone())
                    .or_default()
                    .insert(key.clone(), t);
            }
        }
        self.stored.insert(key.clone(), f.stored);
        let decided = self.plan.finish(&key, f.outcome);
        self.record(decided).await?;
        self.release();
        Ok(())
    }

    /// Drop outputs from memory that no block run still to start reads, and components of
    /// blocks that will not run again in this run.
    fn release(&mut self) {
        self.run
            .loaded
            .lock()
            .expect("loaded components lock")
            .retain(|block, _| self.plan.may_run_again(block));
        let mut cache = self.run.cache.lock().expect("cache lock");
        let plan = &self.plan;
        let rows = &mut self.rows;
        cache.retain(|block, _| {
            let keep = plan.still_needed(block);
            if !keep {
                rows.retain(|k, _| k.block != *block);
            }
            keep
        });
    }

    /// Record block runs the plan decided without running them.
    pub(crate) async fn record(&mut self, decided: Vec<Decided>) -> Result<(), ScheduleError> {
        let mut groups: BTreeMap<(&'static str, String), (BlockStatus, Vec<&Decided>)> =
            BTreeMap::new();
        for d in &decided {
            let status = block_status(d.status);
            groups
                .entry((status.as_str(), d.reason.clone()))
                .or_insert_with(|| (status, Vec::new()))
                .1
                .push(d);
        }
        for ((_, reason), (status, ds)) in groups {
            let keys: Vec<String> = ds.iter().map(|d| d.key.to_string()).collect();
            let refs: Vec<BlockRef<'_>> = ds
                .iter()
                .zip(&keys)
                .map(|(d, k)| BlockRef {
                    key: k,
                    block: &d.key.block,
                    position: self.positions.get(&d.key.block).copied().unwrap_or(0),
                    label: None,
                })
                .collect();
            self.run
                .store
                .skip_blocks(&self.run.run_id, &refs, status, &reason)
                .await?;
        }
        for d in decided {
            let summary = BlockSummary {
                block: d.key.to_string(),
                status: block_status(d.status),
                attempts: 0,
                rows: None,
                bytes: None,
                duration: Default::default(),
                error: Some(d.reason),
            };
            self.run.observer.event(&Event::BlockFinished {
                summary: summary.clone(),
            });
            self.summaries.insert(d.key, summary);
        }
        Ok(())
    }

    /// A ready block run as a job: its inputs by reference, its fan-out rows as variables.
    async fn job(&mut self, ready: Ready) -> Job {
        let output = |k: &RunKey| OutputRef {
            key: k.clone(),
            stored: self.stored.get(k).cloned().flatten(),
        };
        let inputs = ready
            .inputs
            .iter()
            .map(|(name, s)| {
                let input = match s {
                    Source::Whole(k) => Input::Whole(output(k)),
                    Source::Row(k, i) => Input::Row(output(k), *i),
                    Source::Gather(ks) => Input::Gather(ks.iter().map(output).collect()),
                };
                (name.clone(), input)
            })
            .collect();
        let mut variables = BTreeMap::new();
        let mut label = None;
        for (dynamic, row) in &ready.rows {
            let fields = self.row(dynamic, *row).await;
            if let Some(col) = self
                .run
                .block(&dynamic.block)
                .and_then(|b| b.flow.child_key.clone())
            {
                label = fields.get(&col).cloned();
            }
            variables.extend(fields);
        }
        Job {
            position: self.positions.get(&ready.key.block).copied().unwrap_or(0),
            prior_attempts: self.attempts.get(&ready.key).copied().unwrap_or(0),
            first_at: self.first_at.get(&ready.key).copied(),
            key: ready.key,
            label,
            inputs,
            variables,
        }
    }

    /// The fields of row `row` of dynamic block run `key`, as text.
    async fn row(&mut self, key: &RunKey, row: u32) -> BTreeMap<String, String> {
        if !self.rows.contains_key(key) {
            let r = OutputRef {
                key: key.clone(),
                stored: self.stored.get(key).cloned().flatten(),
            };
            let rows = match self.run.output(&r).await {
                Ok(Some(t)) => rows_as_text(&t),
                Ok(None) => Vec::new(),
                Err(e) => {
                    tracing::warn!("run {}: rows of {key}: {e}", self.run.run_id);
                    Vec::new()
                }
            };
            self.rows.insert(key.clone(), Arc::new(rows));
        }
        self.rows[key]
            .get(row as usize)
            .cloned()
            .unwrap_or_default()
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Every row of `t` as field → text (strings as they are, other values as JSON; nulls left
/// out).
fn rows_as_text(t: &weft_data::Table) -> Vec<BTreeMap<String, String>> {
    let json = t.to_json(None).unwrap_or_else(|_| "[]".into());
    let rows: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(&json).unwrap_or_default();
    rows.into_iter()
        .map(|r| {
            r.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, text)
                })
                .collect()
        })
        .collect()
}

pub(crate) fn block_status(s: Status) -> BlockStatus {
    match s {
        Status::Success => BlockStatus::Success,
        Status::Failed => BlockStatus::Failed,
        Status::Skipped => BlockStatus::Skipped,
        Status::UpstreamFailed => BlockStatus::UpstreamFailed,
        Status::Cancelled => BlockStatus::Cancelled,
    }
}

fn internal_failure(key: RunKey, error: String) -> Finished {
    Finished {
        summary: crate::executor::failed_summary(&key.to_string(), error),
        key,
        outcome: crate::plan::Outcome::Failed,
        output: None,
        stored: None,
    }
}
