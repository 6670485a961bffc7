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
    /// Only this block's lines and block runs: a block name (with all its children, one row
    /// each) or one child's key (`clean[3]`).
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
        let mut blocks = store.block_runs(&run.id).await?;
        let mut lines = store.logs(&run.id, None).await?;
        if let Some(want) = &args.block {
            let ours =
                |key: &str| key == want || (!want.contains('[') && render::block_of(key) == want);
            blocks.retain(|b| ours(&b.key));
            // A callback's lines are keyed `callback(block run)`.
            let told = |b: &str| {
                b.split_once('(')
                    .is_some_and(|(_, k)| ours(k.trim_end_matches(')')))
            };
            lines.retain(|l| l.block.as_deref().is_some_and(|b| ours(b) || told(b)));
        }
        store.close().await;
        Ok::<_, CliError>((run, blocks, lines))
    })?;
    if args.json {
        let doc = serde_json::json!({ "run": run, "blocks": blocks, "logs": lines });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return Ok(0);
    }
    eprintln!("run {} of {}: {}", run.id, run.pipeline, run.status);
    eprintln!(
        "{}",
        render::block_runs_table(&blocks, args.block.is_some())
    );
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
