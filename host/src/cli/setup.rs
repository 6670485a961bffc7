//! `weft setup`: install the Wasm toolchain with the embedded setup script.

use std::process::Command;

use crate::build::SETUP_SCRIPT;
use crate::error::CliError;

/// Arguments of `weft setup`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run the setup script with bash; its output streams through.
pub fn run(_args: Args) -> Result<i32, CliError> {
    let status = Command::new("bash")
        .arg("-c")
        .arg(SETUP_SCRIPT)
        .arg("weft-setup")
        .env("WEFT_HOME", crate::build::weft_home())
        .status()
        .map_err(|e| CliError::Io {
            path: "bash".into(),
            source: e,
        })?;
    if status.success() {
        Ok(0)
    } else {
        Err(CliError::Usage(format!(
            "the setup script failed ({status})"
        )))
    }
}
