//! Block runs of a run, keyed by block run key: attempts started and ended, sensors waiting,
//! block runs decided without running, and reading them back in pipeline and child order.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::{Context, StoreError};
use crate::model::*;
use crate::store::{get, Store};

/// Which block run a record is about.
#[derive(Debug, Clone, Copy)]
pub struct BlockRef<'a> {
    /// Block run key (`name`, `name[3]`, `name[3.0]`).
    pub key: &'a str,
    /// Block name.
    pub block: &'a str,
    /// The block's position in the pipeline's order.
    pub position: i64,
    /// A child's name, if it has one.
    pub label: Option<&'a str>,
}

impl<'a> BlockRef<'a> {
    /// The one run of `block` at `position`.
    pub fn block(block: &'a str, position: i64) -> Self {
        BlockRef {
            key: block,
            block,
            position,
            label: None,
        }
    }
}

/// Insert the block run if it is new (a child), leaving an existing row alone.
const ENSURE: &str = "INSERT INTO weft_block_runs (run_id, run_key, block, position, label, status, attempt) VALUES ($1, $2, $3, $4, $5, 'pending', 0) ON CONFLICT (run_id, run_key) DO NOTHING";

impl Store {
    /// Record the start of attempt `attempt` of a block run (made if it is a new child). It
    /// is queued: written in order before any later transition, without waiting for it.
    ///
    /// # Errors
    /// None today; kept for stores that check at once.
    pub async fn block_started(
        &self,
        run: &str,
        b: &BlockRef<'_>,
        attempt: u32,
        at: i64,
    ) -> Result<(), StoreError> {
        self.group.send(crate::group::Op::Started {
            run: run.to_string(),
            key: b.key.to_string(),
            block: b.block.to_string(),
            position: b.position,
            label: b.label.map(str::to_string),
            attempt: i64::from(attempt),
            at,
        });
        Ok(())
    }

    /// Record the end of the current attempt of block run `key`; durable when this returns
    /// (committed together with whatever else was queued meanwhile).
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn block_finished(
        &self,
        run: &str,
        key: &str,
        end: &BlockEnd,
    ) -> Result<(), StoreError> {
        self.group
            .write(crate::group::Op::Finished {
                run: run.to_string(),
                key: key.to_string(),
                end: end.clone(),
            })
            .await
            .map_err(sqlx::Error::Protocol)
            .during(|| format!("record block run \"{key}\" {}", end.status))
    }

    /// A sensor answered false: it waits, holding nothing, until `wake_at` (Unix ms).
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn block_waiting(
        &self,
        run: &str,
        key: &str,
        wake_at: i64,
        at: i64,
    ) -> Result<(), StoreError> {
        self.group.flush().await;
        let _turn = self.write_turn().await;
        sqlx::query(
            "UPDATE weft_block_runs SET status = 'waiting', wake_at = $1, finished_at = $2 WHERE run_id = $3 AND run_key = $4",
        )
        .bind(wake_at)
        .bind(at)
        .bind(run)
        .bind(key)
        .execute(&self.pool)
        .await
        .during(|| format!("record sensor \"{key}\" waiting"))?;
        self.changes.announce(run);
        Ok(())
    }

    /// Give block runs that did not run (an upstream block failed or was skipped, the run was
    /// cancelled) their `status`, in one transaction; new children are made.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn skip_blocks(
        &self,
        run: &str,
        blocks: &[BlockRef<'_>],
        status: BlockStatus,
        reason: &str,
    ) -> Result<(), StoreError> {
        if blocks.is_empty() {
            return Ok(());
        }
        let action = || format!("record {} block runs {status}", blocks.len());
        self.group.flush().await;
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.during(action)?;
        for b in blocks {
            ensure(&mut tx, run, b).await.during(action)?;
            sqlx::query(
                "UPDATE weft_block_runs SET status = $1, error = $2 WHERE run_id = $3 AND run_key = $4",
            )
            .bind(status.as_str())
            .bind(reason)
            .bind(run)
            .bind(b.key)
            .execute(&mut *tx)
            .await
            .during(action)?;
        }
        tx.commit().await.during(action)?;
        self.changes.announce(run);
        Ok(())
    }

