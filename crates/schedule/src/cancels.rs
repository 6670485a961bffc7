//! Cancels across processes: the runs an executor drives, by id, and a watcher that stops
//! those someone asked to cancel through the store (`Store::request_cancel`) — from the API
//! of another server, or `weft cancel`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use weft_store::Store;

/// How often the watcher looks for cancel requests.
pub const CANCEL_POLL: Duration = Duration::from_secs(1);

/// The cancellation tokens of the runs in progress.
#[derive(Clone, Default)]
pub(crate) struct Cancels {
    /// Each run's latest registration (a retried run registers again under its id).
    runs: Arc<Mutex<HashMap<String, (u64, CancellationToken)>>>,
    registrations: Arc<AtomicU64>,
}

/// Stops tracking its run when dropped (unless a later registration took over).
pub struct Registered {
    cancels: Cancels,
    id: String,
    generation: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut runs = self.cancels.lock();
        if runs
            .get(&self.id)
            .is_some_and(|(g, _)| *g == self.generation)
        {
            runs.remove(&self.id);
        }
    }
}

impl Cancels {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, CancellationToken)>> {
        self.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Track run `id` until the guard drops.
    pub(crate) fn register(&self, id: &str, token: CancellationToken) -> Registered {
        let generation = self.registrations.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id.to_string(), (generation, token));
        Registered {
            cancels: self.clone(),
            id: id.to_string(),
            generation,
        }
    }

    /// Every [`CANCEL_POLL`] until `stop`, cancel the runs of `owner` with a request.
    pub(crate) fn watch(&self, store: Store, owner: String, stop: CancellationToken) {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(CANCEL_POLL) => {}
                    _ = stop.cancelled() => return,
                }
                if me.lock().is_empty() {
                    continue;
                }
                match store.cancel_requests(&owner).await {
                    Ok(ids) => {
                        let runs = me.lock();
                        for id in ids {
                            if let Some((_, token)) = runs.get(&id) {
                                tracing::info!("run {id}: cancel requested");
                                token.cancel();
                            }
                        }
                    }
                    Err(e) => tracing::warn!("reading cancel requests: {e}"),
                }
            }
        });
    }
}
