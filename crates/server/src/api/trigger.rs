//! API triggers: bearer tokens checked against stored hashes, JSON bodies as run
//! variables, idempotency keys, and `?wait` for the outcome.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use weft_pipeline::TriggerKind;
use weft_store::RunStatus;

use super::body::variables_from;
use super::body::Query;
use super::preview::preview;
use super::runs::run_detail;
use super::views::{Preview, Triggered};
use crate::error::ApiError;
use crate::state::AppState;

/// Largest accepted request body (1 MiB).
pub const MAX_BODY: usize = 1 << 20;
/// Longest `?wait=` accepted, in seconds.
pub const MAX_WAIT: u64 = 300;
/// Rows of the last block's output shown by `?wait=`.
const PREVIEW_ROWS: u64 = 10;

#[derive(Deserialize)]
/// `?wait=<seconds>`.
pub struct WaitQuery {
    /// Seconds to wait for the run to end.
    wait: Option<String>,
}

/// Start a run of an API trigger. `Authorization: Bearer <token>` (see `weft triggers
/// token`); the JSON body becomes run variables; an `Idempotency-Key` header makes a retried
/// call start nothing new. With `?wait=<seconds>`, answers when the run ends (or the time is
/// up) with its status and a preview of the last block's output.
#[utoipa::path(post, path = "/api/pipelines/{pipeline}/triggers/{trigger}/runs", operation_id = "trigger_run", tag = "triggers",
    params(("pipeline" = String, Path, description = "Pipeline name"), ("trigger" = String, Path, description = "API trigger name"),
        ("wait" = Option<u64>, Query, description = "Seconds to wait for the run to end (at most 300)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Calls with the same key start one run")),
    request_body(content = HashMap<String, String>, description = "Run variables"),
    security(("trigger_token" = [])),
    responses((status = 202, description = "The run started (with `?wait`: still running when the time was up)", body = Triggered),
        (status = 200, description = "With `?wait`: the finished run, its blocks and `preview`", body = Triggered),
        (status = 400, description = "Malformed body or header, named"), (status = 401, description = "Missing or wrong token; nothing ran"),
        (status = 413, description = "Body over 1 MiB")))]
pub async fn trigger_run(
    State(state): State<AppState>,
    Path((pipeline, trigger)): Path<(String, String)>,
    Query(query): Query<WaitQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Nothing about the pipeline or trigger is looked up before the caller is known.
    authorize(&state, &pipeline, &trigger, &headers).await?;
    let loaded = state.pipeline(&pipeline)?;
    let found = loaded
        .triggers
        .iter()
        .find(|t| t.name == trigger && t.kind == TriggerKind::Api)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "pipeline \"{pipeline}\" has no API trigger \"{trigger}\" any more"
            ))
        })?;
    let paused = state
        .executor()
        .store()
        .triggers(Some(&pipeline))
        .await?
        .into_iter()
        .any(|r| r.name == found.name && r.paused_at.is_some());
    if paused {
        return Err(ApiError::Conflict(format!(
            "trigger \"{trigger}\" of {pipeline} is paused; resume it to start runs"
        )));
    }
    let wait = match query.wait.as_deref() {
        None => None,
        Some(w) => Some(
            w.parse::<u64>()
                .ok()
                .filter(|s| *s <= MAX_WAIT)
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "wait: `{w}` is not a number of seconds from 0 to {MAX_WAIT}"
                    ))
                })?,
        ),
    };
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .filter(|k| !k.is_empty() && k.len() <= 255)
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "Idempotency-Key must be 1 to 255 visible characters".into(),
                    )
                })?
                .to_string(),
        ),
    };
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::TooLarge(format!("the body is larger than {} KiB", MAX_BODY >> 10))
    })?;
    let mut variables = found.variables.clone();
    variables.extend(variables_from(&bytes)?);

    let (run_id, replayed) = match &key {
        Some(k) => {
            state
                .start_run_once(&pipeline, &trigger, variables, k)
                .await?
        }
        None => {
            let id = state.new_run_id();
            (
                state.start_run(&pipeline, &trigger, variables, id).await?,
                false,
            )
        }
    };
    match wait {
        None | Some(0) => Ok((
            StatusCode::ACCEPTED,
            Json(Triggered {
                run_id,
                replayed,
                run: None,
                preview: None,
            }),
        )
            .into_response()),
        Some(seconds) => {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
            let mut watch = state.executor().store().watch(&run_id);
            loop {
                let run = state.executor().store().run(&run_id).await?;
                let done = !matches!(run.status, RunStatus::Queued | RunStatus::Running);
                if done || tokio::time::Instant::now() >= deadline {
                    let body = Triggered {
                        run: Some(run_detail(&state, &run_id).await?),
                        preview: if done {
                            last_output(&state, &run_id).await
                        } else {
                            None
                        },
                        run_id,
                        replayed,
                    };
                    let status = if done {
                        StatusCode::OK
                    } else {
                        StatusCode::ACCEPTED
                    };
                    return Ok((status, Json(body)).into_response());
                }
                // Look again when the store announces a change of this run.
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                watch.changed(left.min(Duration::from_secs(1))).await;
            }
        }
    }
}

/// Check the bearer token against the stored hash.
async fn authorize(
    state: &AppState,
    pipeline: &str,
    trigger: &str,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::Unauthorized("missing `Authorization: Bearer <token>` header".into())
        })?;
    // One answer for an unknown pipeline or trigger, one without a token yet and a wrong
    // token: a caller without the token learns nothing of what exists.
    let denied = || {
        ApiError::Unauthorized(format!(
            "wrong token for trigger {pipeline}/{trigger} (or no such API trigger); issue one with `weft triggers token {trigger} --pipeline {pipeline}`"
        ))
    };
    let stored = state
        .executor()
        .store()
        .token_hash(pipeline, trigger)
        .await?
        .ok_or_else(denied)?;
    if !same(&sha256_hex(given), &stored) {
        return Err(denied());
    }
    Ok(())
}

/// The first rows of the last block (in pipeline order) that stored an output.
async fn last_output(state: &AppState, id: &str) -> Option<Preview> {
    let blocks = state.executor().store().block_runs(id).await.ok()?;
    let block = blocks.iter().rev().find(|b| b.output.is_some())?;
    preview(state, id, &block.block, PREVIEW_ROWS).await.ok()
}

/// Hex SHA-256 of `text`.
pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equal strings, compared in constant time.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
