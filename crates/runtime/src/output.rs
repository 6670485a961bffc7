//! A block's stdout and stderr. Each complete line goes to the block's log as soon as it is
//! written, so a running block's prints show live in `weft logs` and the API's log stream.
//! The last bytes are kept for error messages (a panic's last words). stdout, stderr and the
//! block's `log` calls share one [`LogBudget`]: past it, further lines are dropped with one
//! notice; the block itself is never stopped for being chatty.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use crate::state::{LogLevel, LogSink};

/// Bytes of log lines (prints and `log` calls together) kept per block run; the rest is
/// dropped.
const FORWARD_LIMIT: usize = 8 << 20;
/// What each line costs beyond its bytes (it is one row in the state store), so a flood of
/// empty lines is bounded too.
const LINE_COST: usize = 64;

/// The log volume one block run may write, shared by its stdout, stderr and `log` calls.
#[derive(Clone)]
pub(crate) struct LogBudget {
    shared: Arc<Mutex<(usize, bool)>>,
    sink: Arc<dyn LogSink>,
}

impl LogBudget {
    pub(crate) fn new(sink: Arc<dyn LogSink>) -> Self {
        LogBudget {
            shared: Arc::default(),
            sink,
        }
    }

    /// Send `line` to the log if the budget allows; past it, one notice and nothing more.
    pub(crate) fn emit(&self, level: LogLevel, line: String) {
        let mut s = self
            .shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if s.1 {
            return;
        }
        s.0 += line.len() + LINE_COST;
        if s.0 > FORWARD_LIMIT {
            s.1 = true;
            drop(s);
            self.sink.log(
                LogLevel::Warn,
                format!(
                    "the block wrote more than {} MiB of log lines and output; the rest is dropped",
                    FORWARD_LIMIT >> 20
                ),
            );
            return;
        }
        drop(s);
        self.sink.log(level, line);
    }

    fn exhausted(&self) -> bool {
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .1
    }
}
/// Bytes kept from the end of the stream for error messages.
const TAIL: usize = 64 << 10;
/// A line longer than this is forwarded in pieces.
const MAX_LINE: usize = 64 << 10;

/// One output stream of a block run (cloned into every WASI handle that writes to it).
#[derive(Clone)]
pub(crate) struct GuestOutput {
    shared: Arc<Mutex<Shared>>,
    level: LogLevel,
    budget: LogBudget,
}

#[derive(Default)]
struct Shared {
    /// The current line, not yet ended.
    partial: Vec<u8>,
    /// The last bytes written.
    tail: Vec<u8>,
}

impl GuestOutput {
    /// A stream whose lines go to the log at `level`, within `budget`.
    pub(crate) fn new(level: LogLevel, budget: LogBudget) -> Self {
        GuestOutput {
            shared: Arc::default(),
            level,
            budget,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn take(&self, bytes: &[u8]) {
        let mut s = self.lock();
        s.tail.extend_from_slice(bytes);
        if s.tail.len() > TAIL {
            let cut = s.tail.len() - TAIL;
            s.tail.drain(..cut);
        }
        if self.budget.exhausted() {
            s.partial.clear();
            return;
        }
        s.partial.extend_from_slice(bytes);
        while let Some(end) = s.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = s.partial.drain(..=end).collect();
            self.emit(&mut s, &line);
        }
        if s.partial.len() > MAX_LINE {
            let line = std::mem::take(&mut s.partial);
            self.emit(&mut s, &line);
        }
    }

    fn emit(&self, _s: &mut Shared, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end();
        if text.trim().is_empty() {
            return;
        }
        self.budget.emit(self.level, text.to_string());
    }

    /// Forward a last line the block did not end.
    pub(crate) fn finish(&self) {
        let mut s = self.lock();
        let line = std::mem::take(&mut s.partial);
        self.emit(&mut s, &line);
    }

    /// The last bytes written, for error messages.
    pub(crate) fn tail(&self) -> String {
        String::from_utf8_lossy(&self.lock().tail).into_owned()
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.take(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(MAX_LINE)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

impl AsyncWrite for GuestOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.take(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Lines(Mutex<Vec<(LogLevel, String)>>);

    impl LogSink for Lines {
        fn log(&self, level: LogLevel, message: String) {
            self.0.lock().unwrap().push((level, message));
        }
    }

    #[test]
    fn lines_go_out_as_they_end_and_the_tail_stays() {
        let lines = Arc::new(Lines::default());
        let out = GuestOutput::new(LogLevel::Info, LogBudget::new(lines.clone()));
        out.take(b"hello ");
        assert!(lines.0.lock().unwrap().is_empty(), "no line ended yet");
        out.take(b"world\n\nsecond\nthird");
        let got: Vec<String> = lines
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, m)| m.clone())
            .collect();
        assert_eq!(got, ["hello world", "second"]);
        out.finish();
        assert_eq!(lines.0.lock().unwrap().len(), 3);
        assert!(out.tail().ends_with("second\nthird"));
    }

    #[test]
    fn a_flood_is_cut_with_one_notice() {
        let lines = Arc::new(Lines::default());
        let budget = LogBudget::new(lines.clone());
        let out = GuestOutput::new(LogLevel::Info, budget.clone());
        let err = GuestOutput::new(LogLevel::Warn, budget.clone());
        let line = vec![b'x'; 1023];
        // Prints on both streams and `log` calls draw on the same budget.
        for i in 0..(FORWARD_LIMIT / 1024 / 3 + 100) {
            out.take(&line);
            out.take(b"\n");
            err.take(&line);
            err.take(b"\n");
            budget.emit(LogLevel::Info, format!("log call {i} {}", "y".repeat(1000)));
        }
        // Tiny lines cost their row, not only their bytes.
        for _ in 0..FORWARD_LIMIT {
            budget.emit(LogLevel::Info, "z".into());
        }
        let got = lines.0.lock().unwrap();
        let warnings: Vec<&String> = got
            .iter()
            .filter(|(l, _)| *l == LogLevel::Warn)
            .map(|(_, m)| m)
            .collect();
        let warnings: Vec<&&String> = warnings.iter().filter(|m| m.contains("MiB")).collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("the rest is dropped"));
        assert!(got.len() < FORWARD_LIMIT / 1000);
        assert!(out.tail().len() <= TAIL);
    }
}
