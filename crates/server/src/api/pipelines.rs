//! Pipelines: list, one with its DAG, start a run, start a backfill.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use weft_pipeline::backfill::backfill_dates;

use super::body::variables_from;
use crate::error::ApiError;
use crate::state::{AppState, Loaded};

/// Runs a backfill starts at once unless it says otherwise.
const DEFAULT_BACKFILL_CONCURRENCY: usize = 2;

fn summary(state: &AppState, name: &str, l: &Loaded) -> Value {
    json!({
        "name": name,
        "description": l.pipeline.description,
        "blocks": l.pipeline.blocks.len(),
        "max_active_runs": l.pipeline.max_active_runs,
        "problem": state.reloads().of(name).and_then(|s| s.problem),
        "triggers": l.triggers.iter().map(|t| json!({"name": t.name, "type": match t.kind {
            weft_pipeline::TriggerKind::Api => "api",
            weft_pipeline::TriggerKind::Schedule(_) => "schedule",
        }})).collect::<Vec<_>>(),
    })
}

/// `scheme://host/…` of a URL.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    let scheme = url.split_once("://").map_or("http", |(s, _)| s);
    format!("{scheme}://{host}/…")
}

/// The language a block is written in, as the UI labels it.
pub(crate) fn language(source: &weft_pipeline::Source) -> &'static str {
    match source {
        weft_pipeline::Source::Rust { .. } => "rust",
        weft_pipeline::Source::Python { .. } => "python",
        weft_pipeline::Source::Sql { .. } => "sql",
        weft_pipeline::Source::Wasm { .. } => "wasm",
        weft_pipeline::Source::Package { .. } => "package",
    }
}

/// Every pipeline the server runs.
#[utoipa::path(get, path = "/api/pipelines", operation_id = "list_pipelines", tag = "pipelines",
    responses((status = 200, description = "`{pipelines: [{name, description, blocks, max_active_runs, triggers}]}`")))]
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    let all: Vec<Value> = state
        .pipelines()
        .iter()
        .map(|(n, l)| summary(&state, n, l))
        .collect();
    Json(json!({ "pipelines": all }))
}

/// One pipeline with its DAG: blocks (with upstream and downstream), edges and triggers.
#[utoipa::path(get, path = "/api/pipelines/{pipeline}", operation_id = "get_pipeline", tag = "pipelines",
    params(("pipeline" = String, Path, description = "Pipeline name")),
    responses((status = 200, description = "The pipeline, its blocks, `edges: [{from, to}]` and triggers"),
        (status = 404, description = "No such pipeline")))]
pub async fn get(
    State(state): State<AppState>,
    Path(pipeline): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let l = state.pipeline(&pipeline)?;
    let p = &l.pipeline;
    let blocks: Vec<Value> = p
        .blocks
        .iter()
        .map(|b| {
            json!({
                "name": b.name,
                "kind": b.kind,
                "language": language(&b.source),
                "source": b.source.written(),
                "upstream": b.upstream,
                "downstream": p.downstream(&b.name),
                "retries": b.retries,
                "timeout_ms": b.timeout.as_millis() as u64,
                "memory_limit": b.memory_limit,
                "read_limit": b.read_limit,
                "dynamic": b.flow.dynamic,
                "reduce": b.flow.reduce,
                "conditions": b.flow.conditions,
                "callbacks": b.flow.callbacks,
                "grants": b.grants,
            })
        })
        .collect();
    let edges: Vec<Value> = p
        .blocks
        .iter()
        .flat_map(|b| b.upstream.iter().map(|u| json!({"from": u, "to": b.name})))
        .collect();
    Ok(Json(json!({
        "name": p.name,
        "description": p.description,
        "concurrency": p.concurrency,
        "max_active_runs": p.max_active_runs,
        "variables": p.variables,
        // Webhook URLs often hold tokens: only where they point is shown.
        "notify": {
            "on_failure": p.notify.on_failure.as_deref().map(host_of),
            "on_success": p.notify.on_success.as_deref().map(host_of),
        },
        "blocks": blocks,
        "edges": edges,
        // The latest load of its files: a problem, when the files on disk do not load.
        "status": state.reloads().of(&pipeline),
        "triggers": l.triggers,
    })))
}

