//! weft's pandas against real pandas: every case of `tests/pandas/cases.yaml` runs in a
//! sandboxed block (weft's pandas over the host engine) and under real pandas on the host (from
//! `scripts/test-services.sh`), on the same fixture with nulls, dates and mixed types; values,
//! dtypes (by kind), column names and row order must agree. Cases marked `error` must be refused
//! with an error naming the method.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::*;

fn reference_python() -> PathBuf {
    let home = std::env::var_os("WEFT_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".weft"));
    let py = home.join("test-services/pandas/bin/python");
    assert!(
        py.is_file(),
        "{} is missing: run scripts/test-services.sh",
        py.display()
    );
    py
}

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join("tests/pandas/cases.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// Each case's answer under real pandas, by name.
fn reference(
    cases: &[Value],
    folder: &std::path::Path,
) -> std::collections::BTreeMap<String, Value> {
    let request = serde_json::json!({
        "cases": cases,
        "fixture": folder.join("fixture.csv"),
    });
    let mut child = Command::new(reference_python())
        .arg(repo().join("tests/pandas/reference.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.into_iter()
        .map(|r| (r["name"].as_str().unwrap().to_string(), r))
        .collect()
}

#[test]
fn weft_pandas_answers_as_real_pandas_does() {
    let cases = cases();
    let p = Project::new();
    // The fixture, and the same rows as gzip CSV, parquet and JSON lines (written by pandas).
    std::fs::copy(
        repo().join("tests/pandas/fixture.csv"),
        p.path().join("fixture.csv"),
    )
    .unwrap();
    let prepared = Command::new(reference_python())
        .arg(repo().join("tests/pandas/reference.py"))
        .arg("--prepare")
        .arg(p.path())
        .output()
        .unwrap();
    assert!(
        prepared.status.success(),
        "{}",
        String::from_utf8_lossy(&prepared.stderr)
    );
    let expected = reference(&cases, p.path());
    let block = std::fs::read_to_string(repo().join("tests/pandas/harness.py")).unwrap()
        + &std::fs::read_to_string(repo().join("tests/pandas/block.py")).unwrap();
    write(p.path(), "blocks/pandas_cases.py", &block);
    let config = serde_json::json!({ "cases": cases });
    p.pipeline(
        "pandas",
        &format!(
            "blocks:\n  - name: cases\n    kind: loader\n    source: blocks/pandas_cases.py\n    grants: {{ urls: [\"file://fixture.csv\", \"file://fixture.csv.gz\", \"file://fixture.parquet\", \"file://fixture.jsonl\"] }}\n    config: {config}\n"
        ),
    );
    let ran = p.weft(&["run", "pandas", "--json"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let run = ran.json()["run_id"].as_str().unwrap().to_string();
    let shown = p.weft(&["show", &run, "cases", "--json", "--rows", "10000"]);
    let answers: Vec<Value> = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(answers.len(), cases.len());
    let mut wrong = Vec::new();
    for (case, got) in cases.iter().zip(&answers) {
        let name = case["name"].as_str().unwrap();
        assert_eq!(got["name"], name);
        if let Some(method) = case["error"].as_str() {
            let e = got["error"].as_str().unwrap_or("");
            if !(e.starts_with("NotSupported") && e.contains(method)) {
                wrong.push(format!(
                    "{name}: expected a refusal naming {method}, got {got}"
                ));
            }
            continue;
        }
        let want = &expected[name];
        assert!(
            want["error"].is_null(),
            "{name} fails under real pandas: {}",
            want["error"]
        );
        if !got["error"].is_null() {
            wrong.push(format!(
                "{name}: {}\n  code: {}",
                got["error"], case["code"]
            ));
            continue;
        }
        let a: Value = serde_json::from_str(got["result"].as_str().unwrap()).unwrap();
        let b: Value = serde_json::from_str(want["result"].as_str().unwrap()).unwrap();
        if a != b {
            wrong.push(format!(
                "{name}:\n  weft:   {a}\n  pandas: {b}\n  code: {}",
                case["code"]
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases differ:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    // Python functions over rows are said to be slower, once.
    let logs = p.logs(&run);
    let notes = log_lines(&logs, "cases")
        .into_iter()
        .filter(|l| l.contains("runs row by row"))
        .count();
    assert_eq!(notes, 1);
}
