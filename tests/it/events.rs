//! The web UI's live channel, `GET /api/events`, over real HTTP: `run` events for runs this
//! server drives and for runs another process drives, `log` events with their positions as
//! ids, a resume after `Last-Event-ID` that sends `resync` and only later lines, and bad
//! requests refused.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::served::*;
use crate::support::*;

/// A Server-Sent Events reader over one response.
struct Events {
    resp: reqwest::Response,
    buf: String,
}

/// One event: its type, id and data.
#[derive(Debug)]
struct Event {
    kind: String,
    id: Option<i64>,
    data: Value,
}

impl Events {
    async fn open(url: &str, headers: &[(&str, &str)]) -> Events {
        let mut req = reqwest::Client::new().get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200, "{url}");
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        Events {
            resp,
            buf: String::new(),
        }
    }

    /// The next event, or none by `deadline`.
    async fn next(&mut self, deadline: Instant) -> Option<Event> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let raw: String = self.buf.drain(..end + 2).collect();
                let mut e = Event {
                    kind: "message".into(),
                    id: None,
                    data: Value::Null,
                };
                let mut any = false;
                for line in raw.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        e.kind = v.trim().to_string();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("id:") {
                        e.id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        e.data = serde_json::from_str(v.trim()).unwrap_or(Value::Null);
                        any = true;
                    }
                }
                if any {
                    return Some(e);
                }
                continue; // a keep-alive comment
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }
}

const CHAT: &str = "blocks:\n  - { name: talk, kind: loader, source: {probe}, config: { mode: log_flood, rows: 20, message: a line } }\n  - { name: nap, kind: transformer, source: {probe}, upstream: [talk], config: { mode: sleep, ms: 3000 } }\n";

#[test]
fn the_live_channel_carries_runs_and_logs_and_resumes() {
    let p = Project::new();
    p.pipeline("chat", CHAT);
    let s = serve(&p);
    // A run this server drives: its statuses, and its log lines in order.
    let (_, body) = call(
        "POST",
        &format!("{}/api/pipelines/chat/runs", s.base),
        Some(b"{}".to_vec()),
        &[],
    );
    let id = body["run_id"].as_str().unwrap().to_string();
    rt().block_on(async {
        let url = format!("{}/api/events?logs={id}", s.base);
        let mut events = Events::open(&url, &[]).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut statuses = Vec::new();
        let mut seqs = Vec::new();
        while statuses.last().map(String::as_str) != Some("success") {
            let e = events
                .next(deadline)
                .await
                .expect("the run ended within a minute");
            match e.kind.as_str() {
                "run" if e.data["id"] == id.as_str() => {
                    statuses.push(e.data["status"].as_str().unwrap().to_string());
                    assert!(e.data["blocks"].is_array(), "{:?}", e.data);
                }
                "log" => {
                    assert_eq!(
                        e.id,
                        e.data["seq"].as_i64(),
                        "a log event's id is its position"
                    );
                    seqs.push(e.id.unwrap());
                }
                other => panic!("unexpected `{other}` event: {:?}", e.data),
            }
        }
        assert!(statuses.contains(&"running".to_string()), "{statuses:?}");
        assert!(seqs.len() >= 20, "{seqs:?}");
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "lines out of order: {seqs:?}"
        );

        // A reconnect after line 9: `resync`, then only the lines after it.
        let resumed_from = seqs[9];
        let mut again = Events::open(&url, &[("last-event-id", &resumed_from.to_string())]).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let first = again
            .next(deadline)
            .await
            .expect("an event after a reconnect");
        assert_eq!(first.kind, "resync");
        let mut resent = Vec::new();
        while resent.len() < seqs.len() - 10 {
            let e = again
                .next(deadline)
                .await
                .expect("the lines after the resume point");
            if e.kind == "log" {
                resent.push(e.id.unwrap());
            }
        }
        assert_eq!(resent, seqs[10..].to_vec());

        // A run another process drives (`weft run` on the same state) shows up too.
        let mut all = Events::open(&format!("{}/api/events", s.base), &[]).await;
        let cli = weft()
            .arg("--project")
            .arg(p.path())
            .args(["run", "chat"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = None;
        while seen.is_none() {
            let e = all
                .next(deadline)
                .await
                .expect("the other process's run was announced");
            if e.kind == "run" && e.data["id"] != id.as_str() && e.data["status"] == "success" {
                seen = Some(e.data);
            }
        }
        let out = cli.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(seen.unwrap()["pipeline"], "chat");
    });

    // Bad requests: a run that does not exist, a position that is not a number.
    for (path, code) in [
        ("/api/events?logs=no-such-run", 404),
        ("/api/events?after=soon", 400),
    ] {
        let (status, body) = call("GET", &format!("{}{path}", s.base), None, &[]);
        assert_eq!(status, code, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
}

/// Live channels are capped per server: one over the cap is refused with 503 (the others keep
/// running), and a closed one frees its place.
#[test]
fn live_channels_are_capped_and_places_freed() {
    let p = Project::new();
    p.pipeline("chat", CHAT);
    let s = serve_env(&p, &[("WEFT_MAX_EVENT_STREAMS", "2")]);
    let url = format!("{}/api/events", s.base);
    rt().block_on(async {
        let first = Events::open(&url, &[]).await;
        let second = Events::open(&url, &[]).await;
        let third = reqwest::Client::new().get(&url).send().await.unwrap();
        assert_eq!(third.status(), 503);
        let body: Value = third.json().await.unwrap();
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("too many live channels"),
            "{body}"
        );
        drop(first);
        // The server notices the closed channel when it next writes to it (a keep-alive at
        // the latest); a new one then opens.
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let again = reqwest::Client::new().get(&url).send().await.unwrap();
            if again.status() == 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the closed channel's place was never freed"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        drop(second);
    });
}
