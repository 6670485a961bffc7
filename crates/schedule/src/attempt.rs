//! One block of a run: load its component, run attempts until one succeeds or retries run
//! out, store its output, record every transition.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use weft_data::Table;
use weft_io::{BlockIo, IoContext, Progress};
use weft_pipeline::{Block, Source};
use weft_runtime::{BlockCall, LogLevel, Runtime, RuntimeError};
use weft_store::{BlockEnd, BlockStatus, Store};

use crate::clock::now_ms;
use crate::event::{BlockSummary, Event, Observer};
use crate::executor::ComponentRef;
use crate::logs::RunLog;
use crate::outputs::Outputs;

/// Extra wall time past a block's `timeout` before the executor stops waiting for it (the
/// epoch deadline inside the engine normally stops it first).
const TIMEOUT_GRACE: Duration = Duration::from_secs(2);

/// Everything one block task needs.
pub(crate) struct BlockJob {
    pub(crate) run_id: String,
    pub(crate) block: Block,
    pub(crate) component: Option<ComponentRef>,
    pub(crate) inputs: Vec<(String, Table)>,
    pub(crate) variables: Arc<BTreeMap<String, String>>,
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) io: Option<Arc<IoContext>>,
    pub(crate) store: Store,
    pub(crate) outputs: Outputs,
    pub(crate) log: Arc<RunLog>,
    pub(crate) observer: Arc<dyn Observer>,
    pub(crate) cancel: CancellationToken,
    /// Attempts an earlier process already started (an interrupted run, a retried one); the
    /// next attempt is numbered after them.
    pub(crate) prior_attempts: u32,
}

/// Run a block with its retries; never fails: every problem ends in the summary.
pub(crate) async fn run_block(job: BlockJob) -> (BlockSummary, Option<Table>) {
    let started = Instant::now();
    let name = job.block.name.clone();
    let first = job.prior_attempts + 1;
    let attempts = job.prior_attempts + job.block.retries + 1;
    let mut last_error = String::new();
    for attempt in first..=attempts {
        if job.cancel.is_cancelled() {
            return finish_failed(
                &job,
                attempt - 1,
                started,
                "the run was cancelled".into(),
                false,
            )
            .await;
        }
        if let Err(e) = job
            .store
            .block_started(&job.run_id, &name, attempt, now_ms())
            .await
        {
            last_error = e.to_string();
            break;
        }
        job.observer.event(&Event::BlockStarted {
            block: name.clone(),
            attempt,
        });
        match attempt_once(&job, attempt).await {
            Ok((table, stored)) => {
                let rows = table.as_ref().map(|t| t.num_rows());
                let end = BlockEnd {
                    status: BlockStatus::Success,
                    at: now_ms(),
                    rows: rows.map(|r| r as i64),
                    bytes: stored.as_ref().map(|(_, b)| *b as i64),
                    output: stored.as_ref().map(|(p, _)| p.clone()),
                    error: None,
                };
                if let Err(e) = job.store.block_finished(&job.run_id, &name, &end).await {
                    last_error = e.to_string();
                    break;
                }
                let summary = BlockSummary {
                    block: name,
                    status: BlockStatus::Success,
                    attempts: attempt,
                    rows,
                    bytes: stored.map(|(_, b)| b),
                    duration: started.elapsed(),
                    error: None,
                };
                job.observer.event(&Event::BlockFinished {
                    summary: summary.clone(),
                });
                return (summary, table);
            }
            Err(failure) => {
                last_error = job.log.redact(&failure.message);
                job.log
                    .note(&name, attempt, LogLevel::Error, last_error.clone());
                let retry = attempt < attempts && failure.retryable && !job.cancel.is_cancelled();
                let end = BlockEnd {
                    status: if retry {
                        BlockStatus::Retrying
                    } else {
                        final_status(&job)
                    },
                    at: now_ms(),
                    rows: None,
                    bytes: None,
                    output: None,
                    error: Some(last_error.clone()),
                };
                if let Err(e) = job.store.block_finished(&job.run_id, &name, &end).await {
                    last_error = format!("{last_error}; and {e}");
                    break;
                }
                if !retry {
                    return finish_failed(&job, attempt, started, last_error, true).await;
                }
                job.observer.event(&Event::BlockRetrying {
                    block: name.clone(),
                    attempt,
                    error: last_error.clone(),
                    delay: job.block.retry_delay,
                });
                tokio::select! {
                    _ = tokio::time::sleep(job.block.retry_delay) => {}
                    _ = job.cancel.cancelled() => {}
                }
            }
        }
    }
    finish_failed(&job, attempts, started, last_error, false).await
}

