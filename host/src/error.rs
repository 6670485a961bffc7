//! Errors of the weft command, classified by whose fault they are; the class decides the exit
//! code.

use std::path::PathBuf;

use weft_pipeline::ManifestErrors;

/// A failure of a `weft` command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The project folder or weft.toml is not usable.
    #[error("{}: {reason}", .path.display())]
    Project {
        /// The folder or file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A pipeline name that does not exist.
    #[error("no pipeline \"{name}\" in pipelines/; available: {}", list(.available))]
    NoSuchPipeline {
        /// The name asked for.
        name: String,
        /// The pipelines there are.
        available: Vec<String>,
    },
    /// A pipeline manifest has problems.
    #[error("{0}")]
    Manifest(ManifestErrors),
    /// `weft validate` found problems in several pipelines.
    #[error("{count} pipeline(s) have errors")]
    Invalid {
        /// How many pipelines failed.
        count: usize,
    },
    /// A block could not be built.
    #[error("{0}")]
    Build(#[from] crate::build::BuildError),
    /// `io_config.yaml` is not valid, or IO could not start.
    #[error(transparent)]
    IoConfig(#[from] weft_io::IoError),
    /// A bad command-line value.
    #[error("{0}")]
    Usage(String),
    /// The run finished with failed blocks.
    #[error("run {run_id} failed: {reason}")]
    RunFailed {
        /// The run.
        run_id: String,
        /// Which blocks failed.
        reason: String,
    },
    /// The run was cancelled (Ctrl-C).
    #[error("run {run_id} was cancelled")]
    Cancelled {
        /// The run.
        run_id: String,
    },
    /// The state store failed.
    #[error(transparent)]
    Store(#[from] weft_store::StoreError),
    /// The executor failed.
    #[error(transparent)]
    Schedule(#[from] weft_schedule::ScheduleError),
    /// The Wasm runtime could not start.
    #[error(transparent)]
    Runtime(#[from] weft_runtime::RuntimeError),
    /// A package could not be made, published, added or trusted.
    #[error(transparent)]
    PackageOp(Box<weft_package::PackageError>),
    /// A block's package could not be resolved.
    #[error("block \"{block}\" ({source_path}): {error}")]
    Package {
        /// The block.
        block: String,
        /// Its source as written (`pkg:...`).
        source_path: String,
        /// What went wrong.
        error: Box<weft_package::PackageError>,
    },
    /// `weft import` could not import the project.
    #[error(transparent)]
    Import(#[from] crate::mage::ImportError),
    /// A file-system failure outside any other category.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl From<weft_package::PackageError> for CliError {
    fn from(e: weft_package::PackageError) -> Self {
        CliError::PackageOp(Box::new(e))
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

impl CliError {
    /// The process exit code: 1 for a failed run, 130 for a cancelled one, 2 for a problem in the user's input
    /// (arguments, project, manifests, block code), 3 for a failure of the system (store,
    /// files, engine).
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::RunFailed { .. } => 1,
            CliError::Cancelled { .. } => 130,
            CliError::Project { .. }
            | CliError::NoSuchPipeline { .. }
            | CliError::Manifest(_)
            | CliError::Invalid { .. }
            | CliError::Build(_)
            | CliError::IoConfig(_)
            | CliError::Usage(_) => 2,
            CliError::PackageOp(e) | CliError::Package { error: e, .. } => {
                if matches!(
                    **e,
                    weft_package::PackageError::Registry { .. }
                        | weft_package::PackageError::Io { .. }
                ) {
                    3
                } else {
                    2
                }
            }
            CliError::Import(e) => {
                if matches!(e, crate::mage::ImportError::Io { .. }) {
                    3
                } else {
                    2
                }
            }
            CliError::Store(_)
            | CliError::Schedule(_)
            | CliError::Runtime(_)
            | CliError::Io { .. } => 3,
        }
    }

    /// Advice printed after the error, if any.
    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::Build(crate::build::BuildError::NoToolchain { .. }) => {
                Some("run `weft setup` once to install the Wasm toolchain".into())
            }
            CliError::RunFailed { run_id, .. } => {
                Some(format!("see `weft logs {run_id}` for every block's log"))
            }
            CliError::NoSuchPipeline { .. } => {
                Some("pipelines live in pipelines/<name>/pipeline.yaml".into())
            }
            _ => None,
        }
    }
}
