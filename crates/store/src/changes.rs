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

    pub(crate) fn watch_all(&self) -> AllRuns {
        AllRuns {
            rx: self.tx.subscribe(),
        }
    }

    pub(crate) fn watch(&self, run: &str) -> RunWatch {
        RunWatch {
            rx: self.tx.subscribe(),
            run: run.to_string(),
        }
    }
}

/// A reader's view of every run's changes (the UI's live channel).
pub struct AllRuns {
    rx: broadcast::Receiver<Arc<str>>,
}

impl AllRuns {
    /// The runs changed in this process: waits up to `fallback` for a first change, then
    /// `gather` more for the ones that follow it. Empty when nothing changed in time;
    /// `None` when announcements were missed (every run may have changed).
    pub async fn changed(&mut self, fallback: Duration, gather: Duration) -> Option<Vec<String>> {
        let first = match tokio::time::timeout(fallback, self.rx.recv()).await {
            Err(_) => return Some(Vec::new()),
            Ok(Ok(run)) => run,
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => return None,
            Ok(Err(broadcast::error::RecvError::Closed)) => {
                std::future::pending::<()>().await;
                unreachable!("pending never ends")
            }
        };
        tokio::time::sleep(gather).await;
        let mut runs = vec![first.to_string()];
        loop {
            match self.rx.try_recv() {
                Ok(run) => {
                    if !runs.iter().any(|r| **r == *run) {
                        runs.push(run.to_string());
                    }
                }
                Err(broadcast::error::TryRecvError::Lagged(_)) => return None,
                Err(_) => return Some(runs),
            }
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
