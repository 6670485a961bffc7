//! `weft package NAME` and `weft publish NAME REF`: a block of this project made into a
//! package (weft.toml `[packages.NAME]`), and pushed to an OCI registry.

use weft_package::reference::parse_versioned;
use weft_package::registry::Registry;
use weft_runtime::{Runtime, RuntimeConfig};

use super::progress::BuildProgress;
use crate::build::Builder;
use crate::error::CliError;
use crate::packages::{self, Made};
use crate::project::Project;

/// Arguments of `weft package`.
#[derive(Debug, clap::Args)]
pub struct PackageArgs {
    /// The package, as named in weft.toml (`[packages.NAME]`).
    pub name: String,
}

/// Arguments of `weft publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The package, as named in weft.toml (`[packages.NAME]`).
    pub name: String,
    /// Where to: REGISTRY/NAMESPACE/NAME:VERSION (the version weft.toml gives).
    pub reference: String,
    /// Replace the version if the registry has it already.
    #[arg(long)]
    pub overwrite: bool,
}

fn made(project: &Project, name: &str) -> Result<Made, CliError> {
    let runtime = Runtime::new(&RuntimeConfig::default())?;
    let builder = Builder::new(&project.root, &runtime);
    packages::make(project, &builder, name, &BuildProgress::new())
}

fn describe(m: &Made) {
    let meta = &m.meta;
    eprintln!(
        "packaged {} {} ({} {}, weft:block {}) → {}",
        meta.name,
        meta.version,
        meta.language.as_str(),
        meta.kind,
        meta.wit,
        m.path.display()
    );
    eprintln!(
        "  {} ({:.1} MiB)",
        weft_package::digest(&m.bytes),
        m.bytes.len() as f64 / (1 << 20) as f64
    );
    eprintln!("  requests:");
    for line in weft_package::grants::describe(&meta.grants) {
        eprintln!("    {line}");
    }
}

/// Build the package and write it under `.weft/packages/`.
pub fn package(project: &Project, args: PackageArgs) -> Result<i32, CliError> {
    let m = made(project, &args.name)?;
    describe(&m);
    println!("{}", m.path.display());
    Ok(0)
}

/// Build the package and push it; prints the manifest digest.
pub fn publish(project: &Project, args: PublishArgs) -> Result<i32, CliError> {
    let (target, version) = parse_versioned(&args.reference)?;
    let m = made(project, &args.name)?;
    if m.meta.version != version {
        return Err(CliError::Usage(format!(
            "weft.toml gives [packages.{}] version {}, and the reference says {version}; publish a package under its own version",
            args.name, m.meta.version
        )));
    }
    describe(&m);
    let registry = Registry::new(&target);
    let published =
        packages::block_on(registry.publish(&target, &m.meta, m.bytes, args.overwrite))??;
    eprintln!("published {target}:{version}");
    eprintln!("  manifest {}", published.manifest);
    eprintln!("  content  {}", published.content);
    println!("{}", published.manifest);
    Ok(0)
}
