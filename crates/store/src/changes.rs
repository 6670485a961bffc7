//! Changes to runs, announced in-process: readers that follow a run live (the API's log
//! stream, a trigger call waiting for its run) wait for an announcement instead of polling
//! the database, and look again only when their run changed. Changes made by another process
//! are seen at a slow fallback pace.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

/// Announcements buffered per subscriber; a reader that falls further behind just looks.
const BUFFER: usize = 1024;

/// The channel runs' changes are announced on (shared by clones of a store).
#[derive(Clone)]
pub(crate) struct Changes {
    tx: broadcast::Sender<Arc<str>>,
}

impl Changes {
    pub(crate) fn new() -> Self {
        Changes {
            tx: broadcast::channel(BUFFER).0,
        }
    }

    /// Run `run` changed (status, blocks or logs).
    pub(crate) fn announce(&self, run: &str) {
        let _ = self.tx.send(Arc::from(run));
    }

    pub(crate) fn watch(&self, run: &str) -> RunWatch {
        RunWatch {
            rx: self.tx.subscribe(),
            run: run.to_string(),
        }
    }
}

/// A reader's view of one run's changes.
pub struct RunWatch {
    rx: broadcast::Receiver<Arc<str>>,
    run: String,
}

impl RunWatch {
    /// Wait until the run changes in this process, or `fallback` passes (a change made by
    /// another process is then found by looking).
    pub async fn changed(&mut self, fallback: Duration) {
        let wait = async {
            loop {
                match self.rx.recv().await {
                    Ok(run) if *run == *self.run => return,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => {
                        std::future::pending::<()>().await;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(fallback, wait).await;
    }
}
