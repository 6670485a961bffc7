//! Per-run host state: WASI context, resource table, memory limiter and the block's context.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::ResourceLimiter;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::budget::Budget;

/// Severity of a block's log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Very detailed diagnostics.
    Trace,
    /// Diagnostics for the block's author.
    Debug,
    /// Normal progress.
    Info,
    /// Something unexpected.
    Warn,
    /// A failure.
    Error,
}

impl LogLevel {
    /// Lower-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// Receives the log lines of one block run, from `log` calls and from the guest's
/// stdout (info) and stderr (warn).
pub trait LogSink: Send + Sync {
    /// Record one line.
    fn log(&self, level: LogLevel, message: String);
}

/// Store data of one block instance.
pub(crate) struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) variables: Arc<BTreeMap<String, String>>,
    /// Where the block's `log` calls go, within the run's log budget.
    pub(crate) log: crate::output::LogBudget,
    /// The block's IO, within its grants; `None` denies every IO call.
    pub(crate) io: Option<weft_io::BlockIo>,
    /// What host calls are charged to and stopped by.
    pub(crate) budget: Budget,
}

impl HostState {
    /// A table the host made, handed to the block as a new handle; an error passes through.
    pub(crate) fn hand_over(
        &mut self,
        made: Result<weft_data::Table, crate::bindings::GuestError>,
    ) -> wasmtime::Result<
        Result<wasmtime::component::Resource<weft_data::Table>, crate::bindings::GuestError>,
    > {
        let t = match made {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        self.budget.check()?;
        let size = t.memory_size();
        self.budget.admit(size, self.limiter.total)?;
        let handle = self.table.push(t)?;
        self.budget.charge(handle.rep(), size, self.limiter.total);
        Ok(Ok(handle))
    }

    /// The limits of a query the host runs for the block now.
    pub(crate) fn query_limits(&self) -> weft_data::QueryLimits {
        self.budget.query_limits(self.limiter.total)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps the total linear memory of an instance and remembers a denied growth, so the failure
/// can be reported as a memory-limit breach rather than a bare trap.
pub(crate) struct MemoryLimiter {
    limit: u64,
    /// Bytes of linear memory the instance holds.
    pub(crate) total: u64,
    /// Total the first denied growth would have reached.
    pub(crate) denied: Option<u64>,
}

impl MemoryLimiter {
    pub(crate) fn new(limit: u64) -> Self {
        MemoryLimiter {
            limit,
            total: 0,
            denied: None,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let after = self.total + (desired as u64).saturating_sub(current as u64);
        if after > self.limit {
            self.denied.get_or_insert(after);
            return Ok(false);
        }
        self.total = after;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 10_000_000)
    }
}
