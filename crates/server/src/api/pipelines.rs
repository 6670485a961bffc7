//! Pipelines: list, one with its DAG, start a run, start a backfill.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use weft_pipeline::backfill::backfill_dates;

use super::body::variables_from;
use super::views::{
    BackfillStarted, BlockView, Edge, GrantsView, NotifyView, PipelineDetail, PipelineList,
    PipelineSummary, Started, TriggerRef,
};
use crate::error::ApiError;
use crate::state::{AppState, Loaded};

/// Runs a backfill starts at once unless it says otherwise.
const DEFAULT_BACKFILL_CONCURRENCY: usize = 2;

fn summary(state: &AppState, name: &str, l: &Loaded) -> PipelineSummary {
    PipelineSummary {
        name: name.to_string(),
        description: l.pipeline.description.clone(),
        blocks: l.pipeline.blocks.len(),
        max_active_runs: l.pipeline.max_active_runs,
        problem: state.reloads().of(name).and_then(|s| s.problem),
        loaded: true,
        triggers: trigger_refs(l),
    }
}

fn trigger_refs(l: &Loaded) -> Vec<TriggerRef> {
    l.triggers
        .iter()
        .map(|t| TriggerRef {
            name: t.name.clone(),
            kind: match t.kind {
                weft_pipeline::TriggerKind::Api => "api",
                weft_pipeline::TriggerKind::Schedule(_) => "schedule",
            }
            .into(),
            description: t.description.clone(),
        })
        .collect()
}

fn block_view(p: &weft_pipeline::Pipeline, b: &weft_pipeline::Block) -> BlockView {
    BlockView {
        name: b.name.clone(),
        kind: serde_json::to_value(b.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        language: language(&b.source).into(),
        source: b.source.written().to_string(),
        upstream: b.upstream.clone(),
        downstream: p
            .downstream(&b.name)
            .into_iter()
            .map(String::from)
            .collect(),
        retries: b.retries,
        timeout_ms: b.timeout.as_millis() as u64,
        memory_limit: b.memory_limit,
        read_limit: b.read_limit,
        dynamic: b.flow.dynamic,
        reduce: b.flow.reduce,
        conditions: b.flow.conditions.clone(),
        callbacks: b.flow.callbacks.clone(),
        grants: GrantsView {
            urls: b.grants.urls.clone(),
            write: b.grants.write.clone(),
            profiles: b.grants.profiles.clone(),
            env: b.grants.env.clone(),
        },
    }
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
    responses((status = 200, description = "Every pipeline, and pipeline folders whose files do not load", body = PipelineList)))]
pub async fn list(State(state): State<AppState>) -> Json<PipelineList> {
    let loaded = state.pipelines();
    let mut pipelines: Vec<PipelineSummary> =
        loaded.iter().map(|(n, l)| summary(&state, n, l)).collect();
    // Folders whose files never loaded: listed with their problem, so it can be fixed.
    for s in state.reloads().since(0) {
        if let (false, Some(problem)) = (loaded.contains_key(&s.pipeline), s.problem) {
            pipelines.push(PipelineSummary {
                name: s.pipeline,
                description: None,
                blocks: 0,
                max_active_runs: None,
                problem: Some(problem),
                loaded: false,
                triggers: Vec::new(),
            });
        }
    }
    pipelines.sort_by(|a, b| a.name.cmp(&b.name));
    Json(PipelineList { pipelines })
}

/// One pipeline with its DAG: blocks (with upstream and downstream), edges and triggers.
#[utoipa::path(get, path = "/api/pipelines/{pipeline}", operation_id = "get_pipeline", tag = "pipelines",
    params(("pipeline" = String, Path, description = "Pipeline name")),
    responses((status = 200, description = "The pipeline, its blocks, edges and triggers", body = PipelineDetail),
        (status = 404, description = "No such pipeline")))]
pub async fn get(
    State(state): State<AppState>,
    Path(pipeline): Path<String>,
) -> Result<Json<PipelineDetail>, ApiError> {
    let l = state.pipeline(&pipeline)?;
    let p = &l.pipeline;
    let edges = p
        .blocks
        .iter()
        .flat_map(|b| {
            b.upstream.iter().map(|u| Edge {
                from: u.clone(),
                to: b.name.clone(),
            })
        })
        .collect();
    Ok(Json(PipelineDetail {
        name: p.name.clone(),
        description: p.description.clone(),
        concurrency: p.concurrency,
        max_active_runs: p.max_active_runs,
        variables: p.variables.clone(),
        notify: NotifyView {
            on_failure: p.notify.on_failure.as_deref().map(host_of),
            on_success: p.notify.on_success.as_deref().map(host_of),
        },
        blocks: p.blocks.iter().map(|b| block_view(p, b)).collect(),
        edges,
        status: state.reloads().of(&pipeline),
        triggers: trigger_refs(&l),
    }))
}

/// Start a run now; the JSON body (an object) becomes its variables.
#[utoipa::path(post, path = "/api/pipelines/{pipeline}/runs", operation_id = "start_run", tag = "runs",
    params(("pipeline" = String, Path, description = "Pipeline name")),
    request_body(content = HashMap<String, String>, description = "Run variables, e.g. `{\"day\": \"2021-01-01\"}`"),
    responses((status = 202, description = "The run started", body = Started), (status = 400, description = "Malformed body"),
        (status = 404, description = "No such pipeline")))]
pub async fn start(
    State(state): State<AppState>,
    Path(pipeline): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Started>), ApiError> {
    state.pipeline(&pipeline)?;
    let variables = variables_from(&body)?;
    let id = state.new_run_id();
    let id = state.start_run(&pipeline, "manual", variables, id).await?;
    Ok((StatusCode::ACCEPTED, Json(Started { run_id: id })))
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
    request_body(content = HashMap<String, String>, description = "Run variables"),
    responses((status = 202, description = "The run started", body = Started), (status = 400, description = "Malformed body or parameter"),
        (status = 404, description = "No such pipeline or block"),
        (status = 409, description = "No successful run to take upstream outputs from")))]
pub async fn start_block(
    State(state): State<AppState>,
    Path((pipeline, block)): Path<(String, String)>,
    super::body::Query(q): super::body::Query<BlockRunQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<Started>), ApiError> {
    let variables = variables_from(&body)?;
    let id = state.new_run_id();
    let id = state
        .start_block_run(&pipeline, &block, q.downstream, variables, id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(Started { run_id: id })))
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
    responses((status = 202, description = "The runs started", body = BackfillStarted),
        (status = 400, description = "A field that cannot be read, named"),
        (status = 404, description = "No such pipeline")))]
pub async fn backfill(
    State(state): State<AppState>,
    Path(pipeline): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<BackfillStarted>), ApiError> {
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
        Json(BackfillStarted {
            runs: ids.len(),
            run_ids: ids,
        }),
    ))
}
