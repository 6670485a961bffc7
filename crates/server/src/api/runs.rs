//! Runs: list with filters, one run, cancel, retry its failed blocks, its block runs, its
//! logs (a page, or a live SSE stream) and a preview of a block's output.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use weft_store::{RunFilter, RunStatus};

use super::body::Query;
use super::views::{
    BlockRunPage, CancelAnswer, FanOut, LogPage, Preview, RetryAnswer, RunDetail, RunPage,
};
use crate::error::ApiError;
use crate::state::{AppState, Cancelled};

/// Most runs or log lines one page holds.
const MAX_PAGE: i64 = 1000;
/// Most rows an output preview shows.
const MAX_PREVIEW: u64 = 1000;
/// How often a live log stream looks for new lines.
/// How often a live reader looks when nothing was announced in this process (a run another
/// process drives).
const FALLBACK: Duration = Duration::from_secs(1);

/// Filters of `GET /api/runs`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Runs of this pipeline.
    pipeline: Option<String>,
    /// Runs in this status: queued, running, success, failed, cancelled.
    status: Option<String>,
    /// Runs started by this trigger (`manual`, `backfill`, a trigger name).
    trigger: Option<String>,
    /// At most this many (default 50, at most 1000).
    limit: Option<i64>,
    /// Runs listed after this run id: the `next_before` of the previous page.
    before: Option<String>,
}

/// Runs, newest first.
#[utoipa::path(get, path = "/api/runs", operation_id = "list_runs", tag = "runs", params(ListQuery),
    responses((status = 200, description = "A page of runs", body = RunPage),
        (status = 400, description = "A filter that cannot be read, named")))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<RunPage>, ApiError> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(RunStatus::parse(s).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status: `{s}` is not one of queued, running, success, failed, cancelled"
            ))
        })?),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit: {limit} is not from 1 to {MAX_PAGE}"
        )));
    }
    let runs = state
        .executor()
        .store()
        .find_runs(&RunFilter {
            pipeline: q.pipeline,
            status,
            trigger: q.trigger,
            before: q.before,
            limit,
        })
        .await?;
    let next = (runs.len() as i64 == limit)
        .then(|| runs.last().map(|r| r.id.clone()))
        .flatten();
    Ok(Json(RunPage {
        runs,
        next_before: next,
    }))
}

/// One run with its status and block runs.
#[utoipa::path(get, path = "/api/runs/{id}", operation_id = "get_run", tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    responses((status = 200, description = "The run, its block runs and earlier attempts", body = RunDetail),
        (status = 404, description = "No such run")))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RunDetail>, ApiError> {
    Ok(Json(run_detail(&state, &id).await?))
}

/// The run with its block runs and their earlier attempts.
pub async fn run_detail(state: &AppState, id: &str) -> Result<RunDetail, ApiError> {
    let store = state.executor().store();
    let run = store.run(id).await?;
    let blocks = store.block_runs(id).await?;
    let attempts = store.earlier_attempts(id).await?;
    Ok(RunDetail {
        run,
        fan_outs: fan_outs(&blocks),
        blocks,
        attempts,
    })
}

/// [`run_detail`] as JSON.
pub async fn run_json(state: &AppState, id: &str) -> Result<Value, ApiError> {
    serde_json::to_value(run_detail(state, id).await?)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Each block with children: how many, and how many in each status, in pipeline order.
fn fan_outs(blocks: &[weft_store::BlockRunRecord]) -> Vec<FanOut> {
    let mut out: Vec<FanOut> = Vec::new();
    for b in blocks.iter().filter(|b| b.key.contains('[')) {
        if out.last().is_none_or(|o| o.block != b.block) {
            out.push(FanOut {
                block: b.block.clone(),
                children: 0,
                statuses: Default::default(),
            });
        }
        let last = out.last_mut().expect("pushed above");
        last.children += 1;
        *last.statuses.entry(b.status.to_string()).or_default() += 1;
    }
    out
}

/// Which block runs to list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlocksQuery {
    /// Only this block's runs (a fan-out's children, in child order).
    block: Option<String>,
    /// Skip this many (default 0).
    #[serde(default)]
    offset: usize,
    /// At most this many (default and maximum 1000).
    limit: Option<usize>,
}

