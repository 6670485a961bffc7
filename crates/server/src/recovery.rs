//! After a crash: runs whose process died are picked up again. Each either continues (the
//! blocks that succeeded keep their outputs; interrupted ones run as a new attempt) or, when
//! that is impossible, ends failed with the reason. No run stays "running" forever.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::Semaphore;

use weft_schedule::{now_ms, Instance};
use weft_store::RunStatus;

use crate::error::ApiError;
use crate::state::{AppState, Loaded};

/// Adopted runs that run at the same time (besides each pipeline's `max_active_runs`).
const RESUME_CONCURRENCY: usize = 4;

/// Whether run `id` has exactly the blocks `loaded` has now.
///
/// # Errors
/// [`ApiError::Internal`] when the store fails.
pub(crate) async fn same_blocks(
    store: &weft_store::Store,
    id: &str,
    loaded: &Loaded,
) -> Result<bool, ApiError> {
    let recorded: BTreeSet<String> = store
        .block_runs(id)
        .await?
        .into_iter()
        .map(|b| b.block)
        .collect();
    let now: BTreeSet<String> = loaded
        .pipeline
        .blocks
        .iter()
        .filter(|b| !b.is_attached())
        .map(|b| b.name.clone())
        .collect();
    Ok(recorded == now)
}

/// What [`recover`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Runs continued by this process.
    pub resumed: Vec<String>,
    /// Runs ended failed, with why.
    pub failed: Vec<(String, String)>,
}

/// Adopt every open run whose owner is gone, and continue or end it.
///
/// # Errors
/// [`ApiError::Internal`] when the store fails.
pub async fn recover(state: &AppState) -> Result<Recovered, ApiError> {
    let store = state.executor().store().clone();
    let me = state.executor().owner().unwrap_or("serve");
    let now = now_ms();
    let mut done = Recovered::default();
    // A crash in a backfill can leave thousands of queued runs: they go on a few at a time.
    let slots = Arc::new(Semaphore::new(RESUME_CONCURRENCY));
    for open in store.open_runs().await? {
        if open.owner.as_deref() == Some(me)
            || open
                .instance
                .as_ref()
                .is_some_and(|i| Instance::is_alive(i, now))
        {
            continue;
        }
        // Another server may be recovering too: only the one that adopts the run goes on.
        if !store
            .adopt_run(&open.run.id, open.owner.as_deref(), me)
            .await?
        {
            continue;
        }
        let id = open.run.id.clone();
        let reason = match state.pipelines().get(&open.run.pipeline) {
            None => Some(format!(
                "its weft process stopped, and pipeline \"{}\" is no longer in the project",
                open.run.pipeline
            )),
            Some(loaded) => (!same_blocks(&store, &id, loaded).await?).then(|| {
                "its weft process stopped, and the pipeline's blocks changed since it started; start a new run".to_string()
            }),
        };
        match reason {
            None => {
                state.resume(&open.run, Some(slots.clone()))?;
                tracing::info!("run {id}: resumed after its process stopped");
                done.resumed.push(id);
            }
            Some(reason) => {
                store
                    .abandon_run(&id, RunStatus::Failed, &reason, now_ms())
                    .await?;
                tracing::warn!("run {id}: {reason}");
                done.failed.push((id, reason));
            }
        }
    }
    Ok(done)
}
