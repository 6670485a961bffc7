//! Misbehaving blocks fail alone, with a clear message; the host and other branches carry on.

use crate::support::*;

fn error_of<'a>(summary: &'a serde_json::Value, name: &str) -> &'a str {
    block(summary, name)["error"].as_str().unwrap_or("")
}

#[test]
fn a_trapping_block_fails_alone_and_its_downstream_is_skipped() {
    let p = Project::new();
    p.pipeline(
        "trap",
        "blocks:\n  - { name: src, kind: loader, source: {probe}, config: { mode: rows, rows: 10 } }\n  - { name: boom, kind: transformer, source: {probe}, upstream: [src], config: { mode: trap } }\n  - { name: after, kind: exporter, source: {probe}, upstream: [boom], config: { mode: noop } }\n  - { name: after_after, kind: exporter, source: {probe}, upstream: [after], config: { mode: noop } }\n  - { name: other, kind: transformer, source: {probe}, upstream: [src], config: { mode: sleep, ms: 200 } }\n",
    );
    let (summary, ran) = p.run("trap");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(summary["status"], "failed");
    assert_eq!(block(&summary, "boom")["status"], "failed");
    let err = error_of(&summary, "boom");
    assert!(err.contains("block \"boom\" trapped in `run`"), "{err}");
    assert!(
        err.contains("probe panicked on purpose"),
        "the panic message should be shown: {err}"
    );
    assert_eq!(block(&summary, "after")["status"], "upstream_failed");
    assert_eq!(block(&summary, "after_after")["status"], "upstream_failed");
    assert!(error_of(&summary, "after").contains("upstream block \"boom\" failed"));
    assert_eq!(block(&summary, "other")["status"], "success");
    assert!(
        ran.stderr.contains("run ") && ran.stderr.contains("failed: block(s) failed: boom"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("hint: see `weft logs"),
        "{}",
        ran.stderr
    );
    let logs = p.logs(summary["run_id"].as_str().unwrap());
    assert_eq!(logs["run"]["status"], "failed");
}

#[test]
fn a_runaway_block_is_stopped_by_its_timeout() {
    let p = Project::new();
    p.pipeline(
        "spin",
        "blocks:\n  - { name: forever, kind: loader, source: {probe}, timeout: 1s, config: { mode: spin } }\n  - { name: fine, kind: loader, source: {probe}, config: { mode: rows, rows: 3 } }\n",
    );
    let started = std::time::Instant::now();
    let (summary, ran) = p.run("spin");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let err = error_of(&summary, "forever");
    assert!(
        err.contains("block \"forever\" timed out after 1s"),
        "{err}"
    );
    assert_eq!(block(&summary, "fine")["status"], "success");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the timeout did not stop the block"
    );
}

#[test]
fn a_greedy_block_hits_its_memory_limit() {
    let p = Project::new();
    p.pipeline("hog", "blocks:\n  - { name: greedy, kind: loader, source: {probe}, memory_limit: 64MiB, config: { mode: hog } }\n");
    let (summary, ran) = p.run("hog");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let err = error_of(&summary, "greedy");
    assert!(
        err.contains("block \"greedy\" exceeded its memory limit of 64.0 MiB"),
        "{err}"
    );
}

#[test]
fn a_flaky_block_succeeds_on_retry() {
    let p = Project::new();
    p.pipeline(
        "flaky",
        "blocks:\n  - { name: flaky, kind: loader, source: {probe}, retries: 2, retry_delay: 100ms, config: { mode: flaky, fail_times: 1 } }\n  - { name: hopeless, kind: loader, source: {probe}, retries: 1, retry_delay: 10ms, config: { mode: flaky, fail_times: 5 } }\n",
    );
    let (summary, ran) = p.run("flaky");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(block(&summary, "flaky")["status"], "success");
    assert_eq!(block(&summary, "flaky")["attempts"], 2);
    assert_eq!(block(&summary, "flaky")["rows"], 3);
    assert_eq!(block(&summary, "hopeless")["status"], "failed");
    assert_eq!(block(&summary, "hopeless")["attempts"], 2);
    assert!(
        error_of(&summary, "hopeless").contains("io: flaky failure on attempt 2"),
        "{}",
        error_of(&summary, "hopeless")
    );
    assert!(
        ran.stderr.contains("↻ flaky") && ran.stderr.contains("attempt 1 failed"),
        "{}",
        ran.stderr
    );
    let logs = p.logs(summary["run_id"].as_str().unwrap());
    let flaky = logs["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["block"] == "flaky")
        .unwrap();
    assert_eq!(
        (flaky["status"].as_str(), flaky["attempt"].as_i64()),
        (Some("success"), Some(2))
    );
    // The failed first attempt is in the log.
    assert!(logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["block"] == "flaky" && l["attempt"] == 1 && l["level"] == "error"));
}

