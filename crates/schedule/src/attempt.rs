//! One block run: ask its conditions, run attempts until one succeeds or retries run out,
//! read a sensor's or a fan-out's answer, store the output, record every transition, tell its
//! callbacks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use weft_data::Table;
use weft_pipeline::{Block, Kind, OnMaxChildren};
use weft_runtime::LogLevel;
use weft_store::{BlockEnd, BlockRef, BlockStatus};

use crate::clock::now_ms;
use crate::dispatch::{Finished, Job};
use crate::durable::Persist;
use crate::event::{BlockSummary, Event};
use crate::invoke::{invoke, Call, Failure};
use crate::local::RunContext;
use crate::plan::Outcome;

/// An attempt's output and where it is stored (path, bytes once known).
type Produced = (Option<Table>, Option<(String, Option<u64>)>);

/// What one block run's attempts came to.
struct Ended {
    status: BlockStatus,
    outcome: Outcome,
    attempts: u32,
    table: Option<Table>,
    stored: Option<(String, Option<u64>)>,
    error: Option<String>,
}

/// Run a block run with its conditions and retries; never fails: every problem ends in the
/// result.
pub(crate) async fn run_block(
    run: Arc<RunContext>,
    job: Job,
    inputs: Vec<(String, Table)>,
) -> Finished {
    let started = Instant::now();
    let Some(block) = run.block(&job.key.block).cloned() else {
        return failed_before_start(
            &run,
            &job,
            format!("no block \"{}\" in the pipeline", job.key.block),
        )
        .await;
    };
    let mut variables = (*run.variables).clone();
    variables.extend(job.variables.clone());
    let ended = match ask_conditions(&run, &job, &block, &inputs, &variables).await {
        Err(e) => fail_now(&run, &job, &block, e).await,
        Ok(Some(reason)) => skip_now(&run, &job, reason).await,
        Ok(None) => attempts(&run, &job, &block, inputs, &variables).await,
    };
    if !block.flow.callbacks.is_empty() && !matches!(ended.outcome, Outcome::Reschedule { .. }) {
        let key = job.key.to_string();
        let end = crate::callbacks::BlockEnded {
            key: &key,
            status: ended.status,
            error: ended.error.as_deref(),
            output: ended.table.as_ref(),
        };
        crate::callbacks::for_block(&run, &block, &end, &variables).await;
    }
    let summary = BlockSummary {
        block: job.key.to_string(),
        status: ended.status,
        attempts: ended.attempts,
        rows: ended.table.as_ref().map(Table::num_rows),
        bytes: ended.stored.as_ref().and_then(|(_, b)| *b),
        duration: started.elapsed(),
        error: ended.error.clone(),
    };
    if !matches!(ended.outcome, Outcome::Reschedule { .. }) {
        run.observer.event(&Event::BlockFinished {
            summary: summary.clone(),
        });
    }
    Finished {
        key: job.key,
        outcome: ended.outcome,
        summary,
        output: ended.table,
        stored: ended.stored.map(|(p, _)| p),
    }
}

/// The job could not even start (its inputs could not be read): it fails.
pub(crate) async fn failed_before_start(run: &RunContext, job: &Job, error: String) -> Finished {
    let Some(block) = run.block(&job.key.block).cloned() else {
        return Finished {
            key: job.key.clone(),
            outcome: Outcome::Failed,
            summary: summary_of(job, BlockStatus::Failed, 0, Some(error)),
            output: None,
            stored: None,
        };
    };
    let ended = fail_now(run, job, &block, error).await;
    let summary = summary_of(job, ended.status, ended.attempts, ended.error);
    run.observer.event(&Event::BlockFinished {
        summary: summary.clone(),
    });
    Finished {
        key: job.key.clone(),
        outcome: ended.outcome,
        summary,
        output: None,
        stored: None,
    }
}

fn summary_of(
    job: &Job,
    status: BlockStatus,
    attempts: u32,
    error: Option<String>,
) -> BlockSummary {
    BlockSummary {
        block: job.key.to_string(),
        status,
        attempts,
        rows: None,
        bytes: None,
        duration: Default::default(),
        error,
    }
}

fn block_ref<'a>(job: &'a Job, key: &'a str, block: &'a str) -> BlockRef<'a> {
    BlockRef {
        key,
        block,
        position: job.position,
        label: job.label.as_deref(),
    }
}

