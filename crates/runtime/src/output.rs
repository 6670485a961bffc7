//! A block's stdout and stderr. Each complete line goes to the block's log as soon as it is
//! written, so a running block's prints show live in `weft logs` and the API's log stream.
//! The last bytes are kept for error messages (a panic's last words). Past a limit, further
//! output is dropped with one notice; the block itself is never stopped for being chatty.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use crate::state::{LogLevel, LogSink};

/// Bytes of output forwarded to the log per stream and block run; the rest is dropped.
const FORWARD_LIMIT: usize = 8 << 20;
/// Bytes kept from the end of the stream for error messages.
const TAIL: usize = 64 << 10;
/// A line longer than this is forwarded in pieces.
const MAX_LINE: usize = 64 << 10;

/// One output stream of a block run (cloned into every WASI handle that writes to it).
#[derive(Clone)]
pub(crate) struct GuestOutput {
    shared: Arc<Mutex<Shared>>,
    level: LogLevel,
    sink: Arc<dyn LogSink>,
}

#[derive(Default)]
struct Shared {
    /// The current line, not yet ended.
    partial: Vec<u8>,
    /// The last bytes written.
    tail: Vec<u8>,
    /// Bytes forwarded to the log so far.
    forwarded: usize,
    /// Whether the limit was reached.
    truncated: bool,
}

impl GuestOutput {
    /// A stream whose lines go to `sink` at `level`.
    pub(crate) fn new(level: LogLevel, sink: Arc<dyn LogSink>) -> Self {
        GuestOutput {
            shared: Arc::default(),
            level,
            sink,
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
        if s.truncated {
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

    fn emit(&self, s: &mut Shared, line: &[u8]) {
        if s.truncated {
            return;
        }
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end();
        if text.trim().is_empty() {
            return;
        }
        s.forwarded += text.len();
        if s.forwarded > FORWARD_LIMIT {
            s.truncated = true;
            s.partial.clear();
            self.sink.log(
                LogLevel::Warn,
                format!(
                    "the block wrote more than {} MiB; the rest of its output is dropped",
                    FORWARD_LIMIT >> 20
                ),
            );
            return;
        }
        self.sink.log(self.level, text.to_string());
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
        let out = GuestOutput::new(LogLevel::Info, lines.clone());
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
        let out = GuestOutput::new(LogLevel::Info, lines.clone());
        let line = vec![b'x'; 1023];
        for _ in 0..(FORWARD_LIMIT / 1024 + 100) {
            out.take(&line);
            out.take(b"\n");
        }
        let got = lines.0.lock().unwrap();
        let warnings: Vec<&String> = got
            .iter()
            .filter(|(l, _)| *l == LogLevel::Warn)
            .map(|(_, m)| m)
            .collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("output is dropped"));
        assert!(got.len() < FORWARD_LIMIT / 1000);
        assert!(out.tail().len() <= TAIL);
    }
}
