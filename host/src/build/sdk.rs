//! The guest SDK and WIT contract carried inside the `weft` binary, written out once per
//! version under `$WEFT_HOME/sdk/<hash>/` so projects anywhere on disk can build blocks.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir, DirEntry};
use sha2::{Digest, Sha256};

use super::BuildError;

static SDK_RUST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../sdk-rust");
static SDK_PYTHON: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../sdk-python");
static WIT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../wit");

/// The embedded folders: (name under the SDK root, contents).
fn parts() -> [(&'static str, &'static Dir<'static>); 3] {
    [
        ("sdk-rust", &SDK_RUST),
        ("sdk-python", &SDK_PYTHON),
        ("wit", &WIT),
    ]
}

/// The embedded setup script (`scripts/setup.sh`).
pub const SETUP_SCRIPT: &str = include_str!("../../../scripts/setup.sh");

/// The embedded SDK, ready to be written out.
pub struct Sdk {
    hash: String,
}

impl Sdk {
    /// Describe the embedded SDK (hashing its files).
    pub fn embedded() -> Sdk {
        let mut h = Sha256::new();
        for (prefix, dir) in parts() {
            for (path, contents) in files(dir) {
                h.update(prefix.as_bytes());
                h.update(path.to_string_lossy().as_bytes());
                h.update((contents.len() as u64).to_le_bytes());
                h.update(contents);
            }
        }
        Sdk {
            hash: hex(&h.finalize())[..16].to_string(),
        }
    }

    /// Content hash of SDK + WIT; part of every block's build key.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Write the SDK under `home` (once) and return its root: `sdk-rust/` (the `weft-sdk`
    /// crate), `sdk-python/` (the `weft` package) and `wit/`.
    ///
    /// # Errors
    /// [`BuildError::Io`] naming the folder that could not be written.
    pub fn install(&self, home: &Path) -> Result<PathBuf, BuildError> {
        let root = home.join("sdk").join(&self.hash);
        let crate_dir = root.join("sdk-rust");
        if crate_dir.join("Cargo.toml").is_file() {
            if intact(&root) {
                return Ok(root);
            }
            // Changed since it was written (by a build, say): written again from the binary.
            let stale = home
                .join("sdk")
                .join(format!(".{}-stale-{}", self.hash, super::unique()));
            let _ = std::fs::rename(&root, &stale);
            let _ = std::fs::remove_dir_all(&stale);
        }
        // Write to a temporary sibling, then rename: concurrent builds never see half an SDK.
        let tmp = home
            .join("sdk")
            .join(format!(".{}-{}", self.hash, super::unique()));
        let io = |path: &Path, e: std::io::Error| BuildError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        for (prefix, dir) in parts() {
            for (path, contents) in files(dir) {
                let dest = tmp.join(prefix).join(path);
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
                }
                std::fs::write(&dest, contents).map_err(|e| io(&dest, e))?;
            }
        }
        match std::fs::rename(&tmp, &root) {
            Ok(()) => {}
            // Another process won the race; its copy is identical.
            Err(_) if crate_dir.join("Cargo.toml").is_file() => {
                let _ = std::fs::remove_dir_all(&tmp);
            }
            Err(e) => return Err(io(&root, e)),
        }
        Ok(root)
    }
}

/// Whether the SDK under `root` holds exactly the embedded files' contents.
fn intact(root: &Path) -> bool {
    parts().iter().all(|(prefix, dir)| {
        files(dir).into_iter().all(|(path, contents)| {
            std::fs::read(root.join(prefix).join(path)).is_ok_and(|on_disk| on_disk == contents)
        })
    })
}

/// Write the Python SDK and the WIT, from the binary, into `dest` (`sdk-python/`, `wit/`):
/// the private copy one Python build sees, so nothing a block's code does while it is
/// snapshotted can reach another build.
///
/// # Errors
/// [`BuildError::Io`] naming the file that could not be written.
pub fn write_python(dest: &Path) -> Result<(), BuildError> {
    for (prefix, dir) in parts().into_iter().filter(|(p, _)| *p != "sdk-rust") {
        for (path, contents) in files(dir) {
            let file = dest.join(prefix).join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).map_err(|e| BuildError::Io {
                    path: parent.to_path_buf(),
                    source: e,
                })?;
            }
            std::fs::write(&file, contents).map_err(|e| BuildError::Io {
                path: file.clone(),
                source: e,
            })?;
        }
    }
    Ok(())
}

/// Every file of an embedded folder, skipping build output and lock files, sorted by path.
fn files(dir: &'static Dir<'static>) -> Vec<(&'static Path, &'static [u8])> {
    fn walk(d: &'static Dir<'static>, out: &mut Vec<(&'static Path, &'static [u8])>) {
        for e in d.entries() {
            match e {
                DirEntry::Dir(sub) => {
                    let name = sub
                        .path()
                        .file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or("");
                    if name != "target" && name != "__pycache__" {
                        walk(sub, out);
                    }
                }
                DirEntry::File(f) => {
                    if f.path().file_name().and_then(|n| n.to_str()) != Some("Cargo.lock") {
                        out.push((f.path(), f.contents()));
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort_by_key(|(p, _)| *p);
    out
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
