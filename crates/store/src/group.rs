//! Group commit of block-run transitions: starts and ends of attempts queue up in order and
//! one writer task commits whatever has queued in one transaction. An end is durable when its
//! call returns; a start is recorded in order, before any later write of the same queue. Many
//! small block runs (the children of a fan-out) then cost one transaction per batch instead
//! of one per transition.

use std::sync::Arc;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::model::BlockEnd;

/// Transitions written in one transaction at most.
const BATCH: usize = 512;

/// One queued transition.
pub(crate) enum Op {
    Started {
        run: String,
        key: String,
        block: String,
        position: i64,
        label: Option<String>,
        attempt: i64,
        at: i64,
    },
    Finished {
        run: String,
        key: String,
        end: BlockEnd,
    },
    /// Nothing: waiting for it waits for everything queued before it.
    Barrier,
}

struct Queued {
    op: Op,
    done: Option<oneshot::Sender<Result<(), String>>>,
}

/// The queue; cheap to clone.
#[derive(Clone)]
pub(crate) struct Group {
    tx: mpsc::UnboundedSender<Queued>,
}

impl Group {
    /// Start the writer task over `pool`; `turn` serializes it with this process's other
    /// SQLite writers, `announce` tells live readers which runs changed.
    pub(crate) fn start(
        pool: AnyPool,
        turn: Option<Arc<tokio::sync::Mutex<()>>>,
        announce: crate::changes::Changes,
    ) -> Group {
        let (tx, mut rx) = mpsc::unbounded_channel::<Queued>();
        // The store's one writer task; it ends when the last handle of the store is dropped.
        #[allow(clippy::disallowed_methods)]
        tokio::spawn(async move {
            let mut batch: Vec<Queued> = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                let result = {
                    let _turn = match &turn {
                        Some(t) => Some(t.lock().await),
                        None => None,
                    };
                    commit(&pool, &batch).await
                };
                let mut runs: Vec<&str> = batch
                    .iter()
                    .filter_map(|q| match &q.op {
                        Op::Started { run, .. } | Op::Finished { run, .. } => Some(run.as_str()),
                        Op::Barrier => None,
                    })
                    .collect();
                runs.sort_unstable();
                runs.dedup();
                for run in runs {
                    announce.announce(run);
                }
                for q in batch.drain(..) {
                    if let Some(done) = q.done {
                        let _ = done.send(result.clone());
                    }
                }
            }
        });
        Group { tx }
    }

    /// Queue `op` without waiting for it.
    pub(crate) fn send(&self, op: Op) {
        let _ = self.tx.send(Queued { op, done: None });
    }

    /// Wait until everything queued so far is committed (before a write that must follow it,
    /// or a read that must see it).
    pub(crate) async fn flush(&self) {
        let _ = self.write(Op::Barrier).await;
    }

    /// Queue `op` and wait until it is committed.
    pub(crate) async fn write(&self, op: Op) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Queued {
                op,
                done: Some(done),
            })
            .map_err(|_| "the store's writer has stopped".to_string())?;
        wait.await
            .map_err(|_| "the store's writer has stopped".to_string())?
    }
}

const STARTED: &str = "INSERT INTO weft_block_runs (run_id, run_key, block, position, label, status, attempt, started_at, first_at) VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $7) ON CONFLICT (run_id, run_key) DO UPDATE SET status = 'running', attempt = $6, started_at = $7, finished_at = NULL, error = NULL, wake_at = NULL, first_at = COALESCE(weft_block_runs.first_at, $7)";
const FINISHED: &str = "UPDATE weft_block_runs SET status = $1, finished_at = $2, rows_out = $3, bytes_out = $4, output = $5, error = $6 WHERE run_id = $7 AND run_key = $8";

async fn commit(pool: &AnyPool, batch: &[Queued]) -> Result<(), String> {
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    for q in batch {
        let done = match &q.op {
            Op::Started {
                run,
                key,
                block,
                position,
                label,
                attempt,
                at,
            } => {
                sqlx::query(STARTED)
                    .bind(run.as_str())
                    .bind(key.as_str())
                    .bind(block.as_str())
                    .bind(*position)
                    .bind(label.as_deref())
                    .bind(*attempt)
                    .bind(*at)
                    .execute(&mut *tx)
                    .await
            }
            Op::Finished { run, key, end } => {
                sqlx::query(FINISHED)
                    .bind(end.status.as_str())
                    .bind(end.at)
                    .bind(end.rows)
                    .bind(end.bytes)
                    .bind(end.output.as_deref())
                    .bind(end.error.as_deref())
                    .bind(run.as_str())
                    .bind(key.as_str())
                    .execute(&mut *tx)
                    .await
            }
            Op::Barrier => continue,
        };
        done.map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())
}
