//! Bringing a recorded run (interrupted by a crash, or reopened for a retry) back into a
//! plan: block runs that succeeded keep their stored outputs and do not run again — a fan-out
//! that succeeded makes the same children, whose own ends are then replayed — failures stay
//! failed, a waiting sensor waits for the same poke, and everything else runs as a new
//! attempt.

use weft_store::BlockStatus;

use crate::drive::Drive;
use crate::error::ScheduleError;
use crate::plan::{Outcome, RunKey};

impl Drive {
    /// Replay the run's recorded block runs into the plan, in pipeline then child order.
    ///
    /// # Errors
    /// [`ScheduleError::Store`] when the records cannot be read or a decision recorded.
    pub(crate) async fn restore(&mut self) -> Result<(), ScheduleError> {
        let run_id = self.run.run_id.clone();
        let records = self.run.store.block_runs(&run_id).await?;
        for r in records {
            let Ok(key) = r.key.parse::<RunKey>() else {
                continue;
            };
            self.attempts.insert(key.clone(), r.attempt.max(0) as u32);
            if let Some(at) = r.first_at {
                self.first_at.insert(key.clone(), at);
            }
            if !self.plan.is_open(&key) {
                continue;
            }
            let outcome = match r.status {
                BlockStatus::Success => {
                    if let Some(path) = &r.output {
                        if !self.run.outputs.exists(path).await {
                            tracing::warn!(
                                "run {run_id}: \"{key}\" runs again: its output {path} is gone"
                            );
                            continue;
                        }
                    }
                    self.stored.insert(key.clone(), r.output.clone());
                    Outcome::Output {
                        rows: r.rows.map(|n| n.max(0) as u64),
                    }
                }
                BlockStatus::Failed => Outcome::Failed,
                // Skipped by its own answer (a condition, a sensor's soft fail), not decided.
                BlockStatus::Skipped if r.attempt > 0 => Outcome::Skipped,
                BlockStatus::Waiting => match r.wake_at {
                    Some(at) => Outcome::Reschedule { at },
                    None => continue,
                },
                _ => continue,
            };
            if !matches!(outcome, Outcome::Reschedule { .. }) {
                self.summaries.insert(
                    key.clone(),
                    crate::event::BlockSummary {
                        block: key.to_string(),
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
                    },
                );
            }
            let decided = self.plan.finish(&key, outcome);
            self.record(decided).await?;
        }
        Ok(())
    }
}

impl Drive {
    /// Take `blocks`' outputs from run `from` instead of running them: each of their block
    /// runs that succeeded there is recorded here as a success with that output.
    ///
    /// # Errors
    /// [`ScheduleError::Borrow`] when one of them did not succeed in `from`;
    /// [`ScheduleError::Store`] when the records cannot be read or written.
    pub(crate) async fn borrow(
        &mut self,
        from: &str,
        blocks: &[String],
    ) -> Result<(), ScheduleError> {
        let run_id = self.run.run_id.clone();
        let records = self.run.store.block_runs(from).await?;
        let reason = format!("output taken from run {from}");
        for r in records.iter().filter(|r| blocks.contains(&r.block)) {
            let Ok(key) = r.key.parse::<RunKey>() else {
                continue;
            };
            if !self.plan.is_open(&key) {
                continue;
            }
            let outcome = match r.status {
                BlockStatus::Success => Outcome::Output {
                    rows: r.rows.map(|n| n.max(0) as u64),
                },
                BlockStatus::Skipped if r.attempt > 0 => Outcome::Skipped,
                _ => continue,
            };
            let b = weft_store::BlockRef {
                key: &r.key,
                block: &r.block,
                position: self.positions.get(&r.block).copied().unwrap_or(0),
                label: r.label.as_deref(),
            };
            self.run
                .store
                .skip_blocks(&run_id, &[b], r.status, &reason)
                .await?;
            if r.status == BlockStatus::Success {
                let end = weft_store::BlockEnd {
                    status: BlockStatus::Success,
                    at: crate::clock::now_ms(),
                    rows: r.rows,
                    bytes: r.bytes,
                    output: r.output.clone(),
                    error: Some(reason.clone()),
                    peak_memory: r.peak_memory,
                };
                self.run.store.block_finished(&run_id, &r.key, &end).await?;
            }
            self.stored.insert(key.clone(), r.output.clone());
            let summary = crate::event::BlockSummary {
                block: key.to_string(),
                status: r.status,
                attempts: 0,
                rows: r.rows.map(|n| n as u64),
                bytes: r.bytes.map(|n| n as u64),
                duration: Default::default(),
                error: Some(reason.clone()),
            };
            self.summaries.insert(key.clone(), summary);
            let decided = self.plan.finish(&key, outcome);
            self.record(decided).await?;
        }
        let missing: Vec<String> = self
            .plan
            .statuses()
            .into_iter()
            .filter(|(k, s)| s.is_none() && blocks.contains(&k.block))
            .map(|(k, _)| k.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(ScheduleError::Borrow {
                run: from.to_string(),
                blocks: missing,
            });
        }
        Ok(())
    }
}
