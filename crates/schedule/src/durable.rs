//! Outputs stored beside the run, not in front of it. A block's output is written to the
//! output store in the background while the blocks downstream already start from the table in
//! memory; the block's end is recorded in the state store only once its output is durable and
//! the ends of its upstream block runs are recorded. So the state store never holds an ended
//! block run whose output (or whose inputs' record) could be missing after a crash: recovery
//! runs such a block again, as it would a block that was still running. A run is finished only
//! when every output it keeps is durable. An output that cannot be stored fails its block (and
//! so the run); the blocks downstream, already given the table, still end as they end.

use std::collections::HashMap;
use std::sync::Mutex;

use futures::future::{BoxFuture, FutureExt, Shared};
use weft_data::Table;
use weft_store::{BlockEnd, BlockStatus, Store};

use crate::clock::now_ms;
use crate::outputs::Outputs;
use crate::plan::RunKey;

/// Resolves when a block run's end is recorded: its output's size in bytes, or why its output
/// could not be stored.
pub(crate) type Recorded = Shared<BoxFuture<'static, Result<u64, String>>>;

/// The block runs of one run whose end is still being recorded.
#[derive(Default)]
pub(crate) struct Durable {
    pending: Mutex<HashMap<RunKey, Recorded>>,
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
}

impl Durable {
    /// The records `keys` wait for (those still pending).
    pub(crate) fn of<'a>(&self, keys: impl IntoIterator<Item = &'a RunKey>) -> Vec<Recorded> {
        let pending = self.pending.lock().expect("durable lock");
        keys.into_iter()
            .filter_map(|k| pending.get(k).cloned())
            .collect()
    }

    /// Store `p.table` in the background, then record the block run's end once `after` (its
    /// upstream's records) are done; returns the output's path at once.
    pub(crate) fn persist(&self, p: Persist, after: Vec<Recorded>) -> String {
        let path = Outputs::path(&p.run_id, &p.key.storage_path(), p.attempt);
        let key = p.key.clone();
        let task = tokio::spawn(store_then_record(p, path.clone(), after));
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

async fn store_then_record(p: Persist, path: String, after: Vec<Recorded>) -> Result<u64, String> {
    let key = p.key.to_string();
    let stored = p
        .outputs
        .put(&p.run_id, &p.key.storage_path(), p.attempt, &p.table)
        .await;
    for upstream in after {
        // An upstream that could not be stored failed; this end is recorded all the same.
        let _ = upstream.await;
    }
    let rows = Some(p.table.num_rows() as i64);
    let end = match &stored {
        Ok((_, bytes)) => BlockEnd {
            status: BlockStatus::Success,
            at: p.at,
            rows,
            bytes: Some(*bytes as i64),
            output: Some(path),
            error: None,
        },
        Err(m) => BlockEnd {
            status: BlockStatus::Failed,
            at: now_ms(),
            rows: None,
            bytes: None,
            output: None,
            error: Some(format!("block \"{key}\": {m}")),
        },
    };
    let recorded = p.store.block_finished(&p.run_id, &key, &end).await;
    match (stored, recorded) {
        (Ok((_, bytes)), Ok(())) => Ok(bytes),
        (Err(m), _) => Err(format!("block \"{key}\": {m}")),
        (Ok(_), Err(e)) => Err(format!("block \"{key}\": recording its end: {e}")),
    }
}
