//! What one block's IO may use while a call runs: the block's deadline and its run's cancel
//! flag (they stop a download, an object-store call or a query mid-way), the bytes it may
//! read and decompress (`read_limit`), and the memory the data it reads may take before it
//! is a table (what is left of `memory_limit`).
//!
//! A [`Meter`] is made per call and is the current one of the thread doing the call (and of
//! the threads that decode for it), so every reader, decoder and network wait below checks
//! it without threading it through each signature. A tripped limit is kept on the meter:
//! whatever error the interrupted code returns, the call reports the [`Breach`].

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Limits of one block's IO calls.
#[derive(Debug, Clone)]
pub struct IoLimits {
    /// When the block's `timeout` passes.
    pub deadline: Option<Instant>,
    /// Set when the block's run is cancelled.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Bytes a call may read, and (separately) decompress: the block's `read_limit`.
    pub read_bytes: u64,
    /// Bytes the data a call reads may hold in memory before it is handed over.
    pub memory: u64,
}

impl IoLimits {
    /// No limits (the host's own IO, tests).
    pub fn unlimited() -> Self {
        IoLimits {
            deadline: None,
            cancel: None,
            read_bytes: u64::MAX,
            memory: u64::MAX,
        }
    }
}

/// A limit a call ran into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Breach {
    /// The block's `timeout` passed.
    Deadline,
    /// The run was cancelled.
    Cancelled,
    /// More bytes were read than `read_limit` allows.
    ReadBytes(u64),
    /// Compressed data grew past `read_limit` (a decompression bomb, or just big data).
    Decompressed(u64),
    /// The data read needs more memory than is left of `memory_limit`.
    Memory(u64),
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = |b: &u64| b >> 20;
        match self {
            Breach::Deadline => write!(f, "the block's `timeout` passed during IO"),
            Breach::Cancelled => write!(f, "the run was cancelled during IO"),
            Breach::ReadBytes(l) => write!(
                f,
                "the block read more than its `read_limit` of {} MiB; raise `read_limit` in pipeline.yaml or read less at once",
                mib(l)
            ),
            Breach::Decompressed(l) => write!(
                f,
                "compressed data grew past the block's `read_limit` of {} MiB when decompressed; raise `read_limit` in pipeline.yaml if the data is that big",
                mib(l)
            ),
            Breach::Memory(l) => write!(
                f,
                "the data read needs more than the {} MiB left of the block's `memory_limit`; raise `memory_limit` in pipeline.yaml or read less at once",
                mib(l)
            ),
        }
    }
}

/// The limits of one call and what it has used so far.
#[derive(Debug)]
pub(crate) struct Meter {
    limits: IoLimits,
    read: AtomicU64,
    inflated: AtomicU64,
    held: AtomicU64,
    breach: Mutex<Option<Breach>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Meter>>> = const { RefCell::new(None) };
}

/// How often a wait looks at the deadline and cancel flag.
pub(crate) const WATCH_EVERY: Duration = Duration::from_millis(20);

impl Meter {
    pub(crate) fn new(limits: IoLimits) -> Arc<Meter> {
        Arc::new(Meter {
            limits,
            read: AtomicU64::new(0),
            inflated: AtomicU64::new(0),
            held: AtomicU64::new(0),
            breach: Mutex::new(None),
        })
    }

    /// Run `f` with this meter as the thread's current one.
    pub(crate) fn scope<T>(self: &Arc<Self>, f: impl FnOnce() -> T) -> T {
        /// Puts the previous meter back, also when `f` panics.
        struct Restore(Option<Arc<Meter>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                CURRENT.with(|c| *c.borrow_mut() = previous);
            }
        }
        let _restore = Restore(CURRENT.with(|c| c.replace(Some(self.clone()))));
        f()
    }

    fn trip(&self, b: Breach) -> Breach {
        let mut slot = self.breach.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(b).clone()
    }

    /// The limit this call ran into, if any.
    pub(crate) fn breach(&self) -> Option<Breach> {
        self.breach
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stop when the deadline has passed or the run was cancelled.
    pub(crate) fn check(&self) -> Result<(), Breach> {
        if let Some(b) = self.breach() {
            return Err(b);
        }
        if self
            .limits
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(self.trip(Breach::Cancelled));
        }
        if self.limits.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(self.trip(Breach::Deadline));
        }
        Ok(())
    }

    fn charge(
        &self,
        counter: &AtomicU64,
        n: u64,
        limit: u64,
        breach: Breach,
    ) -> Result<(), Breach> {
        let total = counter.fetch_add(n, Ordering::Relaxed) + n;
        if total > limit {
            return Err(self.trip(breach));
        }
        self.check()
    }

    /// Charge `n` bytes read from a source.
    pub(crate) fn read(&self, n: u64) -> Result<(), Breach> {
        let l = self.limits.read_bytes;
        self.charge(&self.read, n, l, Breach::ReadBytes(l))
    }

    /// Charge `n` bytes that came out of a decompressor.
    pub(crate) fn inflate(&self, n: u64) -> Result<(), Breach> {
        let l = self.limits.read_bytes;
        self.charge(&self.inflated, n, l, Breach::Decompressed(l))
    }

    /// Charge `n` bytes of decoded data held in memory.
    pub(crate) fn hold(&self, n: u64) -> Result<(), Breach> {
        let l = self.limits.memory;
        self.charge(&self.held, n, l, Breach::Memory(l))
    }

    /// The deadline, if any, for timeouts handed to other systems (Postgres).
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.limits.deadline
    }
}

