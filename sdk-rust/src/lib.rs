//! Write weft pipeline blocks in Rust.
//!
//! A block is a plain function with an attribute naming its kind. It receives the block's
//! context (config, run variables, logging) and its upstream tables, and returns its output.
//! Tables stay in the host until you ask for rows ([`Table::to_batch`]), so passing data
//! through costs nothing.
//!
//! ```ignore
//! use weft_sdk::prelude::*;
//!
//! #[derive(serde::Deserialize)]
//! struct Config { factor: i64 }
//!
//! #[transformer(tests(not_empty))]
//! fn scale(ctx: &Context, inputs: Inputs) -> Result<Table> {
//!     let cfg: Config = ctx.config()?;
//!     let batch = inputs.first()?.to_batch()?;
//!     ctx.info(format!("scaling {} rows by {}", batch.num_rows(), cfg.factor));
//!     // ... build a new RecordBatch with arrow-rs ...
//!     Table::from_batch(&batch)
//! }
//!
//! #[test_block]
//! fn not_empty(output: &Table) -> Result<()> {
//!     ensure(output.num_rows() > 0, "no rows")
//! }
//! ```
//!
//! Build with `weft build`; the crate compiles to a `wasm32-wasip2` component.

mod context;
mod error;
pub mod io;
mod table;

#[doc(hidden)]
pub mod __private;

/// Guest bindings generated from weft's WIT contract.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "weft:block/block",
        pub_export_macro: true,
        default_bindings_module: "weft_sdk::bindings",
    });
}

pub use context::{log, variable, Context, Inputs, Level};
pub use error::{ensure, Error, Result};
pub use table::{sql, Column, IntoOutput, Table};
pub use weft_sdk_macros::{
    callback, condition, dynamic, exporter, loader, sensor, test_block, transformer,
};

#[cfg(feature = "arrow")]
pub use {arrow_array, arrow_schema, arrow_select};

/// Everything a block usually needs: `use weft_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{
        callback, condition, dynamic, ensure, exporter, loader, sensor, test_block, transformer,
        Context, Error, Inputs, IntoOutput, Result, Table,
    };
    #[cfg(feature = "arrow")]
    pub use arrow_array::{self, Array, RecordBatch};
    #[cfg(feature = "arrow")]
    pub use arrow_schema::{self, DataType, Field, Schema};
}
