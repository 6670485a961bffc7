//! Command-line interface: argument definitions and dispatch. Each subcommand lives in its
//! own file with its arguments and `run`. Human output goes to stderr; `--json` to stdout.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod add;
mod backfill;
mod build;
mod cancel;
mod driver;
mod generate;
mod import;
mod init;
mod logs;
mod package;
mod progress;
mod render;
mod retry;
mod run;
mod runs;
mod serve;
mod setup;
mod show;
mod triggers;
mod validate;
mod workspace;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::CliError;
use crate::project::Project;

/// weft: data pipelines whose blocks run as sandboxed WebAssembly components.
#[derive(Debug, Parser)]
#[command(name = "weft", version, about, long_about = None)]
pub struct Cli {
    /// Project folder (default: the current folder).
    #[arg(long, global = true, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,
    /// Use only weft.lock and the package cache: never download a package, fail if one is
    /// missing from either.
    #[arg(long, global = true)]
    pub locked: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// weft's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new project with an example pipeline.
    Init(init::Args),
    /// Install the toolchain that compiles blocks to WebAssembly (once per machine).
    Setup(setup::Args),
    /// Compile every block of the project to a component (cached by content hash).
    Build(build::Args),
    /// Check every pipeline of the project; exits non-zero on any error.
    Validate(validate::Args),
    /// Run a pipeline now, with live progress; exits 0 only if every block succeeded.
    Run(run::Args),
    /// Run a pipeline once per interval between two dates, each with its execution_date.
    Backfill(backfill::Args),
    /// Stop a run, whichever weft process drives it.
    Cancel(cancel::Args),
    /// Run again the blocks of a failed or cancelled run that did not succeed (new attempts).
    Retry(retry::Args),
    /// List recorded runs, newest first.
    Runs(runs::Args),
    /// Print the log of a run.
    Logs(logs::Args),
    /// Print the first rows of a block's output in a run.
    Show(show::Args),
    /// Bring another tool's project over (`weft import mage PATH`), with a report of what
    /// maps cleanly and what needs a hand.
    Import(import::Args),
    /// Write sample data sets (synthetic NYC taxi trips) to try pipelines on.
    Generate(generate::Args),
    /// List the pipelines' triggers (schedules, API endpoints); issue API tokens.
    Triggers(triggers::Args),
    /// Serve the HTTP API and fire the triggers (schedules, API endpoints).
    Serve(serve::Args),
    /// Make a block of this project into a package (weft.toml `[packages.NAME]`).
    Package(package::PackageArgs),
    /// Package a block and push it to an OCI registry as REGISTRY/NAMESPACE/NAME:VERSION.
    Publish(package::PublishArgs),
    /// Add a package from an OCI registry to weft.lock (REGISTRY/NAMESPACE/NAME@REQ).
    Add(add::AddArgs),
    /// Move locked packages to the newest versions their requirements accept.
    Update(add::UpdateArgs),
}

/// Parse arguments, run the command, print errors; returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("WEFT_LOG"))
        .with_writer(std::io::stderr)
        .init();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            e.exit_code()
        }
    }
}

fn dispatch(cli: Cli) -> Result<i32, CliError> {
    let locked = cli.locked;
    let open = |dir: &std::path::Path| -> Result<Project, CliError> {
        let mut p = Project::open(dir)?;
        if locked {
            p.fetch = crate::packages::Fetch::Locked;
        }
        Ok(p)
    };
    match cli.command {
        Command::Init(a) => init::run(a),
        Command::Setup(a) => setup::run(a),
        Command::Build(a) => build::run(&open(&cli.project)?, a),
        Command::Validate(a) => validate::run(&open(&cli.project)?, a),
        Command::Run(a) => run::run(&open(&cli.project)?, a),
        Command::Runs(a) => runs::run(&open(&cli.project)?, a),
        Command::Logs(a) => logs::run(&open(&cli.project)?, a),
        Command::Show(a) => show::run(&open(&cli.project)?, a),
        Command::Generate(a) => generate::run(a),
        Command::Import(a) => import::run(&cli.project, a),
        Command::Triggers(a) => triggers::run(&open(&cli.project)?, a),
        Command::Cancel(a) => cancel::run(&open(&cli.project)?, a),
        Command::Retry(a) => retry::run(&open(&cli.project)?, a),
        Command::Backfill(a) => backfill::run(&open(&cli.project)?, a),
        Command::Serve(a) => serve::run(&open(&cli.project)?, a),
        Command::Package(a) => package::package(&open(&cli.project)?, a),
        Command::Publish(a) => package::publish(&open(&cli.project)?, a),
        Command::Add(a) => add::add(&open(&cli.project)?, a),
        Command::Update(a) => add::update(&open(&cli.project)?, a),
    }
}

/// A multi-threaded Tokio runtime for one command.
/// Run `f` on a fresh runtime. At the end, a block thread still asleep in a host call (its
/// run cancelled or timed out) is left behind rather than waited for.
fn block_on<T>(f: impl std::future::Future<Output = Result<T, CliError>>) -> Result<T, CliError> {
    let rt = tokio()?;
    let out = rt.block_on(f);
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    out
}

fn tokio() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Io {
            path: PathBuf::from("<tokio runtime>"),
            source: e,
        })
}
