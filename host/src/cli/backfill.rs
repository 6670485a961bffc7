//! `weft backfill PIPELINE --start DATE --end DATE --every 1d`: one run per interval, each
//! with its `execution_date`, a bounded number at a time, with a progress bar.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use weft_pipeline::backfill::backfill_dates;
use weft_runtime::{Runtime, RuntimeConfig};
use weft_schedule::{Quiet, RunRequest};
use weft_store::RunStatus;

use super::driver::{cancel_on_ctrl_c, Driver};
use super::progress::BuildProgress;
use super::render;
use crate::build::Builder;
use crate::error::CliError;
use crate::project::Project;

/// Arguments of `weft backfill`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The pipeline to run.
    pub pipeline: String,
    /// First execution date: `2021-01-01` or an RFC 3339 time.
    #[arg(long)]
    pub start: String,
    /// Last execution date (included).
    #[arg(long)]
    pub end: String,
    /// Interval between execution dates: 1d, 6h, 1w, 1mo...
    #[arg(long, default_value = "1d")]
    pub every: String,
    /// Runs at the same time.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// A run variable, `name=value`; repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = super::run::parse_var)]
    pub vars: Vec<(String, String)>,
    /// Print the runs as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Run the backfill; exit code 0 only if every run succeeded.
pub fn run(project: &Project, args: Args) -> Result<i32, CliError> {
    let started = Instant::now();
    let dates = backfill_dates(&args.start, &args.end, &args.every).map_err(CliError::Usage)?;
    if args.concurrency == 0 {
        return Err(CliError::Usage("--concurrency must be at least 1".into()));
    }
    let pipeline = Arc::new(project.pipeline(&args.pipeline)?);
    let runtime = Arc::new(Runtime::new(&RuntimeConfig::default())?);
    let components =
        Builder::new(&project.root, &runtime).build_pipeline(&pipeline, &BuildProgress::new())?;
    let io = Arc::new(project.io()?);
    let base: BTreeMap<String, String> = args.vars.into_iter().collect();
    let results = super::block_on(async {
        let driver = Driver::start(project, &runtime, io, "run").await?;
        let executor = &driver.executor;
        let cancel = cancel_on_ctrl_c("the backfill");
        // Every run is recorded (queued) first, in one transaction: a crash part-way leaves
        // the rest for `weft serve` to pick up, none lost.
        let mut reqs = Vec::with_capacity(dates.len());
        let mut rows = Vec::with_capacity(dates.len());
        for d in &dates {
            let mut variables = base.clone();
            variables.insert("execution_date".into(), d.to_rfc3339());
            let mut req = RunRequest {
                pipeline: pipeline.clone(),
                components: components.clone(),
                variables,
                trigger: "backfill".into(),
                run_id: None,
                recorded: false,
                // Each run its own token (`weft cancel` stops one run); Ctrl-C stops them all.
                cancel: cancel.child_token(),
                borrow: None,
            };
            rows.push(executor.prepare(&mut req));
            reqs.push((d.to_rfc3339(), req));
        }
        let new: Vec<_> = rows.iter().map(|r| r.as_new_run()).collect();
        driver.store.create_runs(&new).await?;
        let bar = ProgressBar::new(reqs.len() as u64).with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {msg}  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let (ok, failed) = (
            std::sync::atomic::AtomicUsize::new(0),
            std::sync::atomic::AtomicUsize::new(0),
        );
        let results: Vec<(String, String, RunStatus)> = futures::stream::iter(reqs)
            .map(|(date, req)| {
                let (bar, ok, failed) = (&bar, &ok, &failed);
                async move {
                    let id = req.run_id.clone().unwrap_or_default();
                    let status = match executor.run(req, Arc::new(Quiet)).await {
                        Ok(s) => s.status,
                        Err(e) => {
                            bar.println(format!("run {id} ({date}): {e}"));
                            RunStatus::Failed
                        }
                    };
                    let counter = if status == RunStatus::Success {
                        ok
                    } else {
                        failed
                    };
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    bar.set_message(format!(
                        "{} ok, {} failed",
                        ok.load(std::sync::atomic::Ordering::Relaxed),
                        failed.load(std::sync::atomic::Ordering::Relaxed)
                    ));
                    bar.inc(1);
                    (date, id, status)
                }
            })
            .buffer_unordered(args.concurrency)
            .collect()
            .await;
        bar.finish_and_clear();
        driver.finish().await;
        Ok::<_, CliError>(results)
    })?;
    let mut results = results;
    results.sort_by(|a, b| a.0.cmp(&b.0));
    for (date, id, status) in &results {
        eprintln!("{date}  {id}  {status}");
    }
    if args.json {
        let runs: Vec<_> = results
            .iter()
            .map(|(d, id, s)| json!({"execution_date": d, "run_id": id, "status": s}))
            .collect();
        println!("{}", serde_json::Value::from(runs));
    }
    let bad = results.iter().filter(|r| r.2 != RunStatus::Success).count();
    eprintln!(
        "backfill of {}: {} runs, {} succeeded, {bad} did not, in {}",
        pipeline.name,
        results.len(),
        results.len() - bad,
        render::duration(started.elapsed())
    );
    Ok(if bad == 0 { 0 } else { 1 })
}
