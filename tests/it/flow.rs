//! Control flow end to end, with Rust, Python and SQL blocks: sensors, conditions and trigger
//! rules, dynamic fan-outs with reduce, callbacks, single-block runs.

use serde_json::Value;

use crate::support::*;

fn status<'a>(summary: &'a Value, key: &str) -> &'a str {
    block(summary, key)["status"].as_str().unwrap()
}

fn run_ok(p: &Project, name: &str, args: &[&str]) -> Value {
    let mut a = vec!["run", name, "--json"];
    a.extend_from_slice(args);
    let ran = p.weft(&a);
    assert!(!ran.stdout.is_empty(), "{}", ran.stderr);
    ran.json()
}

fn keys(summary: &Value) -> Vec<String> {
    summary["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["block"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sensors_poke_until_true_and_give_up_at_their_timeout() {
    let p = Project::new();
    write(
        p.path(),
        "blocks/ready.sql",
        "SELECT {{ attempt }} > 1 AS answer\n",
    );
    p.pipeline(
        "gate",
        &format!(
            "concurrency: 1\nblocks:\n  - {{ name: rust_wait, kind: sensor, source: {{probe}}, poke_interval: 1s, timeout: 30s, config: {{ mode: answer, after: 2 }} }}\n  - {{ name: py_wait, kind: sensor, source: {}, poke_interval: 1s, timeout: 30s, config: {{ after: 1 }} }}\n  - {{ name: sql_wait, kind: sensor, source: blocks/ready.sql, poke_interval: 1s, timeout: 30s }}\n  - {{ name: work, kind: loader, source: {{probe}}, config: {{ mode: sleep, ms: 300 }} }}\n  - {{ name: after, kind: transformer, source: {{probe}}, upstream: [rust_wait, py_wait, sql_wait, work], config: {{ mode: sum }} }}\n  - {{ name: never, kind: sensor, source: {{probe}}, poke_interval: 1s, timeout: 2s, config: {{ mode: answer, value: false }} }}\n  - {{ name: never_soft, kind: sensor, source: {{probe}}, poke_interval: 1s, timeout: 2s, soft_fail: true, config: {{ mode: answer, value: false }} }}\n  - {{ name: after_soft, kind: transformer, source: {{probe}}, upstream: [never_soft], config: {{ mode: noop }} }}\n  - {{ name: tolerant, kind: transformer, source: {{probe}}, upstream: [never_soft], trigger_rule: none_failed, config: {{ mode: noop }} }}\n",
            py("py_sensor.py")
        ),
    );
    let summary = run_ok(&p, "gate", &[]);
    assert_eq!(summary["status"], "failed", "{summary}");
    assert_eq!(status(&summary, "rust_wait"), "success");
    assert_eq!(
        block(&summary, "rust_wait")["attempts"],
        3,
        "true on the third poke"
    );
    assert_eq!(
        block(&summary, "py_wait")["attempts"],
        2,
        "true on the second poke"
    );
    assert_eq!(block(&summary, "sql_wait")["attempts"], 2, "{summary}");
    assert_eq!(status(&summary, "after"), "success");
    assert_eq!(status(&summary, "never"), "failed");
    assert!(
        block(&summary, "never")["error"]
            .as_str()
            .unwrap()
            .contains("still false after"),
        "{summary}"
    );
    assert_eq!(status(&summary, "never_soft"), "skipped");
    assert_eq!(status(&summary, "after_soft"), "skipped");
    assert_eq!(status(&summary, "tolerant"), "success");
    // With one slot, `work` ran while the sensors waited between pokes.
    let logs = p.logs(summary["run_id"].as_str().unwrap());
    assert!(span(&logs, "work").1 < span(&logs, "rust_wait").1, "{logs}");
    assert!(log_lines(&logs, "rust_wait")
        .iter()
        .any(|l| l.contains("not yet: next poke in 1s")));
}

#[test]
fn conditions_skip_branches_and_joins_follow_their_rules() {
    let p = Project::new();
    write(
        p.path(),
        "blocks/weekday.sql",
        "SELECT '{{ day }}' <> 'sunday' AS answer\n",
    );
    p.pipeline(
        "branch",
        &format!(
            "variables: {{ region: us, day: sunday }}\nblocks:\n  - {{ name: load, kind: loader, source: {{probe}}, config: {{ mode: rows, rows: 4 }} }}\n  - {{ name: eu_only, kind: transformer, source: {{probe}}, upstream: [load], conditions: [rust_is_eu], config: {{ mode: pass }} }}\n  - {{ name: py_eu_only, kind: transformer, source: {{probe}}, upstream: [load], conditions: [py_is_eu], config: {{ mode: pass }} }}\n  - {{ name: weekdays, kind: transformer, source: {{probe}}, upstream: [load], conditions: [sql_weekday], config: {{ mode: pass }} }}\n  - {{ name: us, kind: transformer, source: {{probe}}, upstream: [load], conditions: [rust_is_us, py_is_us], config: {{ mode: pass }} }}\n  - {{ name: after_eu, kind: transformer, source: {{probe}}, upstream: [eu_only], config: {{ mode: pass }} }}\n  - {{ name: j_all_success, kind: exporter, source: {{probe}}, upstream: [after_eu, us], config: {{ mode: sum }} }}\n  - {{ name: j_none_failed, kind: exporter, source: {{probe}}, upstream: [after_eu, us], trigger_rule: none_failed, config: {{ mode: sum }} }}\n  - {{ name: j_all_done, kind: exporter, source: {{probe}}, upstream: [after_eu, us], trigger_rule: all_done, config: {{ mode: sum }} }}\n  - {{ name: j_one_success, kind: exporter, source: {{probe}}, upstream: [after_eu, weekdays], trigger_rule: one_success, config: {{ mode: sum }} }}\n  - {{ name: rust_is_eu, kind: condition, source: {{probe}}, config: {{ mode: answer, var: region, equals: eu }} }}\n  - {{ name: rust_is_us, kind: condition, source: {{probe}}, config: {{ mode: answer, var: region, equals: us }} }}\n  - {{ name: py_is_eu, kind: condition, source: {py}, config: {{ region: eu }} }}\n  - {{ name: py_is_us, kind: condition, source: {py}, config: {{ region: us }} }}\n  - {{ name: sql_weekday, kind: condition, source: blocks/weekday.sql }}\n",
            py = py("py_condition.py")
        ),
    );
    let summary = run_ok(&p, "branch", &[]);
    assert_eq!(
        summary["status"], "success",
        "skipped blocks do not fail a run: {summary}"
    );
    for (key, want) in [
        ("eu_only", "skipped"),
        ("py_eu_only", "skipped"),
        ("weekdays", "skipped"),
        ("us", "success"),
        ("after_eu", "skipped"),
        ("j_all_success", "skipped"),
        ("j_none_failed", "success"),
        ("j_all_done", "success"),
        ("j_one_success", "skipped"),
    ] {
        assert_eq!(status(&summary, key), want, "{key}: {summary}");
    }
    assert!(
        block(&summary, "eu_only")["error"]
            .as_str()
            .unwrap()
            .contains("condition \"rust_is_eu\" answered false"),
        "{summary}"
    );
    // The join saw only the branch that ran: `us` passed on load's 4 rows.
    assert_eq!(block(&summary, "j_none_failed")["rows"], 1);
    let sum = output_table(&p, summary["run_id"].as_str().unwrap(), "j_none_failed");
    assert!(
        sum.to_json(None).unwrap().contains("\"rows\":4"),
        "{:?}",
        sum.to_json(None)
    );
    // Another day, another region: the other branches run.
    let summary = run_ok(&p, "branch", &["--var", "region=eu", "--var", "day=monday"]);
    for (key, want) in [
        ("eu_only", "success"),
        ("py_eu_only", "success"),
        ("weekdays", "success"),
        ("us", "skipped"),
        ("j_all_success", "skipped"),
        ("j_one_success", "success"),
    ] {
        assert_eq!(status(&summary, key), want, "{key}: {summary}");
    }
}

#[test]
fn dynamic_blocks_fan_out_per_row_and_reduce_in_child_order() {
    let p = Project::new();
    write(
        p.path(),
        "blocks/scale.sql",
        "SELECT name, n * 10 AS tens, '{{ name }}' AS var FROM files\n",
    );
    p.pipeline(
        "fan",
        &format!(
            "blocks:\n  - {{ name: files, kind: loader, source: {fan}, dynamic: true, child_key: name, config: {{ count: 12 }} }}\n  - {{ name: py_child, kind: transformer, source: {child}, upstream: [files] }}\n  - {{ name: sql_child, kind: transformer, source: blocks/scale.sql, upstream: [files] }}\n  - {{ name: rust_child, kind: transformer, source: {{probe}}, upstream: [files], max_parallel: 2, config: {{ mode: vars, names: [name, n] }} }}\n  - {{ name: lookup, kind: loader, source: {{probe}}, config: {{ mode: rows, rows: 2 }} }}\n  - {{ name: both, kind: transformer, source: {{probe}}, upstream: [py_child, lookup], config: {{ mode: sum }} }}\n  - {{ name: py_all, kind: transformer, source: {{probe}}, upstream: [py_child], reduce: true, config: {{ mode: pass }} }}\n  - {{ name: sql_all, kind: transformer, source: {{probe}}, upstream: [sql_child], reduce: true, config: {{ mode: pass }} }}\n  - {{ name: rust_all, kind: transformer, source: {{probe}}, upstream: [rust_child], reduce: true, config: {{ mode: pass }} }}\n  - {{ name: py_report, kind: exporter, source: {{probe}}, upstream: [py_all], config: {{ mode: pass }} }}\n  - {{ name: sql_report, kind: exporter, source: {{probe}}, upstream: [sql_all], config: {{ mode: pass }} }}\n  - {{ name: rust_report, kind: exporter, source: {{probe}}, upstream: [rust_all], config: {{ mode: pass }} }}\n",
            fan = py("py_fan.py"),
            child = py("py_child.py")
        ),
    );
    let summary = run_ok(&p, "fan", &[]);
    assert_eq!(summary["status"], "success", "{summary}");
    let k = keys(&summary);
    assert_eq!(
        k.iter().filter(|k| k.starts_with("py_child[")).count(),
        12,
        "{k:?}"
    );
    assert_eq!(
        k.iter().filter(|k| k.starts_with("both[")).count(),
        12,
        "one per child, never a product: {k:?}"
    );
    assert_eq!(
        k.iter().filter(|k| k.starts_with("py_report")).count(),
        1,
        "after the reduce, once: {k:?}"
    );
    assert_eq!(block(&summary, "both[3]")["rows"], 1);
    let run = summary["run_id"].as_str().unwrap();
    let both = output_table(&p, run, "both[3]").to_json(None).unwrap();
    assert!(
        both.contains("\"rows\":3"),
        "the child's row and lookup's two: {both}"
    );
    // Gathered in child order (f10 after f9: not text order), each child's own row.
    let py_rows: Vec<Value> =
        serde_json::from_str(&output_table(&p, run, "py_report").to_json(None).unwrap()).unwrap();
    let names: Vec<&str> = py_rows
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let want: Vec<String> = (0..12).map(|i| format!("f{i}.csv")).collect();
    assert_eq!(names, want);
    assert_eq!(py_rows[11]["double"], 22);
    let sql_rows: Vec<Value> =
        serde_json::from_str(&output_table(&p, run, "sql_report").to_json(None).unwrap()).unwrap();
    assert_eq!(
        (sql_rows[7]["tens"].as_i64(), sql_rows[7]["var"].as_str()),
        (Some(70), Some("f7.csv"))
    );
    let rust_rows: Vec<Value> =
        serde_json::from_str(&output_table(&p, run, "rust_report").to_json(None).unwrap()).unwrap();
    assert_eq!(
        rust_rows.len(),
        24,
        "two variables per child: {rust_rows:?}"
    );
    assert_eq!(
        (
            rust_rows[22]["name"].as_str(),
            rust_rows[22]["value"].as_str()
        ),
        (Some("name"), Some("f11.csv"))
    );
    // Children are named by their child_key and logged under their own key.
    let logs = p.logs(run);
    let child = logs["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["key"] == "py_child[4]")
        .unwrap();
    assert_eq!(child["label"], "f4.csv");
    assert!(
        log_lines(&logs, "py_child[4]")
            .iter()
            .any(|l| l == "child f4.csv"),
        "{logs}"
    );
}

#[test]
fn nested_and_empty_fan_outs() {
    let p = Project::new();
    p.pipeline(
        "nested",
        "blocks:\n  - { name: days, kind: loader, source: {probe}, dynamic: true, config: { mode: rows, rows: 3 } }\n  - { name: hours, kind: transformer, source: {probe}, upstream: [days], dynamic: true, config: { mode: rows, rows: 2 } }\n  - { name: work, kind: transformer, source: {probe}, upstream: [hours], config: { mode: vars, names: [id] } }\n  - { name: per_day, kind: transformer, source: {probe}, upstream: [work], reduce: true, config: { mode: pass } }\n  - { name: all_days, kind: transformer, source: {probe}, upstream: [per_day], reduce: true, config: { mode: pass } }\n  - { name: total, kind: exporter, source: {probe}, upstream: [all_days], config: { mode: sum } }\n  - { name: nothing, kind: loader, source: {probe}, dynamic: true, config: { mode: rows, rows: 0 } }\n  - { name: per_nothing, kind: transformer, source: {probe}, upstream: [nothing], reduce: true, config: { mode: pass } }\n  - { name: after_nothing, kind: exporter, source: {probe}, upstream: [per_nothing], config: { mode: sum } }\n",
    );
    let started = std::time::Instant::now();
    let summary = run_ok(&p, "nested", &[]);
    assert_eq!(summary["status"], "success", "{summary}");
    let k = keys(&summary);
    assert_eq!(
        k.iter().filter(|k| k.starts_with("work[")).count(),
        6,
        "{k:?}"
    );
    assert!(k.contains(&"work[2.1]".to_string()), "{k:?}");
    assert_eq!(
        k.iter().filter(|k| k.starts_with("all_days[")).count(),
        3,
        "{k:?}"
    );
    let total = output_table(&p, summary["run_id"].as_str().unwrap(), "total")
        .to_json(None)
        .unwrap();
    assert!(total.contains("\"rows\":6"), "{total}");
    // The empty fan-out: no children, the block within it skipped, the run went on at once.
    assert_eq!(status(&summary, "per_nothing"), "skipped");
    assert_eq!(status(&summary, "after_nothing"), "success");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn children_fail_retry_and_limit_on_their_own() {
    let p = Project::new();
    p.pipeline(
        "kids",
        "blocks:\n  - { name: ids, kind: loader, source: {probe}, dynamic: true, config: { mode: rows, rows: 4 } }\n  - { name: flaky, kind: transformer, source: {probe}, upstream: [ids], retries: 1, config: { mode: flaky, fail_times: 1 } }\n  - { name: picky, kind: transformer, source: {probe}, upstream: [ids], reduce: true, config: { mode: fail_if, var: id, equals: '2', message: no twos } }\n  - { name: after_picky, kind: transformer, source: {probe}, upstream: [picky], config: { mode: pass } }\n  - { name: many, kind: loader, source: {probe}, dynamic: true, max_children: 3, on_max_children: limit, config: { mode: rows, rows: 10 } }\n  - { name: few, kind: transformer, source: {probe}, upstream: [many], config: { mode: noop } }\n  - { name: too_many, kind: loader, source: {probe}, dynamic: true, max_children: 3, on_max_children: fail, config: { mode: rows, rows: 10 } }\n  - { name: none, kind: transformer, source: {probe}, upstream: [too_many], config: { mode: noop } }\n",
    );
    let summary = run_ok(&p, "kids", &[]);
    assert_eq!(summary["status"], "failed", "{summary}");
    for i in 0..4 {
        assert_eq!(status(&summary, &format!("flaky[{i}]")), "success");
        assert_eq!(
            block(&summary, &format!("flaky[{i}]"))["attempts"],
            2,
            "{summary}"
        );
    }
    assert_eq!(status(&summary, "picky[2]"), "failed");
    assert_eq!(
        status(&summary, "picky[3]"),
        "success",
        "siblings of a failed child still run"
    );
    assert_eq!(status(&summary, "after_picky"), "upstream_failed");
    assert_eq!(
        keys(&summary)
            .iter()
            .filter(|k| k.starts_with("few["))
            .count(),
        3
    );
    assert_eq!(status(&summary, "too_many"), "failed");
    assert!(
        block(&summary, "too_many")["error"]
            .as_str()
            .unwrap()
            .contains("max_children of 3"),
        "{summary}"
    );
    assert_eq!(status(&summary, "none"), "upstream_failed");
}

#[test]
fn callbacks_are_told_and_never_change_the_outcome() {
    let p = Project::new();
    p.pipeline(
        "told",
        &format!(
            "callbacks: [on_run]\nblocks:\n  - {{ name: load, kind: loader, source: {{probe}}, callbacks: [ok_cb, bad_cb, failure_only], config: {{ mode: rows, rows: 3 }} }}\n  - {{ name: boom, kind: transformer, source: {{probe}}, upstream: [load], callbacks: [failure_only], config: {{ mode: error, message: kaput }} }}\n  - {{ name: ok_cb, kind: callback, source: {cb} }}\n  - {{ name: bad_cb, kind: callback, source: {cb}, config: {{ fail: true }} }}\n  - {{ name: failure_only, kind: callback, source: {{probe}}, on: [failure], config: {{ mode: vars, names: [callback_status, callback_error] }} }}\n  - {{ name: on_run, kind: callback, source: {cb}, on: [failure] }}\n",
            cb = py("py_callback.py")
        ),
    );
    let summary = run_ok(&p, "told", &[]);
    assert_eq!(summary["status"], "failed", "{summary}");
    assert_eq!(
        status(&summary, "load"),
        "success",
        "a failing callback changes nothing"
    );
    assert_eq!(status(&summary, "boom"), "failed");
    assert!(
        !keys(&summary).iter().any(|k| k.contains("cb")),
        "callbacks are not steps: {summary}"
    );
    let logs = p.logs(summary["run_id"].as_str().unwrap());
    assert!(
        log_lines(&logs, "ok_cb(load)")
            .iter()
            .any(|l| l == "told success of load with 1 table(s)"),
        "{logs}"
    );
    assert!(
        log_lines(&logs, "bad_cb(load)").iter().any(|l| l
            .contains("callback \"bad_cb\" failed (the outcome stands)")
            && l.contains("the callback broke")),
        "{logs}"
    );
    assert!(
        log_lines(&logs, "failure_only(load)").is_empty(),
        "on: [failure] only: {logs}"
    );
    assert!(
        log_lines(&logs, "failure_only(boom)")
            .iter()
            .any(|l| l.contains("told of failure")),
        "{logs}"
    );
    assert!(
        log_lines(&logs, "on_run")
            .iter()
            .any(|l| l == "told failure of  with 0 table(s)"),
        "{logs}"
    );
}

#[test]
fn one_block_runs_alone_with_the_latest_outputs() {
    let p = Project::new();
    p.pipeline(
        "edit",
        "blocks:\n  - { name: load, kind: loader, source: {probe}, config: { mode: rows, rows: 5 } }\n  - { name: double, kind: transformer, source: {probe}, upstream: [load], config: { mode: sum } }\n  - { name: report, kind: exporter, source: {probe}, upstream: [double], config: { mode: pass } }\n  - { name: other, kind: loader, source: {probe}, config: { mode: rows, rows: 1 } }\n",
    );
    let early = p.weft(&["run", "edit", "--block", "double"]);
    assert_ne!(early.code, 0);
    assert!(
        early
            .stderr
            .contains("no successful run to take the outputs of load from"),
        "{}",
        early.stderr
    );
    let first = run_ok(&p, "edit", &[]);
    assert_eq!(first["status"], "success");
    let first_id = first["run_id"].as_str().unwrap();

    let one = run_ok(&p, "edit", &["--block", "double"]);
    assert_eq!(one["status"], "success", "{one}");
    assert_eq!(
        keys(&one),
        ["load", "double"],
        "only the block and what it reads: {one}"
    );
    assert_eq!(block(&one, "load")["attempts"], 0, "load did not run again");
    assert_eq!(block(&one, "double")["attempts"], 1);
    let sum = output_table(&p, one["run_id"].as_str().unwrap(), "double")
        .to_json(None)
        .unwrap();
    assert!(
        sum.contains("\"rows\":5"),
        "double read load's 5 rows from run {first_id}: {sum}"
    );
    let logs = p.logs(one["run_id"].as_str().unwrap());
    let load = logs["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["key"] == "load")
        .unwrap();
    assert_eq!(
        load["output"],
        format!("runs/{first_id}/load/1.arrow"),
        "{logs}"
    );

    let down = run_ok(&p, "edit", &["--block", "double", "--downstream"]);
    assert_eq!(keys(&down), ["load", "double", "report"], "{down}");
    assert_eq!(block(&down, "report")["attempts"], 1);
    let nope = p.weft(&["run", "edit", "--block", "nope"]);
    assert!(
        nope.stderr.contains("has no block \"nope\""),
        "{}",
        nope.stderr
    );
}

/// Peak resident memory of `weft ARGS` in the project (VmHWM, sampled until it exits), with
/// its output.
fn peak_rss(p: &Project, args: &[&str]) -> (u64, Ran) {
    let out = p.path().join("peak.out");
    let err = p.path().join("peak.err");
    let mut c = weft();
    c.arg("--project").arg(p.path()).args(args);
    c.stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap());
    let mut child = c.spawn().unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            if let Some(kb) = text.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
                let kb: u64 = kb.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                peak = peak.max(kb * 1024);
            }
        }
        if let Some(code) = child.try_wait().unwrap() {
            let ran = Ran {
                code: code.code().unwrap_or(-1),
                stdout: std::fs::read_to_string(&out).unwrap(),
                stderr: std::fs::read_to_string(&err).unwrap(),
            };
            return (peak, ran);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn ten_thousand_children_in_bounded_memory() {
    let p = Project::new();
    p.pipeline(
        "wide",
        "concurrency: 8\nblocks:\n  - { name: ids, kind: loader, source: {probe}, dynamic: true, config: { mode: rows, rows: 10000 } }\n  - { name: each, kind: transformer, source: {probe}, upstream: [ids], config: { mode: pass } }\n  - { name: all, kind: transformer, source: {probe}, upstream: [each], reduce: true, config: { mode: pass } }\n  - { name: total, kind: exporter, source: {probe}, upstream: [all], config: { mode: sum } }\n",
    );
    assert_eq!(p.weft(&["build"]).code, 0);
    let (peak, ran) = peak_rss(&p, &["run", "wide", "--json"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let summary = ran.json();
    assert_eq!(summary["status"], "success");
    let total = output_table(&p, summary["run_id"].as_str().unwrap(), "total")
        .to_json(None)
        .unwrap();
    assert!(
        total.contains("\"rows\":10000"),
        "every child's row gathered: {total}"
    );
    assert!(peak > 0 && peak < 600 << 20, "peak RSS {} MiB", peak >> 20);
    // The plain-stream progress does not print a line per child.
    assert!(
        ran.stderr.lines().count() < 200,
        "{} lines",
        ran.stderr.lines().count()
    );
    assert!(
        ran.stderr.contains("each (10000 children)"),
        "{}",
        ran.stderr
    );
}

#[test]
fn one_block_runs_through_the_api() {
    use crate::served::*;
    let p = Project::new();
    p.pipeline(
        "edit",
        "blocks:\n  - { name: load, kind: loader, source: {probe}, config: { mode: rows, rows: 5 } }\n  - { name: double, kind: transformer, source: {probe}, upstream: [load], config: { mode: sum } }\n  - { name: report, kind: exporter, source: {probe}, upstream: [double], config: { mode: pass } }\n",
    );
    let s = serve(&p);
    let url = |path: &str| format!("{}/api/pipelines/edit{path}", s.base);
    let (status, body) = call("POST", &url("/blocks/double/runs"), None, &[]);
    assert_eq!(status, 409, "{body}");
    let (status, body) = call("POST", &url("/blocks/nope/runs"), None, &[]);
    assert_eq!(status, 404, "{body}");
    let (_, body) = call("POST", &url("/runs"), None, &[]);
    let first = body["run_id"].as_str().unwrap().to_string();
    s.wait_run(&first, "finished", |r| r["status"] == "success");
    let (status, body) = call(
        "POST",
        &url("/blocks/double/runs?downstream=true"),
        None,
        &[],
    );
    assert_eq!(status, 202, "{body}");
    let id = body["run_id"].as_str().unwrap().to_string();
    let run = s.wait_run(&id, "finished", |r| {
        r["status"] == "success" || r["status"] == "failed"
    });
    assert_eq!(run["status"], "success", "{run}");
    let blocks: Vec<(&str, i64)> = run["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["key"].as_str().unwrap(), b["attempt"].as_i64().unwrap()))
        .collect();
    assert_eq!(blocks, [("load", 0), ("double", 1), ("report", 1)], "{run}");
}

#[test]
fn answers_that_are_not_booleans_fail_naming_the_block() {
    let p = Project::new();
    p.pipeline(
        "odd",
        "blocks:\n  - { name: guarded, kind: loader, source: {probe}, conditions: [not_bool], config: { mode: rows, rows: 1 } }\n  - { name: wait, kind: sensor, source: {probe}, poke_interval: 1s, config: { mode: rows, rows: 1 } }\n  - { name: not_bool, kind: condition, source: {probe}, config: { mode: rows, rows: 1 } }\n",
    );
    let summary = run_ok(&p, "odd", &[]);
    assert_eq!(summary["status"], "failed", "{summary}");
    let error = |k: &str| block(&summary, k)["error"].as_str().unwrap().to_string();
    assert!(
        error("guarded").contains("condition \"not_bool\": the answer's first column is Int64"),
        "{summary}"
    );
    assert!(
        error("wait").contains("sensor \"wait\": the answer's first column is Int64"),
        "{summary}"
    );
}
