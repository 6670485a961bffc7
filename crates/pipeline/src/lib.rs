//! Pipeline manifests for weft: `pipelines/<name>/pipeline.yaml` parsed into a validated,
//! deterministic [`Pipeline`] that the runtime and executor consume, and the pipeline's
//! `triggers.yaml` into [`Trigger`]s (cron schedules, API endpoints). The runtime never reads
//! raw YAML.
//!
//! This is the bottom layer: it depends on nothing else of weft.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("gen.wasm"), b"").unwrap();
//! let yaml = r#"
//! blocks:
//!   - { name: load, kind: loader, source: gen.wasm }
//!   - { name: clean, kind: transformer, source: gen.wasm, upstream: [load], timeout: 10s }
//! "#;
//! let file = dir.path().join("pipelines/demo/pipeline.yaml");
//! let p = weft_pipeline::parse(yaml, &file, dir.path(), "demo").unwrap();
//! assert_eq!(p.blocks[1].upstream, ["load"]);
//! assert_eq!(p.blocks[1].timeout, std::time::Duration::from_secs(10));
//! ```
#![deny(missing_docs)]

pub mod backfill;
mod dag;
pub mod edit;
mod error;
mod flow;
mod model;
mod parse;
mod trigger;

pub use error::{ManifestError, ManifestErrors};

/// The pipelines of the project at `root`: the folders of `pipelines/` holding a
/// `pipeline.yaml`, sorted.
pub fn pipeline_names(root: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("pipelines"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("pipeline.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
pub use flow::*;
pub use model::*;
pub use parse::{is_package_part, load, parse, source};
pub use trigger::{
    load_triggers, parse_triggers, CatchUp, Due, Schedule, Trigger, TriggerKind, MAX_CATCH_UP,
};
