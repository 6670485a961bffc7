//! Triggers as the UI lists them (with their next ticks), and API tokens issued or rotated
//! over HTTP (shown once; the store keeps only the hash).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{TimeZone, Utc};
use serde::Serialize;
use weft_pipeline::TriggerKind;
use weft_store::Store;

use super::trigger::sha256_hex;
use crate::error::ApiError;
use crate::state::AppState;

/// A trigger of a pipeline.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TriggerView {
    /// Pipeline name.
    pub pipeline: String,
    /// Trigger name.
    pub name: String,
    /// `schedule` or `api`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Free text from triggers.yaml.
    #[schema(required = true)]
    pub description: Option<String>,
    /// The cron expression and its time zone (schedules).
    #[schema(required = true)]
    pub cron: Option<String>,
    /// The IANA time zone of `cron`.
    #[schema(required = true)]
    pub timezone: Option<String>,
    /// What happens to ticks missed while no server ran: skip, latest or all.
    #[schema(required = true)]
    pub catch_up: Option<String>,
    /// The next tick, RFC 3339 (schedules within their bounds).
    #[schema(required = true)]
    pub next: Option<String>,
    /// The last tick fired, RFC 3339.
    #[schema(required = true)]
    pub last_tick: Option<String>,
    /// Whether an API token has been issued (API triggers).
    pub has_token: bool,
    /// The route an API trigger answers on.
    #[schema(required = true)]
    pub path: Option<String>,
    /// Whether it is paused: a schedule fires no runs, an API call is refused.
    pub paused: bool,
}

/// Pause or resume a trigger.
#[derive(Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    /// `true` to pause, `false` to resume.
    pub paused: bool,
}

/// Every trigger of every pipeline the server runs.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TriggerList {
    /// Triggers by pipeline, then name.
    pub triggers: Vec<TriggerView>,
}

/// A new API token: shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    /// `Authorization: Bearer <token>` on the trigger's route.
    pub token: String,
}

/// Every trigger, with its next tick and whether it has a token.
#[utoipa::path(get, path = "/api/triggers", operation_id = "list_triggers", tag = "triggers",
    responses((status = 200, description = "Every trigger", body = TriggerList)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<TriggerList>, ApiError> {
    let records = state.executor().store().triggers(None).await?;
    let now = Utc::now();
    let mut triggers = Vec::new();
    for (pipeline, loaded) in state.pipelines().iter() {
        for t in &loaded.triggers {
            let record = records
                .iter()
                .find(|r| r.pipeline == *pipeline && r.name == t.name);
            let (cron, timezone, catch_up, next) = match &t.kind {
                TriggerKind::Schedule(s) => (
                    Some(s.cron.clone()),
                    Some(s.timezone.clone()),
                    Some(format!("{:?}", s.catch_up).to_lowercase()),
                    s.next_after(now).map(|n| n.to_rfc3339()),
                ),
                TriggerKind::Api => (None, None, None, None),
            };
            let api = matches!(t.kind, TriggerKind::Api);
            triggers.push(TriggerView {
                pipeline: pipeline.clone(),
                name: t.name.clone(),
                kind: if api { "api" } else { "schedule" }.into(),
                description: t.description.clone(),
                cron,
                timezone,
                catch_up,
                next,
                last_tick: record
                    .and_then(|r| r.last_tick)
                    .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
                    .map(|t| t.to_rfc3339()),
                has_token: record.is_some_and(|r| r.has_token),
                path: api.then(|| format!("/api/pipelines/{pipeline}/triggers/{}/runs", t.name)),
                paused: record.is_some_and(|r| r.paused_at.is_some()),
            });
        }
    }
    Ok(Json(TriggerList { triggers }))
}

/// Pause a trigger (a schedule fires no runs, and does not make them up when resumed; an
/// API trigger's calls are refused with 409) or resume it.
#[utoipa::path(put, path = "/api/pipelines/{pipeline}/triggers/{trigger}/paused", operation_id = "pause_trigger", tag = "triggers",
    params(("pipeline" = String, Path, description = "Pipeline name"), ("trigger" = String, Path, description = "Trigger name")),
    request_body = Pause,
    responses((status = 200, description = "The trigger now", body = Pause),
        (status = 400, description = "A body that cannot be read, named"),
        (status = 404, description = "No such pipeline or trigger")))]
pub async fn pause(
    State(state): State<AppState>,
    Path((pipeline, trigger)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Pause>, ApiError> {
    let req: Pause = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("pause body: {e}")))?;
    let loaded = state.pipeline(&pipeline)?;
    if !loaded.triggers.iter().any(|t| t.name == trigger) {
        return Err(ApiError::NotFound(format!(
            "pipeline {pipeline} has no trigger \"{trigger}\""
        )));
    }
    let store = state.executor().store();
    if !store
        .set_paused(&pipeline, &trigger, req.paused, weft_schedule::now_ms())
        .await?
    {
        return Err(ApiError::NotFound(format!(
            "trigger \"{trigger}\" of {pipeline} is not in the state store yet; start `weft serve` again"
        )));
    }
    Ok(Json(req))
}

/// Issue a new token for an API trigger; the previous one stops working at once.
#[utoipa::path(post, path = "/api/pipelines/{pipeline}/triggers/{trigger}/token", operation_id = "issue_token", tag = "triggers",
    params(("pipeline" = String, Path, description = "Pipeline name"), ("trigger" = String, Path, description = "Trigger name")),
    responses((status = 201, description = "The token, shown once", body = IssuedToken),
        (status = 404, description = "No such pipeline or trigger"),
        (status = 409, description = "The trigger is a schedule: only API triggers have tokens")))]
pub async fn issue(
    State(state): State<AppState>,
    Path((pipeline, trigger)): Path<(String, String)>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let loaded = state.pipeline(&pipeline)?;
    let t = loaded
        .triggers
        .iter()
        .find(|t| t.name == trigger)
        .ok_or_else(|| {
            ApiError::NotFound(format!("pipeline {pipeline} has no trigger \"{trigger}\""))
        })?;
    if !matches!(t.kind, TriggerKind::Api) {
        return Err(ApiError::Conflict(format!(
            "trigger \"{trigger}\" of {pipeline} is a schedule; only `type: api` triggers have tokens"
        )));
    }
    let token = issue_token(state.executor().store(), &pipeline, &trigger).await?;
    Ok((StatusCode::CREATED, Json(IssuedToken { token })))
}

/// Make a new random token for API trigger `trigger` of `pipeline` and keep its hash: the
/// token itself is returned, to be shown once.
///
/// # Errors
/// [`weft_store::StoreError`] when the store refuses.
pub async fn issue_token(
    store: &Store,
    pipeline: &str,
    trigger: &str,
) -> Result<String, weft_store::StoreError> {
    let secret: [u8; 24] = rand::random();
    let token = format!(
        "weft_{}",
        secret
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    store
        .set_token_hash(pipeline, trigger, &sha256_hex(&token))
        .await?;
    Ok(token)
}
