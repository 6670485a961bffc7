//! What makes runs survive a crash: the processes that drive runs (instances, with a
//! heartbeat), finding runs whose process died, handing them to a live one, schedule ticks
//! fired together with the runs they create, and failed runs reopened for a retry.

use serde::Serialize;
use sqlx::Row;

use crate::error::{Context, StoreError};
use crate::model::{BlockStatus, RunRecord, RunStatus};
use crate::store::{insert_run, run_record, NewRun, Store, RUN_COLUMNS};

/// A process that drives runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceRecord {
    /// Instance id.
    pub id: String,
    /// Host name of the machine it runs on.
    pub host: String,
    /// Its process id on that host.
    pub pid: i64,
    /// `serve` or `run`.
    pub kind: String,
    /// Start time, Unix ms.
    pub started_at: i64,
    /// Last sign of life, Unix ms.
    pub heartbeat_at: i64,
}

/// A run that is not finished, with the process that drives it (if that is known).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenRun {
    /// The run.
    pub run: RunRecord,
    /// Its owner's id as recorded.
    pub owner: Option<String>,
    /// The owner, if it registered.
    pub instance: Option<InstanceRecord>,
}

impl Store {
    /// Record a process that drives runs; its heartbeat starts at `now`.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn register_instance(&self, i: &InstanceRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO weft_instances (id, host, pid, kind, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&i.id)
        .bind(&i.host)
        .bind(i.pid)
        .bind(&i.kind)
        .bind(i.started_at)
        .bind(i.heartbeat_at)
        .execute(&self.pool)
        .await
        .during(|| format!("register instance {}", i.id))?;
        Ok(())
    }

    /// Note that instance `id` is alive at `now`. Returns false when the store no longer
    /// knows it (retired by another process after a long outage): register it again.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn heartbeat(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE weft_instances SET heartbeat_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await
            .during(|| format!("heartbeat of instance {id}"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Forget instance `id` (it ended cleanly), and instances silent since `stale_before`.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn retire_instance(&self, id: &str, stale_before: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM weft_instances WHERE id = $1 OR (heartbeat_at < $2 AND NOT EXISTS (SELECT 1 FROM weft_runs r WHERE r.owner = weft_instances.id AND r.status IN ('queued', 'running')))")
            .bind(id)
            .bind(stale_before)
            .execute(&self.pool)
            .await
            .during(|| format!("retire instance {id}"))?;
        Ok(())
    }

    /// Every queued or running run, oldest first, with its owner.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn open_runs(&self) -> Result<Vec<OpenRun>, StoreError> {
        let action = || "list unfinished runs".to_string();
        let rows = sqlx::query(&format!(
            "{} WHERE status IN ('queued', 'running') ORDER BY created_at, id",
            RUN_COLUMNS.replace(" FROM", ", owner FROM")
        ))
        .fetch_all(&self.pool)
        .await
        .during(action)?;
        let instances: Vec<InstanceRecord> =
            sqlx::query("SELECT id, host, pid, kind, started_at, heartbeat_at FROM weft_instances")
                .fetch_all(&self.pool)
                .await
                .during(action)?
                .iter()
                .map(|r| InstanceRecord {
                    id: r.get(0),
                    host: r.get(1),
                    pid: r.get(2),
                    kind: r.get(3),
                    started_at: r.get(4),
                    heartbeat_at: r.get(5),
                })
                .collect();
        rows.iter()
            .map(|r| {
                let owner: Option<String> = r.try_get("owner").during(action)?;
                Ok(OpenRun {
                    run: run_record(r)?,
                    instance: owner
                        .as_ref()
                        .and_then(|o| instances.iter().find(|i| &i.id == o).cloned()),
                    owner,
                })
            })
            .collect()
    }

    /// Make `owner` the driver of run `id` if its owner is still `expected` (compare and
    /// set, so two servers never both adopt an orphan). Returns whether it did.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn adopt_run(
        &self,
        id: &str,
        expected: Option<&str>,
        owner: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE weft_runs SET owner = $3 WHERE id = $1 AND status IN ('queued', 'running') AND ((owner IS NULL AND $2 = '') OR owner = $2)",
        )
        .bind(id)
        .bind(expected.unwrap_or(""))
        .bind(owner)
        .execute(&self.pool)
        .await
        .during(|| format!("adopt run {id}"))?;
        Ok(done.rows_affected() == 1)
    }

    /// End an unfinished run as failed (or cancelled) with `reason`, with its blocks that
    /// had not finished. Returns false when the run had already ended.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn abandon_run(
        &self,
        id: &str,
        status: RunStatus,
        reason: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.group.flush().await;
        let action = || format!("end run {id} as {status}");
        let mut tx = self.pool.begin().await.during(action)?;
        let done = sqlx::query(
            "UPDATE weft_runs SET status = $2, error = $3, finished_at = $4 WHERE id = $1 AND status IN ('queued', 'running')",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(reason)
        .bind(now)
        .execute(&mut *tx)
        .await
        .during(action)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let block_status = if status == RunStatus::Cancelled {
            BlockStatus::Cancelled
        } else {
            BlockStatus::Failed
        };
        sqlx::query(
            "UPDATE weft_block_runs SET status = $2, error = $3, finished_at = $4 WHERE run_id = $1 AND status IN ('pending', 'running', 'retrying', 'waiting')",
        )
        .bind(id)
        .bind(block_status.as_str())
        .bind(reason)
        .bind(now)
        .execute(&mut *tx)
        .await
        .during(action)?;
        tx.commit().await.during(action)?;
        Ok(true)
    }

    /// Move a schedule's last tick from `expected` to `tick` and record `runs` (queued), in
    /// one transaction: either the tick moves and its runs exist, or neither. Returns false
    /// (and records nothing) when another caller moved the tick first.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn fire_schedule(
        &self,
        pipeline: &str,
        trigger: &str,
        expected: Option<i64>,
        tick: i64,
        runs: &[NewRun<'_>],
    ) -> Result<bool, StoreError> {
        let action = || format!("fire the schedule of {pipeline}/{trigger}");
        let mut tx = self.pool.begin().await.during(action)?;
        let moved = sqlx::query(
            "UPDATE weft_triggers SET last_tick = $4 WHERE pipeline = $1 AND name = $2 AND ((last_tick IS NULL AND $3 < 0) OR last_tick = $3)",
        )
        .bind(pipeline)
        .bind(trigger)
        .bind(expected.unwrap_or(-1))
        .bind(tick)
        .execute(&mut *tx)
        .await
        .during(action)?;
        if moved.rows_affected() != 1 {
            return Ok(false);
        }
        for run in runs {
            insert_run(&mut tx, run).await.during(action)?;
        }
        tx.commit().await.during(action)?;
        Ok(true)
    }

    /// Reopen a failed or cancelled run so its blocks that did not succeed run again (as new
    /// attempts) while the blocks that succeeded keep their outputs. Returns the reopened
    /// blocks, or `None` when the run is not failed or cancelled.
    ///
    /// # Errors
    /// [`StoreError::NoSuchRun`], or [`StoreError::Query`] when the database refuses.
    pub async fn reopen_run(
        &self,
        id: &str,
        owner: Option<&str>,
    ) -> Result<Option<Vec<String>>, StoreError> {
        self.group.flush().await;
        let action = || format!("reopen run {id}");
        self.run(id).await?;
        let mut tx = self.pool.begin().await.during(action)?;
        let done = sqlx::query(
            "UPDATE weft_runs SET status = 'queued', error = NULL, finished_at = NULL, cancel_requested = NULL, owner = $2 WHERE id = $1 AND status IN ('failed', 'cancelled')",
        )
        .bind(id)
        .bind(owner)
        .execute(&mut *tx)
        .await
        .during(action)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let blocks: Vec<String> = sqlx::query(
            "SELECT run_key FROM weft_block_runs WHERE run_id = $1 AND status <> 'success' ORDER BY position",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .during(action)?
        .iter()
        .map(|r| r.get(0))
        .collect();
        sqlx::query(
            "UPDATE weft_block_runs SET status = 'pending', error = NULL, finished_at = NULL, wake_at = NULL, first_at = NULL WHERE run_id = $1 AND status <> 'success'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .during(action)?;
        tx.commit().await.during(action)?;
        Ok(Some(blocks))
    }

    /// Ask the process that drives run `id` to cancel it (it looks about once a second).
    /// Returns false when the run has already ended.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn request_cancel(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE weft_runs SET cancel_requested = $2 WHERE id = $1 AND status IN ('queued', 'running')",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await
        .during(|| format!("ask to cancel run {id}"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Open runs of `owner` that someone asked to cancel.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn cancel_requests(&self, owner: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM weft_runs WHERE owner = $1 AND cancel_requested IS NOT NULL AND status IN ('queued', 'running')",
        )
        .bind(owner)
        .fetch_all(&self.pool)
        .await
        .during(|| "read cancel requests".into())?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
