//! One block run: a fresh instance from a pre-instantiated component, `run`, then the block's
//! tests, inside the block's memory and time limits.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Resource, ResourceTable};
use wasmtime::{Store, Trap, UpdateDeadline};
use weft_data::Table;

use crate::bindings::GuestError;
use crate::budget::{Budget, HostStop};
use crate::engine::{BlockComponent, Runtime};
use crate::error::RuntimeError;
use crate::output::{GuestOutput, LogBudget};
use crate::state::{HostState, LogLevel, LogSink, MemoryLimiter};

/// Largest payload a block may move across the boundary in one call (4 GiB).
const HOSTCALL_FUEL: usize = 4 << 30;

/// Everything one block run needs.
pub struct BlockCall {
    /// Block name, for messages.
    pub block: String,
    /// The block's `config:` as JSON text.
    pub config: String,
    /// Upstream outputs, named after their blocks.
    pub inputs: Vec<(String, Table)>,
    /// Run variables and built-ins visible through `variable`.
    pub variables: Arc<BTreeMap<String, String>>,
    /// Environment variables granted to the block.
    pub env: Vec<(String, String)>,
    /// Linear-memory limit in bytes (host-made tables and queries count too).
    pub memory_limit: u64,
    /// Bytes one IO call may read, and decompress.
    pub read_limit: u64,
    /// Wall-clock limit.
    pub timeout: Duration,
    /// Where the block's log lines go.
    pub log: Arc<dyn LogSink>,
    /// Set to stop the block at its next epoch tick (the run was cancelled).
    pub cancel: Arc<AtomicBool>,
    /// The block's IO (reads, writes, queries within its grants); `None` denies all IO.
    pub io: Option<weft_io::BlockIo>,
    /// Set when the call ends, however it ends, to the most memory the block held at once
    /// (bytes): its linear memory and the tables the host made for it.
    pub peak_memory: Arc<AtomicU64>,
}

/// What a successful block run produced.
#[derive(Debug)]
pub struct BlockOutput {
    /// The output table, if the block returned one.
    pub table: Option<Table>,
    /// Names of the tests that ran and passed.
    pub tests: Vec<String>,
}

impl Runtime {
    /// Run one block to completion on the calling thread (blocking).
    ///
    /// # Errors
    /// A [`RuntimeError`] naming the block: trap, timeout, memory limit, an error returned by
    /// the block, or a failed test. The host is never affected.
    pub fn invoke(
        &self,
        component: &BlockComponent,
        call: BlockCall,
    ) -> Result<BlockOutput, RuntimeError> {
        // Printed lines reach the log while the block runs.
        let log = LogBudget::new(call.log.clone());
        let stdout = GuestOutput::new(LogLevel::Info, log.clone());
        let stderr = GuestOutput::new(LogLevel::Warn, log.clone());
        let deadline = Instant::now() + call.timeout;
        let mut wasi = wasmtime_wasi::WasiCtx::builder();
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .envs(&call.env);
        // No network, whatever wasmtime's defaults are: every socket and name lookup a block
        // attempts is `access-denied`. (No directories are preopened: no files either.)
        wasi.allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }));
        let state = HostState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(call.memory_limit),
            variables: call.variables.clone(),
            log,
            io: call.io.clone(),
            budget: Budget::new(
                call.memory_limit,
                call.read_limit,
                deadline,
                call.cancel.clone(),
            ),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_hostcall_fuel(HOSTCALL_FUEL);
        // Every epoch tick, stop the block if its run was cancelled or its time is up.
        let cancel = call.cancel.clone();
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if cancel.load(Ordering::Relaxed) || Instant::now() >= deadline {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Continue(1))
            }
        });

        let result = run_in(&mut store, component, &call);
        let data = store.data();
        call.peak_memory
            .store(data.budget.peak(data.limiter.total), Ordering::Relaxed);
        stdout.finish();
        stderr.finish();
        result.map_err(|f| {
            if let Fault::Wasm(_, e) = &f {
                if let Some(bt) = e.downcast_ref::<wasmtime::WasmBacktrace>() {
                    call.log
                        .log(LogLevel::Debug, format!("wasm backtrace:\n{bt}"));
                }
            }
            f.into_error(&call, store.data().limiter.denied, &stderr)
        })
    }
}

