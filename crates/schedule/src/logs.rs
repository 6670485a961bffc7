//! Block log lines: collected from runtime threads, numbered, forwarded to the observer and
//! written to the state store in batches by one writer task.

use std::sync::Arc;

use tokio::sync::mpsc;
use weft_io::Redactor;
use weft_runtime::{LogLevel, LogSink};
use weft_store::{LogRecord, Store};

use crate::clock::now_ms;
use crate::event::{Event, Observer};

/// Lines buffered before the writer flushes regardless.
const BATCH: usize = 256;

/// The run's log: hands out per-attempt sinks and owns the writer task.
pub(crate) struct RunLog {
    tx: mpsc::UnboundedSender<LogRecord>,
    close: tokio::sync::oneshot::Sender<()>,
    writer: tokio::task::JoinHandle<Result<(), weft_store::StoreError>>,
    observer: Arc<dyn Observer>,
    redactor: Redactor,
}

impl RunLog {
    pub(crate) fn start(
        store: Store,
        run_id: String,
        first_seq: i64,
        observer: Arc<dyn Observer>,
        redactor: Redactor,
    ) -> RunLog {
        let (tx, mut rx) = mpsc::unbounded_channel::<LogRecord>();
        // Lines are numbered here, in the order they are stored, so a reader that has seen
        // line n has seen every line before it.
        let (close, mut closed) = tokio::sync::oneshot::channel::<()>();
        let writer = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let mut next = first_seq;
            let mut closing = false;
            loop {
                let got = if closing {
                    rx.recv_many(&mut batch, BATCH).await
                } else {
                    tokio::select! {
                        n = rx.recv_many(&mut batch, BATCH) => n,
                        // The run is over. A block thread that ignored its cancellation
                        // (asleep in a host call) may still hold a sender: what is buffered is
                        // written, what it sends later is dropped, and the run does not wait.
                        _ = &mut closed => {
                            rx.close();
                            closing = true;
                            continue;
                        }
                    }
                };
                if got == 0 {
                    break;
                }
                for line in &mut batch {
                    line.seq = next;
                    next += 1;
                }
                store.append_logs(&run_id, &batch).await?;
                batch.clear();
            }
            Ok(())
        });
        RunLog {
            tx,
            close,
            writer,
            observer,
            redactor,
        }
    }

    /// `text` with the run's secrets masked.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// A sink for one attempt of one block.
    pub(crate) fn sink(&self, block: &str, attempt: u32) -> Arc<dyn LogSink> {
        Arc::new(BlockSink {
            tx: self.tx.clone(),
            block: block.to_string(),
            attempt,
            observer: self.observer.clone(),
            redactor: self.redactor.clone(),
        })
    }

    /// A line from the executor itself about `block`: stored, not shown live (the observer
    /// gets the same news as an event).
    pub(crate) fn note(&self, block: &str, attempt: u32, level: LogLevel, message: String) {
        let message = self.redactor.redact(&message);
        let _ = self.tx.send(LogRecord {
            seq: 0,
            block: Some(block.to_string()),
            attempt: Some(attempt as i64),
            at: now_ms(),
            level: level.as_str().to_string(),
            message,
        });
    }

    /// Flush every line and stop the writer.
    pub(crate) async fn finish(self) -> Result<(), weft_store::StoreError> {
        drop(self.tx);
        let _ = self.close.send(());
        self.writer.await.unwrap_or(Ok(()))
    }
}

struct BlockSink {
    tx: mpsc::UnboundedSender<LogRecord>,
    block: String,
    attempt: u32,
    observer: Arc<dyn Observer>,
    redactor: Redactor,
}

impl LogSink for BlockSink {
    fn log(&self, level: LogLevel, message: String) {
        // A secret of io_config.yaml never reaches the log, whoever printed it.
        let message = if self.redactor.is_empty() {
            message
        } else {
            self.redactor.redact(&message)
        };
        self.observer.event(&Event::Log {
            block: self.block.clone(),
            level,
            message: message.clone(),
        });
        let _ = self.tx.send(LogRecord {
            seq: 0,
            block: Some(self.block.clone()),
            attempt: Some(self.attempt as i64),
            at: now_ms(),
            level: level.as_str().to_string(),
            message,
        });
    }
}
