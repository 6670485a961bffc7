//! The UI's one live channel per tab: `GET /api/events`, Server-Sent Events carrying every
//! run's status and block statuses (`run` events) as the server sees them and, with
//! `?logs=RUN`, that run's log lines (`log` events whose ids are the lines' positions: a
//! reconnect sends `Last-Event-ID` and resumes after it). A reconnect, or announcements this
//! stream missed, get a `resync` event: views fetch what they show again. A pipeline loaded
//! again from its files (saved in the UI or changed by another editor) is a `pipeline` event.

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use serde_json::Value;
use weft_store::{RunFilter, RunStatus};

use super::body::Query;
use crate::api::runs::run_json;
use crate::error::ApiError;
use crate::state::AppState;

/// How long the stream waits for a change in this process before it looks at the database
/// (runs another process drives).
const FALLBACK: Duration = Duration::from_secs(2);
/// Changes that follow one another within this window go out as one event per run.
const GATHER: Duration = Duration::from_millis(150);
/// Fan-out children a `run` event carries at most (their counts are in `fan_outs`).
const MAX_CHILDREN: usize = 500;
/// Log lines one look sends at most.
const LOG_PAGE: i64 = 1000;

/// What the channel follows besides run statuses.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// A run whose log lines the stream carries too.
    logs: Option<String>,
    /// Log lines after this position (default: from the start).
    after: Option<i64>,
}

/// The live channel: `run`, `log` and `resync` events.
#[utoipa::path(get, path = "/api/events", operation_id = "events", tag = "runs", params(EventsQuery),
    responses((status = 200, description = "`text/event-stream`: `run` events (a run as `GET /api/runs/{id}` gives it, fan-out children capped), `log` events (a log line, id = its seq), `pipeline` events (a pipeline loaded again: `{pipeline, generation, problem, loaded_at_ms, building}`), `resync`", content_type = "text/event-stream"),
        (status = 404, description = "No such run to follow the logs of"),
        (status = 503, description = "Too many live channels open (`WEFT_MAX_EVENT_STREAMS`, default 256)")))]
