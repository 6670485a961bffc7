//! Pipelines loaded again while the server runs: after the server changed a file, and when
//! any editor did (a look at the files every second). A pipeline that no longer loads keeps
//! running its last good version, and its problem is shown beside it until a load succeeds.
//!
//! A load after an edit is quick: an edited Python block runs from its source in the shared
//! runner at once ([`Loaded::provisional`]), and its own build follows in the background and
//! takes its place. If that build fails, the last fully built version is put back and the
//! problem shown.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::state::{AppState, Loaded};
use crate::workspace::{fingerprint, Problem};

/// How often the files are looked at.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// What the server knows of each pipeline's files.
#[derive(Default)]
pub struct Reloads {
    /// One load at a time (a build uses the machine).
    busy: tokio::sync::Mutex<()>,
    /// Bumped by every load.
    generation: AtomicU64,
    status: Mutex<HashMap<String, Status>>,
    /// Per pipeline: held across a check of its files and the change that follows.
    edits: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// One full build after quick loads at a time.
    full: tokio::sync::Mutex<()>,
    /// Per pipeline running provisionally: its last fully built version.
    fallback: Mutex<HashMap<String, Arc<Loaded>>>,
    /// Whether the workspace was asked to prepare quick loads.
    prepared: AtomicBool,
}

/// The outcome of a pipeline's latest load.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// The pipeline.
    pub pipeline: String,
    /// Counts loads; a view that saw an older one fetches the pipeline again.
    pub generation: u64,
    /// Why the files on disk do not load (the server runs the last version that did).
    #[schema(required = true)]
    pub problem: Option<Problem>,
    /// When the version it runs was loaded (ms since the epoch).
    pub loaded_at_ms: i64,
    /// Edited Python blocks run from their source in the shared runner while their own
    /// build runs; a later load (another `pipeline` event) says how it ended.
    pub building: bool,
    /// The files' look at the latest load.
    #[serde(skip)]
    seen: String,
}

impl Reloads {
    fn status(&self) -> std::sync::MutexGuard<'_, HashMap<String, Status>> {
        self.status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The lock that serialises changes to pipeline `name`'s files.
    pub fn edit_lock(&self, name: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.edits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(name.to_string())
            .or_default()
            .clone()
    }

    /// The latest generation.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Statuses of loads after generation `after`.
    pub fn since(&self, after: u64) -> Vec<Status> {
        let mut v: Vec<Status> = self
            .status()
            .values()
            .filter(|s| s.generation > after)
            .cloned()
            .collect();
        v.sort_by_key(|s| s.generation);
        v
    }

    /// Pipeline `name`'s status, if it was loaded by this server since it started.
    pub fn of(&self, name: &str) -> Option<Status> {
        self.status().get(name).cloned()
    }