#[test]
fn malformed_arrow_from_a_guest_fails_that_block() {
    let p = Project::new();
    p.pipeline(
        "badipc",
        "blocks:\n  - { name: liar, kind: loader, source: {probe}, config: { mode: bad_ipc } }\n",
    );
    let (summary, ran) = p.run("badipc");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let err = error_of(&summary, "liar");
    assert!(
        err.contains("block \"liar\" failed: invalid-input: malformed Arrow IPC stream"),
        "{err}"
    );
}

#[test]
fn block_errors_bad_config_and_failing_tests_are_reported() {
    let p = Project::new();
    p.pipeline(
        "errs",
        "blocks:\n  - { name: says_no, kind: loader, source: {probe}, config: { mode: error, message: 'the API answered 503' } }\n  - { name: confused, kind: loader, source: {probe}, config: { rows: 3 } }\n  - { name: poisoned, kind: loader, source: {probe}, config: { mode: poison, rows: 3 } }\n  - { name: healthy, kind: loader, source: {probe}, config: { mode: rows, rows: 3 } }\n",
    );
    let (summary, ran) = p.run("errs");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(
        error_of(&summary, "says_no"),
        "block \"says_no\" failed: failed: the API answered 503"
    );
    assert!(
        error_of(&summary, "confused").contains("invalid-input: config: missing field `mode`"),
        "{}",
        error_of(&summary, "confused")
    );
    assert_eq!(
        error_of(&summary, "poisoned"),
        "block \"poisoned\": test `no_poison` failed: the output has a `poison` column"
    );
    assert_eq!(block(&summary, "healthy")["status"], "success");
}

