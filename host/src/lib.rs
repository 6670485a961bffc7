//! weft: a data-pipeline orchestrator whose blocks run as sandboxed WebAssembly components.
//!
//! This crate is the `weft` command: project layout ([`project`]), block compilation
//! ([`build`]) and the CLI ([`cli`]). The engine lives in the `weft-*` crates: manifests
//! (`weft-pipeline`), tables (`weft-data`), the Wasm runtime (`weft-runtime`), the state store
//! (`weft-store`) and the executor (`weft-schedule`).
//!
//! ```no_run
//! let project = weft::project::Project::open(std::path::Path::new(".")).unwrap();
//! for name in project.pipeline_names() {
//!     let pipeline = project.pipeline(&name).unwrap();
//!     println!("{name}: {} blocks", pipeline.blocks.len());
//! }
//! ```
#![deny(missing_docs)]

pub mod build;
pub mod cli;
pub mod error;
pub mod mage;
pub mod packages;
pub mod project;
pub mod scaffold;
pub mod taxi;
