//! The cron loop: fires each schedule's due ticks, each run with the tick as its
//! `execution_date`. The last tick handled lives in the store and moves by compare-and-set,
//! so a tick fires once even across restarts; ticks missed while weft was down follow the
//! trigger's `catch_up`.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tokio_util::sync::CancellationToken;
use weft_pipeline::TriggerKind;

use crate::state::AppState;

/// A tick at most this old when the loop sees it is on time, not missed (less for
/// schedules that tick more often: a tick is missed once the next one is due).
const GRACE: Duration = Duration::from_secs(10);
/// How often the loop looks for runs whose process died (half the heartbeat staleness).
const ORPHAN_CHECK: Duration = Duration::from_secs(15);
/// Longest sleep between two looks at the schedules.
const MAX_SLEEP: Duration = Duration::from_secs(1);

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// How late a tick of `schedule` may be seen and still count as on time.
fn grace(schedule: &weft_pipeline::Schedule, now: DateTime<Utc>) -> chrono::Duration {
    let max = chrono::Duration::from_std(GRACE).unwrap_or_default();
    let period = schedule
        .next_after(now)
        .and_then(|a| schedule.next_after(a).map(|b| b - a));
    period.map_or(max, |p| p.min(max))
}

/// Fire due ticks until `stop` is cancelled; every [`ORPHAN_CHECK`], adopt the runs of
/// processes that died meanwhile (a killed `weft run`, another server).
pub async fn run(state: AppState, stop: CancellationToken) {
    let mut last_check = tokio::time::Instant::now();
    loop {
        if let Err(e) = tick(&state).await {
            tracing::error!("scheduler: {e}");
        }
        if last_check.elapsed() >= ORPHAN_CHECK {
            last_check = tokio::time::Instant::now();
            match crate::recovery::recover(&state).await {
                Ok(r) if !r.resumed.is_empty() || !r.failed.is_empty() => {
                    tracing::warn!("adopted orphaned runs: {r:?}")
                }
                Ok(_) => {}
                Err(e) => tracing::error!("looking for orphaned runs: {e}"),
            }
        }
        let now = Utc::now();
        let next = state
            .pipelines()
            .values()
            .flat_map(|l| l.triggers.iter())
            .filter_map(|t| match &t.kind {
                TriggerKind::Schedule(s) => s.next_after(now),
                TriggerKind::Api => None,
            })
            .min();
        let sleep = next
            .and_then(|n| (n - now).to_std().ok())
            .map_or(MAX_SLEEP, |d| d.min(MAX_SLEEP));
        tokio::select! {
            _ = tokio::time::sleep(sleep + Duration::from_millis(5)) => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// One look at every schedule.
async fn tick(state: &AppState) -> Result<(), crate::error::ApiError> {
    let store = state.executor().store().clone();
    let now = Utc::now();
    for (name, loaded) in state.pipelines().iter() {
        let records = store.triggers(Some(name)).await?;
        for t in &loaded.triggers {
            let TriggerKind::Schedule(schedule) = &t.kind else {
                continue;
            };
            let record = records.iter().find(|r| r.name == t.name);
            let last_ms = record.and_then(|r| r.last_tick);
            // A paused schedule's ticks move on without runs: a resume does not make them up.
            let paused = record.is_some_and(|r| r.paused_at.is_some());
            let last = last_ms.and_then(|m| Utc.timestamp_millis_opt(m).single());
            let due = schedule.due(last, now, grace(schedule, now));
            if last == Some(due.last) {
                continue;
            }
            // The tick moves and its runs are recorded in one transaction, and only by the
            // caller that moves it: a tick never fires twice, and a crash right after leaves
            // queued runs that the next start picks up.
            let mut reqs = Vec::with_capacity(due.fire.len());
            for at in due.fire.iter().filter(|_| !paused) {
                let mut variables = t.variables.clone();
                variables.insert("execution_date".into(), at.to_rfc3339());
                reqs.push(state.request(name, &t.name, variables, None)?);
            }
            let rows: Vec<_> = reqs
                .iter_mut()
                .map(|r| state.executor().prepare(r))
                .collect();
            let new: Vec<_> = rows.iter().map(|r| r.as_new_run()).collect();
            if !store
                .fire_schedule(name, &t.name, last_ms, ms(due.last), &new)
                .await?
            {
                continue;
            }
            for (req, row) in reqs.into_iter().zip(&rows) {
                tracing::info!("{name}/{}: started run {}", t.name, row.id);
                state.launch(req, None);
            }
        }
    }
    Ok(())
}