#[test]
fn a_file_that_is_not_a_component_fails_the_build_with_the_block_name() {
    let p = Project::new();
    write(p.path(), "blocks/fake.wasm", "not wasm");
    write(
        p.path(),
        "pipelines/fake/pipeline.yaml",
        "blocks:\n  - { name: fake, kind: loader, source: blocks/fake.wasm }\n",
    );
    let ran = p.weft(&["run", "fake"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("block \"fake\" (blocks/fake.wasm)"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_rust_block_that_does_not_compile_shows_the_compiler_error() {
    let p = Project::new();
    write(p.path(), "blocks/broken/Cargo.toml", "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[lib]\ncrate-type = [\"cdylib\"]\n[dependencies]\nweft-sdk = \"0.1\"\n");
    write(p.path(), "blocks/broken/src/lib.rs", "use weft_sdk::prelude::*;\n#[loader]\nfn broken(_: &Context, _: Inputs) -> Result<()> { let x: u32 = \"nope\"; Ok(()) }\n");
    write(
        p.path(),
        "pipelines/b/pipeline.yaml",
        "blocks:\n  - { name: broken_block, kind: loader, source: blocks/broken }\n",
    );
    let ran = p.weft(&["build"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("block \"broken_block\" (blocks/broken) does not compile"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("mismatched types") && ran.stderr.contains("src/lib.rs"),
        "{}",
        ran.stderr
    );
}

#[test]
fn ctrl_c_cancels_the_run_and_records_it() {
    let p = Project::new();
    p.pipeline(
        "cancel",
        "blocks:\n  - { name: forever, kind: loader, source: {probe}, config: { mode: spin } }\n  - { name: later, kind: transformer, source: {probe}, upstream: [forever], config: { mode: noop } }\n",
    );
    let mut child = weft()
        .arg("--project")
        .arg(p.path())
        .args(["run", "cancel", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the spinning block has started (its row in the store says running).
    let started = std::time::Instant::now();
    loop {
        let runs = p.weft(&["logs", "latest", "--json"]);
        if runs.code == 0 && runs.json()["blocks"][0]["status"] == "running" {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "weft run ended before its block started ({status}):\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "the block never started: {}",
            runs.stderr
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("was cancelled"), "{stderr}");
    let logs = p.logs("latest");
    assert_eq!(logs["run"]["status"], "cancelled");
    let blocks = logs["blocks"].as_array().unwrap();
    assert_eq!(
        (blocks[0]["status"].as_str(), blocks[1]["status"].as_str()),
        (Some("cancelled"), Some("cancelled"))
    );
    assert!(
        blocks[0]["error"]
            .as_str()
            .unwrap()
            .contains("block \"forever\" was cancelled"),
        "{}",
        blocks[0]
    );
}

/// `weft retry`: only the blocks that did not succeed run again, as new attempts of the same
/// run, reading the stored outputs of the blocks that did.
#[test]
fn retry_runs_only_the_failed_blocks_again() {
    let p = Project::new();
    p.pipeline(
        "etl",
        "blocks:\n  - { name: src, kind: loader, source: {probe}, config: { mode: rows, rows: 5 } }\n  - { name: flaky, kind: transformer, source: {probe}, upstream: [src], config: { mode: flaky, fail_times: 1 } }\n  - { name: total, kind: transformer, source: {probe}, upstream: [src, flaky], config: { mode: sum } }\n",
    );
    let (first, ran) = p.run("etl");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(block(&first, "total")["status"], "upstream_failed");
    let again = p.weft(&["retry", "latest", "--json"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let summary = again.json();
    assert_eq!(summary["run_id"], first["run_id"]);
    let attempts: Vec<&serde_json::Value> = ["src", "flaky", "total"]
        .iter()
        .map(|b| &block(&summary, b)["attempts"])
        .collect();
    assert_eq!(attempts, [1, 2, 1], "{summary}");
    let id = summary["run_id"].as_str().unwrap();
    let sum = output_table(&p, id, "total").to_json(None).unwrap();
    assert!(
        sum.contains("\"rows\":8"),
        "src's 5 rows and flaky's 3: {sum}"
    );
    // A run that succeeded has nothing to retry.
    let twice = p.weft(&["retry", id]);
    assert_eq!(twice.code, 2, "{}", twice.stderr);
    assert!(
        twice.stderr.contains("only failed or cancelled runs"),
        "{}",
        twice.stderr
    );
}

#[test]
fn an_output_that_cannot_be_stored_fails_its_block_and_the_run() {
    let p = Project::new();
    p.pipeline(
        "keep",
        "blocks:\n  - { name: src, kind: loader, source: {probe}, config: { mode: rows, rows: 10 } }\n  - { name: next, kind: transformer, source: {probe}, upstream: [src], config: { mode: noop } }\n",
    );
    let (summary, ran) = p.run("keep");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // Outputs are stored in the background: a run ends only once they are on disk.
    let run = summary["run_id"].as_str().unwrap();
    let kept = output_table(&p, run, "src");
    assert_eq!(kept.num_rows(), 10);
    // Where outputs go is now a file, not a folder: storing any output fails.
    let runs = p.path().join(".weft/objects/runs");
    std::fs::remove_dir_all(&runs).unwrap();
    std::fs::write(&runs, "not a folder").unwrap();
    let (summary, ran) = p.run("keep");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert_eq!(summary["status"], "failed");
    let err = error_of(&summary, "src");
    assert_eq!(block(&summary, "src")["status"], "failed", "{summary}");
    assert!(
        err.contains("block \"src\": write output runs/") && err.contains(".weft/objects"),
        "{err}"
    );
    // The state store agrees with the summary, and nothing claims an output it lacks.
    let logs = p.logs(summary["run_id"].as_str().unwrap());
    assert_eq!(logs["run"]["status"], "failed");
    let src = logs["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["key"] == "src")
        .unwrap();
    assert_eq!(src["status"], "failed", "{src}");
    assert!(src["output"].is_null(), "{src}");
}