/// Ask the block's conditions, in order: `Some(reason)` when one answers false.
async fn ask_conditions(
    run: &RunContext,
    job: &Job,
    block: &Block,
    inputs: &[(String, Table)],
    variables: &BTreeMap<String, String>,
) -> Result<Option<String>, String> {
    let key = job.key.to_string();
    for name in &block.flow.conditions {
        let Some(condition) = run.block(name) else {
            return Err(format!(
                "condition \"{name}\" is not a block of the pipeline"
            ));
        };
        let call = Call {
            run,
            block: condition,
            log_key: &key,
            attempt: job.prior_attempts + 1,
            inputs: inputs.to_vec(),
            variables: variables.clone(),
            peak_memory: Default::default(),
        };
        let answer = invoke(call)
            .await
            .map_err(|f| format!("condition \"{name}\": {}", run.log.redact(&f.message)))?;
        if !truth(answer.as_ref()).map_err(|e| format!("condition \"{name}\": {e}"))? {
            return Ok(Some(format!("condition \"{name}\" answered false")));
        }
    }
    Ok(None)
}

/// A sensor's or condition's answer: the first column of its one row, a boolean.
pub(crate) fn truth(t: Option<&Table>) -> Result<bool, String> {
    use weft_data::arrow::array::{Array, BooleanArray};
    let shape = "answer a table of one row whose first column is a boolean (return True or False)";
    let t = t.ok_or_else(|| format!("no answer: {shape}"))?;
    let batch = t.batches().iter().find(|b| b.num_rows() > 0);
    let column = batch
        .and_then(|b| (b.num_columns() > 0).then(|| b.column(0).clone()))
        .ok_or_else(|| format!("an empty answer: {shape}"))?;
    let bools = column
        .as_any()
        .downcast_ref::<BooleanArray>()
        .ok_or_else(|| {
            format!(
                "the answer's first column is {}: {shape}",
                column.data_type()
            )
        })?;
    Ok(bools.is_valid(0) && bools.value(0))
}

/// The block run is skipped (a condition said so), recorded without an attempt.
async fn skip_now(run: &RunContext, job: &Job, reason: String) -> Ended {
    let _ = run.durable.upstream_recorded(job).await;
    let key = job.key.to_string();
    let b = block_ref(job, &key, &job.key.block);
    run.log.note(
        &key,
        job.prior_attempts.max(1),
        LogLevel::Info,
        format!("skipped: {reason}"),
    );
    let _ = run
        .store
        .skip_blocks(&run.run_id, &[b], BlockStatus::Skipped, &reason)
        .await;
    Ended {
        status: BlockStatus::Skipped,
        outcome: Outcome::Skipped,
        attempts: job.prior_attempts,
        table: None,
        stored: None,
        error: Some(reason),
    }
}

/// The block run fails before an attempt (a condition failed, its inputs are unreadable).
async fn fail_now(run: &RunContext, job: &Job, block: &Block, error: String) -> Ended {
    let _ = run.durable.upstream_recorded(job).await;
    let key = job.key.to_string();
    let error = run.log.redact(&error);
    let attempt = job.prior_attempts + 1;
    let b = block_ref(job, &key, &block.name);
    run.log.note(&key, attempt, LogLevel::Error, error.clone());
    let status = final_status(run);
    let recorded = run
        .store
        .block_started(&run.run_id, &b, attempt, now_ms())
        .await;
    let end = BlockEnd {
        status,
        at: now_ms(),
        rows: None,
        bytes: None,
        output: None,
        error: Some(error.clone()),
        peak_memory: None,
    };
    if recorded.is_ok() {
        let _ = run.store.block_finished(&run.run_id, &key, &end).await;
    }
    Ended {
        status,
        outcome: outcome_of(status),
        attempts: attempt,
        table: None,
        stored: None,
        error: Some(error),
    }
}

fn outcome_of(status: BlockStatus) -> Outcome {
    match status {
        BlockStatus::Cancelled => Outcome::Cancelled,
        BlockStatus::Skipped => Outcome::Skipped,
        _ => Outcome::Failed,
    }
}

