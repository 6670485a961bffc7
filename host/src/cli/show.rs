//! `weft show RUN BLOCK`: the first rows of a block's output.

use weft_schedule::Outputs;
use weft_store::Store;

use super::render;
use crate::error::CliError;
use crate::project::Project;

/// Arguments of `weft show`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run id, or `latest`.
    pub run: String,
    /// Block name.
    pub block: String,
    /// How many rows to print.
    #[arg(long, short = 'n', default_value_t = 10)]
    pub rows: usize,
    /// Print the rows as a JSON array of objects on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Print the block's output as a table on stdout.
pub fn run(project: &Project, args: Args) -> Result<i32, CliError> {
    let (table, record) = super::block_on(async {
        let store = Store::connect(&project.state_url()).await?;
        let run = render::resolve_run(&store, &args.run).await?;
        let blocks = store.block_runs(&run.id).await?;
        store.close().await;
        let names: Vec<String> = blocks.iter().map(|b| b.key.clone()).collect();
        let record = blocks
            .into_iter()
            .find(|b| b.key == args.block)
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "run {} has no block \"{}\"; blocks: {}",
                    run.id,
                    args.block,
                    names.join(", ")
                ))
            })?;
        let Some(path) = record.output.clone() else {
            return Err(CliError::Usage(format!(
                "block \"{}\" of run {} has no stored output (status {})",
                args.block, run.id, record.status
            )));
        };
        let outputs = Outputs::local(&project.objects_dir())?;
        Ok((outputs.get(&path).await?, record))
    })?;
    let text = if args.json {
        table.to_json(Some(args.rows as u64))
    } else {
        table.pretty(args.rows)
    }
    .map_err(|e| CliError::Usage(e.to_string()))?;
    println!("{text}");
    eprintln!(
        "{} of {} rows, {} columns ({})",
        (args.rows as u64).min(table.num_rows()),
        table.num_rows(),
        table.columns().len(),
        record.output.unwrap_or_default()
    );
    Ok(0)
}
