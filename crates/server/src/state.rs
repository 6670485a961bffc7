//! What the server holds: the built pipelines, the executor, and the runs in flight —
//! tracked so they can be cancelled, limited per pipeline (`max_active_runs`), waited for at
//! shutdown, and picked up again after a crash.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use weft_pipeline::{Pipeline, Trigger};
use weft_schedule::{
    new_run_id, now_ms, ComponentRef, Executor, Instance, PreparedRun, Quiet, RunRequest,
};
use weft_store::{RunRecord, RunStatus};

use crate::error::ApiError;

/// A pipeline ready to run: validated, its blocks built, its triggers read.
pub struct Loaded {
    /// The pipeline.
    pub pipeline: Arc<Pipeline>,
    /// Every block's component.
    pub components: HashMap<String, ComponentRef>,
    /// Its triggers.yaml.
    pub triggers: Vec<Trigger>,
    /// Some Python blocks run from their source in the shared runner until their own
    /// components are built ([`crate::workspace::Workspace::load_quick`]); a full load follows.
    pub provisional: bool,
}

/// Shared state of the HTTP handlers and the scheduler.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// Live channels open at once by default (`WEFT_MAX_EVENT_STREAMS` sets another number):
/// each costs a subscription to every run change and a look at the database per change.
const MAX_STREAMS: usize = 256;

fn max_streams() -> usize {
    std::env::var("WEFT_MAX_EVENT_STREAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(MAX_STREAMS)
}

/// Every pipeline the server runs, by name; replaced whole when one is loaded again.
pub type Pipelines = Arc<BTreeMap<String, Arc<Loaded>>>;

struct Inner {
    executor: Executor,
    pipelines: RwLock<Pipelines>,
    /// Where the pipelines come from, when the server may change and load them again.
    workspace: Option<crate::workspace::Shared>,
    /// Loads since start, and their problems.
    reloads: crate::reload::Reloads,
    runs: TaskTracker,
    /// Cancelled when runs must stop now (a second shutdown signal).
    abort: CancellationToken,
    /// Cancelled when shutdown starts: runs still waiting for a slot stay queued, for the
    /// next start to pick up.
    stopping: CancellationToken,
    /// Runs this process drives (waiting for a slot or running), by id, with the launch
    /// that drives them (a retried run is launched again under the same id).
    active: Mutex<HashMap<String, (u64, CancellationToken)>>,
    /// Launches so far.
    launches: std::sync::atomic::AtomicU64,
    /// Slots of pipelines with `max_active_runs`, and the limit they were made for.
    limits: Mutex<HashMap<String, (usize, Arc<Semaphore>)>>,
    /// The token every non-trigger route needs, if set.
    api_token: Option<String>,
    /// Host names (lower case, without port) the server answers to.
    allowed_hosts: Vec<String>,
    /// Live channels (`/api/events`) open at once, at most.
    streams: Arc<Semaphore>,
}

/// What happened to a cancel request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// The run was told to stop; running blocks stop within one epoch tick.
    Stopping,
    /// The run was not driven by any live process and is now recorded cancelled.
    Recorded,
    /// The run had already ended.
    AlreadyEnded(RunStatus),
}

impl AppState {
    /// State over `executor` (whose owner should be this process's [`Instance`]) and the
    /// `pipelines` it may run.
    pub fn new(executor: Executor, pipelines: BTreeMap<String, Loaded>) -> Self {
        let limits = pipelines
            .iter()
            .filter_map(|(name, l)| {
                l.pipeline
                    .max_active_runs
                    .map(|n| (name.clone(), (n, Arc::new(Semaphore::new(n)))))
            })
            .collect();
        AppState {
            inner: Arc::new(Inner {
                executor,
                pipelines: RwLock::new(Arc::new(
                    pipelines
                        .into_iter()
                        .map(|(n, l)| (n, Arc::new(l)))
                        .collect(),
                )),
                workspace: None,
                reloads: crate::reload::Reloads::default(),
                runs: TaskTracker::new(),
                abort: CancellationToken::new(),
                stopping: CancellationToken::new(),
                active: Mutex::new(HashMap::new()),
                launches: std::sync::atomic::AtomicU64::new(0),
                limits: Mutex::new(limits),
                api_token: None,
                streams: Arc::new(Semaphore::new(max_streams())),
                allowed_hosts: crate::guard::LOOPBACK_HOSTS
                    .iter()
                    .map(|h| h.to_string())
                    .collect(),
            }),
        }
    }

