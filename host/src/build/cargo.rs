//! One guest crate compiled by cargo for the Wasm target.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::target_dir;
use super::toolchain::Toolchain;

/// Compile the crate in `dir` against the SDK in `sdk_dir`, in its target folder under
/// `targets` (see [`target_dir`]); returns the component's path.
///
/// # Errors
/// The compiler's rendered diagnostics when the build fails.
pub fn build(
    tc: &Toolchain,
    dir: &Path,
    sdk_dir: &Path,
    targets: &Path,
    step: &mut dyn FnMut(&str),
) -> Result<PathBuf, String> {
    let patch = format!(
        "patch.crates-io.weft-sdk.path={:?}",
        sdk_dir.display().to_string()
    );
    // Dependencies come first (outside the jail: fetching runs no crate code); the lock it
    // leaves says which target folder the build may share.
    fetch(tc, dir, &patch)?;
    let target_dir = &target_dir::for_crate(targets, dir, sdk_dir);
    let jailed = tc.jailed();
    let mut cmd = if jailed {
        std::fs::create_dir_all(target_dir)
            .map_err(|e| format!("cannot create {}: {e}", target_dir.display()))?;
        let mut c = tc.jailed_cargo(&[target_dir]);
        c.arg("build").arg("--offline");
        c
    } else {
        let mut c = tc.cargo();
        c.arg("build");
        c
    };
    cmd.arg("--release")
        .arg("--quiet")
        .arg("--message-format=json-render-diagnostics")
        .arg("--target")
        .arg(tc.target())
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        .arg("--config")
        .arg(&patch)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    // Diagnostics go to a file, read after the build: no pipe can fill up and stall cargo.
    let mut stderr_file =
        tempfile::tempfile().map_err(|e| format!("cannot create a temporary file: {e}"))?;
    cmd.stderr(Stdio::from(
        stderr_file
            .try_clone()
            .map_err(|e| format!("cannot create a temporary file: {e}"))?,
    ));
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", tc.cargo.display()))?;
    let mut artifact = None;
    for line in BufReader::new(child.stdout.take().expect("piped stdout")).lines() {
        let Ok(line) = line else { break };
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        if let Some(name) = msg["target"]["name"].as_str() {
            step(name);
        }
        let is_cdylib = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "cdylib"));
        if is_cdylib {
            artifact = msg["filenames"]
                .as_array()
                .and_then(|f| {
                    f.iter()
                        .filter_map(|f| f.as_str())
                        .find(|f| f.ends_with(".wasm"))
                })
                .map(PathBuf::from);
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let mut stderr = String::new();
    let _ = stderr_file.seek(SeekFrom::Start(0));
    let _ = stderr_file.read_to_string(&mut stderr);
    if !status.success() {
        return Err(compiler_errors(&stderr));
    }
    artifact.ok_or_else(|| {
        "cargo produced no .wasm: the block crate needs `[lib] crate-type = [\"cdylib\"]`"
            .to_string()
    })
}

/// Download the crate's dependencies (no build script or proc-macro runs).
fn fetch(tc: &Toolchain, dir: &Path, patch: &str) -> Result<(), String> {
    let out = tc
        .cargo()
        .arg("fetch")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .arg("--target")
        .arg(tc.target())
        .arg("--config")
        .arg(patch)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", tc.cargo.display()))?;
    if out.status.success() {
        return Ok(());
    }
    Err(compiler_errors(&String::from_utf8_lossy(&out.stderr)))
}

/// The error part of cargo's stderr (warnings of dependencies are dropped).
fn compiler_errors(stderr: &str) -> String {
    let kept: Vec<&str> = stderr
        .split("\n\n")
        .filter(|chunk| !chunk.trim_start().starts_with("warning"))
        .collect();
    let text = kept.join("\n\n");
    if text.trim().is_empty() {
        stderr.trim().to_string()
    } else {
        text.trim().to_string()
    }
}
