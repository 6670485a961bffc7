//! Python blocks: one `.py` file plus the `weft` Python SDK, built to a component with
//! componentize-py (CPython for WASI), with pure-Python requirements bundled.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::sdk::hex;
use super::BuildError;

/// The componentize-py release `weft setup` installs; part of every Python block's key.
const COMPONENTIZE_PY: &str = "componentize-py 0.25.1";
/// The CPython that componentize-py embeds: requirements are resolved for it.
const GUEST_PYTHON: &str = "3.14";

/// Packages that need native extensions: they cannot run inside the sandbox.
pub(crate) const NATIVE: &[&str] = &[
    "numpy",
    "pyarrow",
    "polars",
    "scipy",
    "sklearn",
    "scikit_learn",
    "torch",
    "tensorflow",
    "matplotlib",
    "psycopg2",
    "lxml",
    "duckdb",
    "numba",
    "cython",
    "grpc",
    "cryptography",
    "orjson",
];

/// A Python block source, checked and ready to build.
pub struct PythonBlock<'a> {
    block: &'a str,
    written: &'a str,
    source: String,
    module: String,
    requirements: Vec<String>,
    tool: PathBuf,
    pip: PathBuf,
}

impl<'a> PythonBlock<'a> {
    /// Read and check the block: a valid module name, no native packages.
    ///
    /// # Errors
    /// [`BuildError::Refused`] for native imports or requirements, [`BuildError::Io`] when the
    /// file cannot be read, [`BuildError::NoToolchain`] without componentize-py.
    pub fn new(
        block: &'a str,
        written: &'a str,
        path: &Path,
        home: &Path,
    ) -> Result<Self, BuildError> {
        let source = std::fs::read_to_string(path).map_err(|e| BuildError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let refuse = |reason: String| BuildError::Refused {
            block: block.to_string(),
            source_path: written.to_string(),
            reason,
        };
        let module = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string();
        let valid = module
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && module
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid
            || ["weft", "app", "wit_world"].contains(&module.as_str())
            || module.starts_with("componentize_py")
        {
            return Err(refuse(format!(
                "`{module}` cannot be a module name: name the file like a Python identifier that is not weft, app or wit_world"
            )));
        }
        for (line_no, line) in source.lines().enumerate() {
            if let Some(pkg) = imported_native(line) {
                return Err(refuse(format!(
                    "line {}: imports `{pkg}`, a package with native extensions, which cannot run inside the WebAssembly sandbox; use weft's Table API (select, filter, with_column, cast, sql, ...), which runs at native speed in the host",
                    line_no + 1
                )));
            }
        }
        let requirements = requirements(&source);
        if let Some(bad) = requirements.iter().find(|r| !is_plain_requirement(r)) {
            return Err(refuse(format!(
                "requirement `{bad}` is not a package name with an optional version (e.g. `humanize==4.9.0`); URLs, paths, options and markers are refused, so a build only ever fetches pure-Python wheels from the index"
            )));
        }
        if let Some(pkg) = requirements.iter().find(|r| package_name(r) == "pandas") {
            return Err(refuse(format!(
                "requirement `{pkg}`: weft provides `pandas` itself (a pandas-compatible module over the host engine, in the sandbox); drop it from `# requirements:`"
            )));
        }
        if let Some(pkg) = requirements
            .iter()
            .find(|r| NATIVE.contains(&package_name(r).as_str()))
        {
            return Err(refuse(format!(
                "requirement `{pkg}` has native extensions, which cannot run inside the WebAssembly sandbox; use weft's Table API instead"
            )));
        }
        let bin = home.join("toolchain").join("python").join("bin");
        let tool = bin.join("componentize-py");
        if !tool.is_file() {
            return Err(BuildError::NoToolchain {
                reason: format!("{} does not exist (Python blocks need it)", tool.display()),
            });
        }
        Ok(PythonBlock {
            block,
            written,
            source,
            module,
            requirements,
            tool,
            pip: bin.join("pip"),
        })
    }

    /// The content hash of the block, its requirements, the SDK and the toolchain.
    ///
    /// # Errors
    /// Never in practice; kept for symmetry with file-hashing sources.
    pub fn key(&self, sdk: &str) -> std::io::Result<String> {
        let mut h = Sha256::new();
        for part in [COMPONENTIZE_PY, sdk, &self.module, &self.source] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        for r in &self.requirements {
            h.update(r.as_bytes());
        }
        Ok(format!("py-{}", &hex(&h.finalize())[..24]))
    }

    /// Build the component into `out`, working in `work/<key>`.
    ///
    /// # Errors
    /// [`BuildError::Compile`] with Python's message (file and line) when the module does not
    /// import; [`BuildError::Refused`] when a requirement cannot be bundled.
    pub fn build(
        &self,
        sdk_root: &Path,
        work: &Path,
        out: &Path,
        key: &str,
    ) -> Result<(), BuildError> {
        // A folder per process: two builds of the same block at once never share one.
        let dir = work.join(format!("{key}.{}", super::unique()));
        let _ = std::fs::remove_dir_all(&dir);
        let built = self.componentize(sdk_root, &dir, out);
        let _ = std::fs::remove_dir_all(&dir);
        built
    }

    /// Write the block, the SDK and its requirements into `dir` and run componentize-py there.
    fn componentize(&self, sdk_root: &Path, dir: &Path, out: &Path) -> Result<(), BuildError> {
        let dir = dir.to_path_buf();
        let io = |path: &Path, e: std::io::Error| BuildError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let app = format!(
            "# generated by weft build\nfrom weft._blocks import WitWorld  # noqa: F401\nimport {}  # noqa: F401\n",
            self.module
        );
        std::fs::write(dir.join("app.py"), app).map_err(|e| io(&dir, e))?;
        let module_file = dir.join(format!("{}.py", self.module));
        std::fs::write(&module_file, &self.source).map_err(|e| io(&module_file, e))?;

        // The SDK this build sees is its own copy, written from the binary.
        let sdk = dir.join(".sdk");
        super::sdk::write_python(&sdk)?;
        let _ = sdk_root;
        let mut paths = vec![dir.clone(), sdk.join("sdk-python")];
        if !self.requirements.is_empty() {
            let deps = dir.join("deps");
            self.bundle(&deps)?;
            paths.push(deps);
        }
        componentize_py(&self.tool, &dir, &sdk, &paths, out).map_err(|text| match text {
            Failed::Io(e) => e,
            Failed::Said(text) => BuildError::Compile {
                block: self.block.to_string(),
                source_path: self.written.to_string(),
                output: self.explain(&text),
            },
        })
    }

    /// The block's module name (its file's stem).
    pub fn module(&self) -> &str {
        &self.module
    }

    /// The block's source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the block bundles requirements (the shared runner has none of them).
    pub fn has_requirements(&self) -> bool {
        !self.requirements.is_empty()
    }

    /// Install the requirements as pure-Python wheels into `deps`.
    fn bundle(&self, deps: &Path) -> Result<(), BuildError> {
        let output = Command::new(&self.pip)
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",
            ])
            .args([
                "--only-binary=:all:",
                "--platform",
                "any",
                "--implementation",
                "py",
                "--abi",
                "none",
            ])
            .args(["--python-version", GUEST_PYTHON, "--target"])
            .arg(deps)
            .arg("--")
            .args(&self.requirements)
            .output()
            .map_err(|e| BuildError::Io {
                path: self.pip.clone(),
                source: e,
            })?;
        if output.status.success() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&output.stderr);
        let reason: Vec<&str> = text.lines().filter(|l| l.starts_with("ERROR")).collect();
        Err(BuildError::Refused {
            block: self.block.to_string(),
            source_path: self.written.to_string(),
            reason: format!(
                "cannot bundle requirements {}: {}; only pure-Python packages (py3-none-any wheels) can run inside the sandbox",
                self.requirements.join(", "),
                reason.join(" ")
            ),
        })
    }

    /// componentize-py's failure, reduced to Python's own message and pointing at the
    /// block's file (componentize-py shows the build folders as `/0/`, `/1/`, ...).
    fn explain(&self, text: &str) -> String {
        let file = format!("{}.py", self.module);
        let lines: Vec<&str> = text.lines().collect();
        let end = lines
            .iter()
            .position(|l| l.starts_with("Caused by:"))
            .unwrap_or(lines.len());
        let start = lines[..end]
            .iter()
            .position(|l| l.contains(&format!("/{file}\"")));
        let body: Vec<&str> = match start {
            Some(s) => lines[s..end].to_vec(),
            None => lines
                .iter()
                .skip(end + 1)
                .take_while(|l| !l.starts_with("Stack backtrace"))
                .copied()
                .collect(),
        };
        let mut out = body.join("\n").trim().to_string();
        for n in 0..10 {
            out = out.replace(
                &format!("\"/{n}/{file}\""),
                &format!("\"{}\"", self.written),
            );
        }
        out
    }
}

