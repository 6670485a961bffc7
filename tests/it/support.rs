//! Test projects in temporary folders, the `weft` binary, and the probe block built once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A `weft` command.
pub fn weft() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_weft"));
    c.env_remove("WEFT_STATE_URL");
    c
}

/// The probe block (tests/blocks/probe) compiled once per test process, as a `.wasm` file.
pub fn probe_wasm() -> &'static Path {
    static PROBE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = PROBE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let probe = repo().join("tests/blocks/probe");
        write(
            dir.path(),
            "pipelines/probe/pipeline.yaml",
            &format!(
                "blocks:\n  - {{ name: p, kind: transformer, source: {} }}\n",
                probe.display()
            ),
        );
        let out = weft()
            .arg("--project")
            .arg(dir.path())
            .arg("build")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "building the probe block failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let wasm = std::fs::read_dir(dir.path().join(".weft/components"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "wasm"))
            .expect("a built component");
        (dir, wasm)
    });
    path
}

/// Write `contents` to `root/rel`, creating folders.
pub fn write(root: &Path, rel: &str, contents: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

/// A project in a temporary folder.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub state_url: Option<String>,
}

/// What a `weft` invocation did.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl From<Output> for Ran {
    fn from(o: Output) -> Self {
        Ran {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "weft.toml", "name = \"test\"\n");
        Project {
            dir,
            state_url: None,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Add pipeline `name`; `{probe}` in the YAML becomes the probe component's path.
    pub fn pipeline(&self, name: &str, yaml: &str) -> &Self {
        let yaml = yaml.replace("{probe}", &probe_wasm().display().to_string());
        write(
            self.path(),
            &format!("pipelines/{name}/pipeline.yaml"),
            &yaml,
        );
        self
    }

    pub fn weft(&self, args: &[&str]) -> Ran {
        let mut c = weft();
        c.arg("--project").arg(self.path()).args(args);
        if let Some(url) = &self.state_url {
            c.env("WEFT_STATE_URL", url);
        }
        c.output().unwrap().into()
    }

    /// `weft run NAME --json`, returning the summary and the run.
    pub fn run(&self, name: &str) -> (Value, Ran) {
        let ran = self.weft(&["run", name, "--json"]);
        let summary = ran.json();
        (summary, ran)
    }

    /// `weft logs RUN --json`.
    pub fn logs(&self, run: &str) -> Value {
        self.weft(&["logs", run, "--json"]).json()
    }
}

/// The summary entry of `block`.
pub fn block<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["block"] == name)
        .unwrap_or_else(|| panic!("no block {name} in {summary}"))
}
