//! Files of a new project, written by `weft init`.

use std::path::{Path, PathBuf};

use crate::error::CliError;

/// The language of a new project's example blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    /// Python blocks (`blocks/<name>.py`).
    Python,
    /// Rust blocks (`blocks/<name>/`, a crate each).
    Rust,
}

/// `(path, contents)` of every file of a new project called `name`.
pub fn files(name: &str, language: Language) -> Vec<(PathBuf, String)> {
    let fill = |t: &str, krate: &str| t.replace("{{name}}", name).replace("{{crate}}", krate);
    let text = |t: &str| t.to_string();
    let cargo = include_str!("../templates/block.Cargo.toml");
    let mut files: Vec<(PathBuf, String)> = vec![
        (
            "weft.toml".into(),
            fill(include_str!("../templates/weft.toml"), ""),
        ),
        (
            "io_config.yaml".into(),
            text(include_str!("../../io_config.yaml")),
        ),
        (
            ".gitignore".into(),
            text(include_str!("../templates/gitignore")),
        ),
    ];
    let pipeline = "pipelines/example/pipeline.yaml";
    match language {
        Language::Python => files.extend([
            (
                pipeline.into(),
                text(include_str!("../templates/pipeline_python.yaml")),
            ),
            (
                "blocks/load_numbers.py".into(),
                text(include_str!("../templates/load_numbers.py")),
            ),
            (
                "blocks/keep_even.py".into(),
                text(include_str!("../templates/keep_even.py")),
            ),
        ]),
        Language::Rust => files.extend([
            (
                pipeline.into(),
                text(include_str!("../templates/pipeline.yaml")),
            ),
            (
                "blocks/load_numbers/Cargo.toml".into(),
                fill(cargo, "load_numbers"),
            ),
            (
                "blocks/load_numbers/src/lib.rs".into(),
                text(include_str!("../templates/load_numbers.rs")),
            ),
            (
                "blocks/keep_even/Cargo.toml".into(),
                fill(cargo, "keep_even"),
            ),
            (
                "blocks/keep_even/src/lib.rs".into(),
                text(include_str!("../templates/keep_even.rs")),
            ),
        ]),
    }
    files
}

/// Write a new project into `dir` (created if missing).
///
/// # Errors
/// [`CliError::Project`] when `dir` already holds a project; [`CliError::Io`] on write failures.
pub fn write(dir: &Path, name: &str, language: Language) -> Result<Vec<PathBuf>, CliError> {
    if dir.join("weft.toml").exists() {
        return Err(CliError::Project {
            path: dir.to_path_buf(),
            reason: "already holds a weft project (weft.toml exists)".into(),
        });
    }
    let mut written = Vec::new();
    for (rel, contents) in files(name, language) {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| CliError::Io {
                path: parent.to_path_buf(),
                source: e,
            })?;
        }
        std::fs::write(&path, contents).map_err(|e| CliError::Io {
            path: path.clone(),
            source: e,
        })?;
        written.push(rel);
    }
    Ok(written)
}
