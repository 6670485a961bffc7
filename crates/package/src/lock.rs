//! `weft.lock`: which version of each package a project uses, pinned by digest. Written by
//! `weft add` and `weft update`; read by every build. Commit it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::PackageError;

/// Lock format version.
const FORMAT: u32 = 1;

/// The whole lock file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// Format version (1).
    #[serde(default = "format")]
    pub version: u32,
    /// One entry per package, sorted by name.
    #[serde(default, rename = "package")]
    pub packages: Vec<Locked>,
}

fn format() -> u32 {
    FORMAT
}

impl Default for Lock {
    fn default() -> Self {
        Lock {
            version: FORMAT,
            packages: Vec::new(),
        }
    }
}

/// One pinned package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Locked {
    /// `namespace/name`, as pipelines write it after `pkg:`.
    pub name: String,
    /// `host[:port]` it came from.
    pub registry: String,
    /// The versions accepted, as added.
    pub requirement: String,
    /// The version in use.
    pub version: String,
    /// Digest of its OCI manifest.
    pub manifest: String,
    /// Digest of its component (the `application/wasm` layer).
    pub content: String,
    /// Digest of the grants it requests (see [`crate::grants::digest`]).
    pub grants: String,
}

impl Lock {
    /// Read `path`; a missing file is an empty lock.
    ///
    /// # Errors
    /// [`PackageError::Io`] when it cannot be read, [`PackageError::Invalid`] when it does not
    /// parse (naming the file).
    pub fn read(path: &Path) -> Result<Lock, PackageError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lock::default()),
            Err(e) => return Err(PackageError::io(path)(e)),
        };
        let lock: Lock = toml::from_str(&text)
            .map_err(|e| PackageError::Invalid(format!("{}: {e}", path.display())))?;
        if lock.version != FORMAT {
            return Err(PackageError::Invalid(format!(
                "{}: lock format {} is not one this weft reads ({FORMAT})",
                path.display(),
                lock.version
            )));
        }
        Ok(lock)
    }

    /// Write to `path` (through a temporary file, so a crash never leaves half a lock).
    ///
    /// # Errors
    /// [`PackageError::Io`].
    pub fn write(&self, path: &Path) -> Result<(), PackageError> {
        let mut sorted = self.clone();
        sorted.packages.sort_by(|a, b| a.name.cmp(&b.name));
        let body = toml::to_string(&sorted).map_err(|e| PackageError::Invalid(e.to_string()))?;
        let text = format!(
            "# Written by `weft add` and `weft update`: the package versions this project uses,\n# pinned by digest. Commit it; do not edit it by hand.\n{body}"
        );
        let tmp = path.with_extension(format!("lock.tmp{}", std::process::id()));
        std::fs::write(&tmp, text).map_err(PackageError::io(&tmp))?;
        std::fs::rename(&tmp, path).map_err(PackageError::io(path))
    }

    /// The entry for `name` (`namespace/name`).
    pub fn get(&self, name: &str) -> Option<&Locked> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// Put `entry` in, replacing the one of the same name.
    pub fn put(&mut self, entry: Locked) {
        self.packages.retain(|p| p.name != entry.name);
        self.packages.push(entry);
        self.packages.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_round_trips_sorted_and_rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weft.lock");
        assert_eq!(Lock::read(&path).unwrap(), Lock::default());
        let entry = |name: &str| Locked {
            name: name.into(),
            registry: "127.0.0.1:5000".into(),
            requirement: "^1".into(),
            version: "1.0.0".into(),
            manifest: "sha256:aa".into(),
            content: "sha256:bb".into(),
            grants: "sha256:cc".into(),
        };
        let mut lock = Lock {
            version: 1,
            packages: vec![],
        };
        lock.put(entry("z/b"));
        lock.put(entry("a/b"));
        lock.put(entry("z/b"));
        lock.write(&path).unwrap();
        let back = Lock::read(&path).unwrap();
        assert_eq!(
            back.packages
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
            ["a/b", "z/b"]
        );
        std::fs::write(&path, "[[package]]\nname = 1\n").unwrap();
        let e = Lock::read(&path).unwrap_err().to_string();
        assert!(e.contains("weft.lock"), "{e}");
    }
}
