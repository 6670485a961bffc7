//! Crash safety of `weft serve`: SIGKILL in the middle of a run and of per-second schedules,
//! then a restart, with SQLite and with Postgres state. Interrupted blocks run again as a new
//! attempt, finished blocks keep their outputs, no run stays running, no tick fires twice,
//! and missed ticks follow each schedule's `catch_up`.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::served::*;
use crate::services::TestDb;
use crate::support::*;

#[test]
fn sigkill_mid_run_then_restart_with_sqlite() {
    crash_and_recover(Project::new());
}

#[test]
fn sigkill_mid_run_then_restart_with_postgres() {
    let db = TestDb::new();
    let mut p = Project::new();
    p.state_url = Some(db.url.clone());
    crash_and_recover(p);
}

/// Execution dates of the runs of `trigger`, in order.
fn ticks(p: &Project, trigger: &str) -> Vec<DateTime<Utc>> {
    let mut t: Vec<DateTime<Utc>> = runs_of(p, trigger)
        .iter()
        .map(|r| {
            let vars: Value = serde_json::from_str(r["variables"].as_str().unwrap()).unwrap();
            DateTime::parse_from_rfc3339(vars["execution_date"].as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc)
        })
        .collect();
    t.sort();
    t
}

fn crash_and_recover(p: Project) {
    p.pipeline(
        "slow",
        "blocks:\n  - { name: first, kind: loader, source: {probe}, config: { mode: rows, rows: 5 } }\n  - { name: second, kind: transformer, source: {probe}, upstream: [first], config: { mode: sleep_first, ms: 60000 } }\n  - { name: third, kind: transformer, source: {probe}, upstream: [first, second], config: { mode: sum } }\n",
    );
    write(
        p.path(),
        "pipelines/slow/triggers.yaml",
        "- name: webhook\n  type: api\n",
    );
    p.pipeline(
        "tick",
        "blocks:\n  - { name: only, kind: loader, source: {probe}, config: { mode: rows, rows: 1 } }\n",
    );
    write(
        p.path(),
        "pipelines/tick/triggers.yaml",
        "- { name: all, type: schedule, cron: \"* * * * * *\", catch_up: all }\n- { name: skip, type: schedule, cron: \"* * * * * *\", catch_up: skip }\n",
    );
    p.pipeline(
        "doomed",
        "blocks:\n  - { name: nap, kind: loader, source: {probe}, config: { mode: sleep, ms: 60000 } }\n",
    );
    let bearer = format!("Bearer {}", token(&p, "webhook"));
    let mut s = serve(&p);
    let (status, body) = call(
        "POST",
        &format!("{}/api/pipelines/doomed/runs", s.base),
        None,
        &[],
    );
    assert_eq!(status, 202, "{body}");
    let doomed = body["run_id"].as_str().unwrap().to_string();
    let (status, body) = call(
        "POST",
        &format!("{}/api/pipelines/slow/triggers/webhook/runs", s.base),
        Some(b"{\"day\": \"2021-01-01\"}".to_vec()),
        &[("authorization", &bearer)],
    );
    assert_eq!(status, 202, "{body}");
    let id = body["run_id"].as_str().unwrap().to_string();
    s.wait_run(&id, "reached its second block", |r| {
        r["blocks"][1]["status"] == "running"
    });
    // Let the schedules tick a few times, then pull the plug.
    std::thread::sleep(Duration::from_millis(3200));
    s.kill_9();
    let killed_at = Utc::now();
    let before = BTreeMap::from([("all", ticks(&p, "all")), ("skip", ticks(&p, "skip"))]);
    assert!(before["all"].len() >= 2, "{before:?}");
    let run = p.weft(&["runs", "--json", "--limit", "1000"]).json();
    let stuck = run
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(stuck["status"], "running", "{stuck}");

    // Down for a few seconds: per-second ticks are missed. Meanwhile one pipeline is deleted.
    std::fs::remove_dir_all(p.path().join("pipelines/doomed")).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let s = serve(&p);
    // Its interrupted run cannot continue: it ends failed, saying why.
    let run = s.wait_run(&doomed, "ended", |r| r["status"] != "running");
    assert_eq!(run["status"], "failed", "{run}");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("no longer in the project"),
        "{run}"
    );
    assert_eq!(run["blocks"][0]["status"], "failed", "{run}");
    assert!(
        s.stderr().contains(&id),
        "the restart does not mention resuming {id}: {}",
        s.stderr()
    );
    let run = s.wait_run(&id, "finished", |r| {
        r["status"] != "running" && r["status"] != "queued"
    });
    assert_eq!(run["status"], "success", "{run}\n{}", s.stderr());
    let blocks = run["blocks"].as_array().unwrap();
    // `first` had finished: not run again, its output read back for `third`.
    assert_eq!(blocks[0]["attempt"], 1, "{run}");
    assert_eq!(blocks[0]["output"], stuck_output(&stuck, &p, &id));
    // `second` was interrupted: a new attempt.
    assert_eq!(blocks[1]["attempt"], 2, "{run}");
    assert_eq!(blocks[2]["attempt"], 1, "{run}");
    let sum = output_table(&p, &id, "third").to_json(None).unwrap();
    let sum: Value = serde_json::from_str(&sum).unwrap();
    assert_eq!(sum[0]["rows"], 6, "first's 5 rows and second's 1: {sum}");
    assert_eq!(sum[0]["total"], 5.0, "{sum}");
    let vars: Value = serde_json::from_str(run["variables"].as_str().unwrap()).unwrap();
    assert_eq!(vars["day"], "2021-01-01");

    // A few seconds of schedules after the restart, then a clean stop (SIGTERM).
    let restarted = Utc::now();
    std::thread::sleep(Duration::from_millis(2500));
    let mut s = s;
    s.terminate();
    for (trigger, t) in [("all", ticks(&p, "all")), ("skip", ticks(&p, "skip"))] {
        let mut unique = t.clone();
        unique.dedup();
        assert_eq!(
            unique.len(),
            t.len(),
            "{trigger}: a tick fired twice: {t:?}"
        );
        assert!(
            t.len() > before[trigger].len(),
            "{trigger} never fired after the restart"
        );
        let gaps: Vec<i64> = t.windows(2).map(|w| (w[1] - w[0]).num_seconds()).collect();
        match trigger {
            // Every missed second ran once, in the order they were due.
            "all" => assert!(gaps.iter().all(|g| *g == 1), "all: {t:?}"),
            // The seconds weft was down were skipped.
            _ => assert!(
                gaps.iter().any(|g| *g >= 3),
                "skip: no gap while weft was down ({killed_at} to {restarted}): {t:?}"
            ),
        }
    }
    // Nothing is left running: not the runs the crash interrupted, not the last ones.
    let runs = p.weft(&["runs", "--json", "--limit", "1000"]).json();
    let open: Vec<&Value> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "success" && r["id"] != doomed.as_str())
        .collect();
    assert!(open.is_empty(), "runs not successful: {open:?}");
}

