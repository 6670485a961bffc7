//! A weft project on disk: `weft.toml`, `io_config.yaml`, `pipelines/`, `blocks/`, `.weft/`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use weft_pipeline::Pipeline;

use crate::error::CliError;

/// Settings from `weft.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Project name.
    pub name: Option<String>,
    /// State store settings.
    #[serde(default)]
    pub state: StateConfig,
    /// Output store settings.
    #[serde(default)]
    pub objects: ObjectsConfig,
    /// Blocks offered as packages (`weft package NAME`).
    #[serde(default)]
    pub packages: std::collections::BTreeMap<String, crate::packages::PackageSpec>,
}

/// `[state]` of weft.toml.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// `sqlite://...` or `postgres://...`; default `.weft/state.db` in the project.
    pub url: Option<String>,
}

/// `[objects]` of weft.toml.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectsConfig {
    /// Folder for block outputs, relative to the project; default `.weft/objects`.
    pub path: Option<String>,
}

/// An opened project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project folder.
    pub root: PathBuf,
    /// Its settings.
    pub config: ProjectConfig,
    /// Whether pipelines' packages may be downloaded (not with `--locked`).
    pub fetch: crate::packages::Fetch,
}

impl Project {
    /// Open the project at `root`: read `weft.toml` if present.
    ///
    /// # Errors
    /// [`CliError::Project`] when the folder is missing or `weft.toml` is invalid.
    pub fn open(root: &Path) -> Result<Project, CliError> {
        let root = root.canonicalize().map_err(|e| CliError::Project {
            path: root.to_path_buf(),
            reason: format!("cannot open project folder: {e}"),
        })?;
        let file = root.join("weft.toml");
        let config = match std::fs::read_to_string(&file) {
            Ok(text) => toml::from_str(&text).map_err(|e| CliError::Project {
                path: file.clone(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !root.join("pipelines").is_dir() {
                    return Err(CliError::Project {
                        path: root.clone(),
                        reason: "not a weft project (no weft.toml and no pipelines/ folder); create one with `weft init`".into(),
                    });
                }
                ProjectConfig::default()
            }
            Err(e) => {
                return Err(CliError::Project {
                    path: file,
                    reason: e.to_string(),
                })
            }
        };
        Ok(Project {
            root,
            config,
            fetch: crate::packages::Fetch::Allowed,
        })
    }

    /// The project's private folder (`.weft/`).
    pub fn dot_weft(&self) -> PathBuf {
        self.root.join(".weft")
    }

    /// State store URL: `WEFT_STATE_URL`, else weft.toml, else `.weft/state.db`.
    pub fn state_url(&self) -> String {
        if let Ok(url) = std::env::var("WEFT_STATE_URL") {
            if !url.is_empty() {
                return url;
            }
        }
        match &self.config.state.url {
            Some(url) if url.starts_with("sqlite://") && !url.starts_with("sqlite:///") => {
                // Relative SQLite paths are relative to the project, not the working folder.
                let rel = url.trim_start_matches("sqlite://");
                let (path, query) = rel.split_once('?').unwrap_or((rel, ""));
                let q = if query.is_empty() {
                    "mode=rwc".to_string()
                } else {
                    query.to_string()
                };
                format!("sqlite://{}?{q}", self.root.join(path).display())
            }
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.dot_weft().join("state.db").display()
            ),
        }
    }

    /// Folder of stored block outputs.
    pub fn objects_dir(&self) -> PathBuf {
        match &self.config.objects.path {
            Some(p) => self.root.join(p),
            None => self.dot_weft().join("objects"),
        }
    }

    /// The project's IO: io_config.yaml profiles, `file:` paths relative to the project,
    /// `local://` in `.weft/local/` (a folder of its own: not the block outputs).
    ///
    /// # Errors
    /// [`CliError::IoConfig`] naming the file, profile and key when io_config.yaml is wrong.
    pub fn io(&self) -> Result<weft_io::IoContext, CliError> {
        let profiles =
            weft_io::Profiles::load(&self.root.join("io_config.yaml"), "io_config.yaml")?;
        let mut io =
            weft_io::IoContext::new(self.root.clone(), self.dot_weft().join("local"), profiles)?
                .with_private_path(self.objects_dir());
        // A SQLite state store outside `.weft/`, with its journal files.
        if let Some(file) = self.state_url().strip_prefix("sqlite://") {
            let file = file.split('?').next().unwrap_or(file);
            let path = self.root.join(file);
            for suffix in ["", "-wal", "-shm", "-journal"] {
                io = io.with_private_path(std::path::PathBuf::from(format!(
                    "{}{suffix}",
                    path.display()
                )));
            }
        }
        Ok(io)
    }

    /// Names of the pipelines under `pipelines/`, sorted.
    pub fn pipeline_names(&self) -> Vec<String> {
        weft_pipeline::pipeline_names(&self.root)
    }

    /// The manifest path of pipeline `name`.
    pub fn pipeline_file(&self, name: &str) -> PathBuf {
        self.root.join("pipelines").join(name).join("pipeline.yaml")
    }

    /// Load and validate pipeline `name`.
    ///
    /// # Errors
    /// [`CliError::NoSuchPipeline`] listing the pipelines there are, or the manifest's errors.
    pub fn pipeline(&self, name: &str) -> Result<Pipeline, CliError> {
        let file = self.pipeline_file(name);
        if !file.is_file() {
            return Err(CliError::NoSuchPipeline {
                name: name.to_string(),
                available: self.pipeline_names(),
            });
        }
        // Messages name the manifest as users know it: relative to the project.
        let shown = Path::new("pipelines").join(name).join("pipeline.yaml");
        let text = std::fs::read_to_string(&file).map_err(|e| CliError::Project {
            path: file.clone(),
            reason: e.to_string(),
        })?;
        let mut pipeline =
            weft_pipeline::parse(&text, &shown, &self.root, name).map_err(CliError::Manifest)?;
        self.check_profiles(&pipeline)?;
        for notice in crate::packages::resolve(self, &mut pipeline, self.fetch)? {
            // Said to the person at the terminal, like build progress.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("warning: {notice}");
            }
        }
        Ok(pipeline)
    }

