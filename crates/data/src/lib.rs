//! weft's data plane: the host-owned Arrow [`Table`] that blocks exchange, its Arrow IPC and
//! JSON encodings across the Wasm boundary, and the SQL engine ([`sql`], DataFusion) that
//! runs table operations for every block language.
//!
//! Depends only on Arrow and DataFusion. Everything above it passes [`Table`]s (cheap `Arc` clones of record
//! batches) rather than bytes.
//!
//! ```
//! use weft_data::Table;
//! let t = Table::empty();
//! let bytes = t.to_ipc(None).unwrap();
//! assert_eq!(Table::from_ipc(bytes).unwrap().num_rows(), 0);
//! ```
#![deny(missing_docs)]

mod capped;
mod error;
#[cfg(test)]
mod fuzz;
mod ipc_guard;
mod json;
mod rows;
mod sql;
mod table;

pub use arrow;
pub use error::DataError;
pub use sql::{postgres_query_only, sql, QueryLimits};
pub use table::{ColumnInfo, Table};