async fn finish_failed(
    job: &BlockJob,
    attempts: u32,
    started: Instant,
    error: String,
    recorded: bool,
) -> (BlockSummary, Option<Table>) {
    let status = final_status(job);
    if !recorded {
        let end = BlockEnd {
            status,
            at: now_ms(),
            rows: None,
            bytes: None,
            output: None,
            error: Some(error.clone()),
        };
        // The store already failed once; a second failure changes nothing we can report.
        let _ = job
            .store
            .block_finished(&job.run_id, &job.block.name, &end)
            .await;
    }
    let summary = BlockSummary {
        block: job.block.name.clone(),
        status,
        attempts,
        rows: None,
        bytes: None,
        duration: started.elapsed(),
        error: Some(error),
    };
    job.observer.event(&Event::BlockFinished {
        summary: summary.clone(),
    });
    (summary, None)
}

/// How a block that did not succeed ends: cancelled when its run was, failed otherwise.
fn final_status(job: &BlockJob) -> BlockStatus {
    if job.cancel.is_cancelled() {
        BlockStatus::Cancelled
    } else {
        BlockStatus::Failed
    }
}

/// Why an attempt failed, and whether another could succeed.
struct Failure {
    message: String,
    retryable: bool,
}

impl From<RuntimeError> for Failure {
    fn from(e: RuntimeError) -> Self {
        Failure {
            retryable: e.is_retryable(),
            message: e.to_string(),
        }
    }
}

type Stored = Option<(String, u64)>;

/// The block's IO for one attempt: its grants, progress shown live, notices in its log.
fn block_io(job: &BlockJob, sink: &Arc<dyn weft_runtime::LogSink>) -> Option<BlockIo> {
    let ctx = job.io.as_ref()?;
    let sink = sink.clone();
    let progress = Arc::new(TransferEvents {
        block: job.block.name.clone(),
        observer: job.observer.clone(),
    });
    Some(
        ctx.for_block(&job.block.name, &job.block.grants)
            .with_progress(progress)
            .with_notices(Arc::new(move |m| sink.log(LogLevel::Info, m))),
    )
}

/// Forwards transfer progress to the run's observer.
struct TransferEvents {
    block: String,
    observer: Arc<dyn Observer>,
}

impl Progress for TransferEvents {
    fn bytes(&self, label: &str, done: u64, total: Option<u64>) {
        self.observer.event(&Event::Transfer {
            block: self.block.clone(),
            label: label.to_string(),
            done,
            total,
        });
    }
}

async fn attempt_once(job: &BlockJob, attempt: u32) -> Result<(Option<Table>, Stored), Failure> {
    let block = &job.block;
    let sink = job.log.sink(&block.name, attempt);
    let io = block_io(job, &sink);
    if let Source::Sql { path, .. } = &block.source {
        return run_sql(job, attempt, path.clone(), io).await;
    }
    let Some(component) = job.component.clone() else {
        return Err(Failure {
            message: format!(
                "block \"{}\": no component was built for it; run `weft build`",
                block.name
            ),
            retryable: false,
        });
    };
    let stop = Arc::new(AtomicBool::new(false));
    let mut variables = (*job.variables).clone();
    variables.insert("block".into(), block.name.clone());
    variables.insert("attempt".into(), attempt.to_string());
    let call = BlockCall {
        block: block.name.clone(),
        config: block.config.to_string(),
        inputs: job.inputs.clone(),
        variables: Arc::new(variables),
        env: block
            .grants
            .env
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.clone(), v)))
            .collect(),
        memory_limit: block.memory_limit,
        read_limit: block.read_limit,
        timeout: block.timeout,
        log: sink,
        cancel: stop.clone(),
        io,
    };
    let runtime = job.runtime.clone();
    let name = block.name.clone();
    let mut task = tokio::task::spawn_blocking(move || {
        let loaded = runtime.load(
            &name,
            &component.key,
            &component.wasm,
            component
                .cwasm
                .as_deref()
                .zip(component.cwasm_digest.as_deref()),
        )?;
        runtime.invoke(&loaded, call)
    });
    let limit = block.timeout + TIMEOUT_GRACE;
    let finished = tokio::select! {
        r = tokio::time::timeout(limit, &mut task) => r,
        _ = job.cancel.cancelled() => {
            stop.store(true, Ordering::Relaxed);
            tokio::time::timeout(TIMEOUT_GRACE, &mut task).await
        }
    };
    let output = match finished {
        Err(_) if job.cancel.is_cancelled() => {
            return Err(RuntimeError::Cancelled {
                block: block.name.clone(),
            }
            .into())
        }
        Err(_) => {
            // A retry starts only when this attempt has stopped: its host calls stop at the
            // deadline, its guest at the next epoch tick.
            stop.store(true, Ordering::Relaxed);
            let _ = (&mut task).await;
            return Err(RuntimeError::Timeout {
                block: block.name.clone(),
                limit: block.timeout,
            }
            .into());
        }
        Ok(Err(join)) => {
            return Err(Failure {
                message: format!(
                    "block \"{}\": internal error in the host: {join}",
                    block.name
                ),
                retryable: true,
            })
        }
        Ok(Ok(result)) => result?,
    };
    let stored = store_output(job, attempt, output.table.as_ref()).await?;
    Ok((output.table, stored))
}

