//! Group commit of block-run transitions: starts and ends of attempts queue up in order and
//! one writer task commits whatever has queued in one transaction. An end is durable when its
//! call returns; a start is recorded in order, before any later write of the same queue. Many
//! small block runs (the children of a fan-out) then cost one transaction per batch instead
//! of one per transition.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection};
use tokio::sync::{mpsc, oneshot};

use crate::model::{BlockEnd, BlockStatus};

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
    /// A barrier after which the writer gives its connection back (the pool is closing).
    Release,
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
            // The writer keeps one connection (no check before each batch, a warm page
            // cache); after an error it takes a fresh one.
            let mut conn: Option<PoolConnection<Any>> = None;
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                let result = {
                    let _turn = match &turn {
                        Some(t) => Some(t.lock().await),
                        None => None,
                    };
                    let r = match conn.take() {
                        Some(c) => Ok(c),
                        None => pool.acquire().await.map_err(|e| e.to_string()),
                    };
                    let release = batch.iter().any(|q| matches!(q.op, Op::Release));
                    let r = match r {
                        Ok(mut c) => {
                            let r = commit(&mut c, &batch).await;
                            if r.is_ok() && !release {
                                conn = Some(c);
                            }
                            r
                        }
                        Err(e) => Err(e),
                    };
                    r
                };
                let mut runs: Vec<&str> = batch
                    .iter()
                    .filter_map(|q| match &q.op {
                        Op::Started { run, .. } | Op::Finished { run, .. } => Some(run.as_str()),
                        Op::Barrier | Op::Release => None,
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

    /// Wait until everything queued so far is committed, then let the writer give its
    /// connection back to the pool (before the pool closes).
    pub(crate) async fn release(&self) {
        let _ = self.write(Op::Release).await;
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

/// A block run's row as a batch leaves it: its last start (if the batch has one) and the end
/// after it (if any).
struct Folded<'a> {
    run: &'a str,
    key: &'a str,
    started: Option<&'a Op>,
    end: Option<&'a BlockEnd>,
}

/// The batch's transitions folded per block run, in order of first appearance: a start
/// followed by its end in the same batch is one row written once.
fn fold(batch: &[Queued]) -> Vec<Folded<'_>> {
    let mut rows: Vec<Folded<'_>> = Vec::new();
    let mut at: std::collections::HashMap<(&str, &str), usize> = Default::default();
    for q in batch {
        let (run, key) = match &q.op {
            Op::Started { run, key, .. } | Op::Finished { run, key, .. } => (run, key),
            Op::Barrier | Op::Release => continue,
        };
        let i = *at.entry((run, key)).or_insert_with(|| {
            rows.push(Folded {
                run,
                key,
                started: None,
                end: None,
            });
            rows.len() - 1
        });
        match &q.op {
            Op::Started { .. } => {
                rows[i].started = Some(&q.op);
                rows[i].end = None;
            }
            Op::Finished { end, .. } => rows[i].end = Some(end),
            Op::Barrier | Op::Release => {}
        }
    }
    rows
}

/// The placeholders of row `row` of a multi-row statement binding `columns` per row.
fn params(row: usize, columns: usize) -> String {
    let first = row * columns;
    (1..=columns)
        .map(|c| format!("${}", first + c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Columns bound per row of [`upsert`].
const UPSERT_COLUMNS: usize = 14;

/// One statement for every block run the batch started: inserted, or its row taken over by
/// the new attempt; with its end when that came in the same batch (else what an earlier
/// attempt stored stays until this one ends).
fn upsert(rows: &[&Folded<'_>]) -> String {
    let mut sql = String::from(
        "INSERT INTO weft_block_runs (run_id, run_key, block, position, label, status, attempt, started_at, finished_at, rows_out, bytes_out, output, error, peak_memory, first_at) VALUES ",
    );
    // first_at is bound once per row, as started_at (the row's 8th parameter).
    let values: Vec<String> = (0..rows.len())
        .map(|i| {
            format!(
                "({}, ${})",
                params(i, UPSERT_COLUMNS),
                i * UPSERT_COLUMNS + 8
            )
        })
        .collect();
    sql.push_str(&values.join(", "));
    sql.push_str(
        " ON CONFLICT (run_id, run_key) DO UPDATE SET status = excluded.status, attempt = excluded.attempt, started_at = excluded.started_at, finished_at = excluded.finished_at, \
         rows_out = CASE WHEN excluded.finished_at IS NULL THEN weft_block_runs.rows_out ELSE excluded.rows_out END, \
         bytes_out = CASE WHEN excluded.finished_at IS NULL THEN weft_block_runs.bytes_out ELSE excluded.bytes_out END, \
         output = CASE WHEN excluded.finished_at IS NULL THEN weft_block_runs.output ELSE excluded.output END, \
         peak_memory = excluded.peak_memory, error = excluded.error, wake_at = NULL, first_at = COALESCE(weft_block_runs.first_at, excluded.first_at)",
    );
    sql
}

/// Columns bound per row of [`update`].
const UPDATE_COLUMNS: usize = 9;

/// One statement for every block run whose end the batch holds without its start.
fn update(rows: &[&Folded<'_>]) -> String {
    let mut sql = String::from(
        "UPDATE weft_block_runs SET status = v.column3, finished_at = v.column4, rows_out = v.column5, bytes_out = v.column6, output = v.column7, error = v.column8, peak_memory = v.column9 FROM (VALUES ",
    );
    let values: Vec<String> = (0..rows.len())
        .map(|i| format!("({})", params(i, UPDATE_COLUMNS)))
        .collect();
    sql.push_str(&values.join(", "));
    sql.push_str(
        ") AS v WHERE weft_block_runs.run_id = v.column1 AND weft_block_runs.run_key = v.column2",
    );
    sql
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn bind_upsert<'q>(mut q: Query<'q>, rows: &[&'q Folded<'q>]) -> Query<'q> {
    for r in rows {
        let Some(Op::Started {
            block,
            position,
            label,
            attempt,
            at,
            ..
        }) = r.started
        else {
            continue;
        };
        let status = r.end.map_or("running", |e| e.status.as_str());
        q = q
            .bind(r.run)
            .bind(r.key)
            .bind(block.as_str())
            .bind(*position)
            .bind(label.as_deref())
            .bind(status)
            .bind(*attempt)
            .bind(*at)
            .bind(r.end.map(|e| e.at))
            .bind(r.end.and_then(|e| e.rows))
            .bind(r.end.and_then(|e| e.bytes))
            .bind(r.end.and_then(|e| e.output.as_deref()))
            .bind(r.end.and_then(|e| e.error.as_deref()))
            .bind(r.end.and_then(|e| e.peak_memory));
    }
    q
}

fn bind_update<'q>(mut q: Query<'q>, rows: &[&'q Folded<'q>]) -> Query<'q> {
    for r in rows {
        let Some(e) = r.end else { continue };
        q = q
            .bind(r.run)
            .bind(r.key)
            .bind(e.status.as_str())
            .bind(e.at)
            .bind(e.rows)
            .bind(e.bytes)
            .bind(e.output.as_deref())
            .bind(e.error.as_deref())
            .bind(e.peak_memory);
    }
    q
}

/// An attempt that ended without success, kept in the attempts history (a later attempt
/// takes its block run's row): with its start when the same batch holds it.
struct Tried<'a> {
    run: &'a str,
    key: &'a str,
    started: Option<&'a Op>,
    end: &'a BlockEnd,
}

/// The batch's unsuccessful ends, in order.
fn tried(batch: &[Queued]) -> Vec<Tried<'_>> {
    let mut starts: std::collections::HashMap<(&str, &str), &Op> = Default::default();
    let mut out = Vec::new();
    for q in batch {
        match &q.op {
            Op::Started { run, key, .. } => {
                starts.insert((run, key), &q.op);
            }
            Op::Finished { run, key, end }
                if matches!(
                    end.status,
                    BlockStatus::Retrying | BlockStatus::Failed | BlockStatus::Cancelled
                ) =>
            {
                out.push(Tried {
                    run,
                    key,
                    started: starts.get(&(run.as_str(), key.as_str())).copied(),
                    end,
                });
            }
            _ => {}
        }
    }
    out
}

/// Keep an unsuccessful attempt; its number and start come from the batch or, before the
/// batch is written, from its block run's row. Attempts that never started are not kept.
const KEEP_ATTEMPT: &str = "INSERT INTO weft_block_attempts (run_id, run_key, attempt, started_at, finished_at, status, error, peak_memory) \
     SELECT $1, $2, x.attempt, x.started_at, $5, $6, $7, $8 FROM (SELECT \
     COALESCE($3, (SELECT attempt FROM weft_block_runs WHERE run_id = $1 AND run_key = $2)) AS attempt, \
     COALESCE($4, (SELECT started_at FROM weft_block_runs WHERE run_id = $1 AND run_key = $2)) AS started_at) AS x \
     WHERE x.attempt > 0 ON CONFLICT DO NOTHING";

/// Write the history of the batch's unsuccessful attempts.
async fn keep_attempts(conn: &mut AnyConnection, tried: &[Tried<'_>]) -> Result<(), sqlx::Error> {
    for t in tried {
        let (attempt, at) = match t.started {
            Some(Op::Started { attempt, at, .. }) => (Some(*attempt), Some(*at)),
            _ => (None, None),
        };
        sqlx::query(KEEP_ATTEMPT)
            .bind(t.run)
            .bind(t.key)
            .bind(attempt)
            .bind(at)
            .bind(t.end.at)
            .bind(t.end.status.as_str())
            .bind(t.end.error.as_deref())
            .bind(t.end.peak_memory)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Write a batch: one statement for its starts, one for its bare ends, in one transaction
/// when there are both (a single statement is atomic by itself).
async fn commit(conn: &mut AnyConnection, batch: &[Queued]) -> Result<(), String> {
    let rows = fold(batch);
    let starts: Vec<&Folded<'_>> = rows.iter().filter(|r| r.started.is_some()).collect();
    let ends: Vec<&Folded<'_>> = rows
        .iter()
        .filter(|r| r.started.is_none() && r.end.is_some())
        .collect();
    let tried = tried(batch);
    let upsert_sql = (!starts.is_empty()).then(|| upsert(&starts));
    let update_sql = (!ends.is_empty()).then(|| update(&ends));
    let err = |e: sqlx::Error| e.to_string();
    match (&upsert_sql, &update_sql) {
        (None, None) => Ok(()),
        (Some(u), None) if tried.is_empty() => bind_upsert(sqlx::query(u), &starts)
            .execute(&mut *conn)
            .await
            .map(drop)
            .map_err(err),
        (None, Some(u)) if tried.is_empty() => bind_update(sqlx::query(u), &ends)
            .execute(&mut *conn)
            .await
            .map(drop)
            .map_err(err),
        _ => {
            let mut tx = conn.begin().await.map_err(err)?;
            keep_attempts(&mut tx, &tried).await.map_err(err)?;
            if let Some(a) = &upsert_sql {
                bind_upsert(sqlx::query(a), &starts)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
            }
            if let Some(b) = &update_sql {
                bind_update(sqlx::query(b), &ends)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
            }
            tx.commit().await.map_err(err)
        }
    }
}