/// The block runs of a run, in pipeline then child order, a page at a time; `?block=` pages
/// through one block's children.
#[utoipa::path(get, path = "/api/runs/{id}/blocks", operation_id = "list_block_runs", tag = "runs",
    params(("id" = String, Path, description = "Run id"), BlocksQuery),
    responses((status = 200, description = "A page of block runs", body = BlockRunPage),
        (status = 400, description = "A parameter that cannot be read"), (status = 404, description = "No such run")))]
pub async fn blocks(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<BlocksQuery>,
) -> Result<Json<BlockRunPage>, ApiError> {
    let store = state.executor().store();
    store.run(&id).await?;
    let mut all = store.block_runs(&id).await?;
    if let Some(b) = &q.block {
        all.retain(|r| &r.block == b);
    }
    let total = all.len();
    let limit = q.limit.unwrap_or(1000).min(1000);
    let page: Vec<_> = all.into_iter().skip(q.offset).take(limit).collect();
    Ok(Json(BlockRunPage {
        blocks: page,
        total,
    }))
}

/// Stop a run: blocks not started are cancelled, running ones stop within a tick. A run
/// driven by another live weft process (a server, a `weft run`) is stopped by that process
/// within a second.
#[utoipa::path(post, path = "/api/runs/{id}/cancel", operation_id = "cancel_run", tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    responses((status = 202, description = "`status: cancelling`", body = CancelAnswer),
        (status = 200, description = "`status: cancelled`: no process drove it", body = CancelAnswer),
        (status = 409, description = "The run had already ended"), (status = 404, description = "No such run")))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<CancelAnswer>), ApiError> {
    let answer = |code, status: &str| {
        let run_id = id.clone();
        let status = status.to_string();
        Ok((code, Json(CancelAnswer { run_id, status })))
    };
    match state.cancel(&id).await? {
        Cancelled::Stopping => answer(StatusCode::ACCEPTED, "cancelling"),
        Cancelled::Recorded => answer(StatusCode::OK, "cancelled"),
        Cancelled::AlreadyEnded(s) => {
            Err(ApiError::Conflict(format!("run {id} already ended: {s}")))
        }
    }
}

/// Run again the blocks of a failed or cancelled run that did not succeed (a new attempt
/// each); blocks that succeeded keep their outputs.
#[utoipa::path(post, path = "/api/runs/{id}/retry", operation_id = "retry_run", tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    responses((status = 202, description = "The block runs retried", body = RetryAnswer),
        (status = 409, description = "The run is not failed or cancelled"), (status = 404, description = "No such run")))]
pub async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<RetryAnswer>), ApiError> {
    let blocks = state.retry(&id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RetryAnswer { run_id: id, blocks }),
    ))
}

/// Which log lines.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Lines of this block only.
    block: Option<String>,
    /// Lines after this position (`seq`); the `next_after` of the previous page.
    after: Option<i64>,
    /// At most this many (default 1000).
    limit: Option<i64>,
}

/// Log lines of a run, in order.
#[utoipa::path(get, path = "/api/runs/{id}/logs", operation_id = "get_logs", tag = "logs",
    params(("id" = String, Path, description = "Run id"), LogQuery),
    responses((status = 200, description = "A page of log lines", body = LogPage),
        (status = 400, description = "A query parameter that cannot be read, named"),
        (status = 404, description = "No such run")))]
