//! Reading ahead on a thread of its own, so that decompressing a file runs on one core while
//! its rows are decoded on another. At most [`AHEAD`] chunks wait; the thread stops when the
//! reader is dropped or its source ends or fails (the error is handed on in order).

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver};

/// Bytes per chunk handed over.
const CHUNK: usize = 1 << 20;
/// Chunks read ahead at most.
const AHEAD: usize = 4;

/// A reader whose source is read by another thread.
pub(crate) struct ReadAhead {
    chunks: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
    ended: bool,
}

impl ReadAhead {
    /// Read `source` ahead on a new thread (a reader that fails, naming why, when no thread
    /// can be started).
    pub(crate) fn start(mut source: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
        let (tx, rx) = sync_channel(AHEAD);
        let started = std::thread::Builder::new()
            .name("weft-read-ahead".into())
            .spawn(move || loop {
                let got = fill(&mut source);
                let last = !matches!(&got, Ok(c) if !c.is_empty());
                if tx.send(got).is_err() || last {
                    break;
                }
            });
        match started {
            Ok(_) => Box::new(ReadAhead {
                chunks: rx,
                chunk: Vec::new(),
                at: 0,
                ended: false,
            }),
            // The closure (and with it the source) is gone: nothing can be read back.
            Err(e) => Box::new(Failed(e.to_string())),
        }
    }
}

/// Up to [`CHUNK`] bytes of `source` (fewer only at its end; empty at its end).
fn fill(source: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; CHUNK];
    let mut filled = 0;
    while filled < CHUNK {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.ended {
                return Ok(0);
            }
            match self.chunks.recv() {
                Ok(Ok(c)) if c.is_empty() => self.ended = true,
                Ok(Ok(c)) => {
                    self.chunk = c;
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                Err(_) => {
                    self.ended = true;
                    return Err(io::Error::other("the read-ahead thread stopped"));
                }
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A reader that could not be started.
struct Failed(String);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other(format!(
            "cannot start a read-ahead thread: {}",
            self.0
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that yields `n` bytes counting up, then fails when `fail` is set.
    struct Counting {
        left: usize,
        next: u8,
        fail: bool,
    }

    impl Read for Counting {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.left == 0 {
                return if self.fail {
                    Err(io::Error::new(io::ErrorKind::InvalidData, "corrupt"))
                } else {
                    Ok(0)
                };
            }
            // Short reads, as decompressors make.
            let n = out.len().min(self.left).min(7_777);
            for b in &mut out[..n] {
                *b = self.next;
                self.next = self.next.wrapping_add(1);
            }
            self.left -= n;
            Ok(n)
        }
    }

    #[test]
    fn every_byte_arrives_in_order_then_the_end_or_the_error() {
        let len = 3 * CHUNK + 12_345;
        let mut r = ReadAhead::start(Box::new(Counting {
            left: len,
            next: 0,
            fail: false,
        }));
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), len);
        assert!(all.iter().enumerate().all(|(i, &b)| b == i as u8));
        assert_eq!(r.read(&mut [0u8; 8]).unwrap(), 0);

        let mut r = ReadAhead::start(Box::new(Counting {
            left: CHUNK + 5,
            next: 0,
            fail: true,
        }));
        let mut all = Vec::new();
        let e = r.read_to_end(&mut all).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(all.len(), CHUNK, "the whole chunk before the error arrives");
    }

    #[test]
    fn dropping_the_reader_stops_the_thread() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        /// An endless source that says when it is dropped (when its thread has ended).
        struct Endless(Arc<AtomicBool>);
        impl Read for Endless {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                out.fill(1);
                Ok(out.len())
            }
        }
        impl Drop for Endless {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let gone = Arc::new(AtomicBool::new(false));
        let mut r = ReadAhead::start(Box::new(Endless(gone.clone())));
        let mut some = [0u8; 100];
        r.read_exact(&mut some).unwrap();
        assert!(!gone.load(Ordering::SeqCst));
        drop(r);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !gone.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(
            gone.load(Ordering::SeqCst),
            "the read-ahead thread kept running"
        );
    }
}
