//! Files of a new project, written by `weft init`.

use std::path::{Path, PathBuf};

use crate::error::CliError;

/// `(path, contents)` of every file of a new project called `name`.
pub fn files(name: &str) -> Vec<(PathBuf, String)> {
    let fill = |t: &str, krate: &str| t.replace("{{name}}", name).replace("{{crate}}", krate);
    let cargo = include_str!("../templates/block.Cargo.toml");
    vec![
        (
            "weft.toml".into(),
            fill(include_str!("../templates/weft.toml"), ""),
        ),
        (
            "io_config.yaml".into(),
            include_str!("../templates/io_config.yaml").to_string(),
        ),
        (
            ".gitignore".into(),
            include_str!("../templates/gitignore").to_string(),
        ),
        (
            "pipelines/example/pipeline.yaml".into(),
            include_str!("../templates/pipeline.yaml").to_string(),
        ),
        (
            "blocks/load_numbers/Cargo.toml".into(),
            fill(cargo, "load_numbers"),
        ),
        (
            "blocks/load_numbers/src/lib.rs".into(),
            include_str!("../templates/load_numbers.rs").to_string(),
        ),
        (
            "blocks/keep_even/Cargo.toml".into(),
            fill(cargo, "keep_even"),
        ),
        (
            "blocks/keep_even/src/lib.rs".into(),
            include_str!("../templates/keep_even.rs").to_string(),
        ),
    ]
}

/// Write a new project into `dir` (created if missing).
///
/// # Errors
/// [`CliError::Project`] when `dir` already holds a project; [`CliError::Io`] on write failures.
pub fn write(dir: &Path, name: &str) -> Result<Vec<PathBuf>, CliError> {
    if dir.join("weft.toml").exists() {
        return Err(CliError::Project {
            path: dir.to_path_buf(),
            reason: "already holds a weft project (weft.toml exists)".into(),
        });
    }
    let mut written = Vec::new();
    for (rel, contents) in files(name) {
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
