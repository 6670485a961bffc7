//! `weft import mage`: a Mage project (`pipelines/<uuid>/metadata.yaml`, block files,
//! `io_config.yaml`, `triggers.yaml`) written as a weft project that runs it — pipeline.yaml
//! per pipeline, the block files as they are (Mage's block API runs in the sandbox), triggers,
//! and the grants each block's code needs — with a report of what maps cleanly and what needs
//! a hand (file, line, reason). Importing again keeps edits made since (see [`record`]).

mod blocks;
mod emit;
mod facts;
mod grants;
mod model;
mod record;
mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use record::RECORD;
pub use report::{BlockReport, Finding, Report};

use model::{MageBlock, MagePipeline};
use record::Planned;

/// Why an import could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The folder holds no Mage pipelines.
    #[error("{}: not a Mage project (no pipelines/<name>/metadata.yaml)", .path.display())]
    NotMage {
        /// The folder given.
        path: PathBuf,
    },
    /// A Mage file does not parse.
    #[error("{}: {reason}", .path.display())]
    Mage {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Python could not be started to read the block files.
    #[error("cannot read the blocks' Python: {0}")]
    Analyzer(String),
    /// Files edited since the last import whose Mage side changed too.
    #[error("not imported: edited since the last import, and changed in the Mage project too: {}; merge by hand (or move your edited copy away) and import again", names(.files))]
    Conflict {
        /// The files, relative to the weft project.
        files: Vec<PathBuf>,
    },
}

fn names(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What every pipeline's import reads.
struct Ctx<'a> {
    src: &'a Path,
    facts: &'a BTreeMap<PathBuf, facts::Facts>,
    modules: &'a BTreeSet<String>,
}

/// Import the Mage project at `src` into the weft project at `into` (created if missing).
///
/// # Errors
/// See [`ImportError`]; nothing is written when any error is returned.
pub fn import(src: &Path, into: &Path) -> Result<Report, ImportError> {
    let pipelines = model::pipelines(src)?;
    if let (Ok(a), Ok(b)) = (
        src.canonicalize(),
        std::fs::create_dir_all(into).and_then(|()| into.canonicalize()),
    ) {
        if a.starts_with(&b) || b.starts_with(&a) {
            return Err(ImportError::Mage {
                path: into.to_path_buf(),
                reason: format!("the weft project must be a folder of its own, neither the Mage project {} nor inside it (nor holding it); pass --into", src.display()),
            });
        }
    }
    let modules = project_modules(src);
    let python: BTreeSet<PathBuf> = pipelines
        .iter()
        .flat_map(|(_, p)| every_block(p))
        .filter(|b| b.language() == "python" && blocks::inside(src, &b.file()))
        .map(|b| src.join(b.file()))
        .filter(|f| f.is_file())
        .collect();
    let facts = facts::read(&python.into_iter().collect::<Vec<_>>())?;
    let ctx = Ctx {
        src,
        facts: &facts,
        modules: &modules,
    };
    let mut report = Report {
        into: into.to_path_buf(),
        pipelines: Vec::new(),
        blocks: Vec::new(),
        notes: Vec::new(),
        written: Vec::new(),
        kept: Vec::new(),
        removed: Vec::new(),
    };
    let mut plan: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    for (name, p) in &pipelines {
        pipeline(&ctx, name, p, &mut plan, &mut report)?;
    }
    project_files(src, into, &mut plan)?;
    let planned: Vec<Planned> = plan
        .into_iter()
        .map(|(path, bytes)| {
            // io_config.yaml keeps the permissions of the Mage project's (it may hold passwords).
            let mode = (path == Path::new("io_config.yaml"))
                .then(|| mode_of(&src.join(&path)))
                .flatten();
            Planned { path, bytes, mode }
        })
        .collect();
    let outcome = record::apply(into, src, &planned)?;
    report.written = outcome.written;
    report.kept = outcome.kept;
    report.removed = outcome.removed;
    Ok(report)
}

/// Permission bits of `file` (Unix).
fn mode_of(file: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(file)
            .ok()
            .map(|m| m.permissions().mode() & 0o777)
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        None
    }
}

/// Steps, callbacks and conditionals of a pipeline.
fn every_block(p: &MagePipeline) -> impl Iterator<Item = &MageBlock> {
    p.blocks.iter().chain(&p.callbacks).chain(&p.conditionals)
}

