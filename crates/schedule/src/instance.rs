//! This process as the store knows it: an id the runs it drives carry as their owner, and a
//! heartbeat, so that after a crash another process can tell orphaned runs from live ones.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use weft_store::{InstanceRecord, Store};

use crate::clock::{new_run_id, now_ms};
use crate::error::ScheduleError;

/// How often a live instance says so.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// An instance silent this long is taken for dead, wherever it runs.
pub const STALE: Duration = Duration::from_secs(30);

/// A registered process that drives runs.
#[derive(Clone)]
pub struct Instance {
    id: String,
    store: Store,
    record: InstanceRecord,
}

impl Instance {
    /// Register this process (`kind`: `serve` or `run`) in `store`.
    ///
    /// # Errors
    /// [`ScheduleError::Store`] when the store refuses.
    pub async fn register(store: &Store, kind: &str) -> Result<Instance, ScheduleError> {
        let now = now_ms();
        let id = format!("{kind}-{}", new_run_id());
        let record = InstanceRecord {
            id: id.clone(),
            host: host_name(),
            pid: i64::from(std::process::id()),
            kind: kind.to_string(),
            started_at: now,
            heartbeat_at: now,
        };
        store.register_instance(&record).await?;
        Ok(Instance {
            id,
            store: store.clone(),
            record,
        })
    }

    /// The instance id, recorded as the owner of its runs.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Beat every [`HEARTBEAT`] until `stop` is cancelled, in the background.
    pub fn keep_alive(&self, stop: CancellationToken) {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(HEARTBEAT) => {}
                    _ = stop.cancelled() => return,
                }
                let now = now_ms();
                match me.store.heartbeat(&me.id, now).await {
                    Ok(true) => {}
                    // Retired by another process during a long store outage: come back, or
                    // our runs would look orphaned.
                    Ok(false) => {
                        let record = InstanceRecord {
                            heartbeat_at: now,
                            ..me.record.clone()
                        };
                        if let Err(e) = me.store.register_instance(&record).await {
                            tracing::warn!("heartbeat: {e}");
                        }
                    }
                    Err(e) => tracing::warn!("heartbeat: {e}"),
                }
            }
        });
    }

    /// Remove this instance (it is ending cleanly) and long-dead ones without open runs.
    pub async fn retire(&self) {
        let stale = now_ms() - 10 * STALE.as_millis() as i64;
        if let Err(e) = self.store.retire_instance(&self.id, stale).await {
            tracing::warn!("retire instance: {e}");
        }
    }

    /// Whether `other` (never this instance) still drives its runs: its heartbeat is
    /// recent, and when it runs on this host, its process exists.
    pub fn is_alive(other: &InstanceRecord, now: i64) -> bool {
        if now - other.heartbeat_at > STALE.as_millis() as i64 {
            return false;
        }
        if other.host == host_name() && cfg!(target_os = "linux") {
            // A restarted container often gets the dead process's pid: that one is us now.
            return other.pid != i64::from(std::process::id())
                && std::path::Path::new(&format!("/proc/{}", other.pid)).exists();
        }
        true
    }
}

/// This machine's name, with the process-id namespace where there is one: two containers
/// with the same host name but their own pids must not judge each other's processes.
fn host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    match std::fs::read_link("/proc/self/ns/pid") {
        Ok(ns) => format!("{name}/{}", ns.display()),
        Err(_) => name,
    }
}
