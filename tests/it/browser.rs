//! The web UI in a real browser: `weft serve` on loopback with the UI embedded, driven in
//! headless Chromium by the end-to-end tests in `ui/e2e/` (playwright-core). The pages'
//! screenshots are kept in `ui/e2e/screenshots/`.

use std::process::Command;

use crate::served::*;
use crate::support::*;

/// A pipeline with a slow block, a chatty one and a fan-out.
const DEMO: &str = r#"description: Rows through a slow step, a chatty step and a fan-out.
blocks:
  - { name: source_rows, kind: loader, source: {probe}, config: { mode: rows, rows: 5 } }
  - name: slow_step
    kind: transformer
    source: {probe}
    upstream: [source_rows]
    timeout: 1m
    config: { mode: print_sleep, ms: 2500, message: slow step working }
  - name: chatty
    kind: transformer
    source: {probe}
    upstream: [source_rows]
    config: { mode: log_flood, rows: 3000, message: "a line of chatter" }
  - name: each_row
    kind: transformer
    source: {probe}
    upstream: [source_rows]
    dynamic: true
    config: { mode: pass }
  - { name: per_row, kind: transformer, source: {probe}, upstream: [each_row], reduce: true, config: { mode: pass } }
  - name: sink
    kind: exporter
    source: {probe}
    upstream: [slow_step, per_row]
    config: { mode: print_sleep, ms: 10, message: sink finished its rows }
"#;

/// A block that fails once, then succeeds on the next attempt (a retry).
const FLAKY: &str = r#"blocks:
  - { name: first, kind: loader, source: {probe}, config: { mode: rows, rows: 3 } }
  - { name: flaky_step, kind: transformer, source: {probe}, upstream: [first], config: { mode: flaky, fail_times: 1 } }
"#;

/// A block slow enough to be cancelled.
const LONG: &str = r#"blocks:
  - { name: wait_long, kind: loader, source: {probe}, timeout: 5m, config: { mode: sleep, ms: 120000 } }
"#;

/// A pipeline edited in the notebook: its blocks are files of the project.
const NOTEBOOK: &str = r#"description: Blocks edited in the browser.
blocks:
  - { name: numbers, kind: loader, source: {probe}, config: { mode: rows, rows: 40 } }
  - name: shape
    kind: transformer
    source: blocks/notebook/shape.py
    upstream: [numbers]
  - name: summary
    kind: transformer
    source: blocks/notebook/summary.sql
    upstream: [shape]
"#;

/// The notebook pipeline's Python block as it starts.
const SHAPE: &str = "\"\"\"The rows, as they come.\"\"\"\nfrom weft import transformer\n\n\n@transformer\ndef shape(data, **kwargs):\n    return data\n";

/// A pipeline of 1,000 blocks: 40 chains of 25, each link joined to the chain beside it.
fn big() -> String {
    let mut y = String::from("description: One thousand blocks.\nblocks:\n");
    for chain in 0..40 {
        for step in 0..25 {
            let name = format!("b{chain:02}_{step:02}");
            let mut up = Vec::new();
            if step > 0 {
                up.push(format!("b{chain:02}_{:02}", step - 1));
                if chain > 0 && step % 5 == 0 {
                    up.push(format!("b{:02}_{:02}", chain - 1, step - 1));
                }
            }
            let kind = if step == 0 { "loader" } else { "transformer" };
            y.push_str(&format!(
                "  - {{ name: {name}, kind: {kind}, source: {{probe}}, upstream: [{}], config: {{ mode: noop }} }}\n",
                up.join(", ")
            ));
        }
    }
    y
}

#[test]
fn the_web_ui_in_chromium() {
    let p = Project::new();
    p.pipeline("demo", DEMO)
        .pipeline("flaky", FLAKY)
        .pipeline("long", LONG)
        .pipeline("thousand", &big())
        .pipeline("notebook", NOTEBOOK);
    write(p.path(), "blocks/notebook/shape.py", SHAPE);
    write(
        p.path(),
        "blocks/notebook/summary.sql",
        "SELECT count(*) AS n FROM {{ df_1 }}\n",
    );
    write(
        p.path(),
        "pipelines/demo/triggers.yaml",
        "- name: hook\n  type: api\n- name: nightly\n  type: schedule\n  cron: \"30 4 * * *\"\n  catch_up: skip\n",
    );
    let s = serve(&p);
    let ui = repo().join("ui");
    let shots = ui.join("e2e/screenshots");
    // A hung browser fails the test instead of holding it up.
    let out = Command::new("timeout")
        .args(["600", "node", "--test", "--test-reporter=spec"])
        .args([
            "--test-concurrency=1",
            "--test-timeout=120000",
            "--test-force-exit",
        ])
        .arg("e2e/")
        .current_dir(&ui)
        .env("WEFT_URL", &s.base)
        .env("WEFT_PROJECT", p.path())
        .env("WEFT_SCREENSHOTS", &shots)
        .output()
        .expect("node runs (Node 20 and `npm ci` in ui/ are needed)");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "browser tests failed:\n{text}\n--- weft serve ---\n{}",
        s.stderr()
    );
    for page in [
        "pipelines",
        "pipeline",
        "run",
        "runs",
        "thousand",
        "triggers",
        "notebook",
        "notebook-error",
    ] {
        assert!(
            shots.join(format!("{page}.png")).exists(),
            "no screenshot of the {page} page:\n{text}"
        );
    }
}
