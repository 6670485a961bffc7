//! Grants as doors: reading a folder never allows writing it, a `replace` deletes only the
//! files weft wrote and never follows a link, a host name that resolves inside the network is
//! not fetched, and a Postgres profile answers read-only queries unless writing is granted.

use super::*;
use crate::services::{http_server, TestDb};

#[test]
fn reading_is_not_writing_and_replace_removes_only_weft_s_files() {
    let p = Project::new();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "precious.csv", "a\n1\n");
    write(p.path(), "data/in/x.csv", "a\n1\n");
    write(p.path(), "data/out/keep_me.txt", "not weft's");
    std::os::unix::fs::symlink(outside.path(), p.path().join("data/out/linked")).unwrap();
    let writer = |name: &str, up: &str, grants: &str, target: &str| {
        format!("  - {{ name: {name}, kind: exporter, source: {{probe}}, upstream: [{up}], grants: {grants}, config: {{ mode: write, target: \"{target}\", options: {{ format: csv, if_exists: replace }} }} }}\n")
    };
    let mut yaml = String::from(
        "blocks:\n  - { name: src, kind: loader, source: {probe}, config: { mode: rows, rows: 4 } }\n",
    );
    yaml += &writer(
        "read_only",
        "src",
        "{ urls: [\"file://data/\"] }",
        "file://data/in/",
    );
    yaml += &writer(
        "first",
        "src",
        "{ write: [\"file://data/out/\"] }",
        "file://data/out/",
    );
    yaml += &writer(
        "second",
        "first",
        "{ write: [\"file://data/out/\"] }",
        "file://data/out/",
    );
    yaml += &py_door(
        "py_read_only",
        "{ door: read, url: \"file://data/in/x.csv\", options: { format: csv } }",
        ", grants: { write: [\"file://data/\"] }",
    );
    p.pipeline("split", &yaml);
    let (summary, ran) = p.run("split");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let run = summary["run_id"].as_str().unwrap();
    let e = error_of(&summary, "read_only");
    assert!(
        e.contains("may not write") && e.contains("granted for reading only"),
        "{e}"
    );
    let o = outcome(&p, run, "py_read_only");
    assert!(
        o.contains("may not read") && o.contains("`urls` grant"),
        "{o}"
    );
    assert_eq!(block(&summary, "second")["status"], "success", "{summary}");
    // Only the one file weft wrote, plus what was there before; nothing through the link.
    let mut left: Vec<String> = std::fs::read_dir(p.path().join("data/out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "_weft_written.json",
            "keep_me.txt",
            "linked",
            "part-00000.csv"
        ]
    );
    assert!(outside.path().join("precious.csv").exists());
    let logs = p.logs(run);
    let notes = log_lines(&logs, "second").join("\n");
    assert!(
        notes.contains("weft did not write there are left in place"),
        "{notes}"
    );
    assert!(!p.path().join("data/in/part-00000.csv").exists());
}

#[test]
fn names_that_resolve_inside_the_network_are_not_fetched() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "x.csv", "a\n1\n2\n");
    let http = http_server(dir.path());
    let port = http.port;
    // This machine's own name resolves to a loopback or private address.
    let host = String::from_utf8(
        std::process::Command::new("hostname")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let resolved: Vec<std::net::SocketAddr> =
        std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
            .map(|a| a.collect())
            .unwrap_or_default();
    assert!(
        !resolved.is_empty() && resolved.iter().all(|a| !weft_io::address::is_public(a.ip())),
        "this test needs the machine's host name `{host}` to resolve to a non-public address: {resolved:?}"
    );
    let p = Project::new();
    let read = |name: &str, url: &str| {
        format!("  - {{ name: {name}, kind: loader, source: {{probe}}, grants: {{ urls: [\"{url}\"] }}, config: {{ mode: read, url: \"{url}x.csv\" }} }}\n")
    };
    let mut yaml = String::from("blocks:\n");
    yaml += &read("by_name", &format!("http://{host}:{port}/"));
    yaml += &read("by_address", &format!("http://127.0.0.1:{port}/"));
    yaml += &read("by_localhost", &format!("http://localhost:{port}/"));
    yaml += &py_door(
        "py_by_name",
        &format!("{{ door: read, url: \"http://{host}:{port}/x.csv\" }}"),
        &format!(", grants: {{ urls: [\"http://{host}:{port}/\"] }}"),
    );
    p.pipeline("ssrf", &yaml);
    let (summary, ran) = p.run("ssrf");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let e = error_of(&summary, "by_name");
    assert!(
        e.contains("resolves only to addresses blocks may not reach"),
        "{e}"
    );
    let o = outcome(&p, summary["run_id"].as_str().unwrap(), "py_by_name");
    assert!(o.contains("resolves only to addresses"), "{o}");
    assert_eq!(block(&summary, "by_address")["rows"], 2, "{summary}");
    assert_eq!(block(&summary, "by_localhost")["rows"], 2, "{summary}");
}

#[test]
fn postgres_profiles_are_read_only_unless_the_database_is_granted() {
    let db = TestDb::new();
    let p = Project::new();
    p.copy_from_repo(&["io_config.yaml"]);
    let query = |name: &str, grants: &str, sql: &str| {
        format!("  - {{ name: {name}, kind: loader, source: {{probe}}, grants: {grants}, config: {{ mode: query, profile: default, sql: \"{sql}\" }} }}\n")
    };
    let mut yaml = String::from("blocks:\n");
    yaml += &query(
        "reader",
        "{ profiles: [default] }",
        "CREATE TABLE sneaky (a int)",
    );
    yaml += &query(
        "table_writer",
        "{ profiles: [default], write: [\"postgres://default/public.one\"] }",
        "CREATE TABLE sneaky2 (a int)",
    );
    yaml += &query(
        "owner",
        "{ profiles: [default], write: [\"postgres://default/\"] }",
        "CREATE TABLE allowed (a int)",
    );
    yaml += &query("select", "{ profiles: [default] }", "SELECT 1 AS one");
    p.pipeline("ro", &yaml);
    let ran = p.weft_env(&["run", "ro", "--json"], &db.env());
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let summary = ran.json();
    for name in ["reader", "table_writer"] {
        let e = error_of(&summary, name);
        assert!(
            e.contains("read-only") && e.contains("postgres://default/"),
            "{name}: {e}"
        );
    }
    assert_eq!(block(&summary, "owner")["status"], "success", "{summary}");
    assert_eq!(block(&summary, "select")["rows"], 1);
    assert_eq!(
        db.scalar("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"),
        "allowed"
    );
}
