//! weft's state store: runs, block runs and logs, in SQLite (`.weft/state.db`, the embedded
//! default) or Postgres (for shared and scale-out setups), with the same behaviour on both.
//!
//! Layer: below the executor; knows nothing of Wasm or Arrow.
//!
//! ```no_run
//! # async fn demo() -> Result<(), weft_store::StoreError> {
//! let store = weft_store::Store::connect("sqlite://.weft/state.db?mode=rwc").await?;
//! for run in store.list_runs(Some("hello"), 10).await? {
//!     println!("{} {}", run.id, run.status);
//! }
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod block_runs;
mod changes;
mod error;
mod group;
mod history;
mod model;
mod recovery;
mod store;
mod triggers;

pub use block_runs::BlockRef;
pub use changes::{AllRuns, RunWatch};
pub use error::StoreError;
pub use history::RunFilter;
pub use model::*;
pub use recovery::{InstanceRecord, OpenRun};
pub use store::{Backend, NewRun, Store};
pub use triggers::{TriggerRecord, TriggerSpec};
