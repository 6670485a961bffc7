//! The project on disk behind a server that may change it: block sources read and written
//! (the files stay the truth), pipeline.yaml edited, and pipelines loaded again when their
//! files change — by the server or by any other editor.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};
use weft_pipeline::Source;

use crate::error::ApiError;
use crate::state::Loaded;

/// A workspace shared by the handlers.
pub type Shared = Arc<dyn Workspace>;

/// Where pipelines come from: the host reads, validates and builds them.
pub trait Workspace: Send + Sync + 'static {
    /// The project's root folder: the server reads and writes files below it only.
    fn root(&self) -> &Path;

    /// Read pipeline `name` from disk, validate it and build its blocks. Blocking: a build
    /// may take seconds.
    ///
    /// # Errors
    /// What stands in the way, with the file and line where known.
    fn load(&self, name: &str) -> Result<Loaded, Problem>;

    /// Like [`Workspace::load`], but ready sooner where it can be: some blocks may run in a
    /// slower, provisional way ([`Loaded::provisional`]) until a full load replaces them.
    ///
    /// # Errors
    /// As [`Workspace::load`].
    fn load_quick(&self, name: &str) -> Result<Loaded, Problem> {
        self.load(name)
    }

    /// Make ready, ahead of the first edit, what quick loads use. Blocking; best effort.
    fn prepare(&self) {}
}

/// Why a pipeline could not be loaded: shown beside it until a later load succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// What went wrong, as the builder or validator said it.
    pub message: String,
    /// The block it is about, if one.
    #[schema(required = true)]
    pub block: Option<String>,
    /// The file it is about, relative to the project.
    #[schema(required = true)]
    pub file: Option<String>,
    /// The 1-based line in that file, where known.
    #[schema(required = true)]
    pub line: Option<u32>,
}

impl Problem {
    /// A problem with no place.
    pub fn new(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            block: None,
            file: None,
            line: None,
        }
    }
}

/// The file a block's source is edited in: a Python or SQL file, a Rust crate's `src/lib.rs`;
/// `None` for prebuilt components and packages.
pub fn source_file(source: &Source) -> Option<PathBuf> {
    match source {
        Source::Python { path, .. } | Source::Sql { path, .. } => Some(path.clone()),
        Source::Rust { dir, .. } => Some(dir.join("src").join("lib.rs")),
        Source::Wasm { .. } | Source::Package { .. } => None,
    }
}

/// The version of a file's content: changes whenever a byte does.
pub fn version(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// `path` if it lies below `root` (both resolved, symbolic links followed), else why not.
///
/// # Errors
/// [`ApiError::Forbidden`] for a path outside the project.
pub fn inside(root: &Path, path: &Path) -> Result<PathBuf, ApiError> {
    let shown = path.strip_prefix(root).unwrap_or(path);
    let outside = || {
        ApiError::Forbidden(format!(
            "{} is not a file of the project's pipelines; weft edits those only",
            shown.display()
        ))
    };
    let root = root.canonicalize().map_err(|_| outside())?;
    // A file that does not exist yet: its folder must.
    let resolved = match path.canonicalize() {
        Ok(p) => p,
        Err(_) => {
            let parent = path.parent().ok_or_else(outside)?;
            let name = path.file_name().ok_or_else(outside)?;
            parent.canonicalize().map_err(|_| outside())?.join(name)
        }
    };
    let private = resolved.strip_prefix(&root).map(|rel| {
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        first.is_none_or(|f| f.starts_with('.') || PRIVATE.contains(&f.as_str()))
    });
    match private {
        Ok(false) => Ok(resolved),
        _ => Err(outside()),
    }
}

/// Files and folders at the project's root no edit may touch: settings, credentials, state.
const PRIVATE: &[&str] = &["weft.toml", "weft.lock", "io_config.yaml", "target"];

/// Write `text` to `path` whole or not at all: a temporary file beside it, renamed over it
/// (keeping the old file's permissions).
///
/// # Errors
/// [`ApiError::Internal`] naming the file.
pub fn write_atomic(path: &Path, text: &[u8]) -> Result<(), ApiError> {
    use std::io::Write as _;
    let name = file_name(path);
    let fail = |e: std::io::Error| ApiError::Internal(format!("writing {name}: {e}"));
    let dir = path
        .parent()
        .ok_or_else(|| fail(std::io::ErrorKind::NotFound.into()))?;
    // A fresh name, created exclusively: never a file another save is writing, never a link.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".weft-tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(text)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(fail)?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(fail)?;
    }
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// Create `path` with `text`; fails if anything (a link too) is there already.
///
/// # Errors
/// [`ApiError::Conflict`] when it exists; [`ApiError::Internal`] otherwise.
pub fn create_new(path: &Path, text: &[u8]) -> Result<(), ApiError> {
    use std::io::Write as _;
    let name = file_name(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                ApiError::Conflict(format!("{name} exists already; pick another name"))
            }
            _ => ApiError::Internal(format!("creating {name}: {e}")),
        })?;
    f.write_all(text)
        .and_then(|()| f.sync_all())
        .map_err(|e| ApiError::Internal(format!("writing {name}: {e}")))
}