pub async fn events(
    State(state): State<AppState>,
    Query(q): Query<EventsQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let slot = state.stream_slot().ok_or_else(|| {
        ApiError::Unavailable(
            "too many live channels are open on this server; close a tab or try again".into(),
        )
    })?;
    if let Some(run) = &q.logs {
        state.executor().store().run(run).await?;
    }
    let mut pending = VecDeque::new();
    if headers.contains_key("last-event-id") {
        pending.push_back(Event::default().event("resync").data("{}"));
    }
    let state_generation = state.reloads().generation();
    let feed = Feed {
        all: state.executor().store().watch_all(),
        logs: q.logs.map(|run| {
            let after = last_id.unwrap_or(-1).max(q.after.unwrap_or(-1));
            (run, after)
        }),
        state,
        pending,
        sent: HashMap::new(),
        active: HashSet::new(),
        open: HashSet::new(),
        swept: std::time::Instant::now(),
        generation: state_generation,
        _slot: slot,
    };
    let stream = futures::stream::unfold(feed, |mut f| async move {
        loop {
            if let Some(e) = f.pending.pop_front() {
                return Some((Ok(e), f));
            }
            f.look().await;
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// One stream's position.
struct Feed {
    state: AppState,
    all: weft_store::AllRuns,
    /// The run whose log lines are followed, and the last line sent.
    logs: Option<(String, i64)>,
    pending: VecDeque<Event>,
    /// A digest of each run's last event, so an unchanged run is not sent again.
    sent: HashMap<String, u64>,
    /// Runs queued or running at the last look at the database.
    active: HashSet<String>,
    /// Runs whose last `run` event said queued or running: looked at again until an event
    /// says they ended (an end whose announcement this stream missed is still sent).
    open: HashSet<String>,
    /// When the database was last looked at.
    swept: std::time::Instant,
    /// The last pipeline load sent.
    generation: u64,
    /// This channel's place among those the server keeps open.
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl Feed {
    /// Wait for changes and queue their events.
    async fn look(&mut self) {
        let mut changed = match self.all.changed(FALLBACK, GATHER).await {
            None => {
                self.pending
                    .push_back(Event::default().event("resync").data("{}"));
                Vec::new()
            }
            Some(runs) => runs,
        };
        // However busy the announcements, the database is looked at every FALLBACK.
        if changed.is_empty() || self.swept.elapsed() >= FALLBACK {
            self.swept = std::time::Instant::now();
            for id in self.active_in_store().await {
                if !changed.contains(&id) {
                    changed.push(id);
                }
            }
        }
        for id in changed {
            self.queue_run(&id).await;
        }
        self.queue_logs().await;
        self.queue_pipelines();
    }

    /// Runs another process may be changing: those queued or running now, and those that
    /// were at the last look.
    async fn active_in_store(&mut self) -> Vec<String> {
        let store = self.state.executor().store();
        let mut now = HashSet::new();
        for status in [RunStatus::Queued, RunStatus::Running] {
            let filter = RunFilter {
                pipeline: None,
                status: Some(status),
                trigger: None,
                before: None,
                limit: 200,
            };
            if let Ok(runs) = store.find_runs(&filter).await {
                now.extend(runs.into_iter().map(|r| r.id));
            }
        }
        let mut look: Vec<String> = now
            .union(&self.active)
            .chain(self.open.iter())
            .cloned()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        look.sort();
        self.active = now;
        look
    }

    /// Queue a `run` event for `id` if it changed since the last one.
    async fn queue_run(&mut self, id: &str) {
        let Ok(mut v) = run_json(&self.state, id).await else {
            return;
        };
        cap_children(&mut v);
        if matches!(v["status"].as_str(), Some("queued" | "running")) {
            self.open.insert(id.to_string());
        } else {
            self.open.remove(id);
        }
        let text = v.to_string();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        let digest = h.finish();
        if self.sent.get(id) == Some(&digest) {
            return;
        }
        if self.sent.len() > 10_000 {
            self.sent.clear();
        }
        self.sent.insert(id.to_string(), digest);
        self.pending
            .push_back(Event::default().event("run").data(text));
    }

    /// Queue a `pipeline` event for each pipeline loaded again since the last look.
    fn queue_pipelines(&mut self) {
        let reloads = self.state.reloads();
        if reloads.generation() == self.generation {
            return;
        }
        for status in reloads.since(self.generation) {
            self.generation = self.generation.max(status.generation);
            let data = serde_json::to_string(&status).unwrap_or_default();
            self.pending
                .push_back(Event::default().event("pipeline").data(data));
        }
    }

    /// Queue the followed run's new log lines.
    async fn queue_logs(&mut self) {
        let Some((run, after)) = &mut self.logs else {
            return;
        };
        let store = self.state.executor().store();
        let Ok(lines) = store.logs_after(run, None, *after, LOG_PAGE).await else {
            return;
        };
        for l in &lines {
            let data = serde_json::to_string(l).unwrap_or_default();
            self.pending.push_back(
                Event::default()
                    .event("log")
                    .id(l.seq.to_string())
                    .data(data),
            );
            *after = l.seq;
        }
    }
}

/// Keep a run's top-level block runs and at most [`MAX_CHILDREN`] fan-out children.
fn cap_children(run: &mut Value) {
    let mut kept = std::collections::HashSet::new();
    if let Some(Value::Array(blocks)) = run.get_mut("blocks") {
        let mut children = 0;
        blocks.retain(|b| {
            let child = b["key"] != b["block"];
            children += usize::from(child);
            !child || children <= MAX_CHILDREN
        });
        kept.extend(
            blocks
                .iter()
                .filter_map(|b| b["key"].as_str().map(str::to_string)),
        );
    }
    // Earlier attempts only of the block runs the event carries.
    if let Some(Value::Array(attempts)) = run.get_mut("attempts") {
        attempts.retain(|a| a["key"].as_str().is_some_and(|k| kept.contains(k)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn children_are_capped_and_parents_kept() {
        let mut blocks = vec![json!({"key": "a", "block": "a"})];
        for i in 0..(MAX_CHILDREN + 10) {
            blocks.push(json!({"key": format!("each[{i}]"), "block": "each"}));
        }
        blocks.push(json!({"key": "z", "block": "z"}));
        let attempts: Vec<Value> = ["a", "each[0]", "each[600]"]
            .iter()
            .map(|k| json!({"key": k, "attempt": 1}))
            .collect();
        let mut run = json!({ "blocks": blocks, "attempts": attempts });
        cap_children(&mut run);
        let kept_attempts: Vec<&str> = run["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["key"].as_str().unwrap())
            .collect();
        assert_eq!(kept_attempts, ["a", "each[0]"]);
        let kept = run["blocks"].as_array().unwrap();
        assert_eq!(kept.len(), MAX_CHILDREN + 2);
        assert_eq!(kept.last().unwrap()["key"], "z");
    }
}