/// Import one pipeline: its manifest, block files and triggers go to `plan`.
fn pipeline(
    ctx: &Ctx,
    name: &str,
    p: &MagePipeline,
    plan: &mut BTreeMap<PathBuf, Vec<u8>>,
    report: &mut Report,
) -> Result<(), ImportError> {
    let meta = PathBuf::from("pipelines").join(name).join("metadata.yaml");
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        report.notes.push(Finding::hand(
            &meta,
            0,
            format!("the pipeline folder `{}` is not a weft pipeline name (letters, digits, `_` and `-`); left out", name.escape_debug()),
        ));
        return Ok(());
    }
    let kind = p.kind.as_deref().unwrap_or("python");
    if kind != "python" {
        report.notes.push(Finding::hand(
            &meta,
            0,
            format!("a `{kind}` pipeline (not batch Python): weft imports batch pipelines only; left out"),
        ));
        return Ok(());
    }
    if let Some(e) = p
        .executor_type
        .as_deref()
        .filter(|e| !e.starts_with("local_python"))
    {
        report.notes.push(Finding::note(
            &meta,
            0,
            format!("executor_type `{e}` ignored: every block runs in weft's sandbox"),
        ));
    }
    let pipe = blocks::Pipe {
        name,
        meta: p,
        variables: p
            .variables
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), model::scalar(v)))
            .collect(),
        typed: p
            .variables
            .iter()
            .flatten()
            .filter(|(_, v)| !matches!(v, serde_yaml::Value::String(_) | serde_yaml::Value::Null))
            .map(|(k, _)| k.clone())
            .collect(),
    };
    let mut entries = Vec::new();
    let mut mapped = Vec::new();
    for b in every_block(p) {
        let (entry, file, block_report) = blocks::map(ctx, b, &pipe)?;
        if let (Some(e), Some((path, bytes))) = (entry, file) {
            plan.insert(path, bytes);
            entries.push(e);
        }
        mapped.push(block_report);
    }
    blocks::drop_missing(&mut entries, &mut mapped, &meta);
    report.blocks.extend(mapped);
    let manifest = emit::Manifest {
        description: p.description.clone().filter(|d| !d.trim().is_empty()),
        concurrency: p
            .concurrency_config
            .as_ref()
            .and_then(|c| c.block_run_limit),
        max_active_runs: p
            .concurrency_config
            .as_ref()
            .and_then(|c| c.pipeline_run_limit),
        variables: pipe.variables.clone(),
        blocks: entries,
    };
    let from = format!("pipelines/{name}/metadata.yaml");
    plan.insert(
        PathBuf::from("pipelines").join(name).join("pipeline.yaml"),
        emit::yaml(&manifest, &from),
    );
    let triggers = blocks::triggers(ctx.src, name, &mut report.notes)?;
    if !triggers.is_empty() {
        plan.insert(
            PathBuf::from("pipelines").join(name).join("triggers.yaml"),
            emit::yaml(&triggers, &from),
        );
    }
    report.pipelines.push(name.to_string());
    Ok(())
}

/// `weft.toml` (when the weft project has none) and the Mage project's `io_config.yaml`.
fn project_files(
    src: &Path,
    into: &Path,
    plan: &mut BTreeMap<PathBuf, Vec<u8>>,
) -> Result<(), ImportError> {
    if !into.join("weft.toml").is_file() {
        let name = src
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "imported".into());
        let name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        plan.insert(
            PathBuf::from("weft.toml"),
            format!("name = \"{name}\"\n").into_bytes(),
        );
    }
    let io = src.join("io_config.yaml");
    if io.is_file() {
        let bytes = std::fs::read(&io).map_err(|source| ImportError::Io {
            path: io.clone(),
            source,
        })?;
        plan.insert(PathBuf::from("io_config.yaml"), bytes);
    }
    Ok(())
}

/// Top-level names a block could import from the Mage project itself: the project folder
/// (Mage projects are packages) and its folders and modules other than Mage's own.
fn project_modules(src: &Path) -> BTreeSet<String> {
    const MAGE_DIRS: &[&str] = &[
        "pipelines",
        "data_loaders",
        "transformers",
        "data_exporters",
        "sensors",
        "custom",
        "conditionals",
        "callbacks",
        "scratchpads",
        "charts",
        "markdowns",
        "dbt",
        "extensions",
        "interactions",
        "global_data_products",
    ];
    let mut out = BTreeSet::new();
    if let Some(n) = src
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    {
        out.insert(n);
    }
    for e in std::fs::read_dir(src).into_iter().flatten().flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if path.is_dir() && !MAGE_DIRS.contains(&name.as_str()) && !name.starts_with('.') {
            out.insert(name);
        } else if let Some(stem) = name.strip_suffix(".py") {
            out.insert(stem.to_string());
        }
    }
    out
}