/// A regular file's bytes, at most `max`; a missing file is empty.
///
/// # Errors
/// [`ApiError::TooLarge`] over `max`, [`ApiError::Conflict`] for what is not a regular file.
pub fn read_source(path: &Path, max: usize) -> Result<Vec<u8>, ApiError> {
    let name = file_name(path);
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ApiError::Internal(format!("{name}: {e}"))),
        Ok(m) if !m.is_file() => {
            return Err(ApiError::Conflict(format!("{name} is not a regular file")))
        }
        Ok(m) if m.len() > max as u64 => {
            return Err(ApiError::TooLarge(format!(
                "{name} is {} bytes; the editor takes sources up to {max}",
                m.len()
            )))
        }
        Ok(_) => {}
    }
    std::fs::read(path).map_err(|e| ApiError::Internal(format!("{name}: {e}")))
}

/// What a pipeline's files look like now (paths, sizes, modification times): when it
/// differs from the last one seen, the pipeline is loaded again.
pub fn fingerprint(root: &Path, name: &str, loaded: Option<&Loaded>) -> String {
    let dir = root.join("pipelines").join(name);
    let mut files = vec![dir.join("pipeline.yaml"), dir.join("triggers.yaml")];
    if let Some(l) = loaded {
        for b in &l.pipeline.blocks {
            if let Some(f) = source_file(&b.source) {
                files.push(f);
            }
            if let Source::Rust { dir, .. } = &b.source {
                files.push(dir.join("Cargo.toml"));
            }
        }
    }
    let mut h = Sha256::new();
    for f in files {
        h.update(f.to_string_lossy().as_bytes());
        match std::fs::metadata(&f) {
            Ok(m) => {
                h.update(m.len().to_le_bytes());
                let t = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                h.update(t.to_le_bytes());
            }
            Err(_) => h.update(b"-"),
        }
    }
    version(&h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_root_are_refused() {
        let dir = std::env::temp_dir().join(format!("weft-ws-{}", std::process::id()));
        let root = dir.join("project");
        std::fs::create_dir_all(root.join("blocks")).unwrap();
        std::fs::create_dir_all(root.join(".weft")).unwrap();
        std::fs::write(dir.join("secret.py"), "x").unwrap();
        assert!(inside(&root, &root.join("blocks/new.py")).is_ok());
        for bad in [
            "../secret.py",
            "blocks/../../secret.py",
            "nowhere/x.py",
            "io_config.yaml",
            ".weft/api-token",
            "weft.toml",
        ] {
            assert!(inside(&root, &root.join(bad)).is_err(), "{bad}");
        }
        std::os::unix::fs::symlink(&dir, root.join("blocks/up")).unwrap();
        assert!(inside(&root, &root.join("blocks/up/secret.py")).is_err());
        let f = root.join("blocks/a.py");
        write_atomic(&f, b"one").unwrap();
        write_atomic(&f, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "two");
        assert_eq!(version(b"two"), version(b"two"));
        assert_ne!(version(b"two"), version(b"one"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