    /// Every io profile a block is granted must exist in io_config.yaml.
    fn check_profiles(&self, pipeline: &Pipeline) -> Result<(), CliError> {
        let wanted = pipeline
            .blocks
            .iter()
            .flat_map(|b| b.grants.profiles.iter().map(move |p| (b, p)));
        let mut names: Option<Vec<String>> = None;
        let mut errors = Vec::new();
        for (block, profile) in wanted {
            let known = match &names {
                Some(n) => n,
                None => {
                    let profiles = weft_io::Profiles::load(
                        &self.root.join("io_config.yaml"),
                        "io_config.yaml",
                    )?;
                    names.insert(profiles.names().into_iter().map(String::from).collect())
                }
            };
            if !known.contains(profile) {
                errors.push(weft_pipeline::ManifestError::InvalidField {
                    file: pipeline.file.clone(),
                    block: Some(block.name.clone()),
                    field: "grants.profiles".into(),
                    reason: format!(
                        "io_config.yaml has no profile \"{profile}\"; profiles: {}",
                        if known.is_empty() {
                            "(none)".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(CliError::Manifest(weft_pipeline::ManifestErrors(errors)))
        }
    }

    /// The triggers of pipeline `name` (`pipelines/<name>/triggers.yaml`; none without it).
    ///
    /// # Errors
    /// [`CliError::Manifest`] naming the file and trigger of every problem.
    pub fn triggers(&self, name: &str) -> Result<Vec<weft_pipeline::Trigger>, CliError> {
        let rel = Path::new("pipelines").join(name).join("triggers.yaml");
        weft_pipeline::load_triggers(&self.root.join(&rel), &rel).map_err(CliError::Manifest)
    }

    /// Load every pipeline; failures are returned beside the successes.
    pub fn pipelines(&self) -> Vec<(String, Result<Pipeline, CliError>)> {
        self.pipeline_names()
            .into_iter()
            .map(|n| {
                let p = self.pipeline(&n);
                (n, p)
            })
            .collect()
    }
}
