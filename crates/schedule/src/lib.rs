//! weft's executor: runs a validated pipeline's blocks as Wasm components, ready blocks
//! concurrently, with retries, limits, stored outputs and a recorded history.
//!
//! Layer: above `weft-runtime` (Wasm), `weft-store` (history) and `weft-data` (tables); the
//! CLI and the server drive it.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # async fn demo(exec: weft_schedule::Executor, req: weft_schedule::RunRequest) -> Result<(), weft_schedule::ScheduleError> {
//! let summary = exec.run(req, Arc::new(weft_schedule::Quiet)).await?;
//! println!("{} {}", summary.run_id, summary.status);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
// The executor is where tasks are spawned (see clippy.toml).
#![allow(clippy::disallowed_methods)]

mod attempt;
mod callbacks;
mod cancels;
mod clock;
mod dispatch;
mod drive;
mod durable;
mod error;
mod event;
mod executor;
mod instance;
mod invoke;
mod local;
mod logs;
mod notify;
mod outputs;
pub mod plan;
mod restore;
mod signal;
mod sql_block;
mod sql_template;

pub use cancels::{Registered, CANCEL_POLL};
pub use clock::{new_run_id, now_ms};
pub use dispatch::{Dispatch, Finished, Input, Job, OutputRef};
pub use error::ScheduleError;
pub use event::{BlockSummary, Event, Observer, Quiet};
pub use executor::{Borrow, ComponentRef, Executor, PreparedRun, RunRequest, RunSummary, Script};
pub use instance::{Instance, HEARTBEAT, STALE};
pub use outputs::Outputs;
pub use signal::cancel_on_ctrl_c;
