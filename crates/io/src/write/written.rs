//! The record a folder write keeps of the files it made (`_weft_written.json` in the folder),
//! so that a later `replace` deletes only files weft itself wrote there — never a file
//! someone else put in a granted folder — and never through a symbolic link.

use std::path::PathBuf;

use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::error::IoError;
use crate::location::Location;

/// The record's file name, in the written folder.
pub(super) const RECORD: &str = "_weft_written.json";

/// The record of folder `base`.
pub(super) fn record_path(base: &StorePath) -> StorePath {
    base.clone().join(RECORD)
}

/// The files an earlier write recorded in `base` (none when there is no readable record).
pub(super) async fn previous(store: &dyn ObjectStore, base: &StorePath) -> Vec<StorePath> {
    let Ok(got) = store.get(&record_path(base)).await else {
        return Vec::new();
    };
    let Ok(bytes) = got.bytes().await else {
        return Vec::new();
    };
    let names: Vec<String> = serde_json::from_slice(&bytes).unwrap_or_default();
    names
        .iter()
        // Only plain relative names below the folder.
        .filter(|n| !n.is_empty() && !n.split('/').any(|s| s.is_empty() || s == ".." || s == "."))
        .filter_map(|n| StorePath::parse(format!("{}/{n}", base.as_ref())).ok())
        .collect()
}

/// The record of `files` (under `base`) as what weft wrote there, to be uploaded with them.
pub(super) fn record_bytes(base: &StorePath, files: &[StorePath]) -> Result<bytes::Bytes, IoError> {
    let prefix = format!("{}/", base.as_ref());
    let mut names: Vec<&str> = files
        .iter()
        .filter_map(|f| f.as_ref().strip_prefix(prefix.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    let body = serde_json::to_vec_pretty(&names).map_err(|e| IoError::Data(e.to_string()))?;
    Ok(bytes::Bytes::from(body))
}

/// Whether writing `file` (under folder `location`, whose own path was resolved when it was
/// granted) follows no symbolic link: no existing part of its path below the folder is one.
pub(super) fn no_links(location: &Location, base: &StorePath, file: &StorePath) -> bool {
    walk_below(location, base, file, true)
}

/// Whether `file` (under folder `location`) can be deleted without following a link: for
/// files on the host, no part of its path below the folder is a symbolic link. Object stores
/// have no links.
pub(super) fn unlinked(location: &Location, base: &StorePath, file: &StorePath) -> bool {
    walk_below(location, base, file, false)
}

/// No part of `file`'s path below `base` is a symbolic link; a part that does not exist
/// (yet) counts as `missing_ok`, as does a file outside `base`.
fn walk_below(location: &Location, base: &StorePath, file: &StorePath, missing_ok: bool) -> bool {
    let Location::File(root) = location else {
        return true;
    };
    let Some(rest) = file
        .as_ref()
        .strip_prefix(base.as_ref())
        .map(|r| r.trim_start_matches('/'))
    else {
        return missing_ok;
    };
    let mut at = PathBuf::from(root);
    for part in rest.split('/').filter(|p| !p.is_empty()) {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => return false,
            Ok(_) => {}
            Err(_) => return missing_ok,
        }
    }
    true
}
