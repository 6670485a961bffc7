//! `weft serve` over real HTTP on loopback: API triggers with tokens (missing, wrong, rotated),
//! bad bodies, idempotency keys, 200 concurrent calls, per-second schedules, a clean
//! shutdown on SIGTERM, and a pipeline that does not load at start served once it is fixed.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::served::*;
use crate::services::TestDb;
use crate::support::*;

#[test]
fn api_triggers_schedules_and_shutdown_with_sqlite() {
    exercise(Project::new());
}

#[test]
fn api_triggers_schedules_and_shutdown_with_postgres() {
    let db = TestDb::new();
    let mut p = Project::new();
    p.state_url = Some(db.url.clone());
    exercise(p);
    assert!(
        db.scalar("SELECT count(*)::text FROM weft_runs WHERE trigger = 'webhook'")
            .parse::<i64>()
            .unwrap()
            >= 202
    );
}

fn exercise(p: Project) {
    p.pipeline(
        "etl",
        "blocks:\n  - { name: src, kind: loader, source: {probe}, config: { mode: rows, rows: 4 } }\n",
    );
    write(
        p.path(),
        "pipelines/etl/triggers.yaml",
        "- name: webhook\n  type: api\n- name: every_second\n  type: schedule\n  cron: \"* * * * * *\"\n  catch_up: skip\n",
    );
    let old = token(&p, "webhook");
    let good = token(&p, "webhook");
    let s = serve(&p);
    let url = format!("{}/api/pipelines/etl/triggers/webhook/runs", s.base);
    let bearer = |t: &str| format!("Bearer {t}");

    // Tokens: missing, wrong, rotated away: 401 and nothing runs.
    let (status, body) = call("POST", &url, Some(b"{}".to_vec()), &[]);
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{body}"
    );
    for t in ["weft_nope", old.as_str()] {
        let (status, body) = call(
            "POST",
            &url,
            Some(b"{}".to_vec()),
            &[("authorization", &bearer(t))],
        );
        assert_eq!(status, 401, "{body}");
    }
    assert!(runs_of(&p, "webhook").is_empty());
    let auth = bearer(&good);
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, String)> {
        let mut h = vec![("authorization", auth.clone())];
        h.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        h
    };
    let send = |body: &[u8], headers: &[(&str, String)], query: &str| {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        call("POST", &format!("{url}{query}"), Some(body.to_vec()), &h)
    };

    // Bad bodies are named; nothing runs.
    let (status, body) = send(b"{\"day\": ", &with(&[]), "");
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("not valid JSON"),
        "{body}"
    );
    let (status, body) = send(b"[1, 2]", &with(&[]), "");
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("JSON object"),
        "{body}"
    );
    let (status, body) = send(&vec![b' '; 2 << 20], &with(&[]), "");
    assert_eq!(status, 413, "{body}");
    let (status, body) = send(b"{}", &with(&[]), "?wait=forever");
    assert_eq!(status, 400, "{body}");
    // Another trigger's token opens nothing: an unknown trigger is a 401, like a wrong token.
    let (status, _) = call(
        "POST",
        &format!("{}/api/pipelines/etl/triggers/nope/runs", s.base),
        None,
        &[("authorization", &auth)],
    );
    assert_eq!(status, 401);
    assert!(runs_of(&p, "webhook").is_empty());

    // A good call with ?wait: the final status and a preview of the output.
    let (status, body) = send(
        b"{\"day\": \"2021-01-01\", \"n\": 3}",
        &with(&[]),
        "?wait=60",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "success", "{body}");
    assert_eq!(body["preview"]["block"], "src");
    assert_eq!(body["preview"]["rows"], 4);
    let vars: Value = serde_json::from_str(body["variables"].as_str().unwrap()).unwrap();
    assert_eq!(
        (&vars["day"], &vars["n"]),
        (&json!("2021-01-01"), &json!("3"))
    );
    // The execution date is fixed when the run is recorded, so a resumed run keeps it.
    assert!(
        vars["execution_date"].as_str().unwrap().starts_with("20"),
        "{vars}"
    );
    let (status, run) = call(
        "GET",
        &format!("{}/api/runs/{}", s.base, body["id"].as_str().unwrap()),
        None,
        &[],
    );
    assert_eq!(status, 200);
    assert_eq!(run["blocks"][0]["status"], "success", "{run}");
    assert_eq!(
        call("GET", &format!("{}/api/runs/nope", s.base), None, &[]).0,
        404
    );

    // The same Idempotency-Key twice: one run.
    let (s1, a) = send(b"{}", &with(&[("idempotency-key", "delivery-42")]), "");
    let (s2, b) = send(b"{}", &with(&[("idempotency-key", "delivery-42")]), "");
    assert_eq!((s1, s2), (202, 202));
    assert_eq!(a["run_id"], b["run_id"]);
    assert_eq!(b["replayed"], true);

    // 200 concurrent calls: exactly 200 runs.
    let before = runs_of(&p, "webhook").len();
    let ids: Vec<String> = rt().block_on(async {
        let client = reqwest::Client::new();
        let calls = (0..200).map(|i| {
            let client = client.clone();
            let (url, auth) = (url.clone(), auth.clone());
            async move {
                let resp = client
                    .post(url)
                    .header("authorization", auth)
                    .header("content-type", "application/json")
                    .body(format!("{{\"i\": {i}}}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status().as_u16(), 202);
                resp.json::<Value>().await.unwrap()["run_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            }
        });
        futures::future::join_all(calls).await
    });
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 200);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let runs = runs_of(&p, "webhook");
        let done = runs.iter().filter(|r| r["status"] == "success").count();
        if runs.len() == before + 200 && done == runs.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} runs, {done} done",
            runs.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The per-second schedule fires, once per tick.
    let deadline = Instant::now() + Duration::from_secs(30);
    let ticks: Vec<String> = loop {
        let ticks: Vec<String> = runs_of(&p, "every_second")
            .iter()
            .map(|r| {
                serde_json::from_str::<Value>(r["variables"].as_str().unwrap()).unwrap()
                    ["execution_date"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        if ticks.len() >= 3 {
            break ticks;
        }
        assert!(
            Instant::now() < deadline,
            "the schedule fired {} times: {ticks:?}",
            ticks.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut unique = ticks.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ticks.len(), "a tick fired twice: {ticks:?}");

    // SIGTERM: the server stops cleanly.
    let mut s = s;
    let pid = s.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "weft serve did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

/// A paused trigger starts nothing — a schedule's ticks pass without runs and are not made up
/// when it is resumed, an API call is refused with 409 — and a resumed one fires again.
#[test]
fn paused_triggers_start_nothing_until_resumed() {
    let p = Project::new();
    p.pipeline(
        "etl",
        "blocks:\n  - { name: src, kind: loader, source: {probe}, config: { mode: rows, rows: 1 } }\n",
    );
    write(
        p.path(),
        "pipelines/etl/triggers.yaml",
        "- name: webhook\n  type: api\n- name: every_second\n  type: schedule\n  cron: \"* * * * * *\"\n  catch_up: all\n",
    );
    let good = token(&p, "webhook");
    let s = serve(&p);
    let auth = format!("Bearer {good}");
    let hook = format!("{}/api/pipelines/etl/triggers/webhook/runs", s.base);
    let pause = |name: &str, paused: bool| {
        let (code, body) = call(
            "PUT",
            &format!("{}/api/pipelines/etl/triggers/{name}/paused", s.base),
            Some(
                serde_json::json!({ "paused": paused })
                    .to_string()
                    .into_bytes(),
            ),
            &[],
        );
        assert_eq!(code, 200, "{body}");
    };
    let start = Instant::now();
    while runs_of(&p, "every_second").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the schedule never fired"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    pause("every_second", true);
    pause("webhook", true);
    std::thread::sleep(Duration::from_millis(1500));
    let while_paused = runs_of(&p, "every_second").len();
    std::thread::sleep(Duration::from_millis(4000));
    assert_eq!(
        runs_of(&p, "every_second").len(),
        while_paused,
        "a paused schedule fired"
    );
    let (code, body) = call(
        "POST",
        &hook,
        Some(b"{}".to_vec()),
        &[("authorization", &auth)],
    );
    assert_eq!(code, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains("paused"), "{body}");
    let (_, listed) = call("GET", &format!("{}/api/triggers", s.base), None, &[]);
    assert!(
        listed["triggers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["paused"] == true),
        "{listed}"
    );

    pause("every_second", false);
    pause("webhook", false);
    let (code, body) = call(
        "POST",
        &hook,
        Some(b"{}".to_vec()),
        &[("authorization", &auth)],
    );
    assert_eq!(code, 202, "{body}");
    let resumed = Instant::now();
    while runs_of(&p, "every_second").len() == while_paused {
        assert!(
            resumed.elapsed() < Duration::from_secs(10),
            "the resumed schedule never fired"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // With catch-up `all`, the ~6 ticks passed while paused are still not made up.
    std::thread::sleep(Duration::from_millis(1200));
    let after = runs_of(&p, "every_second").len();
    assert!(
        after <= while_paused + 4,
        "paused ticks were made up: {while_paused} → {after}"
    );
    // Unknown triggers and bad bodies.
    let (code, _) = call(
        "PUT",
        &format!("{}/api/pipelines/etl/triggers/nope/paused", s.base),
        Some(b"{\"paused\": true}".to_vec()),
        &[],
    );
    assert_eq!(code, 404);
    let (code, _) = call(
        "PUT",
        &format!("{}/api/pipelines/etl/triggers/webhook/paused", s.base),
        Some(b"{\"pause\": 1}".to_vec()),
        &[],
    );
    assert_eq!(code, 400);
}

/// The pipelines as `GET /api/pipelines` lists them: name → (loaded, problem message).
fn listed(s: &Served) -> Vec<(String, bool, String)> {
    let (_, body) = call("GET", &format!("{}/api/pipelines", s.base), None, &[]);
    body["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["loaded"].as_bool().unwrap(),
                p["problem"]["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_pipeline_that_does_not_load_at_start_is_listed_and_loaded_once_fixed() {
    let p = Project::new();
    p.pipeline(
        "good",
        "blocks:\n  - { name: numbers, kind: loader, source: {probe}, config: { mode: rows, rows: 3 } }\n",
    );
    // A cycle, and a triggers.yaml that does not read: the server starts all the same.
    write(
        p.path(),
        "pipelines/bad/pipeline.yaml",
        "blocks:\n  - { name: a, kind: transformer, source: blocks/a.sql, upstream: [b] }\n  - { name: b, kind: transformer, source: blocks/a.sql, upstream: [a] }\n",
    );
    write(p.path(), "blocks/a.sql", "SELECT 1 AS x\n");
    write(
        p.path(),
        "pipelines/bad/triggers.yaml",
        "- name: hook\n  type: [\n",
    );
    let s = serve(&p);
    let deadline = Instant::now() + Duration::from_secs(15);
    let bad = loop {
        let all = listed(&s);
        if let Some(b) = all.iter().find(|(n, ..)| n == "bad") {
            break b.clone();
        }
        assert!(Instant::now() < deadline, "bad is not listed: {all:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(!bad.1, "{bad:?}");
    assert!(bad.2.contains("cycle"), "{bad:?}");
    assert!(listed(&s)
        .iter()
        .any(|(n, loaded, _)| n == "good" && *loaded));
    let (code, _) = call(
        "POST",
        &format!("{}/api/pipelines/bad/runs", s.base),
        Some(b"{}".to_vec()),
        &[],
    );
    assert_eq!(code, 404);

    // Fixed on disk: it is loaded and runs.
    write(
        p.path(),
        "pipelines/bad/pipeline.yaml",
        "blocks:\n  - { name: a, kind: loader, source: blocks/a.sql }\n",
    );
    write(
        p.path(),
        "pipelines/bad/triggers.yaml",
        "- name: hook\n  type: api\n",
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while !listed(&s)
        .iter()
        .any(|(n, loaded, _)| n == "bad" && *loaded)
    {
        assert!(
            Instant::now() < deadline,
            "bad was not loaded: {:?}",
            listed(&s)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (code, body) = call(
        "POST",
        &format!("{}/api/pipelines/bad/runs", s.base),
        Some(b"{}".to_vec()),
        &[],
    );
    assert_eq!(code, 202, "{body}");
}
