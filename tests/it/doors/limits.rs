//! Host budgets and deadlines reach inside IO calls: bytes read and decompressed
//! (`read_limit`), memory held while decoding (`memory_limit`), a stalled download and a
//! long Postgres statement (`timeout`) — each stops the block with a message naming the
//! limit, and a retry starts only after the stopped attempt has ended.

use std::io::Write;
use std::time::{Duration, Instant};

use super::*;
use crate::services::{free_port, start_server, TestDb};

fn gzip_csv(path: &std::path::Path, rows: usize) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    writeln!(gz, "id,name,amount").unwrap();
    for i in 0..rows {
        writeln!(gz, "{i},passenger-{:06},{}.25", i % 1000, i % 97).unwrap();
    }
    gz.finish().unwrap();
}

#[test]
fn reads_are_held_to_read_limit_and_memory_limit() {
    let p = Project::new();
    // ~33 MB of CSV that compresses to well under 1 MB.
    gzip_csv(&p.path().join("data/bomb.csv.gz"), 1_000_000);
    write(p.path(), "data/plain.csv", &"1,2,3\n".repeat(400_000));
    let read = |name: &str, url: &str, limits: &str| {
        format!("  - {{ name: {name}, kind: loader, source: {{probe}}, {limits}, grants: {{ urls: [\"file://data/\"] }}, config: {{ mode: read, url: \"{url}\" }} }}\n")
    };
    let mut yaml = String::from("blocks:\n");
    yaml += &read(
        "too_many_bytes",
        "file://data/plain.csv",
        "read_limit: 1MiB",
    );
    yaml += &read("bomb", "file://data/bomb.csv.gz", "read_limit: 8MiB");
    yaml += &read(
        "too_big_to_hold",
        "file://data/bomb.csv.gz",
        "memory_limit: 24MiB",
    );
    yaml += &read("fits", "file://data/bomb.csv.gz", "memory_limit: 512MiB");
    yaml += &py_door(
        "py_bomb",
        "{ door: read, url: \"file://data/bomb.csv.gz\" }",
        ", read_limit: 8MiB, grants: { urls: [\"file://data/\"] }",
    );
    p.pipeline("budgets", &yaml);
    let (summary, ran) = p.run("budgets");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let e = error_of(&summary, "too_many_bytes");
    assert!(
        e.contains("read more than its `read_limit` of 1 MiB"),
        "{e}"
    );
    let e = error_of(&summary, "bomb");
    assert!(
        e.contains("grew past the block's `read_limit` of 8 MiB"),
        "{e}"
    );
    let e = error_of(&summary, "too_big_to_hold");
    assert!(e.contains("memory_limit"), "{e}");
    let e = error_of(&summary, "py_bomb");
    assert!(e.contains("grew past the block's `read_limit`"), "{e}");
    assert_eq!(block(&summary, "fits")["rows"], 1_000_000, "{summary}");
}

/// An HTTP server that answers with headers and a first chunk, then never sends the rest.
fn stalling_server() -> crate::services::Server {
    let port = free_port();
    let script = r#"
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
held = []
while True:
    c, _ = s.accept()
    c.recv(65536)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\na,b\n1,2\n")
    held.append(c)
"#;
    let mut c = std::process::Command::new("python3");
    c.args(["-c", script, &port.to_string()]);
    start_server(c, port, "stalling HTTP server", Duration::from_secs(20))
}

#[test]
fn deadlines_stop_stalled_downloads_and_long_statements() {
    let http = stalling_server();
    let db = TestDb::new();
    let p = Project::new();
    p.copy_from_repo(&["io_config.yaml"]);
    let url = format!("{}/slow.csv", http.url());
    let grant = format!("{}/", http.url());
    let mut yaml = format!(
        "blocks:\n  - {{ name: stalled, kind: loader, source: {{probe}}, timeout: 2s, retries: 1, grants: {{ urls: [\"{grant}\"] }}, config: {{ mode: read, url: \"{url}\" }} }}\n  - {{ name: sleepy, kind: loader, source: {{probe}}, timeout: 2s, grants: {{ profiles: [default] }}, config: {{ mode: query, profile: default, sql: \"SELECT pg_sleep(60)::text AS s\" }} }}\n"
    );
    yaml += &py_door(
        "py_stalled",
        &format!("{{ door: read, url: \"{url}\" }}"),
        &format!(", timeout: 3s, grants: {{ urls: [\"{grant}\"] }}"),
    );
    yaml += HEALTHY;
    p.pipeline("slow", &yaml);
    let started = Instant::now();
    let ran = p.weft_env(&["run", "slow", "--json"], &db.env());
    let took = started.elapsed();
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let summary = ran.json();
    // Two attempts of 2 s each, one after the other, not a 120 s read timeout.
    assert!(took < Duration::from_secs(40), "took {took:?}");
    assert_eq!(block(&summary, "stalled")["attempts"], 2, "{summary}");
    for name in ["stalled", "sleepy", "py_stalled"] {
        let e = error_of(&summary, name);
        assert!(
            e.contains("timed out") || e.contains("timeout"),
            "{name}: {e}"
        );
    }
    assert_eq!(block(&summary, "healthy")["status"], "success");
    // The statement was stopped in the server too (no session is still running it).
    let running = "SELECT count(*)::text FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()";
    let deadline = Instant::now() + Duration::from_secs(10);
    while db.scalar(running) != "0" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(db.scalar(running), "0");
}
