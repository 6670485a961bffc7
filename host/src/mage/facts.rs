//! Facts about Python block files, read by Python's own parser (`ast`, never running them):
//! imports, decorated functions, calls with the string constants their arguments resolve to,
//! run and environment variables read.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::ImportError;

const ANALYZE: &str = include_str!("analyze.py");

/// What one file holds.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Facts {
    /// Set when the file could not be read or parsed.
    pub error: Option<Located>,
    /// Every import, in order.
    pub imports: Vec<Import>,
    /// Every function with its decorators.
    pub functions: Vec<Function>,
    /// Every call whose callee is a name or attribute chain.
    pub calls: Vec<Call>,
    /// `kwargs.get("x")` / `kwargs["x"]`.
    pub variables: Vec<Named>,
    /// `os.getenv("X")` / `os.environ["X"]`.
    pub env: Vec<Named>,
}

/// A parse or read failure.
#[derive(Debug, Default, Deserialize)]
pub struct Located {
    /// 1-based line (0: none).
    pub line: u32,
    /// Python's message.
    pub message: String,
}

/// `import module` / `from module import ...`.
#[derive(Debug, Default, Deserialize)]
pub struct Import {
    /// The dotted module (leading dots for relative imports).
    pub module: String,
    /// 1-based line.
    pub line: u32,
    /// Part of Python's standard library.
    #[serde(default)]
    pub stdlib: bool,
}

/// A function definition.
#[derive(Debug, Default, Deserialize)]
pub struct Function {
    /// Its name.
    pub name: String,
    /// 1-based line.
    pub line: u32,
    /// Its decorators.
    pub decorators: Vec<Decorator>,
}

/// `@name` or `@name("arg", ...)`.
#[derive(Debug, Default, Deserialize)]
pub struct Decorator {
    /// Dotted name.
    pub name: Option<String>,
    /// String arguments when called (None entries: not constants).
    pub args: Option<Vec<Option<String>>>,
}

/// A call.
#[derive(Debug, Default, Deserialize)]
pub struct Call {
    /// Dotted callee as written (`loader.export`).
    pub callee: String,
    /// What the receiver was made by (`Postgres` for a `with Postgres.with_config(...) as
    /// loader`), or the receiver's name.
    pub receiver: Option<String>,
    /// The called attribute (or the whole callee for a plain name).
    pub method: String,
    /// 1-based line.
    pub line: u32,
    /// Positional arguments: their string value where it is a constant.
    pub args: Vec<Option<String>>,
    /// Positional arguments: the run variable each reads, where it reads one.
    #[serde(default)]
    pub arg_vars: Vec<Option<String>>,
    /// Keyword arguments likewise.
    pub kwargs: BTreeMap<String, Option<String>>,
}

/// A name read at a line.
#[derive(Debug, Default, Deserialize)]
pub struct Named {
    /// The name.
    pub name: String,
}

/// The Python that reads the files: the toolchain's (`weft setup`), else `python3`.
fn python() -> PathBuf {
    let own = crate::build::weft_home().join("toolchain/python/bin/python");
    if own.is_file() {
        own
    } else {
        PathBuf::from("python3")
    }
}

/// Facts about every file of `files`, keyed by file.
///
/// # Errors
/// [`ImportError::Analyzer`] when no Python can be started or it answers nonsense.
pub fn read(files: &[PathBuf]) -> Result<BTreeMap<PathBuf, Facts>, ImportError> {
    if files.is_empty() {
        return Ok(BTreeMap::new());
    }
    let py = python();
    let failed = |why: String| ImportError::Analyzer(format!("{}: {why}", py.display()));
    let mut child = Command::new(&py)
        .args(["-I", "-c", ANALYZE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(e.to_string()))?;
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let input = serde_json::to_vec(&names).map_err(|e| failed(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(&input).map_err(|e| failed(e.to_string()))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    if !out.status.success() {
        return Err(failed(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let by_name: BTreeMap<String, Facts> =
        serde_json::from_slice(&out.stdout).map_err(|e| failed(e.to_string()))?;
    Ok(by_name
        .into_iter()
        .map(|(k, v)| (PathBuf::from(k), v))
        .collect())
}
