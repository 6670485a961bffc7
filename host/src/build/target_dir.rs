//! Where a Rust block crate is compiled.
//!
//! A build runs code besides the compiler: the build scripts and proc-macros of the crate's
//! dependencies, and the crate's own build script. Whatever runs can write anywhere in the
//! target folder, so a folder is shared only by crates whose builds run exactly the same
//! code: the same locked packages (registry or git, each pinned by version and checksum or
//! commit), no build script of their own, no path, git or patched dependency of their own —
//! only the SDK weft supplies. Such crates compile their dependencies once between them, and a
//! new block compiles only itself. Any other crate gets a folder of its own, keyed by its path,
//! that no other block's build ever runs in.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::sdk::hex;

/// The target folder under `root` for the crate in `dir` (whose `Cargo.lock` the build's
/// fetch has written), built against the SDK in `sdk_dir`.
pub fn for_crate(root: &Path, dir: &Path, sdk_dir: &Path) -> PathBuf {
    match shared_key(dir, sdk_dir) {
        Some(key) => root.join(format!("deps-{key}")),
        None => {
            let place = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
            root.join(super::hash::bytes(place.to_string_lossy().as_bytes()))
        }
    }
}

/// The key of the folder `dir` may share, or `None` when its build may run code of its own.
fn shared_key(dir: &Path, sdk_dir: &Path) -> Option<String> {
    let manifest: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()?
        .parse()
        .ok()?;
    let root = runs_only_its_dependencies(&manifest, dir)?;
    let lock: toml::Table = std::fs::read_to_string(dir.join("Cargo.lock"))
        .ok()?
        .parse()
        .ok()?;
    let mut pinned = Vec::new();
    for package in lock.get("package")?.as_array()? {
        let field = |k: &str| package.get(k).and_then(|v| v.as_str());
        let name = field("name")?;
        match field("source") {
            Some(source) => pinned.push(format!(
                "{name} {} {source} {}",
                field("version")?,
                field("checksum").unwrap_or("-")
            )),
            // Without a source: the crate itself, or the SDK weft patches in.
            None if name == root || name == "weft-sdk" || name == "weft-sdk-macros" => {}
            None => return None,
        }
    }
    pinned.sort();
    let mut h = Sha256::new();
    h.update(b"weft guest dependencies v1\n");
    h.update(sdk_dir.to_string_lossy().as_bytes());
    for line in pinned {
        h.update(b"\n");
        h.update(line.as_bytes());
    }
    Some(hex(&h.finalize())[..24].to_string())
}

/// The package's name when building it runs no code but its locked dependencies': no build
/// script, no path, git or patched dependency, no `[patch]` or `[replace]`.
fn runs_only_its_dependencies(manifest: &toml::Table, dir: &Path) -> Option<String> {
    let package = manifest.get("package")?.as_table()?;
    let name = package.get("name")?.as_str()?.to_string();
    let build_script = match package.get("build") {
        Some(toml::Value::Boolean(b)) => *b,
        Some(_) => true,
        None => dir.join("build.rs").exists(),
    };
    if build_script
        || manifest.contains_key("patch")
        || manifest.contains_key("replace")
        || manifest.contains_key("workspace")
    {
        return None;
    }
    let mut tables: Vec<&toml::Table> = Vec::new();
    for section in ["dependencies", "build-dependencies", "dev-dependencies"] {
        if let Some(t) = manifest.get(section).and_then(|v| v.as_table()) {
            tables.push(t);
        }
    }
    if let Some(targets) = manifest.get("target").and_then(|v| v.as_table()) {
        for target in targets.values().filter_map(|v| v.as_table()) {
            for section in ["dependencies", "build-dependencies", "dev-dependencies"] {
                if let Some(t) = target.get(section).and_then(|v| v.as_table()) {
                    tables.push(t);
                }
            }
        }
    }
    let own_code = tables.iter().flat_map(|t| t.values()).any(|dep| {
        dep.as_table()
            .is_some_and(|d| d.contains_key("path") || d.contains_key("git"))
    });
    (!own_code).then_some(name)
}

#[cfg(test)]
mod tests;