/// Why componentize-py did not produce a component.
enum Failed {
    /// It could not be started, or its output not moved into place.
    Io(BuildError),
    /// What it said (Python's traceback among it).
    Said(String),
}

/// Run componentize-py in `dir` on its `app` module, with `sdk`'s WIT and `paths` on the
/// module path, writing the component to `out` (through a temporary file).
fn componentize_py(
    tool: &Path,
    dir: &Path,
    sdk: &Path,
    paths: &[PathBuf],
    out: &Path,
) -> Result<(), Failed> {
    let io = |path: &Path, e: std::io::Error| {
        Failed::Io(BuildError::Io {
            path: path.to_path_buf(),
            source: e,
        })
    };
    let tmp = out.with_extension(format!("tmp{}", super::unique()));
    let mut cmd = Command::new(tool);
    cmd.current_dir(dir)
        .arg("-d")
        .arg(sdk.join("wit"))
        .arg("-w")
        .arg("weft:block/block")
        .arg("componentize");
    for p in paths {
        cmd.arg("-p").arg(p);
    }
    cmd.arg("app").arg("-o").arg(&tmp);
    cmd.env("RUST_BACKTRACE", "0");
    let output = cmd.output().map_err(|e| io(tool, e))?;
    if !output.status.success() {
        return Err(Failed::Said(
            String::from_utf8_lossy(&output.stderr).into_owned()
                + &String::from_utf8_lossy(&output.stdout),
        ));
    }
    std::fs::rename(&tmp, out).map_err(|e| io(out, e))
}

