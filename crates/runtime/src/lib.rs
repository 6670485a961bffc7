//! weft's block runtime: a process-wide wasmtime [`Runtime`] that loads block components,
//! links the `weft:block` host interfaces and WASI (denied by default: no files, network or
//! environment), and runs each block in a fresh pooled instance under its memory and time
//! limits. A trap, a runaway loop or an over-limit allocation becomes a [`RuntimeError`] for
//! that block; the host carries on.
//!
//! Layer: above `weft-pipeline` and `weft-data`; wasmtime types never leave this crate.
//!
//! ```no_run
//! # use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};
//! # use weft_runtime::*;
//! struct Print;
//! impl LogSink for Print {
//!     fn log(&self, level: LogLevel, message: String) { eprintln!("{level:?} {message}") }
//! }
//! let rt = Runtime::new(&RuntimeConfig::default())?;
//! let component = rt.load("hello", "hash", Path::new("hello.wasm"), None)?;
//! let out = rt.invoke(&component, BlockCall {
//!     block: "hello".into(),
//!     config: "{}".into(),
//!     inputs: vec![],
//!     variables: Arc::new(BTreeMap::new()),
//!     env: vec![],
//!     memory_limit: 64 << 20,
//!     read_limit: 1 << 30,
//!     timeout: Duration::from_secs(5),
//!     log: Arc::new(Print),
//!     cancel: Default::default(),
//!     io: None,
//!     peak_memory: Default::default(),
//! })?;
//! println!("{} rows", out.table.map_or(0, |t| t.num_rows()));
//! # Ok::<(), RuntimeError>(())
//! ```
#![deny(missing_docs)]
// The runtime owns the epoch ticker thread (see clippy.toml).
#![allow(clippy::disallowed_methods)]

mod bindings;
mod budget;
mod compile_cache;
mod engine;
mod error;
mod host;
mod invoke;
mod output;
mod precompiled;
mod state;

pub use engine::{BlockComponent, Runtime, RuntimeConfig, EPOCH_TICK};
pub use error::RuntimeError;
pub use invoke::{BlockCall, BlockOutput};
pub use state::{LogLevel, LogSink};
