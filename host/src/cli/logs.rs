//! `weft logs RUN`: a run's blocks and log lines.

use weft_store::Store;

use super::render;
use crate::error::CliError;
use crate::project::Project;

/// Arguments of `weft logs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run id, or `latest`.
    pub run: String,
    /// Only this block's lines.
    #[arg(long)]
    pub block: Option<String>,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Print the run's block table and log lines.
pub fn run(project: &Project, args: Args) -> Result<i32, CliError> {
    let (run, blocks, lines) = super::block_on(async {
        let store = Store::connect(&project.state_url()).await?;
        let run = render::resolve_run(&store, &args.run).await?;
        let blocks = store.block_runs(&run.id).await?;
        let lines = store.logs(&run.id, args.block.as_deref()).await?;
        store.close().await;
        Ok::<_, CliError>((run, blocks, lines))
    })?;
    if args.json {
        let doc = serde_json::json!({ "run": run, "blocks": blocks, "logs": lines });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return Ok(0);
    }
    eprintln!("run {} of {}: {}", run.id, run.pipeline, run.status);
    eprintln!("{}", render::block_runs_table(&blocks));
    for l in &lines {
        println!(
            "{} {:<5} [{}#{}] {}",
            render::timestamp(l.at),
            l.level,
            l.block.as_deref().unwrap_or("-"),
            l.attempt.unwrap_or(0),
            l.message
        );
    }
    Ok(0)
}
