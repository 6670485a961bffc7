//! `weft serve`: one process with the HTTP API, the cron scheduler and the executor, over
//! the same state store as the CLI.
//!
//! - `POST /api/pipelines/{pipeline}/triggers/{trigger}/runs` starts a run of an API trigger:
//!   `Authorization: Bearer <token>` (checked against the stored hash), the JSON body's fields
//!   become run variables, an `Idempotency-Key` header makes retries start nothing new;
//!   answers 202 `{"run_id"}`, or with `?wait=<seconds>` the final status and a preview of the
//!   last block's output.
//! - `GET /api/runs/{id}`: the run with its status and block runs.
//! - Schedules fire on their ticks (see [`scheduler`]).
//!
//! Layer: above `weft-schedule` and `weft-store`; axum types stay here.
//!
//! ```no_run
//! # async fn demo(state: weft_server::AppState) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:6789").await?;
//! let stop = tokio_util::sync::CancellationToken::new();
//! weft_server::serve(listener, state, stop.clone(), stop).await
//! # }
//! ```
#![deny(missing_docs)]
// The server spawns its scheduler and the runs it starts (see clippy.toml).
#![allow(clippy::disallowed_methods)]

mod api;
mod error;
pub mod guard;
pub mod recovery;
pub mod reload;
mod routes;
pub mod scheduler;
mod state;
pub mod ui;
pub mod workspace;

pub use api::triggers::issue_token;
pub use error::ApiError;
pub use routes::{router, ApiDoc, MAX_BODY, MAX_WAIT};
pub use state::{AppState, Cancelled, Loaded};

use tokio_util::sync::CancellationToken;

/// Serve the API on `listener` and run the scheduler until `shutdown` is cancelled; then
/// take no new work and wait for the runs in flight (or stop them when `abort` is cancelled).
///
/// # Errors
/// The listener's error.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: CancellationToken,
    abort: CancellationToken,
) -> std::io::Result<()> {
    let scheduler = tokio::spawn(scheduler::run(state.clone(), shutdown.clone()));
    let watcher = tokio::spawn(reload::watch(state.clone(), shutdown.clone()));
    axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await?;
    let _ = scheduler.await;
    let _ = watcher.await;
    state.drain(abort).await;
    Ok(())
}
