//! `weft validate`: check every pipeline manifest.

use crate::error::CliError;
use crate::project::Project;

/// Arguments of `weft validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the resolved pipelines as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Print every problem of every pipeline; fail if there is any.
pub fn run(project: &Project, args: Args) -> Result<i32, CliError> {
    let mut bad = 0;
    let mut resolved = Vec::new();
    let all = project.pipelines();
    if all.is_empty() {
        eprintln!(
            "no pipelines in {}",
            project.root.join("pipelines").display()
        );
    }
    for (name, result) in all {
        match result {
            Ok(p) => match project.triggers(&name) {
                Ok(triggers) => {
                    eprintln!(
                        "ok    {name} ({} blocks, {} triggers)",
                        p.blocks.len(),
                        triggers.len()
                    );
                    resolved.push(p);
                }
                Err(e) => {
                    bad += 1;
                    eprintln!("error {name}:");
                    for line in e.to_string().lines() {
                        eprintln!("  {line}");
                    }
                }
            },
            Err(e) => {
                bad += 1;
                eprintln!("error {name}:");
                for line in e.to_string().lines() {
                    eprintln!("  {line}");
                }
            }
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&resolved).unwrap_or_default()
        );
    }
    if bad > 0 {
        return Err(CliError::Invalid { count: bad });
    }
    Ok(0)
}
