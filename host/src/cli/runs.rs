//! `weft runs`: the run history.

use comfy_table::Table;
use weft_store::Store;

use super::render;
use crate::error::CliError;
use crate::project::Project;

/// Arguments of `weft runs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only runs of this pipeline.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// How many runs to list.
    #[arg(long, default_value_t = 20)]
    pub limit: i64,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// List runs, newest first.
pub fn run(project: &Project, args: Args) -> Result<i32, CliError> {
    let runs = super::block_on(async {
        let store = Store::connect(&project.state_url()).await?;
        let runs = store.list_runs(args.pipeline.as_deref(), args.limit).await;
        store.close().await;
        Ok(runs?)
    })?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&runs).unwrap_or_default()
        );
        return Ok(0);
    }
    let mut t = Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header([
        "run", "pipeline", "status", "trigger", "started", "duration",
    ]);
    for r in &runs {
        t.add_row([
            r.id.clone(),
            r.pipeline.clone(),
            r.status.to_string(),
            r.trigger.clone(),
            r.started_at.map(render::timestamp).unwrap_or_default(),
            match (r.started_at, r.finished_at) {
                (Some(s), Some(f)) => {
                    render::duration(std::time::Duration::from_millis((f - s).max(0) as u64))
                }
                _ => String::new(),
            },
        ]);
    }
    eprintln!("{t}");
    Ok(0)
}