/// Keep a block's output in the object store.
async fn store_output(
    job: &BlockJob,
    attempt: u32,
    table: Option<&Table>,
) -> Result<Stored, Failure> {
    let block = &job.block;
    let stored = match table {
        Some(t) => Some(
            job.outputs
                .put(&job.run_id, &block.name, attempt, t)
                .await
                .map_err(|m| Failure {
                    message: format!("block \"{}\": {m}", block.name),
                    retryable: true,
                })?,
        ),
        None => None,
    };
    Ok(stored)
}

/// Run a SQL block on a blocking thread, within its timeout.
async fn run_sql(
    job: &BlockJob,
    attempt: u32,
    path: std::path::PathBuf,
    io: Option<BlockIo>,
) -> Result<(Option<Table>, Stored), Failure> {
    let block = job.block.clone();
    let inputs = job.inputs.clone();
    let mut variables = (*job.variables).clone();
    variables.insert("block".into(), block.name.clone());
    variables.insert("attempt".into(), attempt.to_string());
    let name = block.name.clone();
    let timeout = block.timeout;
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = std::time::Instant::now() + timeout;
    let limits = weft_data::QueryLimits {
        memory: block.memory_limit,
        deadline: Some(deadline),
        cancel: Some(stop.clone()),
    };
    let io = io.map(|io| {
        io.with_limits(weft_io::IoLimits {
            deadline: Some(deadline),
            cancel: Some(stop.clone()),
            read_bytes: block.read_limit,
            memory: block.memory_limit,
        })
    });
    let mut task = tokio::task::spawn_blocking(move || {
        crate::sql_block::run(&block, &path, &inputs, &variables, io.as_ref(), &limits)
    });
    // The engine stops a query at the deadline or on cancel by itself; the grace covers a
    // query running in a profile's database.
    let result = tokio::select! {
        r = tokio::time::timeout(timeout + TIMEOUT_GRACE, &mut task) => r,
        _ = job.cancel.cancelled() => {
            stop.store(true, Ordering::Relaxed);
            let _ = tokio::time::timeout(TIMEOUT_GRACE, &mut task).await;
            return Err(RuntimeError::Cancelled { block: name }.into());
        }
    };
    let table = match result {
        Err(_) => {
            stop.store(true, Ordering::Relaxed);
            let _ = (&mut task).await;
            return Err(RuntimeError::Timeout {
                block: name,
                limit: timeout,
            }
            .into());
        }
        Ok(Err(join)) => {
            return Err(Failure {
                message: format!("block \"{name}\": internal error in the host: {join}"),
                retryable: true,
            })
        }
        Ok(Ok(Err(f))) => {
            return Err(Failure {
                message: f.message,
                retryable: f.retryable,
            })
        }
        Ok(Ok(Ok(t))) => t,
    };
    let stored = store_output(job, attempt, Some(&table)).await?;
    Ok((Some(table), stored))
}
