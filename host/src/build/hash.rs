//! Content hashes that key the component cache.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::sdk::hex;

/// Full SHA-256 of `data`, hex.
pub fn sha256(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Hash of a file's bytes.
pub fn bytes(data: &[u8]) -> String {
    hex(&Sha256::digest(data))[..24].to_string()
}

/// Hash of a Rust crate's sources (every file except build output and hidden files), the SDK
/// and the toolchain.
///
/// # Errors
/// The first file that cannot be read.
pub fn rust_crate(dir: &Path, sdk: &str, toolchain: &str) -> std::io::Result<String> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let mut h = Sha256::new();
    h.update(sdk.as_bytes());
    h.update(toolchain.as_bytes());
    for rel in files {
        let data = std::fs::read(dir.join(&rel))?;
        h.update(rel.as_bytes());
        h.update((data.len() as u64).to_le_bytes());
        h.update(&data);
    }
    Ok(hex(&h.finalize())[..24].to_string())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}
