//! Outputs stored beside the run, not in front of it. A block's output is written to the
//! output store in the background while the blocks downstream already start from the table in
//! memory; the block's end is recorded in the state store only once its output is durable and
//! the ends of its upstream block runs are recorded. So the state store never holds an ended
//! block run whose output (or whose inputs' record) could be missing after a crash: recovery
//! runs such a block again, as it would a block that was still running. A run is finished only
//! when every output it keeps is durable. Writing is tried [`WRITE_TRIES`] times; an output
//! that still cannot be stored fails its block, and the blocks that read it fail when they
//! end. Writes in flight are bounded (a block whose output cannot start being written waits),
//! so slow storage holds the run back instead of filling memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, Shared};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use weft_data::Table;
use weft_store::{BlockEnd, BlockStatus, Store};

use crate::clock::now_ms;
use crate::dispatch::Job;
use crate::outputs::Outputs;
use crate::plan::RunKey;

/// Resolves when a block run's end is recorded: its output's size in bytes, or why its output
/// could not be stored.
pub(crate) type Recorded = Shared<BoxFuture<'static, Result<u64, String>>>;

/// Times an output's write is tried before its block fails.
const WRITE_TRIES: u32 = 3;

/// The block runs of one run whose end is still being recorded.
pub(crate) struct Durable {
    pending: Mutex<HashMap<RunKey, Recorded>>,
    /// Writes that may be in flight at once.
    writes: Arc<Semaphore>,
}

/// One output to store and the end to record after it.
pub(crate) struct Persist {
    pub(crate) outputs: Outputs,
    pub(crate) store: Store,
    pub(crate) run_id: String,
    pub(crate) key: RunKey,
    pub(crate) attempt: u32,
    pub(crate) table: Table,
    /// When the block run ended (its record's time, not the time the output became durable).
    pub(crate) at: i64,
    /// The most memory the attempt held at once.
    pub(crate) peak_memory: Option<i64>,
}

impl Durable {
    /// At most `writes` outputs written at once.
    pub(crate) fn new(writes: usize) -> Durable {
        Durable {
            pending: Mutex::default(),
            writes: Arc::new(Semaphore::new(writes.max(1))),
        }
    }

    /// Wait until the ends of `job`'s inputs are recorded: why one of them failed to be
    /// stored, if one did.
    pub(crate) async fn upstream_recorded(&self, job: &Job) -> Option<String> {
        let after = self.of(job.inputs.iter().flat_map(|(_, i)| i.keys()));
        first_failure(after).await
    }

    /// The records `keys` wait for (those still pending).
    pub(crate) fn of<'a>(&self, keys: impl IntoIterator<Item = &'a RunKey>) -> Vec<Recorded> {
        let pending = self.pending.lock().expect("durable lock");
        keys.into_iter()
            .filter_map(|k| pending.get(k).cloned())
            .collect()
    }

    /// Store `p.table` in the background, then record the block run's end once `after` (its
    /// upstream's records) are done; returns the output's path as soon as the write starts.
    pub(crate) async fn persist(&self, p: Persist, after: Vec<Recorded>) -> String {
        let path = Outputs::path(&p.run_id, &p.key.storage_path(), p.attempt);
        let key = p.key.clone();
        let permit = self
            .writes
            .clone()
            .acquire_owned()
            .await
            .expect("the write semaphore is never closed");
        let task = tokio::spawn(store_then_record(p, path.clone(), after, permit));
        let recorded: Recorded = async move {
            task.await
                .unwrap_or_else(|e| Err(format!("storing the output stopped: {e}")))
        }
        .boxed()
        .shared();
        self.pending
            .lock()
            .expect("durable lock")
            .insert(key, recorded);
        path
    }

    /// Wait until every pending end is recorded; the outcome of each.
    pub(crate) async fn settle(&self) -> Vec<(RunKey, Result<u64, String>)> {
        let pending: Vec<(RunKey, Recorded)> =
            self.pending.lock().expect("durable lock").drain().collect();
        let mut out = Vec::with_capacity(pending.len());
        for (k, r) in pending {
            out.push((k, r.await));
        }
        out
    }
}

async fn store_then_record(
    p: Persist,
    path: String,
    after: Vec<Recorded>,
    permit: OwnedSemaphorePermit,
) -> Result<u64, String> {
    let key = p.key.to_string();
    let mut stored = Err(String::new());
    for attempt in 1..=WRITE_TRIES {
        stored = p
            .outputs
            .put(&p.run_id, &p.key.storage_path(), p.attempt, &p.table)
            .await;
        match &stored {
            Err(e) if attempt < WRITE_TRIES => {
                tracing::warn!("run {}: block \"{key}\": {e}; writing it again", p.run_id);
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            _ => break,
        }
    }
    drop(permit);
    // An input whose output could not be stored fails this block too.
    let stored = match first_failure(after).await {
        Some(upstream) => Err(upstream),
        None => stored,
    };
    let rows = Some(p.table.num_rows() as i64);
    let end = match &stored {
        Ok((_, bytes)) => BlockEnd {
            status: BlockStatus::Success,
            at: p.at,
            rows,
            bytes: Some(*bytes as i64),
            output: Some(path),
            error: None,
            peak_memory: p.peak_memory,
        },
        Err(m) => BlockEnd {
            status: BlockStatus::Failed,
            at: now_ms(),
            rows: None,
            bytes: None,
            output: None,
            error: Some(format!("block \"{key}\": {m}")),
            peak_memory: p.peak_memory,
        },
    };
    let recorded = p.store.block_finished(&p.run_id, &key, &end).await;
    match (stored, recorded) {
        (Ok((_, bytes)), Ok(())) => Ok(bytes),
        (Err(m), _) => Err(format!("block \"{key}\": {m}")),
        (Ok(_), Err(e)) => Err(format!("block \"{key}\": recording its end: {e}")),
    }
}

/// Wait for every record in `after`; the first failure among them.
async fn first_failure(after: Vec<Recorded>) -> Option<String> {
    let mut failed = None;
    for upstream in after {
        if let Err(e) = upstream.await {
            failed.get_or_insert(format!("an input could not be stored: {e}"));
        }
    }
    failed
}
