//! The Wasm toolchain `weft build` drives: read from `$WEFT_HOME/toolchain/env`, written by
//! `weft setup` (rustup's wasm32-wasip2 target, or Debian's rustc-web with build-std).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::BuildError;

/// How to invoke cargo for guests.
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// The cargo executable.
    pub cargo: PathBuf,
    /// Environment for cargo (target, flags, build-std settings).
    pub env: Vec<(String, String)>,
    /// The env file's text; part of every block's build key.
    pub fingerprint: String,
}

/// Variables of the calling environment that would leak into guest builds (set by an outer
/// cargo, for example) and are removed.
const SCRUB: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTC",
    "RUSTDOC",
    "RUSTC_WRAPPER",
    "RUSTC_BOOTSTRAP",
    "CARGO_UNSTABLE_BUILD_STD",
    "CARGO_MAKEFLAGS",
];

impl Toolchain {
    /// Find the toolchain set up under `home`.
    ///
    /// # Errors
    /// [`BuildError::NoToolchain`] when `weft setup` has not run.
    pub fn find(home: &Path) -> Result<Toolchain, BuildError> {
        let file = home.join("toolchain").join("env");
        let text = std::fs::read_to_string(&file).map_err(|_| BuildError::NoToolchain {
            reason: format!("{} does not exist", file.display()),
        })?;
        let mut cargo = PathBuf::from("cargo");
        let mut env = Vec::new();
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let Some((k, v)) = line.split_once('=') else {
                return Err(BuildError::NoToolchain {
                    reason: format!(
                        "{}: cannot read line `{line}`; run `weft setup` again",
                        file.display()
                    ),
                });
            };
            if k == "WEFT_CARGO" {
                cargo = PathBuf::from(v);
            } else {
                env.push((k.to_string(), v.to_string()));
            }
        }
        Ok(Toolchain {
            cargo,
            env,
            fingerprint: text,
        })
    }

    /// A cargo command with this toolchain's environment and nothing inherited that could
    /// change the build.
    pub fn cargo(&self) -> Command {
        self.with_env(Command::new(&self.cargo))
    }

    /// Whether builds can run in the jail (see [`super::jail`]): bubblewrap works here and the
    /// toolchain needs nothing fetched while it builds (Debian's build-std fetches std's
    /// dependencies during the build).
    pub fn jailed(&self) -> bool {
        !self
            .env
            .iter()
            .any(|(k, _)| k == "CARGO_UNSTABLE_BUILD_STD")
            && super::jail::available()
    }

    /// cargo in the jail, only `writable` folders writable.
    pub fn jailed_cargo(&self, writable: &[&Path]) -> Command {
        self.with_env(super::jail::command(&self.cargo, writable))
    }

    fn with_env(&self, mut cmd: Command) -> Command {
        for k in SCRUB {
            cmd.env_remove(k);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// The target triple guests build for.
    pub fn target(&self) -> &str {
        self.env
            .iter()
            .find(|(k, _)| k == "CARGO_BUILD_TARGET")
            .map(|(_, v)| v.as_str())
            .unwrap_or("wasm32-wasip2")
    }
}