/// How a block that did not succeed ends: cancelled when its run was, failed otherwise.
fn final_status(run: &RunContext) -> BlockStatus {
    if run.cancel.is_cancelled() {
        BlockStatus::Cancelled
    } else {
        BlockStatus::Failed
    }
}

/// Attempts until one succeeds, retries run out or the run is cancelled.
async fn attempts(
    run: &RunContext,
    job: &Job,
    block: &Block,
    inputs: Vec<(String, Table)>,
    variables: &BTreeMap<String, String>,
) -> Ended {
    let key = job.key.to_string();
    let b = block_ref(job, &key, &block.name);
    let first = job.prior_attempts + 1;
    let last = job.prior_attempts + block.retries + 1;
    let mut error = String::new();
    for attempt in first..=last {
        if run.cancel.is_cancelled() {
            error = "the run was cancelled".into();
            return record_end(run, job, (attempt - 1, None), Err(error)).await;
        }
        if let Err(e) = run
            .store
            .block_started(&run.run_id, &b, attempt, now_ms())
            .await
        {
            return Ended {
                status: BlockStatus::Failed,
                outcome: Outcome::Failed,
                attempts: attempt,
                table: None,
                stored: None,
                error: Some(e.to_string()),
            };
        }
        run.observer.event(&Event::BlockStarted {
            block: key.clone(),
            attempt,
        });
        let peak = Arc::new(AtomicU64::new(0));
        let call = Call {
            run,
            block,
            log_key: &key,
            attempt,
            inputs: inputs.clone(),
            variables: variables.clone(),
            peak_memory: peak.clone(),
        };
        let invoked = invoke(call).await;
        // Zero when no component ran (a SQL block, a component that did not load).
        let peak = Some(peak.load(Ordering::Relaxed) as i64).filter(|&p| p > 0);
        let result = match invoked {
            Ok(table) => answer(run, job, block, (attempt, peak), table).await,
            Err(f) => Err(f),
        };
        match result {
            Ok(done) => return done,
            Err(failure) => {
                error = run.log.redact(&failure.message);
                run.log.note(&key, attempt, LogLevel::Error, error.clone());
                let retry = attempt < last && failure.retryable && !run.cancel.is_cancelled();
                if !retry {
                    return record_end(run, job, (attempt, peak), Err(error)).await;
                }
                let end = BlockEnd {
                    status: BlockStatus::Retrying,
                    at: now_ms(),
                    rows: None,
                    bytes: None,
                    output: None,
                    error: Some(error.clone()),
                    peak_memory: peak,
                };
                let _ = run.store.block_finished(&run.run_id, &key, &end).await;
                run.observer.event(&Event::BlockRetrying {
                    block: key.clone(),
                    attempt,
                    error: error.clone(),
                    delay: block.retry_delay,
                });
                tokio::select! {
                    _ = tokio::time::sleep(block.retry_delay) => {}
                    _ = run.cancel.cancelled() => {}
                }
            }
        }
    }
    record_end(run, job, (last, None), Err(error)).await
}

/// What a successful call means for its block: a sensor's answer, a fan-out's size checked,
/// the output stored.
async fn answer(
    run: &RunContext,
    job: &Job,
    block: &Block,
    (attempt, peak): (u32, Option<i64>),
    table: Option<Table>,
) -> Result<Ended, Failure> {
    let key = job.key.to_string();
    if block.kind == Kind::Sensor {
        let yes =
            truth(table.as_ref()).map_err(|e| Failure::fatal(format!("sensor \"{key}\": {e}")))?;
        if !yes {
            return Ok(sensor_waits(run, job, block, attempt).await);
        }
        return Ok(record_end(run, job, (attempt, peak), Ok((None, None))).await);
    }
    if block.flow.dynamic {
        let rows = table.as_ref().map_or(0, Table::num_rows);
        let max = block.flow.max_children as u64;
        if rows > max {
            if block.flow.on_max_children == OnMaxChildren::Fail {
                return Err(Failure::fatal(format!(
                    "block \"{key}\" would start {rows} children, more than its max_children of {max}; raise `max_children` or set `on_max_children: limit`"
                )));
            }
            run.log.note(
                &key,
                attempt,
                LogLevel::Warn,
                format!("{rows} rows: only the first {max} start children (max_children)"),
            );
        }
    }
    let Some(t) = table else {
        return Ok(record_end(run, job, (attempt, peak), Ok((None, None))).await);
    };
    // The output is stored in the background; downstream starts from memory meanwhile.
    let after = run
        .durable
        .of(job.inputs.iter().flat_map(|(_, i)| i.keys()));
    let persist = Persist {
        outputs: run.outputs.clone(),
        store: run.store.clone(),
        run_id: run.run_id.clone(),
        key: job.key.clone(),
        attempt,
        table: t.clone(),
        at: now_ms(),
        peak_memory: peak,
    };
    let path = run.durable.persist(persist, after).await;
    let rows = t.num_rows();
    Ok(Ended {
        status: BlockStatus::Success,
        outcome: Outcome::Output { rows: Some(rows) },
        attempts: attempt,
        table: Some(t),
        stored: Some((path, None)),
        error: None,
    })
}

