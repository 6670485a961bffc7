//! Test projects in temporary folders, the `weft` binary, and the probe block built once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;
use weft_data::Table;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The path of the Python test block `tests/blocks/python/<name>`.
pub fn py(name: &str) -> String {
    repo()
        .join("tests/blocks/python")
        .join(name)
        .display()
        .to_string()
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

pub fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    }
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
        self.weft_env(args, &[])
    }

    /// `weft ARGS` with extra environment variables.
    pub fn weft_env(&self, args: &[&str], env: &[(String, String)]) -> Ran {
        let mut c = weft();
        c.arg("--project").arg(self.path()).args(args);
        if let Some(url) = &self.state_url {
            c.env("WEFT_STATE_URL", url);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap().into()
    }

    /// Copy files or folders of the repository (relative paths) into the project.
    pub fn copy_from_repo(&self, paths: &[&str]) -> &Self {
        for rel in paths {
            copy_tree(&repo().join(rel), &self.path().join(rel));
        }
        self
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

/// The message lines of `block` in a run's logs (`weft logs --json`).
pub fn log_lines(logs: &Value, block: &str) -> Vec<String> {
    logs["logs"]
        .as_array()
        .unwrap_or_else(|| panic!("no logs in {logs}"))
        .iter()
        .filter(|l| l["block"] == block)
        .map(|l| l["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A block's stored output, read back from the project's object store.
pub fn output_table(p: &Project, run: &str, block: &str) -> Table {
    let logs = p.logs(run);
    let b = logs["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["key"] == block)
        .unwrap_or_else(|| panic!("no block run {block} in {logs}"));
    let path = b["output"]
        .as_str()
        .unwrap_or_else(|| panic!("{block} has no output: {b}"));
    let bytes = std::fs::read(p.path().join(".weft/objects").join(path)).unwrap();
    Table::from_ipc_file(bytes).unwrap()
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

/// When block run `key` last started and finished (Unix ms), from `weft logs --json`.
pub fn span(logs: &Value, key: &str) -> (i64, i64) {
    let b = logs["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["key"] == key)
        .unwrap_or_else(|| panic!("no block run {key} in {logs}"));
    (
        b["started_at"].as_i64().unwrap(),
        b["finished_at"].as_i64().unwrap(),
    )
}
