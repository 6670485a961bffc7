//! The API's routes, the OpenAPI document that describes them (served at
//! `/api/openapi.json`), and the optional API token that guards every route except health,
//! the document and API triggers (which have their own tokens).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};
use utoipa::OpenApi;

use crate::api::{blocks, events, pipelines, runs, trigger, triggers};
use crate::error::ApiError;
use crate::state::AppState;

pub use crate::api::trigger::{MAX_BODY, MAX_WAIT};

/// The OpenAPI description of the API.
#[derive(OpenApi)]
#[openapi(
    info(title = "weft", description = "Pipelines, runs, logs and triggers of a `weft serve`. Errors are JSON: `{\"error\": message}`."),
    paths(
        health,
        pipelines::list, pipelines::get, pipelines::start, pipelines::start_block, pipelines::backfill,
        runs::list, runs::get, runs::blocks, runs::cancel, runs::retry,
        runs::logs, runs::stream, runs::output, events::events,
        trigger::trigger_run, triggers::list, triggers::issue, triggers::pause,
        blocks::get_source, blocks::save_source, blocks::add, blocks::set_upstream,
    ),
    components(schemas(pipelines::Backfill, triggers::TriggerList, triggers::TriggerView, triggers::IssuedToken, triggers::Pause,
        blocks::BlockSource, blocks::SaveSource, blocks::Changed, blocks::AddBlock, blocks::SetUpstream,
        crate::workspace::Problem, crate::reload::Status)),
    tags((name = "pipelines"), (name = "runs"), (name = "logs"), (name = "triggers")),
)]
pub struct ApiDoc;

/// The server is up.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

/// Liveness.
#[utoipa::path(get, path = "/api/health", operation_id = "health", tag = "pipelines",
    responses((status = 200, description = "The server is up", body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

async fn openapi() -> Json<Value> {
    Json(document())
}

/// The OpenAPI document `/api/openapi.json` serves (the UI's client is generated from it:
/// `ui/openapi.json` holds a copy, checked by a test).
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    doc["components"]["securitySchemes"] = json!({
        "trigger_token": {"type": "http", "scheme": "bearer", "description": "A token of `weft triggers token`"},
        "api_token": {"type": "http", "scheme": "bearer", "description": "WEFT_API_TOKEN, when the server has one"},
    });
    doc
}

/// The API's routes over `state`.
pub fn router(state: AppState) -> Router {
    let guarded = Router::new()
        .route("/api/pipelines", get(pipelines::list))
        .route("/api/pipelines/{pipeline}", get(pipelines::get))
        .route("/api/pipelines/{pipeline}/runs", post(pipelines::start))
        .route(
            "/api/pipelines/{pipeline}/blocks/{block}/runs",
            post(pipelines::start_block),
        )
        .route("/api/pipelines/{pipeline}/blocks", post(blocks::add))
        .route(
            "/api/pipelines/{pipeline}/blocks/{block}/source",
            get(blocks::get_source).put(blocks::save_source),
        )
        .route(
            "/api/pipelines/{pipeline}/blocks/{block}/upstream",
            put(blocks::set_upstream),
        )
        .route(
            "/api/pipelines/{pipeline}/backfills",
            post(pipelines::backfill),
        )
        .route("/api/runs", get(runs::list))
        .route("/api/runs/{id}", get(runs::get))
        .route("/api/runs/{id}/blocks", get(runs::blocks))
        .route("/api/runs/{id}/cancel", post(runs::cancel))
        .route("/api/runs/{id}/retry", post(runs::retry))
        .route("/api/runs/{id}/logs", get(runs::logs))
        .route("/api/runs/{id}/logs/stream", get(runs::stream))
        .route("/api/runs/{id}/blocks/{block}/output", get(runs::output))
        .route("/api/events", get(events::events))
        .route("/api/triggers", get(triggers::list))
        .route(
            "/api/pipelines/{pipeline}/triggers/{trigger}/token",
            post(triggers::issue),
        )
        .route(
            "/api/pipelines/{pipeline}/triggers/{trigger}/paused",
            put(triggers::pause),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api_token,
        ));
    Router::new()
        .route("/api/health", get(health))
        .route("/api/openapi.json", get(openapi))
        .route(
            "/api/pipelines/{pipeline}/triggers/{trigger}/runs",
            post(trigger::trigger_run),
        )
        .merge(guarded)
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::guard::check,
        ))
        .with_state(state)
}

/// An unknown `/api/...` path answers JSON; every other GET is the web UI's.
async fn fallback(
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    use axum::response::IntoResponse;
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::NotFound("no such API route; see /api/openapi.json".into())
            .into_response();
    }
    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
        return ApiError::NotFound(format!("no route for {method} {path}")).into_response();
    }
    crate::ui::serve(uri, headers).await
}

/// With an API token set, every guarded route needs `Authorization: Bearer <it>`.
async fn api_token(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(expected) = state.api_token() {
        let given = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        if !trigger::same(&trigger::sha256_hex(given), &trigger::sha256_hex(expected)) {
            return Err(ApiError::Unauthorized(
                "this server needs `Authorization: Bearer <WEFT_API_TOKEN>`".into(),
            ));
        }
    }
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    /// The copy the UI's client is generated from is the document the server serves.
    /// `WEFT_BLESS=1` rewrites it.
    #[test]
    fn the_ui_is_built_from_the_served_document() {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/openapi.json");
        let served = serde_json::to_string_pretty(&super::document()).unwrap() + "\n";
        if std::env::var_os("WEFT_BLESS").is_some() {
            std::fs::write(file, &served).unwrap();
        }
        let kept = std::fs::read_to_string(file).unwrap_or_default();
        assert!(
            kept == served,
            "ui/openapi.json is not the document the server serves; run `WEFT_BLESS=1 cargo test --workspace the_ui_is_built_from` and rebuild the UI"
        );
    }
}