    fn fallback(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Loaded>>> {
        self.fallback
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether generation `generation` is still `name`'s latest load.
    fn latest(&self, name: &str, generation: u64) -> bool {
        self.status()
            .get(name)
            .is_some_and(|s| s.generation == generation)
    }

    /// Record a load of `name`: a new generation with its problem; `building` when a full
    /// build follows. Returns the generation.
    fn record(&self, name: &str, problem: Option<Problem>, building: bool, seen: String) -> u64 {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let mut status = self.status();
        let previous = status.get(name).map_or(0, |s| s.loaded_at_ms);
        status.insert(
            name.to_string(),
            Status {
                pipeline: name.to_string(),
                generation,
                loaded_at_ms: if problem.is_none() {
                    weft_schedule::now_ms()
                } else {
                    previous
                },
                problem,
                building,
                seen,
            },
        );
        generation
    }
}

impl AppState {
    /// Load pipeline `name` from its files again and, if it loads, run it from now on;
    /// otherwise keep the running version and remember the problem. Returns the problem.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] when the server has no workspace to load from.
    pub async fn reload(&self, name: &str) -> Result<Option<Problem>, ApiError> {
        let ws = self
            .workspace()
            .cloned()
            .ok_or_else(|| ApiError::NotFound("this server does not load pipelines".into()))?;
        let reloads = self.reloads();
        let _busy = reloads.busy.lock().await;
        let current = self.pipelines().get(name).cloned();
        let seen = fingerprint(ws.root(), name, current.as_deref());
        let owned = name.to_string();
        let loaded = tokio::task::spawn_blocking(move || ws.load_quick(&owned))
            .await
            .map_err(|e| ApiError::Internal(format!("loading {name}: {e}")))?;
        if let Ok(l) = &loaded {
            // The store follows triggers.yaml, so new triggers fire and take tokens.
            self.sync_triggers(name, &l.triggers).await?;
        }
        let (problem, provisional) = match loaded {
            Ok(l) => {
                let provisional = l.provisional;
                let mut fallback = reloads.fallback();
                match current {
                    // The version to put back if the full build fails.
                    Some(c) if provisional && !c.provisional => {
                        fallback.insert(name.to_string(), c);
                    }
                    _ if !provisional => {
                        fallback.remove(name);
                    }
                    _ => {}
                }
                self.replace(name, l);
                tracing::info!("pipeline {name}: loaded again");
                (None, provisional)
            }
            Err(p) => {
                tracing::warn!("pipeline {name}: {}", p.message);
                if current.as_ref().is_some_and(|c| c.provisional) {
                    // The edit that runs provisionally will not be built now.
                    self.fall_back(name).await?;
                }
                (Some(p), false)
            }
        };
        // The look before the load: an edit made while it built is seen at the next look (a
        // pipeline that now names other files is looked at once more, and found unchanged).
        let generation = reloads.record(name, problem.clone(), provisional, seen);
        if provisional {
            let state = self.clone();
            let name = name.to_string();
            tokio::spawn(async move {
                if let Err(e) = state.finish(&name, generation).await {
                    tracing::error!("pipeline {name}: {e}");
                }
            });
        }
        Ok(problem)
    }

    /// The full build that follows quick load `generation` of `name`, unless a later load
    /// came first: its own components replace the runner's, or, if it fails, the last fully
    /// built version comes back and the problem is shown.
    async fn finish(&self, name: &str, generation: u64) -> Result<(), ApiError> {
        let Some(ws) = self.workspace().cloned() else {
            return Ok(());
        };
        let reloads = self.reloads();
        let _full = reloads.full.lock().await;
        if !reloads.latest(name, generation) {
            return Ok(());
        }
        let owned = name.to_string();
        let loaded = tokio::task::spawn_blocking(move || ws.load(&owned))
            .await
            .map_err(|e| ApiError::Internal(format!("building {name}: {e}")))?;
        let _busy = reloads.busy.lock().await;
        if !reloads.latest(name, generation) {
            return Ok(());
        }
        let seen = reloads.of(name).map(|s| s.seen).unwrap_or_default();
        let problem = match loaded {
            Ok(l) => {
                reloads.fallback().remove(name);
                self.replace(name, l);
                tracing::info!("pipeline {name}: built");
                None
            }
            Err(p) => {
                tracing::warn!("pipeline {name}: {}", p.message);
                self.fall_back(name).await?;
                Some(p)
            }
        };
        reloads.record(name, problem, false, seen);
        Ok(())
    }

    /// Stop running `name`'s provisional version: its last fully built version comes back
    /// (with that version's triggers in the store), or, when it has none, the pipeline is
    /// no longer served until a load succeeds.
    async fn fall_back(&self, name: &str) -> Result<(), ApiError> {
        let fallback = self.reloads().fallback().remove(name);
        match fallback {
            Some(f) => {
                self.sync_triggers(name, &f.triggers).await?;
                self.replace_shared(name, f);
            }
            None => self.remove(name),
        }
        Ok(())
    }

    /// Ask the workspace, once, to make quick loads ready (in the background).
    pub fn prepare_edits(&self) {
        let Some(ws) = self.workspace().cloned() else {
            return;
        };
        if self.reloads().prepared.swap(true, Ordering::SeqCst) {
            return;
        }
        tokio::task::spawn_blocking(move || ws.prepare());
    }

    /// Make the store's triggers of `name` these.
    async fn sync_triggers(
        &self,
        name: &str,
        triggers: &[weft_pipeline::Trigger],
    ) -> Result<(), ApiError> {
        let specs: Vec<weft_store::TriggerSpec> = triggers
            .iter()
            .map(|t| weft_store::TriggerSpec {
                name: &t.name,
                kind: match t.kind {
                    weft_pipeline::TriggerKind::Schedule(_) => "schedule",
                    weft_pipeline::TriggerKind::Api => "api",
                },
                spec: serde_json::to_string(t).unwrap_or_default(),
            })
            .collect();
        self.executor()
            .store()
            .sync_triggers(name, &specs, weft_schedule::now_ms())
            .await?;
        Ok(())
    }

    /// Pipelines whose files changed since they were last loaded (or seen at start), and
    /// pipeline folders that are new.
    fn changed_files(&self) -> Vec<String> {
        let Some(ws) = self.workspace() else {
            return Vec::new();
        };
        let all = self.pipelines();
        let names = weft_pipeline::pipeline_names(ws.root());
        let mut status = self.reloads().status();
        names
            .into_iter()
            .filter(|name| {
                let now = fingerprint(ws.root(), name, all.get(name).map(|l| l.as_ref()));
                match status.get(name) {
                    Some(s) => s.seen != now,
                    None if all.contains_key(name) => {
                        // Loaded at start: this look is the baseline.
                        status.insert(
                            name.clone(),
                            Status {
                                pipeline: name.clone(),
                                generation: 0,
                                problem: None,
                                loaded_at_ms: weft_schedule::now_ms(),
                                building: false,
                                seen: now,
                            },
                        );
                        false
                    }
                    None => true,
                }
            })
            .collect()
    }
}

/// Look at the pipelines' files every second and load again those that changed, until
/// `stop`.
pub async fn watch(state: AppState, stop: CancellationToken) {
    if state.workspace().is_none() {
        return;
    }
    loop {
        let look = state.clone();
        let changed = tokio::task::spawn_blocking(move || look.changed_files())
            .await
            .unwrap_or_default();
        for name in changed {
            if let Err(e) = state.reload(&name).await {
                tracing::error!("pipeline {name}: {e}");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(LOOK_EVERY) => {}
            _ = stop.cancelled() => return,
        }
    }
}
