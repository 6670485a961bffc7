//! The REST API of `weft serve` over real HTTP: pipelines and their DAG, starting runs,
//! listing with filters, block runs, logs (a page and a live SSE stream), output previews,
//! cancel, retry of failed blocks only, max_active_runs, backfills, run webhooks (a real
//! receiver on loopback that fails twice first), the OpenAPI document and the API token.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::served::*;
use crate::services::free_port;
use crate::support::*;

/// A webhook receiver: answers 500 to the first `failures` POSTs, then 200; every body it
/// accepted is a line of `received`.
struct Receiver {
    child: Child,
    url: String,
    received: std::path::PathBuf,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const RECEIVER: &str = r#"
import http.server, sys
port, failures, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
seen = [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('content-length', 0)))
        seen[0] += 1
        if seen[0] <= failures:
            self.send_response(500); self.end_headers(); return
        with open(out, 'ab') as f:
            f.write(body.replace(b'\n', b' ') + b'\n')
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', port), H).serve_forever()
"#;

fn receiver(dir: &std::path::Path, failures: u32) -> Receiver {
    let port = free_port();
    let received = dir.join("received.ndjson");
    let child = Command::new("python3")
        .args(["-c", RECEIVER, &port.to_string(), &failures.to_string()])
        .arg(&received)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the webhook receiver did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Receiver {
        child,
        url: format!("http://127.0.0.1:{port}/hooks/weft"),
        received,
    }
}

fn post(s: &Served, path: &str, body: Value) -> (u16, Value) {
    call(
        "POST",
        &format!("{}{path}", s.base),
        Some(body.to_string().into_bytes()),
        &[],
    )
}

fn finished(r: &Value) -> bool {
    !matches!(r["status"].as_str(), Some("queued" | "running"))
}

