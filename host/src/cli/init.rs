//! `weft init DIR`: scaffold a project that builds and runs as is.

use std::path::PathBuf;

use crate::error::CliError;
use crate::scaffold::Language;

/// Arguments of `weft init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to create the project in.
    pub dir: PathBuf,
    /// Project name (default: the folder's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Language of the example blocks.
    #[arg(long, value_enum, default_value = "python")]
    pub lang: Language,
}

/// Write the project and say what to do next.
pub fn run(args: Args) -> Result<i32, CliError> {
    let name = args.name.clone().unwrap_or_else(|| {
        args.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "weft_project".into())
    });
    let files = crate::scaffold::write(&args.dir, &name, args.lang)?;
    eprintln!("created project \"{name}\" in {}:", args.dir.display());
    for f in files {
        eprintln!("  {}", f.display());
    }
    eprintln!("next: cd {} && weft run example", args.dir.display());
    Ok(0)
}
