//! Packages on this machine, by content digest: `<dir>/sha256/<hex>.wasm`.
//! A file is trusted only when its bytes hash to its name, every time it is read.

use std::path::{Path, PathBuf};

use crate::error::PackageError;

/// The package cache.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The cache in `dir`.
    pub fn new(dir: &Path) -> Cache {
        Cache {
            dir: dir.to_path_buf(),
        }
    }

    /// Where the component of `digest` (`sha256:<hex>`) is kept.
    ///
    /// # Errors
    /// [`PackageError::Invalid`] for a digest that is not `sha256:` and 64 hex digits.
    pub fn path(&self, digest: &str) -> Result<PathBuf, PackageError> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| PackageError::Invalid(format!("`{digest}` is not a sha256 digest")))?;
        Ok(self.dir.join("sha256").join(format!("{hex}.wasm")))
    }

    /// The component of `digest`, if cached, checked against it.
    ///
    /// # Errors
    /// [`PackageError::Digest`] when the cached bytes are not what the digest says (naming the
    /// file); [`PackageError::Io`].
    pub fn get(&self, digest: &str) -> Result<Option<Vec<u8>>, PackageError> {
        let path = self.path(digest)?;
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(PackageError::io(&path)(e)),
        };
        let actual = crate::digest(&bytes);
        if actual != digest {
            return Err(PackageError::Digest {
                what: format!("cached package {} was changed", path.display()),
                expected: digest.to_string(),
                actual,
            });
        }
        Ok(Some(bytes))
    }

    /// Keep `bytes`, which must hash to `digest`; returns where.
    ///
    /// # Errors
    /// [`PackageError::Digest`], [`PackageError::Io`].
    pub fn put(&self, digest: &str, bytes: &[u8]) -> Result<PathBuf, PackageError> {
        let actual = crate::digest(bytes);
        if actual != digest {
            return Err(PackageError::Digest {
                what: "package to cache".into(),
                expected: digest.to_string(),
                actual,
            });
        }
        let path = self.path(digest)?;
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent).map_err(PackageError::io(parent))?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes).map_err(PackageError::io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(PackageError::io(&path))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_bytes_are_checked_on_every_read() {
        let home = tempfile::tempdir().unwrap();
        let cache = Cache::new(home.path());
        let d = crate::digest(b"component");
        assert_eq!(cache.get(&d).unwrap(), None);
        assert!(cache.put(&d, b"other").is_err());
        let path = cache.put(&d, b"component").unwrap();
        assert_eq!(cache.get(&d).unwrap().as_deref(), Some(&b"component"[..]));
        std::fs::write(&path, b"tampered").unwrap();
        let e = cache.get(&d).unwrap_err().to_string();
        assert!(e.contains("was changed") && e.contains(&d), "{e}");
        assert!(cache.path("sha256:../../etc").is_err());
    }
}