#[test]
fn rest_api_runs_logs_previews_cancel_retry_backfill_and_webhooks() {
    let p = Project::new();
    let hook = receiver(p.path(), 2);
    p.pipeline(
        "etl",
        &format!("on_failure: {}\nblocks:\n  - {{ name: src, kind: loader, source: {{probe}}, config: {{ mode: rows, rows: 30 }} }}\n  - {{ name: total, kind: transformer, source: {{probe}}, upstream: [src], config: {{ mode: sum }} }}\n  - {{ name: flaky, kind: transformer, source: {{probe}}, upstream: [total], config: {{ mode: flaky, fail_times: 1 }} }}\n", hook.url),
    );
    p.pipeline(
        "long",
        "blocks:\n  - { name: nap, kind: loader, source: {probe}, config: { mode: sleep, ms: 60000 } }\n  - { name: after, kind: transformer, source: {probe}, upstream: [nap], config: { mode: pass } }\n",
    );
    p.pipeline(
        "slow",
        &format!("max_active_runs: 1\non_success: {}\nblocks:\n  - {{ name: nap, kind: loader, source: {{probe}}, config: {{ mode: sleep, ms: 600 }} }}\n  - {{ name: after, kind: transformer, source: {{probe}}, upstream: [nap], config: {{ mode: pass }} }}\n", hook.url),
    );
    let s = serve(&p);

    // Pipelines and the DAG.
    let all = s.get("/api/pipelines");
    let names: Vec<&str> = all["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["etl", "long", "slow"]);
    let etl = s.get("/api/pipelines/etl");
    assert_eq!(
        etl["edges"],
        json!([{"from": "src", "to": "total"}, {"from": "total", "to": "flaky"}])
    );
    assert_eq!(etl["blocks"][0]["downstream"], json!(["total"]));
    // Webhook URLs may hold tokens: the API shows only where they point.
    let host = hook.url.trim_end_matches("/hooks/weft");
    assert_eq!(etl["notify"]["on_failure"], format!("{host}/…"));
    let (status, body) = call("GET", &format!("{}/api/pipelines/nope", s.base), None, &[]);
    assert_eq!(status, 404);
    assert!(
        body["error"].as_str().unwrap().contains("etl, long, slow"),
        "{body}"
    );

    // Start a run: `flaky` fails its first attempt, so the run fails...
    let (status, body) = post(&s, "/api/pipelines/etl/runs", json!({"day": "2021-01-01"}));
    assert_eq!(status, 202, "{body}");
    let id = body["run_id"].as_str().unwrap().to_string();
    let run = s.wait_run(&id, "finished", finished);
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(run["trigger"], "manual");
    // ...and the failure webhook gets the summary, after two refused deliveries.
    let deadline = Instant::now() + Duration::from_secs(30);
    let delivered = loop {
        if let Ok(text) = std::fs::read_to_string(&hook.received) {
            if !text.is_empty() {
                break text;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the webhook never arrived: {}",
            s.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let note: Value = serde_json::from_str(delivered.lines().next().unwrap()).unwrap();
    assert_eq!(
        (&note["run_id"], &note["status"], &note["pipeline"]),
        (&json!(id), &json!("failed"), &json!("etl"))
    );
    assert_eq!(note["blocks"][2]["status"], "failed", "{note}");

    // Block runs, logs (pages, one block), output previews.
    let blocks = s.get(&format!("/api/runs/{id}/blocks"))["blocks"].clone();
    assert_eq!(blocks[1]["rows"], 1);
    let logs = s.get(&format!("/api/runs/{id}/logs?block=total"));
    let lines: Vec<&str> = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert!(
        lines.iter().any(|l| l.contains("sum of 30 rows")),
        "{lines:?}"
    );
    let page = s.get(&format!("/api/runs/{id}/logs?limit=1"));
    let next = page["next_after"].as_i64().unwrap();
    let rest = s.get(&format!("/api/runs/{id}/logs?after={next}"));
    assert!(rest["logs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["seq"].as_i64().unwrap() > next));
    let head = s.get(&format!("/api/runs/{id}/blocks/src/output?limit=3"));
    assert_eq!(head["rows"], 30);
    assert_eq!(head["head"].as_array().unwrap().len(), 3);
    assert_eq!(
        head["columns"][0],
        json!({"name": "id", "type": "Int64", "nulls": 0})
    );
    for (path, code) in [
        (format!("/api/runs/{id}/blocks/src/output?limit=0"), 400),
        (format!("/api/runs/{id}/blocks/flaky/output"), 404),
        (format!("/api/runs/{id}/blocks/nope/output"), 404),
        ("/api/runs?status=done".to_string(), 400),
        (format!("/api/runs/{id}/logs?after=soon"), 400),
        ("/api/runs?limit=many".to_string(), 400),
        ("/api/nothing/here".to_string(), 404),
    ] {
        let (status, body) = call("GET", &format!("{}{path}", s.base), None, &[]);
        assert_eq!(status, code, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }

    // The SSE stream of a finished run: every line, then `end`.
    let (status, text) = call(
        "GET",
        &format!("{}/api/runs/{id}/logs/stream", s.base),
        None,
        &[],
    );
    assert_eq!(status, 200);
    let text = text.as_str().unwrap().to_string();
    assert!(
        text.contains("event: log") && text.contains("sum of 30 rows"),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with(&format!(
            "data: {}",
            json!({"run_id": id, "status": "failed"})
        )),
        "{text}"
    );

    // Retry: only the failed block runs again, as attempt 2; the others keep their outputs.
    let (status, body) = post(&s, &format!("/api/runs/{id}/retry"), json!({}));
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["blocks"], json!(["flaky"]));
    let run = s.wait_run(&id, "finished again", finished);
    assert_eq!(run["status"], "success", "{run}");
    let attempts: Vec<i64> = run["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["attempt"].as_i64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 1, 2]);
    // The failed first attempt is kept beside the row of the second.
    let earlier = run["attempts"].as_array().unwrap();
    assert_eq!(earlier.len(), 1, "{run}");
    assert_eq!(earlier[0]["key"], "flaky");
    assert_eq!(earlier[0]["attempt"], 1);
    assert_eq!(earlier[0]["status"], "failed");
    assert!(
        earlier[0]["error"].as_str().unwrap().contains("flaky"),
        "{run}"
    );
    // Each block's most memory at once: its instance's memory, within its limit.
    for b in run["blocks"].as_array().unwrap() {
        let peak = b["peak_memory"].as_i64().unwrap_or(0);
        assert!(peak > 0 && peak <= 1 << 30, "{b}");
    }
    assert!(earlier[0]["peak_memory"].as_i64().unwrap_or(0) > 0, "{run}");
    let (status, body) = post(&s, &format!("/api/runs/{id}/retry"), json!({}));
    assert_eq!(status, 409, "{body}");

    // A live stream follows a run to its end.
    let (_, body) = post(&s, "/api/pipelines/slow/runs", json!({}));
    let live = body["run_id"].as_str().unwrap().to_string();
    let (status, text) = call(
        "GET",
        &format!("{}/api/runs/{live}/logs/stream", s.base),
        None,
        &[],
    );
    assert_eq!(status, 200);
    assert!(
        text.as_str().unwrap().contains("\"status\":\"success\""),
        "{text}"
    );

    // max_active_runs: 1 — three runs, never two at once.
    let ids: Vec<String> = (0..3)
        .map(|_| {
            post(&s, "/api/pipelines/slow/runs", json!({})).1["run_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut spans: Vec<(i64, i64)> = ids
        .iter()
        .map(|id| {
            let r = s.wait_run(id, "finished", finished);
            assert_eq!(r["status"], "success", "{r}");
            (
                r["started_at"].as_i64().unwrap(),
                r["finished_at"].as_i64().unwrap(),
            )
        })
        .collect();
    spans.sort();
    assert!(
        spans.windows(2).all(|w| w[0].1 <= w[1].0),
        "runs overlapped: {spans:?}"
    );

    // Cancel a running run; then it is over and cancelling again conflicts.
    let (_, body) = post(&s, "/api/pipelines/long/runs", json!({}));
    let victim = body["run_id"].as_str().unwrap().to_string();
    s.wait_run(&victim, "started", |r| {
        r["blocks"][0]["status"] == "running"
    });
    let (status, body) = post(&s, &format!("/api/runs/{victim}/cancel"), json!({}));
    assert_eq!(
        (status, &body["status"]),
        (202, &json!("cancelling")),
        "{body}"
    );
    let run = s.wait_run(&victim, "ended", finished);
    assert_eq!(run["status"], "cancelled", "{run}");
    assert_eq!(run["blocks"][1]["status"], "cancelled", "{run}");
    assert_eq!(
        post(&s, &format!("/api/runs/{victim}/cancel"), json!({})).0,
        409
    );

    // Backfill: one run per day with its execution date; bad fields are named.
    let (status, body) = post(
        &s,
        "/api/pipelines/slow/backfills",
        json!({"start": "2021-01-01", "end": "2021-01-03", "every": "1d", "concurrency": 2}),
    );
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["runs"], 3);
    for id in body["run_ids"].as_array().unwrap() {
        let r = s.wait_run(id.as_str().unwrap(), "finished", finished);
        assert_eq!(r["status"], "success", "{r}");
    }
    let listed = s.get("/api/runs?pipeline=slow&trigger=backfill&status=success");
    let mut dates: Vec<String> = listed["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r["variables"].as_str().unwrap()).unwrap()
                ["execution_date"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    dates.sort();
    assert_eq!(
        dates,
        [
            "2021-01-01T00:00:00+00:00",
            "2021-01-02T00:00:00+00:00",
            "2021-01-03T00:00:00+00:00"
        ]
    );
    let (status, body) = post(
        &s,
        "/api/pipelines/slow/backfills",
        json!({"start": "2021-01-01", "end": "2021-01-03", "every": "daily"}),
    );
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().starts_with("every:"),
        "{body}"
    );
    // Paging through every run of `slow`, two at a time, sees each once.
    let mut seen = Vec::new();
    let mut before = String::new();
    loop {
        let page = s.get(&format!("/api/runs?pipeline=slow&limit=2{before}"));
        seen.extend(
            page["runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
        match page["next_before"].as_str() {
            Some(b) => before = format!("&before={b}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (7, 7), "{seen:?}");

    // Every successful run of `slow` told its success webhook.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&hook.received).unwrap();
        let notes: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let told = notes
            .iter()
            .filter(|n| n["event"] == "run_success" && n["pipeline"] == "slow")
            .count();
        if told == 7 {
            break;
        }
        assert!(Instant::now() < deadline, "{told} success notes: {text}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // The OpenAPI document names every route.
    let doc = s.get("/api/openapi.json");
    for path in [
        "/api/pipelines",
        "/api/pipelines/{pipeline}",
        "/api/pipelines/{pipeline}/runs",
        "/api/pipelines/{pipeline}/backfills",
        "/api/runs",
        "/api/runs/{id}",
        "/api/runs/{id}/blocks",
        "/api/runs/{id}/cancel",
        "/api/runs/{id}/retry",
        "/api/runs/{id}/logs",
        "/api/runs/{id}/logs/stream",
        "/api/runs/{id}/blocks/{block}/output",
        "/api/events",
        "/api/triggers",
        "/api/pipelines/{pipeline}/triggers/{trigger}/token",
        "/api/pipelines/{pipeline}/triggers/{trigger}/runs",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|ops| ops.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all, "operation ids repeat: {ids:?}");
}

#[test]
fn an_api_token_guards_everything_but_health_and_the_document() {
    let p = Project::new();
    p.pipeline("etl", "blocks:\n  - { name: src, kind: loader, source: {probe}, config: { mode: rows, rows: 2 } }\n");
    let s = serve_env(&p, &[("WEFT_API_TOKEN", "s3cret-admin")]);
    let url = format!("{}/api/pipelines/etl/runs", s.base);
    assert_eq!(call("POST", &url, None, &[]).0, 401);
    assert_eq!(
        call("POST", &url, None, &[("authorization", "Bearer nope")]).0,
        401
    );
    let (status, body) = call(
        "POST",
        &url,
        None,
        &[("authorization", "Bearer s3cret-admin")],
    );
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        call("GET", &format!("{}/api/runs", s.base), None, &[]).0,
        401
    );
    // The UI's live channel too; the UI's page and assets carry no data and need none.
    assert_eq!(
        call("GET", &format!("{}/api/events", s.base), None, &[]).0,
        401
    );
    assert_eq!(call("GET", &format!("{}/runs", s.base), None, &[]).0, 200);
    assert_eq!(
        call("GET", &format!("{}/api/health", s.base), None, &[]).0,
        200
    );
    assert_eq!(
        call("GET", &format!("{}/api/openapi.json", s.base), None, &[]).0,
        200
    );
}

/// A run is cancelled wherever it runs: the server's API stops a `weft run`, and
/// `weft cancel` stops a run the server drives.
#[test]
fn cancels_reach_the_process_that_drives_the_run() {
    let p = Project::new();
    p.pipeline(
        "long",
        "max_active_runs: 1\nblocks:\n  - { name: nap, kind: loader, source: {probe}, config: { mode: sleep, ms: 60000 } }\n  - { name: after, kind: transformer, source: {probe}, upstream: [nap], config: { mode: pass } }\n",
    );
    let s = serve(&p);
    let mut cli = weft()
        .arg("--project")
        .arg(p.path())
        .args(["run", "long"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let id = loop {
        let runs = s.get("/api/runs?status=running");
        if let Some(r) = runs["runs"].as_array().unwrap().first() {
            break r["id"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "the CLI run never started");
        std::thread::sleep(Duration::from_millis(100));
    };
    let (status, body) = post(&s, &format!("/api/runs/{id}/cancel"), json!({}));
    assert_eq!(
        (status, &body["status"]),
        (202, &json!("cancelling")),
        "{body}"
    );
    let run = s.wait_run(&id, "cancelled", finished);
    assert_eq!(run["status"], "cancelled", "{run}");
    let code = cli.wait().unwrap();
    assert!(!code.success(), "the cancelled `weft run` exited {code}");

    let (_, body) = post(&s, "/api/pipelines/long/runs", json!({}));
    let served = body["run_id"].as_str().unwrap().to_string();
    s.wait_run(&served, "started", |r| {
        r["blocks"][0]["status"] == "running"
    });
    // A second run waits for the pipeline's only slot; `weft cancel` reaches it there.
    let (_, body) = post(&s, "/api/pipelines/long/runs", json!({}));
    let waiting = body["run_id"].as_str().unwrap().to_string();
    assert_eq!(s.get(&format!("/api/runs/{waiting}"))["status"], "queued");
    let ran = p.weft(&["cancel", &waiting]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let run = s.get(&format!("/api/runs/{waiting}"));
    assert_eq!(run["status"], "cancelled", "{run}");
    assert_eq!(run["blocks"][0]["attempt"], 0, "it never started: {run}");
    assert_eq!(s.get(&format!("/api/runs/{served}"))["status"], "running");
    let ran = p.weft(&["cancel", &served]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stderr.contains("cancelled"), "{}", ran.stderr);
    let run = s.get(&format!("/api/runs/{served}"));
    assert_eq!(run["status"], "cancelled", "{run}");
    assert_eq!(run["blocks"][1]["status"], "cancelled", "{run}");
    let again = p.weft(&["cancel", &served]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("already ended"), "{}", again.stderr);
}

#[test]
fn triggers_are_listed_and_their_tokens_issued_over_http() {
    let p = Project::new();
    p.pipeline("etl", "blocks:\n  - { name: src, kind: loader, source: {probe}, config: { mode: rows, rows: 2 } }\n");
    write(
        p.path(),
        "pipelines/etl/triggers.yaml",
        "- name: hook\n  type: api\n- name: nightly\n  type: schedule\n  cron: \"0 3 * * *\"\n  timezone: Europe/Amsterdam\n",
    );
    let s = serve_env(&p, &[("WEFT_API_TOKEN", "admin-secret")]);
    let admin = [("authorization", "Bearer admin-secret")];
    let url = |path: &str| format!("{}{path}", s.base);

    // The list: the schedule's next tick is 03:00 in Amsterdam; the API trigger has no token.
    assert_eq!(call("GET", &url("/api/triggers"), None, &[]).0, 401);
    let (status, list) = call("GET", &url("/api/triggers"), None, &admin);
    assert_eq!(status, 200, "{list}");
    let by = |name: &str| {
        list["triggers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .unwrap()
    };
    let nightly = by("nightly");
    assert_eq!(nightly["type"], "schedule");
    let next = chrono::DateTime::parse_from_rfc3339(nightly["next"].as_str().unwrap()).unwrap();
    let local = next.with_timezone(&chrono_tz::Europe::Amsterdam);
    assert_eq!(local.format("%H:%M").to_string(), "03:00", "{nightly}");
    let hook = by("hook");
    assert_eq!(hook["has_token"], false);
    assert_eq!(hook["path"], "/api/pipelines/etl/triggers/hook/runs");

    // Issue a token over HTTP, use it, rotate it: the old one stops working.
    let issue = url("/api/pipelines/etl/triggers/hook/token");
    assert_eq!(
        call("POST", &issue, None, &[]).0,
        401,
        "issuing needs the API token"
    );
    let (status, first) = call("POST", &issue, None, &admin);
    assert_eq!(status, 201, "{first}");
    let first = first["token"].as_str().unwrap().to_string();
    let run = url("/api/pipelines/etl/triggers/hook/runs");
    let bearer = |t: &str| format!("Bearer {t}");
    assert_eq!(
        call(
            "POST",
            &run,
            Some(b"{}".to_vec()),
            &[("authorization", &bearer(&first))]
        )
        .0,
        202
    );
    let (_, second) = call("POST", &issue, None, &admin);
    let second = second["token"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(
        call(
            "POST",
            &run,
            Some(b"{}".to_vec()),
            &[("authorization", &bearer(&first))]
        )
        .0,
        401
    );
    assert_eq!(
        call(
            "POST",
            &run,
            Some(b"{}".to_vec()),
            &[("authorization", &bearer(&second))]
        )
        .0,
        202
    );
    assert_eq!(
        call("GET", &url("/api/triggers"), None, &admin).1["triggers"][0]["has_token"],
        true
    );

    // A schedule has no token; an unknown trigger or pipeline is named.
    for (path, code) in [
        ("/api/pipelines/etl/triggers/nightly/token", 409),
        ("/api/pipelines/etl/triggers/nope/token", 404),
        ("/api/pipelines/nope/triggers/hook/token", 404),
    ] {
        let (status, body) = call("POST", &url(path), None, &admin);
        assert_eq!(status, code, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
}
