//! One call of a block — its component or its SQL — within its timeout, stopped by the run's
//! cancel, without storing anything: attempts, condition checks, sensor pokes and callbacks
//! are all made of these.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weft_data::Table;
use weft_io::{BlockIo, Progress};
use weft_pipeline::{Block, Source};
use weft_runtime::{BlockCall, LogLevel, RuntimeError};

use crate::event::{Event, Observer};
use crate::local::RunContext;

/// Extra wall time past a block's `timeout` before the executor stops waiting for it (the
/// epoch deadline inside the engine normally stops it first).
const TIMEOUT_GRACE: Duration = Duration::from_secs(2);

/// Why a call failed, and whether another could succeed.
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) retryable: bool,
}

impl Failure {
    pub(crate) fn fatal(message: String) -> Failure {
        Failure {
            message,
            retryable: false,
        }
    }
}

impl From<RuntimeError> for Failure {
    fn from(e: RuntimeError) -> Self {
        Failure {
            retryable: e.is_retryable(),
            message: e.to_string(),
        }
    }
}

/// One call of `block`.
pub(crate) struct Call<'a> {
    pub(crate) run: &'a RunContext,
    pub(crate) block: &'a Block,
    /// Where its log lines and progress go (a block run key).
    pub(crate) log_key: &'a str,
    pub(crate) attempt: u32,
    pub(crate) inputs: Vec<(String, Table)>,
    /// Every variable it sees.
    pub(crate) variables: BTreeMap<String, String>,
    /// Set to the most memory the block held at once, when a component ran.
    pub(crate) peak_memory: Arc<AtomicU64>,
}

/// The block's IO for one call: its grants, progress shown live, notices in its log.
fn block_io(call: &Call<'_>, sink: &Arc<dyn weft_runtime::LogSink>) -> Option<BlockIo> {
    let ctx = call.run.io.as_ref()?;
    let sink = sink.clone();
    let progress = Arc::new(TransferEvents {
        block: call.log_key.to_string(),
        observer: call.run.observer.clone(),
    });
    Some(
        ctx.for_block(&call.block.name, &call.block.grants)
            .with_progress(progress)
            .with_notices(Arc::new(move |m| sink.log(LogLevel::Info, m))),
    )
}

/// Forwards transfer progress to the run's observer.
struct TransferEvents {
    block: String,
    observer: Arc<dyn Observer>,
}

impl Progress for TransferEvents {
    fn bytes(&self, label: &str, done: u64, total: Option<u64>) {
        self.observer.event(&Event::Transfer {
            block: self.block.clone(),
            label: label.to_string(),
            done,
            total,
        });
    }
}

/// Run the call to its end: its output table, if any.
pub(crate) async fn invoke(call: Call<'_>) -> Result<Option<Table>, Failure> {
    let sink = call.run.log.sink(call.log_key, call.attempt);
    let io = block_io(&call, &sink);
    if let Source::Sql { path, .. } = &call.block.source {
        return run_sql(&call, path.clone(), io).await.map(Some);
    }
    let block = call.block;
    let Some(component) = call.run.components.get(&block.name).cloned() else {
        return Err(Failure::fatal(format!(
            "block \"{}\": no component was built for it; run `weft build`",
            block.name
        )));
    };
    let stop = Arc::new(AtomicBool::new(false));
    let mut variables = call.variables.clone();
    variables.insert("block".into(), block.name.clone());
    variables.insert("attempt".into(), call.attempt.to_string());
    let config = match &component.script {
        Some(script) => script.envelope(&block.config, false),
        None => block.config.to_string(),
    };
    let block_call = BlockCall {
        block: block.name.clone(),
        config,
        inputs: call.inputs,
        variables: Arc::new(variables),
        env: block
            .grants
            .env
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.clone(), v)))
            .collect(),
        memory_limit: block.memory_limit,
        read_limit: block.read_limit,
        timeout: block.timeout,
        log: sink,
        cancel: stop.clone(),
        io,
        peak_memory: call.peak_memory.clone(),
    };
    let runtime = call.run.runtime.clone();
    let name = block.name.clone();
    let held = held(call.run, &name);
    let task = tokio::task::spawn_blocking(move || {
        let loaded = match held {
            Some(c) => c,
            None => {
                let cwasm = component.cwasm.as_deref();
                let digest = component.cwasm_digest.as_deref();
                match runtime.load(&name, &component.key, &component.wasm, cwasm.zip(digest)) {
                    Ok(c) => c,
                    Err(e) => return (None, Err(e)),
                }
            }
        };
        let output = runtime.invoke(&loaded, block_call);
        (Some(loaded), output)
    });
    let (loaded, output) = bounded(call.run, block, stop, task).await?;
    if let Some(c) = loaded {
        call.run
            .loaded
            .lock()
            .expect("loaded components lock")
            .entry(block.name.clone())
            .or_insert(c);
    }
    Ok(output?.table)
}

