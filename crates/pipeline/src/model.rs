//! The resolved pipeline: what the executor and runtime consume. Never raw YAML.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Default `timeout` of a block run when the manifest sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Default `memory_limit` of a block when the manifest sets none (1 GiB).
pub const DEFAULT_MEMORY_LIMIT: u64 = 1 << 30;
/// Largest `memory_limit` a block may ask for (4 GiB, the wasm32 address space).
pub const MAX_MEMORY_LIMIT: u64 = 4 << 30;
/// Default `read_limit`: bytes a block may read, and decompress, in one IO call (16 GiB).
pub const DEFAULT_READ_LIMIT: u64 = 16 << 30;
/// Smallest `memory_limit` a block may ask for (1 MiB).
pub const MIN_MEMORY_LIMIT: u64 = 1 << 20;
/// Largest `retries` value accepted.
pub const MAX_RETRIES: u32 = 100;
/// Default number of blocks of one run that may run at the same time.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// A validated pipeline, its blocks in a deterministic topological order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pipeline {
    /// The pipeline's name (its folder name under `pipelines/`).
    pub name: String,
    /// The manifest file it was read from.
    pub file: PathBuf,
    /// Free text shown in listings.
    pub description: Option<String>,
    /// How many blocks of one run may execute at once.
    pub concurrency: usize,
    /// How many runs of this pipeline may be active at once; more wait queued. None: no limit.
    pub max_active_runs: Option<usize>,
    /// Webhooks told when a run ends.
    pub notify: Notify,
    /// Default run variables; `--var` overrides them.
    pub variables: BTreeMap<String, String>,
    /// Callback blocks told when the whole run ends.
    pub callbacks: Vec<String>,
    /// Blocks, upstream before downstream; ties keep manifest order.
    pub blocks: Vec<Block>,
}

impl Pipeline {
    /// The block called `name`.
    pub fn block(&self, name: &str) -> Option<&Block> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// Names of the blocks that list `name` as upstream, in pipeline order.
    pub fn downstream(&self, name: &str) -> Vec<&str> {
        self.blocks
            .iter()
            .filter(|b| b.upstream.iter().any(|u| u == name))
            .map(|b| b.name.as_str())
            .collect()
    }
}

/// Where a pipeline's run summaries are POSTed when a run ends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Notify {
    /// URL told of every failed run.
    pub on_failure: Option<String>,
    /// URL told of every successful run.
    pub on_success: Option<String>,
}

/// One block of a pipeline, with every default applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Block {
    /// Unique name within the pipeline.
    pub name: String,
    /// What role the block plays.
    pub kind: Kind,
    /// Where the block's code comes from.
    pub source: Source,
    /// Blocks whose outputs this block receives, in the order written.
    pub upstream: Vec<String>,
    /// Free-form configuration, handed to the block as JSON.
    pub config: serde_json::Value,
    /// Extra attempts after a failure.
    pub retries: u32,
    /// Wait between attempts.
    #[serde(rename = "retry_delay_ms", serialize_with = "millis")]
    pub retry_delay: Duration,
    /// Wall-clock limit of one attempt.
    #[serde(rename = "timeout_ms", serialize_with = "millis")]
    pub timeout: Duration,
    /// Linear-memory limit of the block's instance, in bytes; the tables the host makes for
    /// it and its queries count too.
    pub memory_limit: u64,
    /// Bytes one IO call of the block may read, and (separately) decompress.
    pub read_limit: u64,
    /// What the block may touch beyond its inputs. Nothing by default.
    pub grants: Grants,
    /// Where a SQL block's query runs (always [`Engine::DataFusion`] for other blocks).
    pub engine: Engine,
    /// When it runs, how it waits, fans out and gathers, and whom it tells.
    pub flow: crate::flow::Flow,
    /// Limits the manifest leaves at their defaults (`timeout`, `memory_limit`,
    /// `read_limit`, `retries`): a package's suggestions may fill them.
    #[serde(skip)]
    pub unset: Vec<&'static str>,
}