/// The output path `first` had stored before the crash.
fn stuck_output(_stuck: &Value, p: &Project, id: &str) -> Value {
    let dir = p.path().join(format!(".weft/objects/runs/{id}/first"));
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, vec!["1.arrow".to_string()], "first ran once");
    Value::String(format!("runs/{id}/first/1.arrow"))
}

/// A `weft run` killed while a server is up: the server adopts its run within the orphan
/// check and finishes it.
#[test]
fn a_killed_cli_run_is_finished_by_the_server() {
    let p = Project::new();
    p.pipeline(
        "slow",
        "blocks:\n  - { name: nap, kind: loader, source: {probe}, config: { mode: sleep_first, ms: 60000 } }\n  - { name: after, kind: transformer, source: {probe}, upstream: [nap], config: { mode: pass } }\n",
    );
    let s = serve(&p);
    let mut cli = weft()
        .arg("--project")
        .arg(p.path())
        .args(["run", "slow"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let id = loop {
        let runs = p.weft(&["runs", "--json"]).json();
        if let Some(r) = runs
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["status"] == "running")
        {
            break r["id"].as_str().unwrap().to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the CLI run never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    cli.kill().unwrap();
    cli.wait().unwrap();
    let run = s.wait_run(&id, "finished", |r| {
        r["status"] == "success" || r["status"] == "failed"
    });
    assert_eq!(run["status"], "success", "{run}\n{}", s.stderr());
    assert_eq!(run["trigger"], "manual");
    // The interrupted first attempt (a minute long) was re-run by the server as attempt 2.
    assert_eq!(run["blocks"][0]["attempt"], 2, "{run}");
    assert_eq!(run["blocks"][1]["attempt"], 1, "{run}");
}

/// SIGKILL in the middle of a fan-out, then a restart: children that had succeeded keep their
/// outputs and do not run again, interrupted ones run as a new attempt, none is lost, and the
/// reduce gathers them all.
#[test]
fn sigkill_mid_fan_out_then_restart() {
    let p = Project::new();
    p.pipeline(
        "fan",
        "concurrency: 2\nblocks:\n  - { name: ids, kind: loader, source: {probe}, dynamic: true, config: { mode: rows, rows: 6 } }\n  - { name: each, kind: transformer, source: {probe}, upstream: [ids], reduce: true, config: { mode: sleep_first, ms: 1500 } }\n  - { name: total, kind: exporter, source: {probe}, upstream: [each], config: { mode: sum } }\n",
    );
    let mut s = serve(&p);
    let (status, body) = call(
        "POST",
        &format!("{}/api/pipelines/fan/runs", s.base),
        None,
        &[],
    );
    assert_eq!(status, 202, "{body}");
    let id = body["run_id"].as_str().unwrap().to_string();
    let done_children = |r: &Value| {
        r["blocks"]
            .as_array()
            .map(|b| {
                b.iter()
                    .filter(|b| {
                        b["key"].as_str().unwrap_or("").starts_with("each[")
                            && b["status"] == "success"
                    })
                    .count()
            })
            .unwrap_or(0)
    };
    s.wait_run(&id, "two children done", |r| done_children(r) >= 2);
    s.kill_9();
    let objects = p.path().join(format!(".weft/objects/runs/{id}/each"));
    let at_kill = p.logs(&id);
    let before: Vec<String> = at_kill["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["block"] == "each" && b["status"] == "success")
        .map(|b| b["key"].as_str().unwrap().to_string())
        .collect();
    assert!(before.len() >= 2 && before.len() < 6, "{before:?}");
    let s = serve(&p);
    let run = s.wait_run(&id, "finished", |r| {
        r["status"] != "running" && r["status"] != "queued"
    });
    assert_eq!(run["status"], "success", "{run}\n{}", s.stderr());
    let children: Vec<&Value> = run["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["block"] == "each")
        .collect();
    assert_eq!(children.len(), 6, "{run}");
    for c in children {
        let key = c["key"].as_str().unwrap();
        let index = key.trim_start_matches("each[").trim_end_matches(']');
        if before.iter().any(|b| b == key) {
            let files = std::fs::read_dir(objects.join(index)).unwrap().count();
            assert_eq!(files, 1, "{key} stored one output");
            assert_eq!(c["attempt"], 1, "{key} had succeeded: not run again: {run}");
        }
    }
    let sum = output_table(&p, &id, "total").to_json(None).unwrap();
    assert!(sum.contains("\"rows\":6"), "{sum}");
    // The API shows the fan-out as one block with counts, and pages through its children.
    assert_eq!(
        run["fan_outs"],
        serde_json::json!([{"block": "each", "children": 6, "statuses": {"success": 6}}]),
        "{run}"
    );
    let page = s.get(&format!(
        "/api/runs/{id}/blocks?block=each&offset=4&limit=10"
    ));
    assert_eq!(page["total"], 6);
    let keys: Vec<&str> = page["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["each[4]", "each[5]"]);
}

/// SIGKILL while a sensor waits between pokes, then a restart: the wait resumes where it was
/// (the pokes go on counting) and what depends on the sensor runs once it answers true.
#[test]
fn a_waiting_sensor_resumes_after_a_restart() {
    let p = Project::new();
    p.pipeline(
        "gate",
        "blocks:\n  - { name: wait, kind: sensor, source: {probe}, poke_interval: 2s, timeout: 2m, config: { mode: answer, after: 2 } }\n  - { name: after, kind: transformer, source: {probe}, upstream: [wait], config: { mode: rows, rows: 3 } }\n",
    );
    let mut s = serve(&p);
    let (status, body) = call(
        "POST",
        &format!("{}/api/pipelines/gate/runs", s.base),
        None,
        &[],
    );
    assert_eq!(status, 202, "{body}");
    let id = body["run_id"].as_str().unwrap().to_string();
    let waiting = s.wait_run(&id, "a sensor waiting", |r| {
        r["blocks"][0]["status"] == "waiting"
    });
    assert_eq!(waiting["blocks"][0]["attempt"], 1, "{waiting}");
    assert!(
        waiting["blocks"][0]["wake_at"].as_i64().is_some(),
        "{waiting}"
    );
    s.kill_9();
    let s = serve(&p);
    let run = s.wait_run(&id, "finished", |r| {
        r["status"] != "running" && r["status"] != "queued"
    });
    assert_eq!(run["status"], "success", "{run}\n{}", s.stderr());
    assert_eq!(
        run["blocks"][0]["attempt"], 3,
        "pokes 2 and 3 after the restart: {run}"
    );
    assert_eq!(
        run["blocks"][0]["first_at"], waiting["blocks"][0]["first_at"],
        "{run}"
    );
    assert_eq!(run["blocks"][1]["rows"], 3, "{run}");
}