    /// Require `Authorization: Bearer <token>` on every route but health, the OpenAPI
    /// document and API triggers. Call before the state is shared.
    pub fn with_api_token(mut self, token: Option<String>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.api_token = token.filter(|t| !t.is_empty());
        }
        self
    }

    /// Also answer to `hosts` (names or addresses, without port; `*` for any), besides
    /// the loopback names. Call before the state is shared.
    pub fn with_allowed_hosts(mut self, hosts: impl IntoIterator<Item = String>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner
                .allowed_hosts
                .extend(hosts.into_iter().map(|h| h.to_ascii_lowercase()));
        }
        self
    }

    /// Whether the server answers to host `name` (lower case, without port).
    pub fn allows_host(&self, name: &str) -> bool {
        self.inner
            .allowed_hosts
            .iter()
            .any(|h| h == "*" || h == name)
    }

    /// A place for one more live channel, held while it is open; `None` when every place
    /// is taken.
    pub fn stream_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.inner.streams.clone().try_acquire_owned().ok()
    }

    /// The API token, if the server has one.
    pub fn api_token(&self) -> Option<&str> {
        self.inner.api_token.as_deref()
    }

    /// The executor (and through it the store and outputs).
    pub fn executor(&self) -> &Executor {
        &self.inner.executor
    }

    /// Every loaded pipeline, as loaded now.
    pub fn pipelines(&self) -> Pipelines {
        self.inner
            .pipelines
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Let the server change the pipelines' files and load them again from `workspace`.
    /// Call before the state is shared.
    pub fn with_workspace(mut self, workspace: crate::workspace::Shared) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.workspace = Some(workspace);
        }
        self
    }

    /// What the server knows of loads since it started.
    pub fn reloads(&self) -> &crate::reload::Reloads {
        &self.inner.reloads
    }

    /// Where the pipelines come from, if the server may change them.
    pub fn workspace(&self) -> Option<&crate::workspace::Shared> {
        self.inner.workspace.as_ref()
    }

    /// Put `loaded` in place of pipeline `name`: runs started from now on use it; runs in
    /// flight keep what they started with.
    pub fn replace(&self, name: &str, loaded: Loaded) {
        self.replace_shared(name, Arc::new(loaded));
    }

    /// [`AppState::replace`] with a version already shared.
    pub fn replace_shared(&self, name: &str, loaded: Arc<Loaded>) {
        let limit = loaded.pipeline.max_active_runs;
        {
            let mut limits = self
                .inner
                .limits
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match limit {
                // Runs holding a slot of an older limit keep it until they end.
                Some(n) if limits.get(name).is_none_or(|(m, _)| *m != n) => {
                    limits.insert(name.to_string(), (n, Arc::new(Semaphore::new(n))));
                }
                Some(_) => {}
                None => {
                    limits.remove(name);
                }
            }
        }
        self.change_pipelines(|all| {
            all.insert(name.to_string(), loaded);
        });
    }

    /// Stop serving pipeline `name`: no run starts from it any more; runs in flight keep
    /// what they started with.
    pub fn remove(&self, name: &str) {
        self.inner
            .limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(name);
        self.change_pipelines(|all| {
            all.remove(name);
        });
    }

    /// Make a changed copy of the pipelines the server runs and put it in place (readers
    /// keep the copy they hold).
    fn change_pipelines(&self, change: impl FnOnce(&mut BTreeMap<String, Arc<Loaded>>)) {
        let mut all = self
            .inner
            .pipelines
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = BTreeMap::clone(all.as_ref());
        change(&mut next);
        *all = Arc::new(next);
    }

    /// Pipeline `name`.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] listing the pipelines there are.
    pub fn pipeline(&self, name: &str) -> Result<Arc<Loaded>, ApiError> {
        let all = self.pipelines();
        all.get(name).cloned().ok_or_else(|| {
            ApiError::NotFound(format!(
                "no pipeline \"{name}\"; pipelines: {}",
                all.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })
    }

    /// A fresh run id.
    pub fn new_run_id(&self) -> String {
        new_run_id()
    }

    fn open(&self) -> Result<(), ApiError> {
        if self.inner.runs.is_closed() {
            return Err(ApiError::Unavailable(
                "weft is shutting down; no new runs".into(),
            ));
        }
        Ok(())
    }

    /// A request to run `pipeline`, not yet recorded.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] for an unknown pipeline.
    pub fn request(
        &self,
        pipeline: &str,
        trigger: &str,
        variables: BTreeMap<String, String>,
        run_id: Option<String>,
    ) -> Result<RunRequest, ApiError> {
        let loaded = self.pipeline(pipeline)?;
        Ok(RunRequest {
            pipeline: loaded.pipeline.clone(),
            components: loaded.components.clone(),
            variables,
            trigger: trigger.to_string(),
            run_id,
            recorded: false,
            cancel: self.inner.abort.child_token(),
            borrow: None,
        })
    }

    /// Record a run of `block` alone (with `downstream`, what follows it too), its upstream
    /// outputs taken from `pipeline`'s latest successful run, and start it in the background.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] for an unknown pipeline or block; [`ApiError::Conflict`] when
    /// no successful run has the upstream outputs.
    pub async fn start_block_run(
        &self,
        pipeline: &str,
        block: &str,
        downstream: bool,
        variables: BTreeMap<String, String>,
        run_id: String,
    ) -> Result<String, ApiError> {
        self.open()?;
        let mut req = self.request(pipeline, "manual", variables, Some(run_id))?;
        let (cut, upstream) = req.pipeline.select(block, downstream).ok_or_else(|| {
            ApiError::NotFound(format!(
                "pipeline {pipeline} has no block \"{block}\" to run"
            ))
        })?;
        if !upstream.is_empty() {
            let latest = self
                .inner
                .executor
                .store()
                .find_runs(&weft_store::RunFilter {
                    pipeline: Some(pipeline.to_string()),
                    status: Some(weft_store::RunStatus::Success),
                    limit: 1,
                    ..Default::default()
                })
                .await?;
            let from = latest.into_iter().next().ok_or_else(|| {
                ApiError::Conflict(format!(
                    "pipeline {pipeline} has no successful run to take the outputs of {} from",
                    upstream.join(", ")
                ))
            })?;
            req.borrow = Some(weft_schedule::Borrow {
                run: from.id,
                blocks: upstream,
            });
        }
        req.pipeline = Arc::new(cut);
        let id = self.inner.executor.record(&mut req).await?;
        self.launch(req, None);
        Ok(id)
    }

    /// Record a run of `pipeline` started by `trigger` and start it in the background;
    /// returns its id at once.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] while shutting down; [`ApiError::Internal`] when the run
    /// cannot be recorded.
    pub async fn start_run(
        &self,
        pipeline: &str,
        trigger: &str,
        variables: BTreeMap<String, String>,
        run_id: String,
    ) -> Result<String, ApiError> {
        self.open()?;
        let mut req = self.request(pipeline, trigger, variables, Some(run_id))?;
        let id = self.inner.executor.record(&mut req).await?;
        self.launch(req, None);
        Ok(id)
    }

    /// Start a run of `pipeline` for idempotency key `key` of API trigger `trigger`, the key
    /// and the run recorded in one transaction: `(run id, replayed)`, where a replayed call
    /// returns the run an earlier call with the same key started, and starts nothing.
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] while shutting down; [`ApiError::Internal`] when the run
    /// cannot be recorded (then the key stays free).
    pub async fn start_run_once(
        &self,
        pipeline: &str,
        trigger: &str,
        variables: BTreeMap<String, String>,
        key: &str,
    ) -> Result<(String, bool), ApiError> {
        self.open()?;
        let mut req = self.request(pipeline, trigger, variables, None)?;
        let prepared = self.inner.executor.prepare(&mut req);
        let store = self.inner.executor.store();
        match store
            .create_run_once(&prepared.as_new_run(), key, now_ms())
            .await?
        {
            Some(earlier) => Ok((earlier, true)),
            None => {
                self.launch(req, None);
                Ok((prepared.id, false))
            }
        }
    }

    /// Record many runs of `pipeline` in one transaction and start them, at most
    /// `concurrency` at a time (and within the pipeline's `max_active_runs`).
    ///
    /// # Errors
    /// [`ApiError::Unavailable`] while shutting down; [`ApiError::Internal`] when the runs
    /// cannot be recorded (then none is).
    pub async fn start_runs(
        &self,
        pipeline: &str,
        trigger: &str,
        variables: Vec<BTreeMap<String, String>>,
        concurrency: usize,
    ) -> Result<Vec<String>, ApiError> {
        self.open()?;
        let mut reqs = Vec::with_capacity(variables.len());
        let mut rows: Vec<PreparedRun> = Vec::with_capacity(variables.len());
        for v in variables {
            let mut req = self.request(pipeline, trigger, v, None)?;
            rows.push(self.inner.executor.prepare(&mut req));
            reqs.push(req);
        }
        let new: Vec<_> = rows.iter().map(PreparedRun::as_new_run).collect();
        self.inner.executor.store().create_runs(&new).await?;
        let slots = Arc::new(Semaphore::new(concurrency.max(1)));
        for req in reqs {
            self.launch(req, Some(slots.clone()));
        }
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// Start a recorded run in the background: it waits for a slot of its pipeline (and of
    /// `slots`, if given), then runs; it can be cancelled while it waits.
    pub fn launch(&self, req: RunRequest, slots: Option<Arc<Semaphore>>) {
        let id = req.run_id.clone().unwrap_or_default();
        let cancel = req.cancel.clone();
        let launch = self
            .inner
            .launches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.active().insert(id.clone(), (launch, cancel.clone()));
        let limit = self
            .inner
            .limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&req.pipeline.name)
            .map(|(_, s)| s.clone());
        let state = self.clone();
        let stopping = self.inner.stopping.clone();
        // A cancel asked through the store (by another process) reaches it while it waits.
        let tracked = self.inner.executor.track(&id, cancel.clone());
        self.inner.runs.spawn(async move {
            let _tracked = tracked;
            // A run cancelled while it waits runs at once: every block ends cancelled. A
            // shutdown while it waits leaves it queued for the next start.
            let mut permits = Vec::new();
            for slots in [slots, limit].into_iter().flatten() {
                tokio::select! {
                    biased;
                    _ = stopping.cancelled() => {
                        state.done(&id, launch);
                        return;
                    }
                    _ = cancel.cancelled() => break,
                    p = slots.acquire_owned() => permits.extend(p.ok()),
                }
            }
            if let Err(e) = state.inner.executor.run(req, Arc::new(Quiet)).await {
                // The store failed under the run: end it rather than leave it running.
                let reason = format!("the run stopped on a state store error: {e}");
                tracing::error!("run {id}: {reason}");
                let store = state.inner.executor.store();
                if let Err(e) = store
                    .abandon_run(&id, RunStatus::Failed, &reason, now_ms())
                    .await
                {
                    tracing::error!("run {id}: cannot record its failure either: {e}");
                }
            }
            drop(permits);
            state.done(&id, launch);
        });
    }

    /// Forget run `id` if `launch` still drives it.
    fn done(&self, id: &str, launch: u64) {
        let mut active = self.active();
        if active.get(id).is_some_and(|(l, _)| *l == launch) {
            active.remove(id);
        }
    }

    fn active(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, CancellationToken)>> {
        self.inner
            .active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Continue a recorded run (interrupted by a crash, or reopened for a retry): blocks
    /// that succeeded keep their outputs, the others run as new attempts.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] when its pipeline is not loaded.
    pub fn resume(&self, run: &RunRecord, slots: Option<Arc<Semaphore>>) -> Result<(), ApiError> {
        self.open()?;
        let variables: BTreeMap<String, String> =
            serde_json::from_str(&run.variables).unwrap_or_default();
        let mut req = self.request(&run.pipeline, &run.trigger, variables, Some(run.id.clone()))?;
        req.recorded = true;
        self.launch(req, slots);
        Ok(())
    }

    /// Stop run `id`: at once if this process drives it; through the store if another live
    /// process does (it stops the run within a second); if none does, it is recorded
    /// cancelled.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] for an unknown run.
    pub async fn cancel(&self, id: &str) -> Result<Cancelled, ApiError> {
        if let Some((_, token)) = self.active().get(id) {
            token.cancel();
            return Ok(Cancelled::Stopping);
        }
        let store = self.inner.executor.store();
        let run = store.run(id).await?;
        if !matches!(run.status, RunStatus::Queued | RunStatus::Running) {
            return Ok(Cancelled::AlreadyEnded(run.status));
        }
        let open = store.open_runs().await?;
        let now = now_ms();
        let live = open
            .iter()
            .find(|o| o.run.id == id)
            .and_then(|o| o.instance.as_ref())
            .is_some_and(|i| Instance::is_alive(i, now));
        if live {
            // Another live process drives it: it sees the request within a second.
            if store.request_cancel(id, now).await? {
                return Ok(Cancelled::Stopping);
            }
            return Ok(Cancelled::AlreadyEnded(store.run(id).await?.status));
        }
        store
            .abandon_run(id, RunStatus::Cancelled, "cancelled", now)
            .await?;
        Ok(Cancelled::Recorded)
    }

    /// Run again the blocks of failed or cancelled run `id` that did not succeed, as new
    /// attempts of the same run; returns them.
    ///
    /// # Errors
    /// [`ApiError::Conflict`] when the run is not failed or cancelled.
    pub async fn retry(&self, id: &str) -> Result<Vec<String>, ApiError> {
        self.open()?;
        let store = self.inner.executor.store();
        let run = store.run(id).await?;
        let loaded = self.pipeline(&run.pipeline)?;
        if !crate::recovery::same_blocks(store, id, &loaded).await? {
            return Err(ApiError::Conflict(format!(
                "the blocks of pipeline \"{}\" changed since run {id}; start a new run",
                run.pipeline
            )));
        }
        let blocks = store
            .reopen_run(id, self.inner.executor.owner())
            .await?
            .ok_or_else(|| {
                ApiError::Conflict(format!(
                    "run {id} is {}; only failed or cancelled runs can be retried",
                    run.status
                ))
            })?;
        self.resume(&store.run(id).await?, None)?;
        Ok(blocks)
    }

    /// Stop taking runs and wait for those in flight (runs still waiting for a slot stay
    /// queued); `abort` stops them at once instead.
    pub async fn drain(&self, abort: CancellationToken) {
        self.inner.stopping.cancel();
        self.inner.runs.close();
        tokio::select! {
            _ = self.inner.runs.wait() => {}
            _ = abort.cancelled() => {
                self.inner.abort.cancel();
                self.inner.runs.wait().await;
            }
        }
        tokio::select! {
            _ = self.inner.executor.notified() => {}
            _ = abort.cancelled() => {}
        }
    }
}
