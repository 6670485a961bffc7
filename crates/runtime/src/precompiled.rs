//! The check that precompiled native code (a `.cwasm` file) is what weft compiled before it is
//! mapped and run.
//!
//! The first load of a file reads it whole and compares its SHA-256 with the digest weft
//! recorded when it compiled it. A match is then remembered beside the file as a *stamp*: the
//! file's device, inode, size, modification and change times (`<file>.stamp`). Later loads
//! compare the open file's metadata with the stamp instead of reading the whole file again:
//! any write to the file, a rename over it or a copy changes its inode or change time, and no
//! process can set a change time (only the kernel's clock does). A stamp is written only for a
//! file whose change time is well in the past, so that a write within the same timestamp tick
//! as the check cannot go unnoticed. A stamp that does not match means a full check again.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

/// How old a file's change time must be before a check of it is remembered: longer than any
/// file system's timestamp granularity.
const SETTLED: Duration = Duration::from_secs(2);

/// A precompiled file that matched its digest, opened: load it through [`Checked::path`].
pub(crate) struct Checked {
    /// Kept open so that the path below names the very file that was checked.
    _file: File,
    path: PathBuf,
}

impl Checked {
    /// A path to the checked file: on Linux the open file itself (`/proc/self/fd/N`), so a
    /// file renamed over the original after the check is not the one loaded.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// The precompiled code at `path`, opened, when it is what weft recorded with `digest`.
pub(crate) fn check(path: &Path, digest: &str) -> Option<Checked> {
    let mut file = File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    let stamp = Stamp::of(&meta);
    let stamp_file = stamp_path(path);
    let remembered = std::fs::read_to_string(&stamp_file).ok();
    let known = matches!((&stamp, remembered), (Some(s), Some(r)) if r.trim() == s.line(digest));
    if !known {
        if !digest_matches(&mut file, digest) {
            tracing::warn!(path = %path.display(), "precompiled code does not match its recorded digest; compiling the component again");
            let _ = std::fs::remove_file(&stamp_file);
            return None;
        }
        if let Some(s) = stamp.filter(|s| s.settled()) {
            remember(&stamp_file, &s.line(digest));
        }
    }
    Some(Checked {
        path: open_path(&file).unwrap_or_else(|| path.to_path_buf()),
        _file: file,
    })
}

/// Whether the whole content of `file` has SHA-256 `digest` (hex).
fn digest_matches(file: &mut File, digest: &str) -> bool {
    let mut hasher = Sha256::new();
    std::io::copy(file, &mut hasher).is_ok()
        && hex(&hasher.finalize()).eq_ignore_ascii_case(digest.trim())
}

/// `bytes` as lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stamp file of precompiled file `path`.
fn stamp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".stamp");
    PathBuf::from(name)
}

/// Write `line` as the stamp at `to`, atomically; a failure only costs a full check next time.
fn remember(to: &Path, line: &str) {
    let tmp = to.with_extension(format!("stamp.tmp{}", std::process::id()));
    if std::fs::write(&tmp, line).is_ok() && std::fs::rename(&tmp, to).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// What identifies one version of a file.
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Stamp {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt;
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        Some(Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
        })
    }

    /// Elsewhere there is no change time to trust: every load checks the whole file.
    #[cfg(not(unix))]
    fn of(_meta: &std::fs::Metadata) -> Option<Stamp> {
        None
    }

    /// Whether the file last changed long enough ago for the stamp to be trusted.
    fn settled(&self) -> bool {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        now - self.ctime_ns >= SETTLED.as_nanos() as i128
    }

    /// The stamp as its file holds it (with the digest it vouches for).
    fn line(&self, digest: &str) -> String {
        format!(
            "{} {} {} {} {} {}",
            self.dev,
            self.ino,
            self.size,
            self.mtime_ns,
            self.ctime_ns,
            digest.trim().to_ascii_lowercase()
        )
    }
}

/// A path naming the open `file` itself, where the system has one.
fn open_path(file: &File) -> Option<PathBuf> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let p = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        p.exists().then_some(p)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(bytes: &[u8]) -> String {
        hex(&Sha256::digest(bytes))
    }

    /// Age a file's change time: a stamp is remembered only for settled files, so wait.
    fn settle() {
        std::thread::sleep(SETTLED + Duration::from_millis(50));
    }

    #[test]
    fn a_matching_file_is_stamped_and_a_changed_one_is_caught() {
        let dir = tempdir();
        let path = dir.join("x.cwasm");
        std::fs::write(&path, b"native code").unwrap();
        let digest = sha(b"native code");
        assert!(
            check(&path, &sha(b"other")).is_none(),
            "wrong digest accepted"
        );
        // Fresh file: checked, not stamped yet.
        assert!(check(&path, &digest).is_some());
        assert!(
            !stamp_path(&path).exists(),
            "stamped a file changed just now"
        );
        settle();
        assert!(check(&path, &digest).is_some());
        assert!(
            stamp_path(&path).exists(),
            "a settled file's check was not remembered"
        );
        // Rewritten in place, same size and inode: the change time moves, the full check runs.
        std::fs::write(&path, b"evil code!!").unwrap();
        assert!(
            check(&path, &digest).is_none(),
            "in-place rewrite not caught"
        );
        assert!(!stamp_path(&path).exists(), "stale stamp kept");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_forged_stamp_does_not_vouch_for_other_bytes() {
        let dir = tempdir();
        let path = dir.join("y.cwasm");
        std::fs::write(&path, b"tampered").unwrap();
        let digest = sha(b"original");
        // A stamp naming another file version (or another digest) is not this file's.
        std::fs::write(stamp_path(&path), format!("0 0 8 0 0 {digest}")).unwrap();
        assert!(check(&path, &digest).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempdir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "weft-precompiled-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
