//! What a block prints reaches its run's log while the block is still running, from Rust and
//! Python blocks alike.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::served::*;
use crate::support::*;

/// The messages logged so far for `run`.
fn messages(s: &Served, run: &str) -> Vec<String> {
    s.get(&format!("/api/runs/{run}/logs"))["logs"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|l| l["message"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn prints_reach_the_log_while_the_block_runs() {
    let p = Project::new();
    write(
        p.path(),
        "blocks/chatty.py",
        "import time\n\nfrom weft import loader\n\n\n@loader\ndef chatty(config):\n    print(\"python says hello\")\n    time.sleep(config[\"seconds\"])\n    return [{\"n\": 1}]\n",
    );
    p.pipeline(
        "live",
        "blocks:\n  - { name: rust, kind: loader, source: {probe}, config: { mode: print_sleep, message: rust says hello, ms: 5000 } }\n  - { name: python, kind: loader, source: blocks/chatty.py, config: { seconds: 5 } }\n",
    );
    let s = serve(&p);
    let (status, body): (u16, Value) = call(
        "POST",
        &format!("{}/api/pipelines/live/runs", s.base),
        Some(json!({}).to_string().into_bytes()),
        &[],
    );
    assert_eq!(status, 202, "{body}");
    let run = body["run_id"].as_str().unwrap().to_string();
    let started = Instant::now();
    let wanted = ["rust says hello", "python says hello"];
    loop {
        let got = messages(&s, &run);
        if wanted.iter().all(|w| got.iter().any(|m| m == w)) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "the prints did not reach the log while the blocks slept: {got:?}\n{}",
            s.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Seen while the blocks still sleep: the run is not over.
    assert_eq!(s.get(&format!("/api/runs/{run}"))["status"], "running");
    let done = s.wait_run(&run, "the run to end", |r| r["status"] != "running");
    assert_eq!(done["status"], "success", "{done}");
}
