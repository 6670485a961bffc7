//! API errors: JSON `{"error": message}` with the status that says whose fault it is. The
//! mapping from error to status lives here and nowhere else.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No such pipeline, trigger or run.
    #[error("{0}")]
    NotFound(String),
    /// A missing or wrong bearer token; nothing was run.
    #[error("{0}")]
    Unauthorized(String),
    /// A request this server refuses whoever sends it: a foreign Host or Origin.
    #[error("{0}")]
    Forbidden(String),
    /// A POST body that is not declared JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A malformed request (body, header, query); the message names the problem.
    #[error("{0}")]
    BadRequest(String),
    /// The request conflicts with the resource's state (retrying a run that succeeded).
    #[error("{0}")]
    Conflict(String),
    /// A body over the size limit.
    #[error("{0}")]
    TooLarge(String),
    /// The server is shutting down and takes no new work.
    #[error("{0}")]
    Unavailable(String),
    /// The state store or executor failed.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<weft_store::StoreError> for ApiError {
    fn from(e: weft_store::StoreError) -> Self {
        match e {
            weft_store::StoreError::NoSuchRun(id) => ApiError::NotFound(format!("no run `{id}`")),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<weft_schedule::ScheduleError> for ApiError {
    fn from(e: weft_schedule::ScheduleError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!("{self}");
        }
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}
