//! Reading the history the way the API asks for it: runs by filter, page by page, and log
//! lines after a position (for live streams).

use crate::error::{Context, StoreError};
use crate::model::{LogRecord, RunRecord, RunStatus};
use crate::store::{run_record, Store, RUN_COLUMNS};
use sqlx::Row;

/// Which runs to list. Empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// Runs of this pipeline.
    pub pipeline: Option<String>,
    /// Runs in this status.
    pub status: Option<RunStatus>,
    /// Runs started by this trigger (`manual`, `backfill`, a trigger name).
    pub trigger: Option<String>,
    /// Runs listed after this run (newest first), for paging: the last id of a page.
    pub before: Option<String>,
    /// At most this many, newest first.
    pub limit: i64,
}

impl Store {
    /// Runs matching `filter`, newest first.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn find_runs(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{RUN_COLUMNS} WHERE ($1 = '' OR pipeline = $1) AND ($2 = '' OR status = $2) AND ($3 = '' OR trigger = $3) AND ($4 = '' OR created_at < (SELECT created_at FROM weft_runs WHERE id = $4) OR (created_at = (SELECT created_at FROM weft_runs WHERE id = $4) AND id < $4)) ORDER BY created_at DESC, id DESC LIMIT $5"
        ))
        .bind(filter.pipeline.as_deref().unwrap_or(""))
        .bind(filter.status.map(|s| s.as_str()).unwrap_or(""))
        .bind(filter.trigger.as_deref().unwrap_or(""))
        .bind(filter.before.as_deref().unwrap_or(""))
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await
        .during(|| "list runs".into())?;
        rows.iter().map(run_record).collect()
    }

    /// Log lines of a run after position `after`, in order, optionally of one block.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn logs_after(
        &self,
        run: &str,
        block: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LogRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, block, attempt, at, level, message FROM weft_logs WHERE run_id = $1 AND ($2 = '' OR block = $2) AND seq > $3 ORDER BY seq LIMIT $4",
        )
        .bind(run)
        .bind(block.unwrap_or(""))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .during(|| format!("read logs of run {run}"))?;
        Ok(rows
            .iter()
            .map(|r| LogRecord {
                seq: r.get(0),
                block: r.get(1),
                attempt: r.get(2),
                at: r.get(3),
                level: r.get(4),
                message: r.get(5),
            })
            .collect())
    }

    /// The position the next log line of `run` takes (lines of earlier processes kept).
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn next_log_seq(&self, run: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT MAX(seq) FROM weft_logs WHERE run_id = $1")
            .bind(run)
            .fetch_one(&self.pool)
            .await
            .during(|| format!("read logs of run {run}"))?;
        Ok(row.get::<Option<i64>, _>(0).map_or(0, |s| s + 1))
    }
}
