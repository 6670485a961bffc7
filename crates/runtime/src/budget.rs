//! What a block's host calls are charged to and stopped by: the block's memory limit (its
//! own linear memory plus the tables the host made for it and still holds), its deadline and
//! its run's cancel flag. A host call that breaches one returns a [`HostStop`], which traps
//! the block and is reported as the limit it hit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use weft_data::{DataError, QueryLimits};

/// Why a host call stopped the block (carried through wasmtime as the trap's error).
#[derive(Debug, thiserror::Error)]
pub(crate) enum HostStop {
    /// The block's deadline passed during a host call.
    #[error("the block's timeout passed during a host call")]
    Deadline,
    /// The run was cancelled during a host call.
    #[error("the run was cancelled during a host call")]
    Cancelled,
    /// A host budget was exceeded; the text names it and how to raise it.
    #[error("{0}")]
    Budget(String),
}

/// The limits of one block run, as host calls see them.
pub(crate) struct Budget {
    /// The block's `memory_limit` in bytes.
    pub(crate) memory_limit: u64,
    /// The block's `read_limit` in bytes.
    pub(crate) read_limit: u64,
    /// When the block's `timeout` passes.
    pub(crate) deadline: Instant,
    /// Set when the run is cancelled.
    pub(crate) cancel: Arc<AtomicBool>,
    /// Bytes of host-made tables the block holds, by resource handle.
    charged: HashMap<u32, u64>,
    held: u64,
    /// The most the block held at once, as of the last table handed over.
    peak: u64,
}

impl Budget {
    pub(crate) fn new(
        memory_limit: u64,
        read_limit: u64,
        deadline: Instant,
        cancel: Arc<AtomicBool>,
    ) -> Self {
        Budget {
            memory_limit,
            read_limit,
            deadline,
            cancel,
            charged: HashMap::new(),
            held: 0,
            peak: 0,
        }
    }

    /// Stop when the run is cancelled or the deadline has passed.
    pub(crate) fn check(&self) -> Result<(), HostStop> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(HostStop::Cancelled);
        }
        if Instant::now() >= self.deadline {
            return Err(HostStop::Deadline);
        }
        Ok(())
    }

    /// The limits of an IO call made for the block, given `guest` bytes of its own memory.
    pub(crate) fn io_limits(&self, guest: u64) -> weft_io::IoLimits {
        weft_io::IoLimits {
            deadline: Some(self.deadline),
            cancel: Some(self.cancel.clone()),
            read_bytes: self.read_limit,
            memory: self.memory_limit.saturating_sub(guest + self.held),
        }
    }

    /// The limits of a query run for the block, given `guest` bytes of its own memory.
    pub(crate) fn query_limits(&self, guest: u64) -> QueryLimits {
        QueryLimits {
            memory: self.memory_limit.saturating_sub(guest + self.held),
            deadline: Some(self.deadline),
            cancel: Some(self.cancel.clone()),
        }
    }

    /// Whether a table of `size` bytes may be handed to the block, given `guest` bytes of
    /// its own memory.
    pub(crate) fn admit(&self, size: u64, guest: u64) -> Result<(), HostStop> {
        if guest + self.held + size > self.memory_limit {
            return Err(HostStop::Budget(format!(
                "the block's memory limit of {} MiB is exceeded: it holds {} MiB of its own memory and {} MiB of tables made by the host, and a new table needs {} MiB; raise `memory_limit` in pipeline.yaml or keep fewer tables at once",
                self.memory_limit >> 20,
                guest >> 20,
                self.held >> 20,
                size.div_ceil(1 << 20)
            )));
        }
        Ok(())
    }

    /// Handle `rep`, of `size` bytes, was handed to the block, which holds `guest` bytes
    /// of its own memory.
    pub(crate) fn charge(&mut self, rep: u32, size: u64, guest: u64) {
        self.held += size;
        self.charged.insert(rep, size);
        self.peak = self.peak.max(guest + self.held);
    }

    /// The most memory the block held at once, given `guest` bytes of its own memory now
    /// (linear memory only grows, so its latest size is its largest).
    pub(crate) fn peak(&self, guest: u64) -> u64 {
        self.peak.max(guest + self.held)
    }

    /// The block dropped handle `rep`: what it was charged is freed.
    pub(crate) fn release(&mut self, rep: u32) {
        if let Some(size) = self.charged.remove(&rep) {
            self.held -= size;
        }
    }
}

/// A query engine failure for the block: limit breaches stop it, refusals are `denied`,
/// the rest is `invalid-input`.
pub(crate) fn query_failure(e: DataError) -> Result<crate::bindings::GuestError, HostStop> {
    use crate::bindings::GuestError;
    match e {
        DataError::Deadline => Err(HostStop::Deadline),
        DataError::Cancelled => Err(HostStop::Cancelled),
        e @ (DataError::MemoryBudget { .. } | DataError::Capped(_)) => {
            Err(HostStop::Budget(e.to_string()))
        }
        e @ DataError::Refused(_) => Ok(GuestError::Denied(e.to_string())),
        e => Ok(GuestError::InvalidInput(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_counts_tables_held_at_once_with_the_guest_memory() {
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        let mut b = Budget::new(1 << 30, 1 << 30, deadline, Default::default());
        b.charge(1, 100, 1_000);
        b.charge(2, 50, 1_200);
        b.release(1);
        b.release(2);
        // Both tables and 1,200 bytes of its own: the most it held at once.
        assert_eq!(b.peak(1_300), 1_350);
        // Its own memory grew past that later.
        assert_eq!(b.peak(2_000), 2_000);
    }
}
