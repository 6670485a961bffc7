//! IO against real servers: CSV.gz over loopback HTTP with explicit types, grants enforced,
//! broken rows, unreachable hosts, Postgres loads (and a failed load that changes nothing),
//! secrets kept out of every message.

use std::path::Path;

use serde_json::Value;

use crate::services::*;
use crate::support::*;

/// `weft generate taxi` into `dir/name`; returns its counts.
pub fn taxi_file(dir: &Path, name: &str, rows: u64) -> Value {
    let out = weft()
        .args([
            "generate",
            "taxi",
            "--rows",
            &rows.to_string(),
            "--json",
            "--out",
        ])
        .arg(dir.join(name))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn error_of(summary: &Value, block_name: &str) -> String {
    block(summary, block_name)["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Reads over HTTP with and without grants, broken lines, unreachable hosts: one project, so
/// the Python blocks are built once.
#[test]
fn reads_are_typed_granted_and_fail_clearly() {
    let data = tempfile::tempdir().unwrap();
    let counts = taxi_file(data.path(), "yellow.csv.gz", 5_000);
    let mut broken = String::from("n,name\n");
    for i in 0..400 {
        broken.push_str(&format!("{i},row{i}\n"));
    }
    broken.push_str("four hundred,bad\n400,last\n");
    std::fs::write(data.path().join("broken.csv"), &broken).unwrap();
    let http = http_server(data.path());
    let url = http.url();
    let p = Project::new();
    let read = py("io_read.py");
    p.pipeline(
        "reads",
        &format!(
            r#"blocks:
  - name: typed
    kind: loader
    source: {read}
    grants: {{ urls: ["{url}/"] }}
    config:
      url: {url}/yellow.csv.gz
      options: {{ dtype: {{ VendorID: Int64, passenger_count: Int64, trip_distance: float }}, parse_dates: [tpep_pickup_datetime] }}
  - name: ungranted
    kind: loader
    source: {read}
    grants: {{ urls: ["http://127.0.0.1:1/"] }}
    config: {{ url: "{url}/yellow.csv.gz" }}
  - name: broken
    kind: loader
    source: {read}
    grants: {{ urls: ["{url}/"] }}
    config: {{ url: "{url}/broken.csv", options: {{ dtype: {{ n: Int64 }} }} }}
  - name: skipping
    kind: loader
    source: {read}
    grants: {{ urls: ["{url}/"] }}
    config: {{ url: "{url}/broken.csv", options: {{ dtype: {{ n: Int64 }}, on_bad_lines: skip }} }}
  - name: unreachable
    kind: loader
    source: {read}
    retries: 1
    grants: {{ urls: ["http://127.0.0.1:1/"] }}
    config: {{ url: "http://127.0.0.1:1/trips.csv" }}
  - name: missing
    kind: loader
    source: {read}
    grants: {{ urls: ["{url}/"] }}
    config: {{ url: "{url}/nope.csv" }}
  - name: badoption
    kind: loader
    source: {read}
    grants: {{ urls: ["{url}/"] }}
    config: {{ url: "{url}/broken.csv", options: {{ dtypes: {{ n: Int64 }} }} }}
"#
        ),
    );
    let (summary, ran) = p.run("reads");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let run = summary["run_id"].as_str().unwrap().to_string();

    // Every row arrives, with the types asked for.
    assert_eq!(
        block(&summary, "typed")["status"],
        "success",
        "{}",
        error_of(&summary, "typed")
    );
    assert_eq!(block(&summary, "typed")["rows"], counts["rows"]);
    let types: Vec<(String, String)> = output_table(&p, &run, "typed")
        .columns()
        .into_iter()
        .map(|c| (c.name, c.data_type))
        .collect();
    for want in [
        ("VendorID", "Int64"),
        ("tpep_pickup_datetime", "Timestamp"),
        ("passenger_count", "Int64"),
        ("trip_distance", "Float64"),
        ("store_and_fwd_flag", "Utf8"),
    ] {
        assert!(
            types
                .iter()
                .any(|(n, t)| n == want.0 && t.starts_with(want.1)),
            "{want:?} not in {types:?}"
        );
    }

    // No grant: denied, naming the grant to add; nothing was fetched.
    let e = error_of(&summary, "ungranted");
    assert!(
        e.contains("denied") && e.contains(&format!("may not read {url}/yellow.csv.gz")),
        "{e}"
    );
    assert!(e.contains(&format!("urls: [\"{url}/\"]")), "{e}");

    // A value that does not parse: its line and column are named.
    let e = error_of(&summary, "broken");
    assert!(
        e.contains("broken.csv: line 402: column `n`: cannot parse `four hundred` as Int64"),
        "{e}"
    );
    // ... or it is skipped and counted when the block says so.
    assert_eq!(block(&summary, "skipping")["status"], "success");
    assert_eq!(block(&summary, "skipping")["rows"], 401);
    let logs = p.logs(&run);
    let lines = log_lines(&logs, "skipping");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("skipped 1 bad line(s) (first at line 402)")),
        "{lines:?}"
    );

    // An unreachable host is an io error, retried, then reported with the URL.
    let u = block(&summary, "unreachable");
    assert_eq!(u["attempts"], 2);
    let e = error_of(&summary, "unreachable");
    assert!(
        e.contains("io") && e.contains("GET http://127.0.0.1:1/trips.csv"),
        "{e}"
    );
    let e = error_of(&summary, "missing");
    assert!(e.contains("answered 404"), "{e}");
    let e = error_of(&summary, "badoption");
    assert!(
        e.contains("unknown field `dtypes`") && e.contains("`dtype`"),
        "{e}"
    );
}