/// The component this run already holds for block `name`.
fn held(run: &RunContext, name: &str) -> Option<weft_runtime::BlockComponent> {
    run.loaded
        .lock()
        .expect("loaded components lock")
        .get(name)
        .cloned()
}

/// Wait for a call's task within the block's timeout, stopping it on cancel. A retry starts
/// only when this call has stopped: its host calls stop at the deadline, its guest at the
/// next epoch tick.
async fn bounded<T>(
    run: &RunContext,
    block: &Block,
    stop: Arc<AtomicBool>,
    mut task: tokio::task::JoinHandle<T>,
) -> Result<T, Failure> {
    let name = block.name.clone();
    let finished = tokio::select! {
        r = tokio::time::timeout(block.timeout + TIMEOUT_GRACE, &mut task) => r,
        _ = run.cancel.cancelled() => {
            stop.store(true, Ordering::Relaxed);
            let _ = tokio::time::timeout(TIMEOUT_GRACE, &mut task).await;
            return Err(RuntimeError::Cancelled { block: name }.into());
        }
    };
    match finished {
        Err(_) => {
            stop.store(true, Ordering::Relaxed);
            let _ = (&mut task).await;
            Err(RuntimeError::Timeout {
                block: name,
                limit: block.timeout,
            }
            .into())
        }
        Ok(Err(join)) => Err(Failure {
            message: format!("block \"{name}\": internal error in the host: {join}"),
            retryable: true,
        }),
        Ok(Ok(v)) => Ok(v),
    }
}

/// Run a SQL block on a blocking thread, within its timeout.
async fn run_sql(
    call: &Call<'_>,
    path: std::path::PathBuf,
    io: Option<BlockIo>,
) -> Result<Table, Failure> {
    let block = call.block.clone();
    let inputs = call.inputs.clone();
    let mut variables = call.variables.clone();
    variables.insert("block".into(), block.name.clone());
    variables.insert("attempt".into(), call.attempt.to_string());
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = std::time::Instant::now() + block.timeout;
    let limits = weft_data::QueryLimits {
        memory: block.memory_limit,
        deadline: Some(deadline),
        cancel: Some(stop.clone()),
    };
    let io = io.map(|io| {
        io.with_limits(weft_io::IoLimits {
            deadline: Some(deadline),
            cancel: Some(stop.clone()),
            read_bytes: block.read_limit,
            memory: block.memory_limit,
        })
    });
    let task = tokio::task::spawn_blocking(move || {
        crate::sql_block::run(&block, &path, &inputs, &variables, io.as_ref(), &limits)
    });
    // The engine stops a query at the deadline or on cancel by itself; the grace covers a
    // query running in a profile's database.
    match bounded(call.run, call.block, stop, task).await? {
        Ok(t) => Ok(t),
        Err(f) => Err(Failure {
            message: f.message,
            retryable: f.retryable,
        }),
    }
}
