//! Progress of long transfers (downloads, uploads), reported to whoever shows it.

use std::io::Read;
use std::sync::Arc;

/// Receives progress of a transfer. Called often: keep it cheap.
pub trait Progress: Send + Sync {
    /// `done` bytes of `label` moved so far, of `total` when known.
    fn bytes(&self, label: &str, done: u64, total: Option<u64>);
}

/// Ignores progress.
pub struct NoProgress;

impl Progress for NoProgress {
    fn bytes(&self, _: &str, _: u64, _: Option<u64>) {}
}

/// Bytes between two reports.
const REPORT_EVERY: u64 = 1 << 20;

/// A reader that reports the bytes read through it, and charges them to the current call's
/// `read_limit` (see [`crate::limits`]).
pub(crate) struct Counted<R> {
    inner: R,
    meter: Option<std::sync::Arc<crate::limits::Meter>>,
    label: String,
    done: u64,
    reported: u64,
    total: Option<u64>,
    progress: Arc<dyn Progress>,
}

impl<R: Read> Counted<R> {
    pub(crate) fn new(
        inner: R,
        label: String,
        total: Option<u64>,
        progress: Arc<dyn Progress>,
    ) -> Self {
        progress.bytes(&label, 0, total);
        Counted {
            inner,
            meter: crate::limits::current(),
            label,
            done: 0,
            reported: 0,
            total,
            progress,
        }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(m) = &self.meter {
            m.read(n as u64).map_err(crate::limits::io_error)?;
        }
        self.done += n as u64;
        if n == 0 || self.done - self.reported >= REPORT_EVERY {
            self.reported = self.done;
            self.progress.bytes(&self.label, self.done, self.total);
        }
        Ok(n)
    }
}
