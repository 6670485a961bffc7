//! The HTTP API: API-trigger endpoints (bearer tokens, JSON bodies as run variables,
//! idempotency keys) and run status.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use weft_pipeline::TriggerKind;
use weft_store::RunStatus;

use crate::error::ApiError;
use crate::state::AppState;

/// Largest accepted request body (1 MiB).
pub const MAX_BODY: usize = 1 << 20;
/// Longest `?wait=` accepted, in seconds.
pub const MAX_WAIT: u64 = 300;
/// Rows of the last block's output shown by `?wait=`.
const PREVIEW_ROWS: u64 = 10;

/// The API's routes over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/health",
            get(|| async { Json(json!({"status": "ok"})) }),
        )
        .route(
            "/api/pipelines/{pipeline}/triggers/{trigger}/runs",
            post(trigger_run),
        )
        .route("/api/runs/{id}", get(get_run))
        .with_state(state)
}

#[derive(Deserialize)]
struct WaitQuery {
    wait: Option<String>,
}

/// `POST /api/pipelines/{pipeline}/triggers/{trigger}/runs`.
async fn trigger_run(
    State(state): State<AppState>,
    Path((pipeline, trigger)): Path<(String, String)>,
    Query(query): Query<WaitQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let loaded = state.pipeline(&pipeline)?;
    let found =
        loaded
            .triggers
            .iter()
            .find(|t| t.name == trigger && t.kind == TriggerKind::Api)
            .ok_or_else(|| {
                let apis: Vec<&str> = loaded
                    .triggers
                    .iter()
                    .filter(|t| t.kind == TriggerKind::Api)
                    .map(|t| t.name.as_str())
                    .collect();
                ApiError::NotFound(format!(
                "pipeline \"{pipeline}\" has no API trigger \"{trigger}\"; its API triggers: {}",
                if apis.is_empty() { "none".to_string() } else { apis.join(", ") }
            ))
            })?;
    authorize(&state, &pipeline, &trigger, &headers).await?;
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

    let run_id = state.new_run_id();
    let existing = match &key {
        Some(k) => {
            state
                .executor()
                .store()
                .claim_idempotency_key(&pipeline, &trigger, k, &run_id, weft_schedule::now_ms())
                .await?
        }
        None => None,
    };
    let (run_id, replayed) = match existing {
        Some(id) => (id, true),
        None => (
            state
                .start_run(&pipeline, &trigger, variables, run_id)
                .await?,
            false,
        ),
    };
    match wait {
        None | Some(0) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"run_id": run_id, "replayed": replayed})),
        )
            .into_response()),
        Some(seconds) => {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
            loop {
                let run = state.executor().store().run(&run_id).await?;
                let done = !matches!(run.status, RunStatus::Queued | RunStatus::Running);
                if done || tokio::time::Instant::now() >= deadline {
                    let mut body = run_json(&state, &run_id).await?;
                    body["replayed"] = json!(replayed);
                    if done {
                        body["preview"] = preview(&state, &run_id).await;
                    }
                    let status = if done {
                        StatusCode::OK
                    } else {
                        StatusCode::ACCEPTED
                    };
                    return Ok((status, Json(body)).into_response());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
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
    let stored = state
        .executor()
        .store()
        .token_hash(pipeline, trigger)
        .await?
        .ok_or_else(|| {
            ApiError::Unauthorized(format!(
                "trigger {pipeline}/{trigger} has no token yet: issue one with `weft triggers token {trigger} --pipeline {pipeline}`"
            ))
        })?;
    let hash: String = Sha256::digest(given.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // Compare in constant time.
    let same = hash.len() == stored.len()
        && hash
            .bytes()
            .zip(stored.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(ApiError::Unauthorized("wrong token".into()));
    }
    Ok(())
}

/// A JSON object body as run variables (strings as they are, other values as JSON text).
fn variables_from(bytes: &[u8]) -> Result<BTreeMap<String, String>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(BTreeMap::new());
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object of run variables, e.g. {\"day\": \"2021-01-01\"}"
                .into(),
        ));
    };
    Ok(map
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}

/// `GET /api/runs/{id}`.
async fn get_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(run_json(&state, &id).await?))
}

async fn run_json(state: &AppState, id: &str) -> Result<Value, ApiError> {
    let store = state.executor().store();
    let run = store.run(id).await?;
    let blocks = store.block_runs(id).await?;
    let mut v = serde_json::to_value(&run).map_err(|e| ApiError::Internal(e.to_string()))?;
    v["blocks"] = serde_json::to_value(&blocks).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(v)
}

/// The first rows of the last block (in pipeline order) that stored an output.
async fn preview(state: &AppState, id: &str) -> Value {
    let Ok(blocks) = state.executor().store().block_runs(id).await else {
        return Value::Null;
    };
    let Some((block, path)) = blocks
        .iter()
        .rev()
        .find_map(|b| b.output.clone().map(|o| (b.block.clone(), o)))
    else {
        return Value::Null;
    };
    match state.executor().outputs().get(&path).await {
        Ok(table) => json!({
            "block": block,
            "rows": table.num_rows(),
            "head": table
                .to_json(Some(PREVIEW_ROWS))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .unwrap_or(Value::Null),
        }),
        Err(_) => Value::Null,
    }
}
