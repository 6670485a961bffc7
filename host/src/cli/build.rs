//! `weft build`: compile every block of every pipeline.

use std::collections::HashSet;

use weft_runtime::{Runtime, RuntimeConfig};

use super::progress::BuildProgress;
use crate::build::Builder;
use crate::error::CliError;
use crate::project::Project;

/// Arguments of `weft build`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Build only these pipelines (default: all).
    pub pipelines: Vec<String>,
}

/// Build, then report how many components were compiled and how many were cached.
pub fn run(project: &Project, args: Args) -> Result<i32, CliError> {
    let names = if args.pipelines.is_empty() {
        project.pipeline_names()
    } else {
        args.pipelines
    };
    let runtime = Runtime::new(&RuntimeConfig::default())?;
    let builder = Builder::new(&project.root, &runtime);
    let progress = BuildProgress::new();
    let mut components = HashSet::new();
    for name in &names {
        let pipeline = project.pipeline(name)?;
        for c in builder.build_pipeline(&pipeline, &progress)?.into_values() {
            components.insert(c.key);
        }
    }
    let (compiled, cached) = progress.counts();
    eprintln!(
        "built {} component(s) for {} pipeline(s): {compiled} compiled, {cached} cached",
        components.len(),
        names.len()
    );
    Ok(0)
}
