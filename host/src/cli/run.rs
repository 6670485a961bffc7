//! `weft run PIPELINE`: build what changed, run every block, show progress and a summary.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use weft_runtime::{Runtime, RuntimeConfig};
use weft_schedule::RunRequest;
use weft_store::RunStatus;

use super::driver::{cancel_on_ctrl_c, Driver};
use super::progress::{BuildProgress, RunProgress};
use super::render;
use crate::build::Builder;
use crate::error::CliError;
use crate::project::Project;

/// Arguments of `weft run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The pipeline to run (a folder name under pipelines/).
    pub pipeline: String,
    /// A run variable, `name=value`; repeatable. Overrides the pipeline's `variables:`.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Print the run summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Run only this block, with its upstream blocks' outputs taken from the pipeline's
    /// latest successful run.
    #[arg(long, value_name = "NAME")]
    pub block: Option<String>,
    /// With `--block`: run every block after it too.
    #[arg(long, requires = "block")]
    pub downstream: bool,
}

pub(crate) fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

/// Run the pipeline; exit code 0 only if every block succeeded.
pub fn run(project: &Project, args: Args) -> Result<i32, CliError> {
    let started = Instant::now();
    let full = project.pipeline(&args.pipeline)?;
    let (pipeline, upstream) = match &args.block {
        None => (full, Vec::new()),
        Some(b) => full.select(b, args.downstream).ok_or_else(|| {
            CliError::Usage(format!(
                "pipeline {} has no block \"{b}\" to run (conditions and callbacks run with the blocks they are attached to)",
                full.name
            ))
        })?,
    };
    let pipeline = Arc::new(pipeline);
    let runtime = Arc::new(Runtime::new(&RuntimeConfig::default())?);
    let components =
        Builder::new(&project.root, &runtime).build_pipeline(&pipeline, &BuildProgress::new())?;
    let io = Arc::new(project.io()?);
    let variables: BTreeMap<String, String> = args.vars.into_iter().collect();
    let summary = super::block_on(async {
        let driver = Driver::start(project, &runtime, io, "run").await?;
        let borrow = borrowed(driver.executor.store(), &pipeline.name, upstream).await?;
        let progress = Arc::new(RunProgress::new(&pipeline));
        let cancel = cancel_on_ctrl_c("the run");
        let summary = driver
            .executor
            .run(
                RunRequest {
                    pipeline: pipeline.clone(),
                    components,
                    variables,
                    trigger: "manual".into(),
                    run_id: None,
                    recorded: false,
                    cancel,
                    borrow,
                },
                progress.clone(),
            )
            .await?;
        progress.finish();
        driver.finish().await;
        Ok::<_, CliError>(summary)
    })?;
    report(&summary, &pipeline.name, args.json, started)
}

/// The latest successful run of `pipeline`, to take `upstream`'s outputs from.
async fn borrowed(
    store: &weft_store::Store,
    pipeline: &str,
    upstream: Vec<String>,
) -> Result<Option<weft_schedule::Borrow>, CliError> {
    if upstream.is_empty() {
        return Ok(None);
    }
    let latest = store
        .find_runs(&weft_store::RunFilter {
            pipeline: Some(pipeline.to_string()),
            status: Some(RunStatus::Success),
            limit: 1,
            ..Default::default()
        })
        .await?;
    let run = latest.into_iter().next().ok_or_else(|| {
        CliError::Usage(format!(
            "pipeline {pipeline} has no successful run to take the outputs of {} from; run it whole once first",
            upstream.join(", ")
        ))
    })?;
    eprintln!(
        "taking the outputs of {} from run {}",
        upstream.join(", "),
        run.id
    );
    Ok(Some(weft_schedule::Borrow {
        run: run.id,
        blocks: upstream,
    }))
}

/// Print a finished run's summary; exit code 0 only if every block succeeded.
pub(crate) fn report(
    summary: &weft_schedule::RunSummary,
    pipeline: &str,
    json: bool,
    started: Instant,
) -> Result<i32, CliError> {
    eprintln!("{}", render::summary_table(&summary.blocks));
    if json {
        println!("{}", render::summary_json(summary));
    }
    let took = render::duration(started.elapsed());
    if summary.status == RunStatus::Success {
        eprintln!("run {} of {pipeline} succeeded in {took}", summary.run_id);
        return Ok(0);
    }
    if summary.status == RunStatus::Cancelled {
        return Err(CliError::Cancelled {
            run_id: summary.run_id.clone(),
        });
    }
    let failed: Vec<String> = summary
        .blocks
        .iter()
        .filter(|b| b.status == weft_store::BlockStatus::Failed)
        .map(|b| b.block.clone())
        .collect();
    Err(CliError::RunFailed {
        run_id: summary.run_id.clone(),
        reason: format!("block(s) failed: {}", failed.join(", ")),
    })
}