pub async fn logs(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> Result<Json<LogPage>, ApiError> {
    let store = state.executor().store();
    store.run(&id).await?;
    let limit = q.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let lines = store
        .logs_after(&id, q.block.as_deref(), q.after.unwrap_or(-1), limit)
        .await?;
    let next = lines.last().map(|l| l.seq).or(q.after);
    Ok(Json(LogPage {
        logs: lines,
        next_after: next,
    }))
}

/// Log lines as they are written, over Server-Sent Events: one `log` event per line (its
/// `id` the line's `seq`, so a reconnect resumes with `after`), then one `end` event with
/// the run's final status.
#[utoipa::path(get, path = "/api/runs/{id}/logs/stream", operation_id = "stream_logs", tag = "logs",
    params(("id" = String, Path, description = "Run id"), LogQuery),
    responses((status = 200, description = "`text/event-stream`: `log` events, then `end`", content_type = "text/event-stream"),
        (status = 400, description = "A query parameter that cannot be read, named"),
        (status = 404, description = "No such run")))]
pub async fn stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    state.executor().store().run(&id).await?;
    let start = Tail {
        watch: state.executor().store().watch(&id),
        state,
        id,
        block: q.block,
        after: q.after.unwrap_or(-1),
        pending: Vec::new(),
        ended: false,
    };
    let events = futures::stream::unfold(start, |mut t| async move {
        loop {
            if let Some(event) = t.pending.pop() {
                return Some((Ok(event), t));
            }
            if t.ended {
                return None;
            }
            t.poll().await;
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// A live log stream's position.
struct Tail {
    state: AppState,
    /// This run's changes, announced by the store.
    watch: weft_store::RunWatch,
    id: String,
    block: Option<String>,
    after: i64,
    /// Events to send, last first.
    pending: Vec<Event>,
    ended: bool,
}

impl Tail {
    /// Queue the lines written since the last look, or the end once the run is over and
    /// every line is sent.
    async fn poll(&mut self) {
        let store = self.state.executor().store();
        // Read the status first: lines written before a run ends are all seen below.
        let status = store.run(&self.id).await.map(|r| r.status).ok();
        let lines = store
            .logs_after(&self.id, self.block.as_deref(), self.after, MAX_PAGE)
            .await
            .unwrap_or_default();
        if let Some(last) = lines.last() {
            self.after = last.seq;
        }
        let full_page = lines.len() as i64 == MAX_PAGE;
        for l in lines.iter().rev() {
            let data = serde_json::to_string(l).unwrap_or_default();
            self.pending.push(
                Event::default()
                    .event("log")
                    .id(l.seq.to_string())
                    .data(data),
            );
        }
        let over = !matches!(status, Some(RunStatus::Queued | RunStatus::Running));
        if over && !full_page {
            let end = json!({ "run_id": self.id, "status": status });
            self.pending
                .insert(0, Event::default().event("end").data(end.to_string()));
            self.ended = true;
        } else if self.pending.is_empty() {
            self.watch.changed(FALLBACK).await;
        }
    }
}

/// How many rows of an output.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// Rows to show (default 20, at most 1000).
    limit: Option<u64>,
}

/// The first rows of a block's stored output, as JSON records.
#[utoipa::path(get, path = "/api/runs/{id}/blocks/{block}/output", operation_id = "preview_output", tag = "runs",
    params(("id" = String, Path, description = "Run id"), ("block" = String, Path, description = "Block name"), PreviewQuery),
    responses((status = 200, description = "The first rows, safe to show", body = Preview),
        (status = 400, description = "A query parameter that cannot be read, named"),
        (status = 404, description = "No such run or block, or the block stored no output")))]
pub async fn output(
    State(state): State<AppState>,
    Path((id, block)): Path<(String, String)>,
    Query(q): Query<PreviewQuery>,
) -> Result<Json<Preview>, ApiError> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=MAX_PREVIEW).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit: {limit} is not from 1 to {MAX_PREVIEW}"
        )));
    }
    Ok(Json(
        super::preview::preview(&state, &id, &block, limit).await?,
    ))
}