    /// Forget a run's block runs still pending: made for an earlier attempt of the run, they
    /// are no longer part of it.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn drop_pending_blocks(&self, run: &str) -> Result<(), StoreError> {
        self.group.flush().await;
        let _turn = self.write_turn().await;
        sqlx::query("DELETE FROM weft_block_runs WHERE run_id = $1 AND status = 'pending'")
            .bind(run)
            .execute(&self.pool)
            .await
            .during(|| format!("drop pending block runs of run {run}"))?;
        Ok(())
    }

    /// The block runs of a run, in pipeline order, children in child order.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn block_runs(&self, run: &str) -> Result<Vec<BlockRunRecord>, StoreError> {
        self.group.flush().await;
        let rows = sqlx::query(
            "SELECT run_id, run_key, block, label, position, status, attempt, started_at, finished_at, rows_out, bytes_out, output, error, wake_at, first_at, peak_memory FROM weft_block_runs WHERE run_id = $1 ORDER BY position",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await
        .during(|| format!("read blocks of run {run}"))?;
        let mut records = rows.iter().map(record).collect::<Result<Vec<_>, _>>()?;
        records.sort_by_cached_key(|r| (r.position, child_path(&r.key)));
        Ok(records)
    }

    /// The attempts of a run's block runs that came before their latest one and did not
    /// succeed, by block run key and attempt.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn earlier_attempts(&self, run: &str) -> Result<Vec<AttemptRecord>, StoreError> {
        self.group.flush().await;
        let rows = sqlx::query(
            "SELECT a.run_key, a.attempt, a.started_at, a.finished_at, a.status, a.error, a.peak_memory FROM weft_block_attempts a \
             JOIN weft_block_runs r ON r.run_id = a.run_id AND r.run_key = a.run_key \
             WHERE a.run_id = $1 AND a.attempt < r.attempt ORDER BY a.run_key, a.attempt",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await
        .during(|| format!("read earlier attempts of run {run}"))?;
        rows.iter().map(attempt).collect()
    }
}

async fn ensure(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    run: &str,
    b: &BlockRef<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(ENSURE)
        .bind(run)
        .bind(b.key)
        .bind(b.block)
        .bind(b.position)
        .bind(b.label)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The index path of a key (`c[3.0]` → [3, 0]; a block's own key → []).
fn child_path(key: &str) -> Vec<u32> {
    key.split_once('[')
        .map(|(_, p)| {
            p.trim_end_matches(']')
                .split('.')
                .filter_map(|i| i.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn record(r: &AnyRow) -> Result<BlockRunRecord, StoreError> {
    let status: String = r.try_get("status").during(|| "read block status".into())?;
    Ok(BlockRunRecord {
        run_id: get(r, "run_id")?,
        key: get(r, "run_key")?,
        block: get(r, "block")?,
        label: get(r, "label")?,
        position: get(r, "position")?,
        status: BlockStatus::parse(&status).unwrap_or(BlockStatus::Failed),
        attempt: get(r, "attempt")?,
        started_at: get(r, "started_at")?,
        finished_at: get(r, "finished_at")?,
        rows: get(r, "rows_out")?,
        bytes: get(r, "bytes_out")?,
        output: get(r, "output")?,
        error: get(r, "error")?,
        wake_at: get(r, "wake_at")?,
        first_at: get(r, "first_at")?,
        peak_memory: get(r, "peak_memory")?,
    })
}

fn attempt(r: &AnyRow) -> Result<AttemptRecord, StoreError> {
    let status: String = r
        .try_get("status")
        .during(|| "read attempt status".into())?;
    Ok(AttemptRecord {
        key: get(r, "run_key")?,
        attempt: get(r, "attempt")?,
        started_at: get(r, "started_at")?,
        finished_at: get(r, "finished_at")?,
        status: BlockStatus::parse(&status).unwrap_or(BlockStatus::Failed),
        error: get(r, "error")?,
        peak_memory: get(r, "peak_memory")?,
    })
}
