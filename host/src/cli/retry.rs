//! `weft retry RUN`: run again, here, the blocks of a failed or cancelled run that did not
//! succeed — each as a new attempt of the same run; blocks that succeeded keep their outputs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use weft_runtime::{Runtime, RuntimeConfig};
use weft_schedule::RunRequest;
use weft_store::Store;

use super::driver::{cancel_on_ctrl_c, Driver};
use super::progress::{BuildProgress, RunProgress};
use super::render;
use crate::build::Builder;
use crate::error::CliError;
use crate::project::Project;

/// Arguments of `weft retry`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run id, or `latest`.
    pub run: String,
    /// Print the run summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Retry the run; exit code 0 only if every block succeeded.
pub fn run(project: &Project, args: Args) -> Result<i32, CliError> {
    let started = Instant::now();
    let record = super::block_on(async {
        let store = Store::connect(&project.state_url()).await?;
        let run = render::resolve_run(&store, &args.run).await?;
        let blocks = store.block_runs(&run.id).await?;
        store.close().await;
        Ok::<_, CliError>((run, blocks))
    });
    let (record, blocks) = record?;
    let pipeline = Arc::new(project.pipeline(&record.pipeline)?);
    let recorded: std::collections::BTreeSet<&str> =
        blocks.iter().map(|b| b.block.as_str()).collect();
    let now: std::collections::BTreeSet<&str> = pipeline
        .blocks
        .iter()
        .filter(|b| !b.is_attached())
        .map(|b| b.name.as_str())
        .collect();
    if recorded != now {
        return Err(CliError::Usage(format!(
            "the blocks of pipeline {} changed since run {}; start a new run",
            pipeline.name, record.id
        )));
    }
    let runtime = Arc::new(Runtime::new(&RuntimeConfig::default())?);
    let components =
        Builder::new(&project.root, &runtime).build_pipeline(&pipeline, &BuildProgress::new())?;
    let io = Arc::new(project.io()?);
    let variables: BTreeMap<String, String> =
        serde_json::from_str(&record.variables).unwrap_or_default();
    let summary = super::block_on(async {
        let driver = Driver::start(project, &runtime, io, "run").await?;
        let reopened = driver
            .store
            .reopen_run(&record.id, Some(driver.owner()))
            .await?;
        let Some(again) = reopened else {
            driver.finish().await;
            return Err(CliError::Usage(format!(
                "run {} is {}; only failed or cancelled runs can be retried",
                record.id, record.status
            )));
        };
        eprintln!("retrying {} of run {}", again.join(", "), record.id);
        let progress = Arc::new(RunProgress::new(&pipeline));
        let cancel = cancel_on_ctrl_c("the run");
        let summary = driver
            .executor
            .run(
                RunRequest {
                    pipeline: pipeline.clone(),
                    components,
                    variables,
                    trigger: record.trigger.clone(),
                    run_id: Some(record.id.clone()),
                    recorded: true,
                    cancel,
                    borrow: None,
                },
                progress.clone(),
            )
            .await?;
        progress.finish();
        driver.finish().await;
        Ok::<_, CliError>(summary)
    })?;
    super::run::report(&summary, &pipeline.name, args.json, started)
}
