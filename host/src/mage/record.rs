//! Writing an import without losing edits: `mage-import.json` records the hash of every file
//! as the import wrote it. On the next import a file is replaced only if nobody edited it
//! since; an edited file whose Mage side did not change is kept; an edited file whose Mage
//! side changed too stops the import, naming every such file, before anything is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ImportError;

/// The record's file name, at the weft project's root.
pub const RECORD: &str = "mage-import.json";

/// A file the import means to write, relative to the weft project.
#[derive(Debug)]
pub struct Planned {
    /// Path relative to the project.
    pub path: PathBuf,
    /// Its content.
    pub bytes: Vec<u8>,
    /// Permission bits to give it (those of the file it copies), if not the default.
    pub mode: Option<u32>,
}

/// What was done.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Written (new or updated).
    pub written: Vec<PathBuf>,
    /// Edited (or deleted) since the last import and kept so.
    pub kept: Vec<PathBuf>,
    /// Written by an earlier import, no longer part of the Mage project, unedited: removed.
    pub removed: Vec<PathBuf>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Record {
    /// The Mage project imported.
    source: String,
    /// Relative path → SHA-256 of the bytes the import wrote.
    files: BTreeMap<String, String>,
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What to do with one planned file.
enum Step {
    Write,
    Same,
    Keep,
    Conflict,
}

/// Decide for a planned file from what is on disk now and what the last import wrote.
fn step(current: Option<&[u8]>, planned: &[u8], recorded: Option<&String>) -> Step {
    let new = sha(planned);
    match current {
        // Deleted since: a deletion is an edit.
        None if recorded == Some(&new) => Step::Keep,
        None if recorded.is_some() => Step::Conflict,
        None => Step::Write,
        Some(c) if c == planned => Step::Same,
        Some(c) if recorded == Some(&sha(c)) => Step::Write,
        Some(_) if recorded == Some(&new) => Step::Keep,
        Some(_) => Step::Conflict,
    }
}

/// Write `files` into `into` (see the module documentation), and remove the files an earlier
/// import wrote that are no longer planned, unless they were edited since; `source` is
/// recorded.
///
/// # Errors
/// [`ImportError::Conflict`] naming the files changed on both sides; [`ImportError::Io`].
pub fn apply(into: &Path, source: &Path, files: &[Planned]) -> Result<Outcome, ImportError> {
    let record_path = into.join(RECORD);
    let old: Record = match std::fs::read(&record_path) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| ImportError::Mage {
            path: record_path.clone(),
            reason: format!("not an import record ({e}); remove it to import afresh"),
        })?,
        Err(_) => Record::default(),
    };
    let mut out = Outcome::default();
    let mut conflicts = Vec::new();
    let mut to_write = Vec::new();
    let mut record = Record {
        source: source.display().to_string(),
        files: BTreeMap::new(),
    };
    for f in files {
        let key = f.path.to_string_lossy().replace('\\', "/");
        let current = std::fs::read(into.join(&f.path)).ok();
        match step(current.as_deref(), &f.bytes, old.files.get(&key)) {
            Step::Write => to_write.push(f),
            Step::Same => {}
            Step::Keep => out.kept.push(f.path.clone()),
            Step::Conflict => conflicts.push(f.path.clone()),
        }
        record.files.insert(key, sha(&f.bytes));
    }
    let mut to_remove = Vec::new();
    let gone: Vec<(&String, &String)> = old
        .files
        .iter()
        .filter(|(k, _)| !record.files.contains_key(*k))
        .collect();
    for (key, hash) in gone {
        match std::fs::read(into.join(key)) {
            Err(_) => {}
            Ok(c) if &sha(&c) == hash => to_remove.push(PathBuf::from(key)),
            Ok(_) => {
                out.kept.push(PathBuf::from(key));
                record.files.insert(key.clone(), hash.clone());
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(ImportError::Conflict { files: conflicts });
    }
    for f in to_write {
        write(&into.join(&f.path), &f.bytes, f.mode)?;
        out.written.push(f.path.clone());
    }
    for path in to_remove {
        let full = into.join(&path);
        std::fs::remove_file(&full).map_err(|source| ImportError::Io { path: full, source })?;
        out.removed.push(path);
    }
    let json = serde_json::to_vec_pretty(&record).unwrap_or_default();
    write(&record_path, &json, None)?;
    Ok(out)
}

/// Write `bytes` to `path` through a temporary file renamed into place, with `mode` if given.
fn write(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<(), ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension(format!("weft-import-{}", std::process::id()));
    let written = std::fs::write(&tmp, bytes).and_then(|()| match mode {
        #[cfg(unix)]
        Some(m) => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(m))
        }
        _ => Ok(()),
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(path: &str, text: &str) -> Planned {
        Planned {
            path: PathBuf::from(path),
            bytes: text.as_bytes().to_vec(),
            mode: None,
        }
    }

    #[test]
    fn edits_are_kept_replaced_or_refused_by_which_side_changed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let src = Path::new("/mage");
        let first = apply(
            root,
            src,
            &[plan("a.py", "a1"), plan("b.py", "b1"), plan("c.py", "c1")],
        )
        .unwrap();
        assert_eq!(first.written.len(), 3);
        // b edited by the user, Mage unchanged: kept. a untouched, Mage changed: replaced.
        std::fs::write(root.join("b.py"), "b1 edited").unwrap();
        let second = apply(
            root,
            src,
            &[plan("a.py", "a2"), plan("b.py", "b1"), plan("c.py", "c1")],
        )
        .unwrap();
        assert_eq!(second.written, vec![PathBuf::from("a.py")]);
        assert_eq!(second.kept, vec![PathBuf::from("b.py")]);
        assert_eq!(
            std::fs::read_to_string(root.join("b.py")).unwrap(),
            "b1 edited"
        );
        // c edited and changed in Mage too: refused, and nothing else is written either.
        std::fs::write(root.join("c.py"), "c1 edited").unwrap();
        let err = apply(
            root,
            src,
            &[plan("a.py", "a3"), plan("b.py", "b1"), plan("c.py", "c2")],
        )
        .unwrap_err();
        match err {
            ImportError::Conflict { files } => assert_eq!(files, vec![PathBuf::from("c.py")]),
            other => panic!("expected a conflict, got {other}"),
        }
        assert_eq!(std::fs::read_to_string(root.join("a.py")).unwrap(), "a2");
        // A file deleted in weft whose Mage side is unchanged stays deleted; one no longer in
        // the Mage project is removed when unedited.
        std::fs::remove_file(root.join("b.py")).unwrap();
        let fourth = apply(root, src, &[plan("a.py", "a2"), plan("b.py", "b1")]).unwrap();
        assert_eq!(
            fourth.kept,
            vec![PathBuf::from("b.py"), PathBuf::from("c.py")]
        );
        assert!(!root.join("b.py").exists(), "a deletion is kept");
        assert!(fourth.removed.is_empty(), "c.py was edited: kept");
        std::fs::write(root.join("c.py"), "c1").unwrap();
        let fifth = apply(root, src, &[plan("a.py", "a2")]).unwrap();
        assert_eq!(fifth.removed, vec![PathBuf::from("c.py")]);
        assert!(!root.join("c.py").exists());
        // A file that was there before any import and differs is refused as well.
        std::fs::write(root.join("d.py"), "mine").unwrap();
        let err = apply(root, src, &[plan("d.py", "d1")]).unwrap_err();
        assert!(matches!(err, ImportError::Conflict { .. }), "{err}");
    }
}
