//! Building a Rust block runs code its author wrote — build scripts and proc-macros — natively,
//! as the user running `weft build`. Where the OS allows it (Linux with bubblewrap), that code
//! runs with no network and nothing writable but the build's own target folder (its
//! temporary files too): dependencies are fetched first (`cargo fetch` runs no crate code),
//! then `cargo build --offline` runs inside the jail. Elsewhere builds run as they are
//! (SECURITY.md says what that trusts).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Whether bubblewrap is installed and works here (checked once per process).
pub fn available() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        Command::new("bwrap")
            .args([
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--unshare-net",
                "true",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// cargo's home, whose lock files a build must be able to take.
fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// `program` run inside the jail, with `writable` folders the only ones it may change.
/// The environment set on the returned command reaches `program`.
pub fn command(program: &Path, writable: &[&Path]) -> Command {
    let mut cmd = Command::new("bwrap");
    cmd.args(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]);
    for dir in writable {
        cmd.arg("--bind").arg(dir).arg(dir);
    }
    // Temporary files go to the first writable folder (the rest of the system, /tmp
    // included, is read-only in the jail).
    if let Some(first) = writable.first() {
        let tmp = first.join(".tmp");
        let _ = std::fs::create_dir_all(&tmp);
        cmd.env("TMPDIR", tmp);
    }
    if let Some(home) = cargo_home() {
        for lock in [".package-cache", ".package-cache-mutate", ".global-cache"] {
            let file = home.join(lock);
            cmd.arg("--bind-try").arg(&file).arg(&file);
        }
    }
    cmd.args(["--unshare-net", "--unshare-ipc", "--die-with-parent", "--"])
        .arg(program);
    cmd
}
