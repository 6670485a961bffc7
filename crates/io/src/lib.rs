//! weft's IO layer: everything a block may do outside its sandbox, done natively by the host
//! and only within the block's grants.
//!
//! - [`Profiles`]: `io_config.yaml`, Mage's format, `{{ env_var('X') }}` interpolated; secrets
//!   never leave it ([`Redactor`] masks them in every message).
//! - [`BlockIo::read`]: http(s), files and object stores (S3, GCS, the project's `local://`
//!   store) decoded natively from CSV (gzip too), NDJSON, parquet or Arrow, streamed, with
//!   pandas-like column types.
//! - [`BlockIo::write`]: Postgres (binary `COPY` in one transaction), BigQuery (REST), and
//!   files in folders or object stores, Hive-partitioned.
//! - [`postgres::query`]: SQL in a profile's database, results streamed back as Arrow.
//!
//! Layer: above `weft-data` (tables) and `weft-pipeline` (grants); the runtime exposes it to
//! blocks through the WIT `io` interface, the executor uses it for SQL blocks.
//!
//! ```
//! use weft_io::{IoContext, Profiles};
//! let ctx = std::sync::Arc::new(
//!     IoContext::new(".".into(), ".weft/local".into(), Profiles::empty()).unwrap(),
//! );
//! let io = ctx.for_block("load", &weft_pipeline::Grants::default());
//! let err = io.read("https://example.com/trips.csv", "{}").unwrap_err();
//! assert_eq!(err.kind(), "denied");
//! ```
#![deny(missing_docs)]
// The IO layer owns its Tokio runtime and encoder threads (see clippy.toml).
#![allow(clippy::disallowed_methods)]

mod access;
pub mod address;
mod bigquery;
mod context;
mod error;
#[cfg(test)]
mod fuzz;
mod google;
pub mod limits;
mod location;
pub mod postgres;
mod profile;
mod progress;
pub mod read;
mod redact;
mod rt;
mod store;
pub mod write;

pub use access::Access;
pub use context::{BlockIo, IoContext, Notices, SERVICES};
pub use error::IoError;
pub use limits::{Breach, IoLimits};
pub use location::{Location, StoreKind};
pub use profile::{is_secret_key, Profile, Profiles, PLAIN_SETTINGS};
pub use progress::{NoProgress, Progress};
pub use redact::Redactor;
pub use rt::block_on;
