//! io_config.yaml profiles in use: Postgres loads in each `if_exists` mode and queries from
//! Python and Rust blocks; an HTTP profile's headers and bearer token sent (and never shown);
//! profiles outside a block's grants refused.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::services::*;
use crate::support::*;

#[test]
fn postgres_modes_and_queries_from_python_and_rust() {
    let db = TestDb::new();
    let p = Project::new();
    p.copy_from_repo(&["io_config.yaml"]);
    let writer = py("io_write.py");
    let query = py("io_query.py");
    let target = "postgres://default/ny_taxi.modes";
    let count = "SELECT count(*) AS n, sum(id) AS total FROM ny_taxi.modes";
    p.pipeline(
        "modes",
        &format!(
            r#"blocks:
  - {{ name: src, kind: loader, source: {{probe}}, config: {{ mode: rows, rows: 10 }} }}
  - name: create
    kind: exporter
    source: {writer}
    upstream: [src]
    grants: {{ profiles: [default], write: ["postgres://default/ny_taxi"] }}
    config: {{ target: "{target}", options: {{ if_exists: fail }} }}
  - name: append
    kind: exporter
    source: {{probe}}
    upstream: [src, create]
    grants: {{ profiles: [default], write: ["postgres://default/ny_taxi"] }}
    config: {{ mode: write, target: "{target}", options: {{ if_exists: append }} }}
  - name: refuse
    kind: exporter
    source: {writer}
    upstream: [src, append]
    grants: {{ profiles: [default], write: ["postgres://default/ny_taxi"] }}
    config: {{ target: "{target}", options: {{ if_exists: fail }} }}
  - name: py_query
    kind: loader
    source: {query}
    upstream: [append]
    grants: {{ profiles: [default] }}
    config: {{ profile: default, sql: "{count}" }}
  - name: rs_query
    kind: loader
    source: {{probe}}
    upstream: [append]
    grants: {{ profiles: [default] }}
    config: {{ mode: query, profile: default, sql: "{count}" }}
  - name: bad_query
    kind: loader
    source: {{probe}}
    upstream: [append]
    grants: {{ profiles: [default] }}
    config: {{ mode: query, profile: default, sql: "SELECT nope FROM ny_taxi.modes" }}
  - name: ungranted
    kind: loader
    source: {{probe}}
    config: {{ mode: query, profile: default, sql: "SELECT 1" }}
  - {{ name: money, kind: transformer, source: blocks/money.sql, upstream: [src] }}
  - name: exact
    kind: exporter
    source: {writer}
    upstream: [money]
    grants: {{ profiles: [default], write: ["postgres://default/ny_taxi"] }}
    config: {{ target: "postgres://default/ny_taxi.money", options: {{ if_exists: replace }} }}
  - {{ name: legacy_src, kind: transformer, source: blocks/legacy.sql, upstream: [money] }}
  - name: legacy_append
    kind: exporter
    source: {writer}
    upstream: [legacy_src]
    grants: {{ profiles: [default], write: ["postgres://default/ny_taxi"] }}
    config: {{ target: "postgres://default/ny_taxi.legacy", options: {{ if_exists: append }} }}
  - {{ name: nothing, kind: loader, source: {{probe}}, config: {{ mode: rows, rows: 0 }} }}
  - name: empty_table
    kind: exporter
    source: {writer}
    upstream: [nothing]
    grants: {{ profiles: [default], write: ["postgres://default/ny_taxi"] }}
    config: {{ target: "postgres://default/ny_taxi.empty", options: {{ if_exists: replace }} }}
  - name: empty_file
    kind: exporter
    source: {writer}
    upstream: [nothing]
    grants: {{ write: ["file://data/"] }}
    config: {{ target: "file://data/empty.parquet" }}
  - name: empty_back
    kind: loader
    source: {{probe}}
    upstream: [empty_file]
    grants: {{ urls: ["file://data/"] }}
    config: {{ mode: read, url: "file://data/empty.parquet" }}
"#
        ),
    );
    write(
        p.path(),
        "blocks/money.sql",
        "SELECT id, CAST(CAST(id AS VARCHAR) || '.05' AS DECIMAL(12, 2)) AS amount, CAST('-0.001' AS DECIMAL(10, 3)) AS tiny FROM {{ df_1 }}",
    );
    write(
        p.path(),
        "blocks/legacy.sql",
        "SELECT id, amount FROM money",
    );
    // A table made elsewhere with a float column: decimals append to it as floats.
    db.exec(
        "CREATE SCHEMA ny_taxi; CREATE TABLE ny_taxi.legacy (id bigint, amount double precision)",
    );
    let ran = p.weft_env(&["run", "modes", "--json"], &db.env());
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let summary = ran.json();
    let run = summary["run_id"].as_str().unwrap().to_string();
    let error = |b: &str| {
        block(&summary, b)["error"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    for b in ["create", "append", "py_query", "rs_query"] {
        assert_eq!(block(&summary, b)["status"], "success", "{b}: {}", error(b));
    }
    // `fail` creates a missing table (and its schema), `append` adds, `fail` then refuses.
    assert_eq!(db.scalar("SELECT count(*)::text FROM ny_taxi.modes"), "20");
    let e = error("refuse");
    assert!(
        e.contains("ny_taxi.modes already exists and if_exists is `fail`"),
        "{e}"
    );
    // Both languages see the database's answer, as Arrow.
    for b in ["py_query", "rs_query"] {
        let rows: Value = p.weft(&["show", &run, b, "--json"]).json();
        assert_eq!(rows[0]["n"], 20, "{b}: {rows}");
        // NUMERIC (the sum of a bigint) arrives as Float64, as in pandas.
        assert_eq!(rows[0]["total"].as_f64(), Some(90.0), "{b}: {rows}");
    }
    // Decimals arrive exact, as numeric.
    assert_eq!(
        block(&summary, "exact")["status"],
        "success",
        "{}",
        error("exact")
    );
    assert_eq!(
        db.scalar("SELECT sum(amount)::text || ' ' || min(tiny)::text || ' ' || pg_typeof(min(amount))::text FROM ny_taxi.money"),
        "45.50 -0.001 numeric"
    );
    assert_eq!(
        block(&summary, "legacy_append")["status"],
        "success",
        "{}",
        error("legacy_append")
    );
    assert_eq!(
        db.scalar("SELECT sum(amount)::text FROM ny_taxi.legacy"),
        "45.5"
    );
    // An empty table is still a table: created with its columns in Postgres and in parquet.
    for b in ["empty_table", "empty_file", "empty_back"] {
        assert_eq!(block(&summary, b)["status"], "success", "{b}: {}", error(b));
    }
    assert_eq!(db.scalar("SELECT count(*)::text FROM ny_taxi.empty"), "0");
    let columns: Vec<String> = db
        .column("SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'ny_taxi' AND table_name = 'empty' ORDER BY ordinal_position")
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(columns, ["id", "value"]);
    let back: Vec<String> = output_table(&p, &run, "empty_back")
        .columns()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(back, ["id", "value"]);
    let e = error("bad_query");
    assert!(e.contains("nope") && e.contains("does not exist"), "{e}");
    let e = error("ungranted");
    assert!(
        e.contains("denied") && e.contains("profiles: [default]"),
        "{e}"
    );
}

/// A loopback server answering `/trips.csv` only to the right bearer token and team header,
/// `/open.csv` to anyone, and redirecting `/hop` there, `/away` to it on another host name and
/// `/away-guarded` to `/trips.csv` on another host name.
fn guarded_server(dir: &Path, token: &str) -> Server {
    let script = dir.join("guarded.py");
    std::fs::write(
        &script,
        r#"import http.server, sys
token, port = sys.argv[1], int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path in ("/hop", "/away", "/away-guarded"):
            host = "127.0.0.1" if self.path == "/hop" else "localhost"
            target = "/trips.csv" if self.path == "/away-guarded" else "/open.csv"
            self.send_response(302); self.send_header("Location", "http://%s:%d%s" % (host, port, target)); self.end_headers(); return
        if self.path != "/open.csv" and (self.headers.get("Authorization") != "Bearer " + token or self.headers.get("X-Team") != "data"):
            self.send_response(401); self.end_headers(); return
        body = b"id,name\n1,a\n2,b\n3,c\n"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
"#,
    )
    .unwrap();
    let port = free_port();
    let mut c = std::process::Command::new("python3");
    c.arg(&script).arg(token).arg(port.to_string());
    start_server(c, port, "guarded HTTP server", Duration::from_secs(20))
}

#[test]
fn http_profiles_send_headers_keep_tokens_secret_and_redirects_stay_granted() {
    let dir = tempfile::tempdir().unwrap();
    let token = format!("tok-{:08x}-secret", rand::random::<u32>());
    let http = guarded_server(dir.path(), &token);
    let url = format!("{}/trips.csv", http.url());
    let p = Project::new();
    let port = http.port;
    let base = http.url();
    write(
        p.path(),
        "io_config.yaml",
        &format!("api:\n  HTTP_BASE_URL: \"{base}/\"\n  HTTP_BEARER_TOKEN: \"{{{{ env_var('API_TOKEN') }}}}\"\n  HTTP_HEADERS: {{ X-Team: data }}\nbare:\n  HTTP_BEARER_TOKEN: \"{{{{ env_var('API_TOKEN') }}}}\"\n"),
    );
    let read = py("io_read.py");
    let probe = py("io_probe.py");
    let grant = format!("{base}/");
    p.pipeline(
        "api",
        &format!(
            r#"blocks:
  - name: with_profile
    kind: loader
    source: {read}
    grants: {{ urls: ["{grant}"], profiles: [api] }}
    config: {{ url: "{url}", options: {{ profile: api }} }}
  - name: without_profile
    kind: loader
    source: {read}
    grants: {{ urls: ["{grant}"] }}
    config: {{ url: "{url}" }}
  - name: redirected
    kind: loader
    source: {read}
    grants: {{ urls: ["{grant}"] }}
    config: {{ url: "{base}/hop", options: {{ format: csv }} }}
  - name: redirected_away
    kind: loader
    source: {read}
    grants: {{ urls: ["{grant}"] }}
    config: {{ url: "{base}/away", options: {{ format: csv }} }}
  - name: token_stays_home
    kind: loader
    source: {read}
    grants: {{ urls: ["{grant}", "http://localhost:{port}/"], profiles: [api] }}
    config: {{ url: "{base}/away-guarded", options: {{ profile: api, format: csv }} }}
  - name: token_elsewhere
    kind: loader
    source: {read}
    grants: {{ urls: ["http://localhost:{port}/"], profiles: [api] }}
    config: {{ url: "http://localhost:{port}/open.csv", options: {{ profile: api, format: csv }} }}
  - name: token_without_base
    kind: loader
    source: {read}
    grants: {{ urls: ["{grant}"], profiles: [bare] }}
    config: {{ url: "{url}", options: {{ profile: bare }} }}
  - name: headers_are_secret
    kind: loader
    source: {probe}
    grants: {{ profiles: [api] }}
    config: {{ profile: api, settings: [HTTP_HEADERS] }}
  - name: profile_not_granted
    kind: loader
    source: {read}
    grants: {{ urls: ["{grant}"] }}
    config: {{ url: "{url}", options: {{ profile: api }} }}
"#
        ),
    );
    let env = vec![("API_TOKEN".to_string(), token.clone())];
    let ran = p.weft_env(&["run", "api", "--json"], &env);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let summary = ran.json();
    let error = |b: &str| {
        block(&summary, b)["error"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        block(&summary, "with_profile")["rows"],
        3,
        "{}",
        error("with_profile")
    );
    let e = error("without_profile");
    assert!(e.contains("answered 401"), "{e}");
    // Redirects are followed hop by hop, each within the grants.
    assert_eq!(
        block(&summary, "redirected")["rows"],
        3,
        "{}",
        error("redirected")
    );
    let e = error("redirected_away");
    assert!(
        e.contains("denied")
            && e.contains(&format!(
                "may not read http://localhost:{}/open.csv",
                http.port
            ))
            && e.contains("redirected there"),
        "{e}"
    );
    // A profile's headers go only to the origin asked for, not along a redirect elsewhere.
    let e = error("token_stays_home");
    assert!(e.contains("answered 401"), "{e}");
    // Credentials go to the profile's own service only, and a profile must say which it is.
    let e = error("token_elsewhere");
    assert!(
        e.contains("denied") && e.contains("outside the service of io profile \"api\""),
        "{e}"
    );
    let e = error("token_without_base");
    assert!(e.contains("no HTTP_BASE_URL"), "{e}");
    // Headers can hold tokens: a block may not read them.
    let run = summary["run_id"].as_str().unwrap().to_string();
    let row = &p
        .weft(&["show", &run, "headers_are_secret", "--json"])
        .json()[0];
    assert!(
        row["HTTP_HEADERS"]
            .as_str()
            .unwrap_or("")
            .starts_with("Denied: `HTTP_HEADERS` of io profile \"api\" is a secret"),
        "{row}"
    );
    let e = error("profile_not_granted");
    assert!(e.contains("denied") && e.contains("profiles: [api]"), "{e}");
    let logs = p.weft(&["logs", summary["run_id"].as_str().unwrap(), "--json"]);
    for text in [&ran.stdout, &ran.stderr, &logs.stdout] {
        assert!(!text.contains(&token), "the token leaked:\n{text}");
    }
}