/// A sensor answered false: poke again after its interval, or give up at its timeout.
async fn sensor_waits(run: &RunContext, job: &Job, block: &Block, attempt: u32) -> Ended {
    let key = job.key.to_string();
    let now = now_ms();
    let first = job.first_at.unwrap_or(now);
    let next = now + block.flow.poke_interval.as_millis() as i64;
    let deadline = first + block.timeout.as_millis() as i64;
    if next > deadline {
        let reason = format!(
            "sensor \"{key}\" was still false after {}",
            humantime::format_duration(std::time::Duration::from_millis(
                (now - first).max(0) as u64 / 1000 * 1000
            ))
        );
        if block.flow.soft_fail {
            let _ = run.durable.upstream_recorded(job).await;
            run.log.note(
                &key,
                attempt,
                LogLevel::Warn,
                format!("{reason}: skipped (soft_fail)"),
            );
            let end = BlockEnd {
                status: BlockStatus::Skipped,
                at: now,
                rows: None,
                bytes: None,
                output: None,
                error: Some(reason.clone()),
                peak_memory: None,
            };
            let _ = run.store.block_finished(&run.run_id, &key, &end).await;
            return Ended {
                status: BlockStatus::Skipped,
                outcome: Outcome::Skipped,
                attempts: attempt,
                table: None,
                stored: None,
                error: Some(reason),
            };
        }
        run.log.note(&key, attempt, LogLevel::Error, reason.clone());
        return record_end(run, job, (attempt, None), Err(reason)).await;
    }
    run.log.note(
        &key,
        attempt,
        LogLevel::Info,
        format!(
            "not yet: next poke in {}",
            humantime::format_duration(block.flow.poke_interval)
        ),
    );
    let _ = run.store.block_waiting(&run.run_id, &key, next, now).await;
    Ended {
        status: BlockStatus::Waiting,
        outcome: Outcome::Reschedule { at: next },
        attempts: attempt,
        table: None,
        stored: None,
        error: None,
    }
}

/// Record how the last attempt ended.
async fn record_end(
    run: &RunContext,
    job: &Job,
    (attempt, peak): (u32, Option<i64>),
    result: Result<Produced, String>,
) -> Ended {
    let key = &job.key.to_string();
    // After the ends of its inputs; an input that could not be stored fails this block.
    let result = match (run.durable.upstream_recorded(job).await, result) {
        (Some(e), Ok(_)) => Err(e),
        (_, r) => r,
    };
    let (status, table, stored, error) = match result {
        Ok((t, s)) => (BlockStatus::Success, t, s, None),
        Err(e) => (final_status(run), None, None, Some(e)),
    };
    let rows = table.as_ref().map(|t| t.num_rows());
    let end = BlockEnd {
        status,
        at: now_ms(),
        rows: rows.map(|r| r as i64),
        bytes: stored.as_ref().and_then(|(_, b)| b.map(|b| b as i64)),
        output: stored.as_ref().map(|(p, _)| p.clone()),
        error: error.clone(),
        peak_memory: peak,
    };
    let (status, error) = match run.store.block_finished(&run.run_id, key, &end).await {
        Ok(()) => (status, error),
        Err(e) => (BlockStatus::Failed, Some(e.to_string())),
    };
    let outcome = match status {
        BlockStatus::Success => Outcome::Output { rows },
        s => outcome_of(s),
    };
    Ended {
        status,
        outcome,
        attempts: attempt,
        table,
        stored,
        error,
    }
}
