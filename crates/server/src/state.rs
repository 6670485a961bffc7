//! What the server holds: the built pipelines, the executor, and the runs in flight (tracked
//! so a shutdown can wait for them).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use weft_pipeline::{Pipeline, Trigger};
use weft_schedule::{new_run_id, ComponentRef, Executor, Quiet, RunRequest};

use crate::error::ApiError;

/// A pipeline ready to run: validated, its blocks built, its triggers read.
pub struct Loaded {
    /// The pipeline.
    pub pipeline: Arc<Pipeline>,
    /// Every block's component.
    pub components: HashMap<String, ComponentRef>,
    /// Its triggers.yaml.
    pub triggers: Vec<Trigger>,
}

/// Shared state of the HTTP handlers and the scheduler.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    executor: Executor,
    pipelines: BTreeMap<String, Loaded>,
    runs: TaskTracker,
    /// Cancelled when runs must stop now (a second shutdown signal).
    abort: CancellationToken,
}

impl AppState {
    /// State over `executor` and the `pipelines` it may run.
    pub fn new(executor: Executor, pipelines: BTreeMap<String, Loaded>) -> Self {
        AppState {
            inner: Arc::new(Inner {
                executor,
                pipelines,
                runs: TaskTracker::new(),
                abort: CancellationToken::new(),
            }),
        }
    }

    /// The executor (and through it the store and outputs).
    pub fn executor(&self) -> &Executor {
        &self.inner.executor
    }

    /// Every loaded pipeline.
    pub fn pipelines(&self) -> &BTreeMap<String, Loaded> {
        &self.inner.pipelines
    }

    /// Pipeline `name`.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] listing the pipelines there are.
    pub fn pipeline(&self, name: &str) -> Result<&Loaded, ApiError> {
        self.inner.pipelines.get(name).ok_or_else(|| {
            ApiError::NotFound(format!(
                "no pipeline \"{name}\"; pipelines: {}",
                self.inner
                    .pipelines
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// A fresh run id.
    pub fn new_run_id(&self) -> String {
        new_run_id()
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
        if self.inner.runs.is_closed() {
            return Err(ApiError::Unavailable(
                "weft is shutting down; no new runs".into(),
            ));
        }
        let loaded = self.pipeline(pipeline)?;
        let req = RunRequest {
            pipeline: loaded.pipeline.clone(),
            components: loaded.components.clone(),
            variables,
            trigger: trigger.to_string(),
            run_id: Some(run_id),
            recorded: true,
            cancel: self.inner.abort.child_token(),
        };
        let id = self.inner.executor.record(&req).await?;
        let executor = self.inner.executor.clone();
        self.inner.runs.spawn(async move {
            if let Err(e) = executor.run(req, Arc::new(Quiet)).await {
                tracing::error!("run failed to record its outcome: {e}");
            }
        });
        Ok(id)
    }

    /// Stop taking runs and wait for those in flight; `abort` stops them at once instead.
    pub async fn drain(&self, abort: CancellationToken) {
        self.inner.runs.close();
        tokio::select! {
            _ = self.inner.runs.wait() => {}
            _ = abort.cancelled() => {
                self.inner.abort.cancel();
                self.inner.runs.wait().await;
            }
        }
    }
}
