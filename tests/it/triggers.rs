//! Triggers from `pipelines/<name>/triggers.yaml`: listed with their next tick, followed by the
//! store (deletes included), API tokens issued once, stored only as hashes, rotated; and
//! `weft backfill`.

use crate::support::*;

const PIPELINE: &str =
    "blocks:\n  - { name: a, kind: loader, source: {probe}, config: { mode: rows, rows: 3 } }\n";

fn triggers(p: &Project) -> serde_json::Value {
    let ran = p.weft(&["triggers", "--json"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    ran.json()
}

#[test]
fn triggers_are_listed_synced_and_tokens_rotate() {
    let p = Project::new();
    p.pipeline("etl", PIPELINE);
    write(
        p.path(),
        "pipelines/etl/triggers.yaml",
        "- name: nightly\n  type: schedule\n  cron: \"0 3 * * *\"\n  timezone: Europe/Amsterdam\n  catch_up: latest\n- name: webhook\n  type: api\n",
    );
    let list = triggers(&p);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[0]["trigger"], "nightly");
    assert_eq!(list[0]["schedule"], "0 3 * * * (Europe/Amsterdam)");
    let next = list[0]["next"].as_str().unwrap();
    // 03:00 in Amsterdam is 01:00 or 02:00 UTC.
    assert!(
        next.ends_with("T02:00:00+00:00") || next.ends_with("T01:00:00+00:00"),
        "{next}"
    );
    assert_eq!(list[1]["path"], "/api/pipelines/etl/triggers/webhook/runs");
    assert_eq!(list[1]["token"], false);

    // A token is printed once, as the last line of stdout; the store keeps only its hash.
    let ran = p.weft(&["triggers", "token", "webhook"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let token = ran.stdout.lines().last().unwrap().trim().to_string();
    assert!(token.starts_with("weft_") && token.len() > 40, "{token}");
    let db = std::fs::read(p.path().join(".weft/state.db")).unwrap();
    let wal = std::fs::read(p.path().join(".weft/state.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !String::from_utf8_lossy(bytes).contains(&token),
            "the token is stored in clear"
        );
    }
    assert_eq!(triggers(&p)[1]["token"], true);
    let again = p.weft(&["triggers", "token", "webhook", "--pipeline", "etl"]);
    let rotated = again.stdout.lines().last().unwrap().trim().to_string();
    assert_ne!(rotated, token);

    // Schedules have no token; unknown triggers are named with the ones there are.
    let ran = p.weft(&["triggers", "token", "nightly"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("is a schedule; only `type: api` triggers have tokens"),
        "{}",
        ran.stderr
    );
    let ran = p.weft(&["triggers", "token", "webhok"]);
    assert!(
        ran.stderr
            .contains("no trigger \"webhok\"; API triggers: etl/webhook"),
        "{}",
        ran.stderr
    );

    // Paused from the CLI, resumed; unknown triggers named with every trigger there is.
    assert_eq!(triggers(&p)[0]["paused"], false);
    let ran = p.weft(&["triggers", "pause", "nightly"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(triggers(&p)[0]["paused"], true);
    assert_eq!(triggers(&p)[1]["paused"], false);
    assert_eq!(p.weft(&["triggers", "resume", "nightly"]).code, 0);
    assert_eq!(triggers(&p)[0]["paused"], false);
    let ran = p.weft(&["triggers", "pause", "nighty"]);
    assert_eq!(ran.code, 2);
    assert!(
        ran.stderr
            .contains("no trigger \"nighty\"; triggers: etl/nightly, etl/webhook"),
        "{}",
        ran.stderr
    );

    // The store follows the file: a trigger deleted there is gone.
    write(
        p.path(),
        "pipelines/etl/triggers.yaml",
        "- name: webhook\n  type: api\n",
    );
    let list = triggers(&p);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["token"], true, "a kept trigger keeps its token");

    // A broken file is reported by validate and by triggers, naming file and trigger.
    write(
        p.path(),
        "pipelines/etl/triggers.yaml",
        "- name: hourly\n  type: schedule\n  cron: \"0 * * *\"\n",
    );
    for args in [&["validate"][..], &["triggers"][..]] {
        let ran = p.weft(args);
        assert_eq!(ran.code, 2, "{}", ran.stderr);
        assert!(
            ran.stderr.contains("pipelines/etl/triggers.yaml: trigger \"hourly\": field `cron`: `0 * * *` is not a cron expression"),
            "{}",
            ran.stderr
        );
    }
}

/// `weft backfill`: one run per day with its execution date, the block sees it, and bad
/// arguments are named.
#[test]
fn backfill_runs_once_per_interval() {
    let p = Project::new();
    p.pipeline(
        "daily",
        "blocks:\n  - { name: seen, kind: loader, source: {probe}, config: { mode: vars, names: [execution_date] } }\n",
    );
    let ran = p.weft(&[
        "backfill",
        "daily",
        "--start",
        "2021-01-01",
        "--end",
        "2021-01-05",
        "--every",
        "1d",
        "--concurrency",
        "2",
        "--json",
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let runs = ran.json();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 5, "{runs:?}");
    assert!(runs.iter().all(|r| r["status"] == "success"), "{runs:?}");
    assert_eq!(runs[4]["execution_date"], "2021-01-05T00:00:00+00:00");
    let id = runs[2]["run_id"].as_str().unwrap();
    let seen = output_table(&p, id, "seen").to_json(None).unwrap();
    assert!(seen.contains("2021-01-03T00:00:00+00:00"), "{seen}");
    let listed = p.weft(&["runs", "--json"]).json();
    let backfilled = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["trigger"] == "backfill")
        .count();
    assert_eq!(backfilled, 5);

    let bad = p.weft(&[
        "backfill",
        "daily",
        "--start",
        "2021-01-05",
        "--end",
        "2021-01-01",
    ]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("before start"), "{}", bad.stderr);
    let bad = p.weft(&[
        "backfill",
        "daily",
        "--start",
        "2021-01-01",
        "--end",
        "2021-01-02",
        "--every",
        "daily",
    ]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("every: `daily`"), "{}", bad.stderr);
}
