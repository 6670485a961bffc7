//! `weft import mage`: bring a Mage project over as a weft project, with a report.

use std::path::PathBuf;

use crate::error::CliError;
use crate::project::Project;

/// Arguments of `weft import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the project comes from.
    #[command(subcommand)]
    pub from: From,
}

/// Projects weft imports.
#[derive(Debug, clap::Subcommand)]
pub enum From {
    /// A Mage project: pipelines/*/metadata.yaml, block folders, io_config.yaml, triggers.
    Mage(MageArgs),
}

/// Arguments of `weft import mage`.
#[derive(Debug, clap::Args)]
pub struct MageArgs {
    /// The Mage project folder (the one holding `pipelines/`).
    pub source: PathBuf,
    /// The weft project to write (default: the `--project` folder, else the current one).
    #[arg(long, value_name = "DIR")]
    pub into: Option<PathBuf>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Import, print the report, and check the pipelines written. Exits 0 when every block
/// mapped cleanly, 1 when some need a hand (the project is still written).
pub fn run(project_dir: &std::path::Path, args: Args) -> Result<i32, CliError> {
    let From::Mage(a) = args.from;
    let into = a.into.unwrap_or_else(|| project_dir.to_path_buf());
    let report = crate::mage::import(&a.source, &into)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        eprintln!("{}", report.render());
    }
    let project = Project::open(&into)?;
    let mut invalid = 0;
    for name in &report.pipelines {
        if let Err(e) = project.pipeline(name) {
            invalid += 1;
            eprintln!("error {name}: {e}");
        } else if let Err(e) = project.triggers(name) {
            invalid += 1;
            eprintln!("error {name} (triggers.yaml): {e}");
        }
    }
    if invalid > 0 {
        return Err(CliError::Invalid { count: invalid });
    }
    Ok(i32::from(report.needs_hand() > 0))
}
