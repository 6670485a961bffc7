//! weft's data plane: the host-owned Arrow [`Table`] that blocks exchange, and its Arrow IPC
//! encoding across the Wasm boundary.
//!
//! Depends only on Arrow. Everything above it passes [`Table`]s (cheap `Arc` clones of record
//! batches) rather than bytes.
//!
//! ```
//! use weft_data::Table;
//! let t = Table::empty();
//! let bytes = t.to_ipc(None).unwrap();
//! assert_eq!(Table::from_ipc(bytes).unwrap().num_rows(), 0);
//! ```
#![deny(missing_docs)]

mod error;
mod table;

pub use arrow;
pub use error::DataError;
pub use table::{ColumnInfo, Table};