/// Start a run now; the JSON body (an object) becomes its variables.
#[utoipa::path(post, path = "/api/pipelines/{pipeline}/runs", operation_id = "start_run", tag = "runs",
    params(("pipeline" = String, Path, description = "Pipeline name")),
    request_body(content = Object, description = "Run variables, e.g. `{\"day\": \"2021-01-01\"}`"),
    responses((status = 202, description = "`{run_id}`"), (status = 400, description = "Malformed body"),
        (status = 404, description = "No such pipeline")))]
pub async fn start(
    State(state): State<AppState>,
    Path(pipeline): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    state.pipeline(&pipeline)?;
    let variables = variables_from(&body)?;
    let id = state.new_run_id();
    let id = state.start_run(&pipeline, "manual", variables, id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "run_id": id }))))
}

/// Options of a single-block run.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlockRunQuery {
    /// Run every block after it too.
    #[serde(default)]
    downstream: bool,
}

/// Run one block now (and, with `?downstream=true`, what follows it), its upstream outputs
/// taken from the pipeline's latest successful run; the JSON body (an object) becomes its
/// variables.
#[utoipa::path(post, path = "/api/pipelines/{pipeline}/blocks/{block}/runs", operation_id = "start_block_run", tag = "runs",
    params(("pipeline" = String, Path, description = "Pipeline name"), ("block" = String, Path, description = "Block name"), BlockRunQuery),
    request_body(content = Object, description = "Run variables"),
    responses((status = 202, description = "`{run_id}`"), (status = 400, description = "Malformed body or parameter"),
        (status = 404, description = "No such pipeline or block"),
        (status = 409, description = "No successful run to take upstream outputs from")))]
pub async fn start_block(
    State(state): State<AppState>,
    Path((pipeline, block)): Path<(String, String)>,
    super::body::Query(q): super::body::Query<BlockRunQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let variables = variables_from(&body)?;
    let id = state.new_run_id();
    let id = state
        .start_block_run(&pipeline, &block, q.downstream, variables, id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "run_id": id }))))
}

/// A backfill request.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Backfill {
    /// First execution date: `2021-01-01` or an RFC 3339 time.
    start: String,
    /// Last execution date (included).
    end: String,
    /// Interval: `1d`, `6h`, `1w`, `1mo`...
    every: String,
    /// Runs of this backfill at the same time (default 2).
    concurrency: Option<usize>,
    /// Variables every run gets.
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

/// One run per interval from `start` to `end`, each with its `execution_date`, at most
/// `concurrency` at a time.
#[utoipa::path(post, path = "/api/pipelines/{pipeline}/backfills", operation_id = "start_backfill", tag = "runs",
    params(("pipeline" = String, Path, description = "Pipeline name")),
    request_body = Backfill,
    responses((status = 202, description = "`{runs: n, run_ids: [...]}`"),
        (status = 400, description = "A field that cannot be read, named"),
        (status = 404, description = "No such pipeline")))]
pub async fn backfill(
    State(state): State<AppState>,
    Path(pipeline): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    state.pipeline(&pipeline)?;
    let req: Backfill = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("backfill body: {e}")))?;
    let dates = backfill_dates(&req.start, &req.end, &req.every).map_err(ApiError::BadRequest)?;
    let concurrency = req.concurrency.unwrap_or(DEFAULT_BACKFILL_CONCURRENCY);
    if concurrency == 0 {
        return Err(ApiError::BadRequest(
            "concurrency: must be at least 1".into(),
        ));
    }
    let variables = dates
        .iter()
        .map(|d| {
            let mut v = req.variables.clone();
            v.insert("execution_date".into(), d.to_rfc3339());
            v
        })
        .collect();
    let ids = state
        .start_runs(&pipeline, "backfill", variables, concurrency)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "runs": ids.len(), "run_ids": ids })),
    ))
}