/// The shared runner's app module: the SDK's exports, switched to take sources.
const RUNNER_APP: &str = "# generated by weft build: the shared runner\nfrom weft._blocks import WitWorld  # noqa: F401\nfrom weft import _runner\nimport mage_ai.data_preparation.decorators  # noqa: F401\nimport mage_ai.io.config, mage_ai.io.postgres, mage_ai.io.bigquery  # noqa: F401,E401\nimport mage_ai.io.google_cloud_storage, mage_ai.io.s3, mage_ai.io.file  # noqa: F401,E401\nimport mage_ai.settings.repo  # noqa: F401\nimport pandas  # noqa: F401\n\n_runner.enable()\n";

/// The shared runner: one component, built once per SDK and toolchain, that runs any Python
/// block without requirements from the source sent with each call (see `weft._runner`).
/// A block edited while `weft serve` runs is run this way until its own component is built.
pub struct Runner {
    tool: PathBuf,
}

impl Runner {
    /// The runner built with the toolchain under `home`.
    ///
    /// # Errors
    /// [`BuildError::NoToolchain`] without componentize-py.
    pub fn new(home: &Path) -> Result<Self, BuildError> {
        let tool = home
            .join("toolchain")
            .join("python")
            .join("bin")
            .join("componentize-py");
        if !tool.is_file() {
            return Err(BuildError::NoToolchain {
                reason: format!("{} does not exist (Python blocks need it)", tool.display()),
            });
        }
        Ok(Runner { tool })
    }

    /// The runner's content hash: the toolchain and the SDK.
    pub fn key(sdk: &str) -> String {
        let mut h = Sha256::new();
        for part in [COMPONENTIZE_PY, sdk, RUNNER_APP] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        format!("py-runner-{}", &hex(&h.finalize())[..24])
    }

    /// Build the runner into `out`, working in `work/<key>.<pid>`.
    ///
    /// # Errors
    /// [`BuildError::Component`] with componentize-py's message when it fails.
    pub fn build(&self, work: &Path, out: &Path, key: &str) -> Result<(), BuildError> {
        let dir = work.join(format!("{key}.{}", super::unique()));
        let _ = std::fs::remove_dir_all(&dir);
        let built = self.componentize(&dir, out);
        let _ = std::fs::remove_dir_all(&dir);
        built
    }

    fn componentize(&self, dir: &Path, out: &Path) -> Result<(), BuildError> {
        let io = |path: &Path, e: std::io::Error| BuildError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        std::fs::write(dir.join("app.py"), RUNNER_APP).map_err(|e| io(dir, e))?;
        let sdk = dir.join(".sdk");
        super::sdk::write_python(&sdk)?;
        let paths = [dir.to_path_buf(), sdk.join("sdk-python")];
        componentize_py(&self.tool, dir, &sdk, &paths, out).map_err(|f| match f {
            Failed::Io(e) => e,
            Failed::Said(text) => BuildError::Component {
                block: "(the Python runner)".into(),
                source_path: "weft SDK".into(),
                reason: text,
            },
        })
    }
}

