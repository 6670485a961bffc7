//! Pipelines that succeed: the diamond example, concurrency, variables, stored outputs.

use std::path::Path;

use crate::support::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "target" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

#[test]
fn hello_diamond_runs_and_keeps_every_output() {
    let p = Project::new();
    for b in ["hello_numbers", "hello_squares", "hello_report"] {
        copy_dir(
            &repo().join("blocks").join(b),
            &p.path().join("blocks").join(b),
        );
    }
    copy_dir(
        &repo().join("pipelines/hello"),
        &p.path().join("pipelines/hello"),
    );

    let (summary, ran) = p.run("hello");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(summary["status"], "success");
    assert_eq!(block(&summary, "numbers")["rows"], 1000);
    assert_eq!(block(&summary, "squares")["rows"], 1000);
    assert_eq!(block(&summary, "report")["rows"], 1);
    // The block's own log line made it to the live output and the store.
    assert!(
        ran.stderr
            .contains("[report] 1000 numbers, value sum 750750, square sum 333833500"),
        "{}",
        ran.stderr
    );
    let run_id = summary["run_id"].as_str().unwrap();

    let shown = p.weft(&["show", run_id, "report"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown.stdout.contains("750750") && shown.stdout.contains("333833500"),
        "{}",
        shown.stdout
    );
    let head = p.weft(&["show", "latest", "numbers", "-n", "2"]);
    assert!(
        head.stdout.contains("row-2") && !head.stdout.contains("row-3"),
        "{}",
        head.stdout
    );
    assert!(head.stderr.contains("2 of 1000 rows"), "{}", head.stderr);

    for b in ["numbers", "squares", "report"] {
        let file = p
            .path()
            .join(format!(".weft/objects/runs/{run_id}/{b}/1.arrow"));
        assert!(file.is_file(), "missing output {}", file.display());
    }
    let logs = p.logs(run_id);
    assert_eq!(logs["run"]["status"], "success");
    let messages: Vec<&str> = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert!(messages.contains(&"generating 1000 rows"), "{messages:?}");

    // Unchanged sources are not compiled again.
    let again = p.weft(&["build"]);
    assert!(
        again.stderr.contains("0 compiled, 3 cached"),
        "{}",
        again.stderr
    );
    let runs = p.weft(&["runs", "--json"]).json();
    assert_eq!(runs.as_array().unwrap().len(), 1);
}

#[test]
fn independent_branches_run_at_the_same_time() {
    let p = Project::new();
    p.pipeline(
        "par",
        "concurrency: 2\nblocks:\n  - { name: slow_a, kind: loader, source: {probe}, config: { mode: sleep, ms: 800 } }\n  - { name: slow_b, kind: loader, source: {probe}, config: { mode: sleep, ms: 800 } }\n  - { name: join, kind: transformer, source: {probe}, upstream: [slow_a, slow_b], config: { mode: sum } }\n",
    );
    let (summary, ran) = p.run("par");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(block(&summary, "join")["rows"], 1);
    let logs = p.logs(summary["run_id"].as_str().unwrap());
    let (a0, a1) = span(&logs, "slow_a");
    let (b0, b1) = span(&logs, "slow_b");
    let (j0, _) = span(&logs, "join");
    assert!(
        a0 < b1 && b0 < a1,
        "branches did not overlap: a {a0}..{a1}, b {b0}..{b1}"
    );
    assert!(
        j0 >= a1.max(b1),
        "join started before its upstreams finished"
    );
}

#[test]
fn concurrency_one_runs_branches_one_after_another() {
    let p = Project::new();
    p.pipeline(
        "serial",
        "concurrency: 1\nblocks:\n  - { name: a, kind: loader, source: {probe}, config: { mode: sleep, ms: 300 } }\n  - { name: b, kind: loader, source: {probe}, config: { mode: sleep, ms: 300 } }\n",
    );
    let (summary, ran) = p.run("serial");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let logs = p.logs(summary["run_id"].as_str().unwrap());
    let b = logs["blocks"].as_array().unwrap();
    let (a1, b0) = (
        b[0]["finished_at"].as_i64().unwrap(),
        b[1]["started_at"].as_i64().unwrap(),
    );
    assert!(b0 >= a1, "b started at {b0} before a finished at {a1}");
}

#[test]
fn run_variables_reach_blocks() {
    let p = Project::new();
    p.pipeline(
        "vars",
        "variables: { region: eu, day: '2021-01-01' }\nblocks:\n  - { name: v, kind: loader, source: {probe}, config: { mode: vars, names: [region, day, pipeline, block, attempt, missing] } }\n",
    );
    let ran = p.weft(&["run", "vars", "--var", "region=us", "--var", "extra=1"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let shown = p.weft(&["show", "latest", "v"]).stdout;
    for row in [
        "| region   | us",
        "| day      | 2021-01-01",
        "| pipeline | vars",
        "| block    | v",
        "| attempt  | 1",
        "| missing  |",
    ] {
        assert!(shown.contains(row), "missing {row:?} in\n{shown}");
    }
    let bad = p.weft(&["run", "vars", "--var", "novalue"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("`novalue` is not NAME=VALUE"),
        "{}",
        bad.stderr
    );
}

#[test]
fn pass_through_blocks_hand_tables_on_without_copying() {
    let p = Project::new();
    p.pipeline(
        "pass",
        "blocks:\n  - { name: src, kind: loader, source: {probe}, config: { mode: rows, rows: 5000 } }\n  - { name: same, kind: transformer, source: {probe}, upstream: [src], config: { mode: pass } }\n  - { name: copied, kind: transformer, source: {probe}, upstream: [same], config: { mode: copy } }\n  - { name: total, kind: exporter, source: {probe}, upstream: [copied], config: { mode: sum } }\n  - { name: nothing, kind: exporter, source: {probe}, upstream: [total], config: { mode: noop } }\n",
    );
    let (summary, ran) = p.run("pass");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(block(&summary, "same")["rows"], 5000);
    assert_eq!(block(&summary, "copied")["rows"], 5000);
    assert!(block(&summary, "nothing")["rows"].is_null());
    // sum of i/2 for i in 0..5000
    assert!(
        ran.stderr.contains("sum of 5000 rows is 6248750"),
        "{}",
        ran.stderr
    );
}