/// Where a SQL block's query runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Engine {
    /// The host's embedded query engine, over the block's upstream outputs.
    #[default]
    DataFusion,
    /// The database of an io_config.yaml profile (`engine: postgres:<profile>`); upstream
    /// outputs are uploaded there as temporary tables first.
    Postgres {
        /// The profile's name.
        profile: String,
    },
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Engine::DataFusion => f.write_str("datafusion"),
            Engine::Postgres { profile } => write!(f, "postgres:{profile}"),
        }
    }
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// The role of a block in a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Produces data from outside the pipeline.
    Loader,
    /// Turns upstream data into new data.
    Transformer,
    /// Writes data out of the pipeline.
    Exporter,
    /// Waits for a condition in the outside world.
    Sensor,
    /// Decides whether downstream blocks run.
    Condition,
    /// Fans out: each output row becomes a child run.
    Dynamic,
    /// Runs after others, for notification or cleanup.
    Callback,
}

impl Kind {
    /// Every kind, in documentation order.
    pub const ALL: [Kind; 7] = [
        Kind::Loader,
        Kind::Transformer,
        Kind::Exporter,
        Kind::Sensor,
        Kind::Condition,
        Kind::Dynamic,
        Kind::Callback,
    ];

    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Loader => "loader",
            Kind::Transformer => "transformer",
            Kind::Exporter => "exporter",
            Kind::Sensor => "sensor",
            Kind::Condition => "condition",
            Kind::Dynamic => "dynamic",
            Kind::Callback => "callback",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a block's code comes from, resolved against the project root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Source {
    /// A Rust crate (a folder with `Cargo.toml`) built to a component by `weft build`.
    Rust {
        /// Absolute path of the crate folder.
        dir: PathBuf,
        /// The path as written in the manifest.
        written: String,
    },
    /// A Python file built to a component (with the Python SDK) by `weft build`.
    Python {
        /// Absolute path of the `.py` file.
        path: PathBuf,
        /// The path as written in the manifest.
        written: String,
    },
    /// A SQL file run by the host's query engine or a profile's database; no component.
    Sql {
        /// Absolute path of the `.sql` file.
        path: PathBuf,
        /// The path as written in the manifest.
        written: String,
    },
    /// A prebuilt component file.
    Wasm {
        /// Absolute path of the `.wasm` file.
        path: PathBuf,
        /// The path as written in the manifest.
        written: String,
    },
    /// A package pinned in weft.lock (`pkg:namespace/name`); before a build it is resolved
    /// to the component (or SQL) it holds.
    Package {
        /// `namespace/name`.
        name: String,
        /// As written in the manifest.
        written: String,
    },
}

impl Source {
    /// The source as written in the manifest.
    pub fn written(&self) -> &str {
        match self {
            Source::Rust { written, .. }
            | Source::Python { written, .. }
            | Source::Sql { written, .. }
            | Source::Wasm { written, .. }
            | Source::Package { written, .. } => written,
        }
    }
}

/// Capabilities granted to a block. The host denies everything not listed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grants {
    /// URL prefixes the block may read through the host (`https://host[:port]/path/`,
    /// `file://`, `s3://`, `gs://`, `local://`). A port counts: `http://10.0.0.5:8080/`
    /// covers that port only, no port means the scheme's default, `:*` any port.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Where the block may write: folders (`file://`, `local://`, `s3://`, `gs://`) and
    /// database tables (`postgres://<profile>/[<schema>[.<table>]]`,
    /// `bigquery://<profile>/[<dataset>[.<table>]]`). Reading a folder never allows writing
    /// it; a Postgres profile answers read-only queries unless a grant covers its whole
    /// database (`postgres://<profile>/`).
    #[serde(default)]
    pub write: Vec<String>,
    /// io_config.yaml profiles the block may use.
    #[serde(default)]
    pub profiles: Vec<String>,
    /// Environment variables passed into the block's WASI environment (their values are
    /// masked in the run's logs).
    #[serde(default)]
    pub env: Vec<String>,
}

impl Block {
    /// True for condition and callback blocks: they run attached to another block (or the
    /// run), never as a step of the graph of their own.
    pub fn is_attached(&self) -> bool {
        matches!(self.kind, Kind::Condition | Kind::Callback)
    }
}