/// A failure before it is classified.
enum Fault {
    Wasm(&'static str, wasmtime::Error),
    Instantiate(wasmtime::Error),
    Guest(GuestError),
    Test(String, String),
}

impl Fault {
    fn into_error(
        self,
        call: &BlockCall,
        denied: Option<u64>,
        stderr: &GuestOutput,
    ) -> RuntimeError {
        let block = call.block.clone();
        if let Fault::Wasm(_, e) = &self {
            match e.downcast_ref::<HostStop>() {
                Some(HostStop::Deadline) => {
                    return RuntimeError::Timeout {
                        block,
                        limit: call.timeout,
                    }
                }
                Some(HostStop::Cancelled) => return RuntimeError::Cancelled { block },
                Some(HostStop::Budget(message)) => {
                    return RuntimeError::Budget {
                        block,
                        message: message.clone(),
                    }
                }
                None => {}
            }
        }
        match self {
            Fault::Wasm(_, e) | Fault::Instantiate(e) if denied.is_some() && !is_interrupt(&e) => {
                RuntimeError::MemoryLimit {
                    block,
                    limit: call.memory_limit,
                    requested: denied.unwrap_or_default(),
                }
            }
            Fault::Wasm(_, e) if is_interrupt(&e) && call.cancel.load(Ordering::Relaxed) => {
                RuntimeError::Cancelled { block }
            }
            Fault::Wasm(_, e) if is_interrupt(&e) => RuntimeError::Timeout {
                block,
                limit: call.timeout,
            },
            Fault::Wasm(function, e) => RuntimeError::Trap {
                block,
                function,
                trap: match e.downcast_ref::<Trap>() {
                    Some(t) => t.to_string(),
                    None => e.root_cause().to_string(),
                },
                stderr: stderr.tail(),
            },
            Fault::Instantiate(e) => RuntimeError::Instantiate {
                block,
                reason: format!("{e:#}"),
            },
            Fault::Guest(g) => {
                let (kind, message) = match g {
                    GuestError::InvalidInput(m) => ("invalid-input", m),
                    GuestError::Denied(m) => ("denied", m),
                    GuestError::Io(m) => ("io", m),
                    GuestError::Failed(m) => ("failed", m),
                };
                RuntimeError::Failed {
                    block,
                    kind,
                    message,
                }
            }
            Fault::Test(test, message) => RuntimeError::TestFailed {
                block,
                test,
                message,
            },
        }
    }
}

fn is_interrupt(e: &wasmtime::Error) -> bool {
    matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt))
}

fn run_in(
    store: &mut Store<HostState>,
    component: &BlockComponent,
    call: &BlockCall,
) -> Result<BlockOutput, Fault> {
    let instance = component
        .pre
        .instantiate(&mut *store)
        .map_err(Fault::Instantiate)?;
    let mut inputs = Vec::with_capacity(call.inputs.len());
    for (name, table) in &call.inputs {
        let handle = store
            .data_mut()
            .table
            .push(table.clone())
            .map_err(|e| Fault::Instantiate(e.into()))?;
        inputs.push((name.clone(), handle));
    }
    let output = instance
        .call_run(&mut *store, &call.config, &inputs)
        .map_err(|e| Fault::Wasm("run", e))?
        .map_err(Fault::Guest)?;
    let output = match output {
        Some(handle) => Some(
            store
                .data_mut()
                .table
                .delete(handle)
                .map_err(|e| Fault::Wasm("run", e.into()))?,
        ),
        None => None,
    };
    let names = instance
        .call_tests(&mut *store)
        .map_err(|e| Fault::Wasm("tests", e))?;
    for name in &names {
        let shown = output.clone().unwrap_or_else(Table::empty);
        let handle: Resource<Table> = store
            .data_mut()
            .table
            .push(shown)
            .map_err(|e| Fault::Wasm("run-test", e.into()))?;
        let borrowed = Resource::new_borrow(handle.rep());
        let result = instance
            .call_run_test(&mut *store, name, borrowed)
            .map_err(|e| Fault::Wasm("run-test", e));
        let _ = store.data_mut().table.delete(handle);
        result?.map_err(|m| Fault::Test(name.clone(), m))?;
    }
    Ok(BlockOutput {
        table: output,
        tests: names,
    })
}
