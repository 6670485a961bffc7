//! The in-process [`Dispatch`]: resolves a job's inputs (from memory, else from the output
//! store) and runs the block on this machine's runtime.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use weft_data::Table;
use weft_io::IoContext;
use weft_pipeline::{Block, Pipeline};
use weft_runtime::{BlockComponent, Runtime};
use weft_store::Store;

use crate::dispatch::{Dispatch, Finished, Input, Job, OutputRef};
use crate::durable::Durable;
use crate::event::Observer;
use crate::executor::ComponentRef;
use crate::logs::RunLog;
use crate::outputs::Outputs;
use crate::plan::RunKey;

/// Everything the block runs of one run share.
pub(crate) struct RunContext {
    pub(crate) run_id: String,
    pub(crate) pipeline: Arc<Pipeline>,
    pub(crate) components: HashMap<String, ComponentRef>,
    /// The run's variables (pipeline defaults, given ones, built-ins).
    pub(crate) variables: Arc<BTreeMap<String, String>>,
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) io: Option<Arc<IoContext>>,
    pub(crate) store: Store,
    pub(crate) outputs: Outputs,
    pub(crate) log: Arc<RunLog>,
    pub(crate) observer: Arc<dyn Observer>,
    pub(crate) cancel: CancellationToken,
    /// Outputs kept in memory while block runs still to start read them, by block.
    pub(crate) cache: Mutex<HashMap<String, HashMap<RunKey, Table>>>,
    /// Components this run's block runs loaded, by block: held while the block may still
    /// run in this run (a fan-out's children load it once), dropped once it cannot, so a
    /// finished block's code is unmapped while the rest of the run goes on.
    pub(crate) loaded: Mutex<HashMap<String, BlockComponent>>,
    /// Outputs still being stored, and the ends recorded after them.
    pub(crate) durable: Durable,
}

impl RunContext {
    /// The block called `name`.
    pub(crate) fn block(&self, name: &str) -> Option<&Block> {
        self.pipeline.block(name)
    }

    /// A block run's output, from memory or the output store.
    pub(crate) async fn output(&self, r: &OutputRef) -> Result<Option<Table>, String> {
        let cached = {
            let cache = self.cache.lock().expect("cache lock");
            cache.get(&r.key.block).and_then(|m| m.get(&r.key)).cloned()
        };
        if let Some(t) = cached {
            return Ok(Some(t));
        }
        // Not in memory: read the store once the output is there.
        for pending in self.durable.of([&r.key]) {
            pending
                .await
                .map_err(|e| format!("input from \"{}\": {e}", r.key))?;
        }
        match &r.stored {
            None => Ok(None),
            Some(path) => self
                .outputs
                .get(path)
                .await
                .map(Some)
                .map_err(|e| format!("input from \"{}\": {e}", r.key)),
        }
    }

    /// The tables of a job's inputs, named by upstream block.
    pub(crate) async fn inputs(&self, job: &Job) -> Result<Vec<(String, Table)>, String> {
        let mut out = Vec::with_capacity(job.inputs.len());
        for (name, input) in &job.inputs {
            let table = match input {
                Input::Whole(r) => self.output(r).await?,
                Input::Row(r, row) => self.output(r).await?.map(|t| t.slice(u64::from(*row), 1)),
                Input::Gather(refs) => {
                    let mut parts = Vec::with_capacity(refs.len());
                    for r in refs {
                        if let Some(t) = self.output(r).await? {
                            parts.push(t);
                        }
                    }
                    Some(
                        Table::concat(&parts)
                            .map_err(|e| format!("gathering the children of \"{name}\": {e}"))?,
                    )
                }
            };
            if let Some(t) = table {
                out.push((name.clone(), t));
            }
        }
        Ok(out)
    }
}

/// Runs jobs on this process's runtime.
pub(crate) struct LocalDispatch {
    pub(crate) run: Arc<RunContext>,
}

impl Dispatch for LocalDispatch {
    fn dispatch(&self, job: Job) -> BoxFuture<'static, Finished> {
        let run = self.run.clone();
        async move {
            match run.inputs(&job).await {
                Ok(inputs) => crate::attempt::run_block(run, job, inputs).await,
                Err(e) => crate::attempt::failed_before_start(&run, &job, e).await,
            }
        }
        .boxed()
    }
}