/// The native package a line of Python imports, if any.
fn imported_native(line: &str) -> Option<String> {
    let line = line.trim_start();
    let rest = line
        .strip_prefix("import ")
        .or_else(|| line.strip_prefix("from "))?;
    rest.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty() && *s != "import")
        .map(|m| m.split('.').next().unwrap_or(m).to_string())
        .take(if line.starts_with("from ") {
            1
        } else {
            usize::MAX
        })
        .find(|m| NATIVE.contains(&m.as_str()))
}

/// Whether `r` is a PEP 508 name with optional extras and version specifiers, and nothing
/// else: no URL, path, option (`--index-url`), direct reference (`@`) or marker.
fn is_plain_requirement(r: &str) -> bool {
    let name_end = r
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(r.len());
    let (name, mut rest) = r.split_at(name_end);
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !edge(name.chars().next()) || !edge(name.chars().last()) {
        return false;
    }
    if let Some(extras) = rest.strip_prefix('[') {
        let Some((inside, after)) = extras.split_once(']') else {
            return false;
        };
        if !inside.split(',').all(|e| {
            !e.trim().is_empty()
                && e.trim()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        }) {
            return false;
        }
        rest = after;
    }
    let rest = rest.trim();
    rest.is_empty()
        || rest.split(',').all(|spec| {
            let spec = spec.trim();
            let version = ["===", "==", "!=", "~=", ">=", "<=", ">", "<"]
                .iter()
                .find_map(|op| spec.strip_prefix(op));
            version.is_some_and(|v| {
                let v = v.trim();
                !v.is_empty()
                    && v.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '.' | '*' | '+' | '!' | '_' | '-')
                    })
            })
        })
}

/// Requirements from `# requirements: a, b==1.0` comment lines.
fn requirements(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|l| l.trim().strip_prefix('#').map(str::trim))
        .filter_map(|l| l.strip_prefix("requirements:"))
        .flat_map(|l| l.split(','))
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect()
}

/// `Pandas>=2` → `pandas`.
fn package_name(requirement: &str) -> String {
    requirement
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
        .replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_imports_are_spotted() {
        // weft's own pandas runs in the sandbox.
        assert_eq!(imported_native("import pandas as pd"), None);
        assert_eq!(
            imported_native("import numpy as np").as_deref(),
            Some("numpy")
        );
        assert_eq!(
            imported_native("  from numpy.linalg import norm").as_deref(),
            Some("numpy")
        );
        assert_eq!(
            imported_native("import json, pyarrow.parquet").as_deref(),
            Some("pyarrow")
        );
        assert_eq!(imported_native("from weft import transformer"), None);
        assert_eq!(imported_native("# import pandas"), None);
        assert_eq!(imported_native("important = 1"), None);
    }

    #[test]
    fn requirements_are_names_and_versions_only() {
        for ok in [
            "humanize",
            "humanize==4.9.0",
            "python-dateutil>=2.8",
            "zope.interface~=6.0",
            "requests[socks]==2.32.3",
            "attrs!=23.1.0",
            "six===1.16.0",
        ] {
            assert!(is_plain_requirement(ok), "{ok}");
        }
        for bad in [
            "--index-url https://evil.example/simple",
            "-e .",
            "https://evil.example/pkg.whl",
            "./local-pkg",
            "/abs/pkg.tar.gz",
            "pkg @ https://evil.example/pkg.zip",
            "pkg; python_version > '3'",
            "pkg==1.0 --global-option=x",
            "git+https://example.com/r.git",
            "pkg[]",
            "-r requirements.txt",
            "",
        ] {
            assert!(!is_plain_requirement(bad), "{bad}");
        }
    }

    #[test]
    fn requirements_come_from_comment_headers() {
        let src =
            "# requirements: humanize==4.9.0, python-dateutil\n#requirements: six\nimport json\n";
        assert_eq!(
            requirements(src),
            ["humanize==4.9.0", "python-dateutil", "six"]
        );
        assert_eq!(package_name("Scikit-Learn>=1.0"), "scikit_learn");
    }
}