/// The meter of the call this thread is doing, if any.
pub(crate) fn current() -> Option<Arc<Meter>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Stop when the current call's deadline has passed or its run was cancelled.
pub(crate) fn check() -> Result<(), Breach> {
    current().map_or(Ok(()), |m| m.check())
}

/// Charge `n` bytes of decoded data to the current call.
pub(crate) fn hold(n: u64) -> Result<(), Breach> {
    current().map_or(Ok(()), |m| m.hold(n))
}

/// Whether `n` more bytes of decoded data would still fit the current call's memory (a
/// check before a decoder sets them aside; nothing is charged).
pub(crate) fn fits(n: u64) -> Result<(), Breach> {
    let Some(m) = current() else { return Ok(()) };
    let held = m.held.load(Ordering::Relaxed);
    if held.saturating_add(n) > m.limits.memory {
        return Err(m.trip(Breach::Memory(m.limits.memory)));
    }
    m.check()
}

/// Charge `n` bytes read from a source to the current call.
pub(crate) fn read(n: u64) -> Result<(), Breach> {
    current().map_or(Ok(()), |m| m.read(n))
}

/// A breach as an IO error (for code that speaks `std::io`).
pub(crate) fn io_error(b: Breach) -> std::io::Error {
    std::io::Error::other(b.to_string())
}

/// A reader charging what comes out of a decompressor to the current call.
pub(crate) struct Inflated<R> {
    inner: R,
    meter: Option<Arc<Meter>>,
}

impl<R> Inflated<R> {
    pub(crate) fn new(inner: R) -> Self {
        Inflated {
            inner,
            meter: current(),
        }
    }
}

impl<R: std::io::Read> std::io::Read for Inflated<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(m) = &self.meter {
            m.inflate(n as u64).map_err(io_error)?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meter_trips_once_and_keeps_its_first_breach() {
        let m = Meter::new(IoLimits {
            read_bytes: 100,
            memory: 50,
            ..IoLimits::unlimited()
        });
        assert!(m.read(60).is_ok());
        assert_eq!(m.read(60), Err(Breach::ReadBytes(100)));
        // Later checks report the first breach.
        assert_eq!(m.hold(1), Err(Breach::ReadBytes(100)));
        assert_eq!(m.breach(), Some(Breach::ReadBytes(100)));
        let cancel = Arc::new(AtomicBool::new(false));
        let m = Meter::new(IoLimits {
            cancel: Some(cancel.clone()),
            ..IoLimits::unlimited()
        });
        assert!(m.check().is_ok());
        cancel.store(true, Ordering::Relaxed);
        assert_eq!(m.check(), Err(Breach::Cancelled));
        let m = Meter::new(IoLimits {
            deadline: Some(Instant::now()),
            ..IoLimits::unlimited()
        });
        assert_eq!(m.check(), Err(Breach::Deadline));
        assert!(m
            .to_owned()
            .breach()
            .unwrap()
            .to_string()
            .contains("timeout"));
    }

    #[test]
    fn the_current_meter_is_the_thread_s_for_the_call() {
        let m = Meter::new(IoLimits {
            memory: 10,
            ..IoLimits::unlimited()
        });
        assert!(hold(1 << 40).is_ok(), "no call, no limit");
        let inside = m.scope(|| hold(11));
        assert_eq!(inside, Err(Breach::Memory(10)));
        assert!(current().is_none());
    }
}
