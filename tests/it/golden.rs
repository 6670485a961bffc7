//! The seed pipeline's results, pinned: `pipelines/nyc_taxi` on a generated file (fixed seed)
//! with a real Postgres, every block's status, row count and output content, the partitioned
//! parquet export and the Postgres table compared with `tests/golden/nyc_taxi.json`. A change
//! that makes the pipeline faster must not make it answer differently; when an answer is meant
//! to change, `WEFT_BLESS=1` rewrites the file (and the diff shows what changed).
//!
//! Content is compared as a digest of the rows rendered as text and sorted, so a change of row
//! order (parallel decoding, partitioned plans) is not a difference, and a changed value is.

use std::collections::BTreeMap;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::io::taxi_file;
use crate::services::*;
use crate::support::*;

/// Trips in the generated file: enough for every path (bad lines, zero passengers, 31 days).
const TRIPS: u64 = 20_000;

/// Hex SHA-256 of `lines`, sorted.
fn digest(mut lines: Vec<String>) -> String {
    lines.sort_unstable();
    let mut h = Sha256::new();
    for l in &lines {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A stored output: its columns with their types, and its rows as JSON text (keys sorted,
/// nulls left out by the encoder).
fn output(p: &Project, run: &str, block: &str) -> (Vec<String>, Vec<String>) {
    let t = output_table(p, run, block);
    let schema = t
        .schema()
        .fields()
        .iter()
        .map(|f| format!("{}:{}", f.name(), f.data_type()))
        .collect();
    let rows: Vec<Value> = serde_json::from_str(&t.to_json(None).unwrap()).unwrap();
    (schema, rows.iter().map(Value::to_string).collect())
}

/// The parquet export: rows per partition folder and a digest of every row (with its folder).
fn export(dir: &Path) -> Value {
    let mut parts = BTreeMap::new();
    let mut lines = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let part = e.unwrap().path();
        if !part.is_dir() {
            continue;
        }
        let name = part.file_name().unwrap().to_string_lossy().into_owned();
        let mut rows = 0u64;
        for f in std::fs::read_dir(&part).unwrap() {
            let r =
                SerializedFileReader::new(std::fs::File::open(f.unwrap().path()).unwrap()).unwrap();
            for row in r.get_row_iter(None).unwrap() {
                lines.push(format!("{name} {}", row.unwrap()));
                rows += 1;
            }
        }
        parts.insert(name, rows);
    }
    json!({ "partitions": parts, "rows_digest": digest(lines) })
}

/// What the pipeline answered, as the golden file holds it.
fn answers(p: &Project, summary: &Value, db: &TestDb) -> Value {
    let run = summary["run_id"].as_str().unwrap();
    let logs = p.logs(run);
    let mut blocks = BTreeMap::new();
    for b in summary["blocks"].as_array().unwrap() {
        let name = b["block"].as_str().unwrap().to_string();
        let stored = logs["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["key"] == name.as_str() && l["output"].is_string());
        let mut entry = json!({ "status": b["status"], "rows": b["rows"] });
        if stored {
            let (schema, rows) = output(p, run, &name);
            entry["schema"] = json!(schema);
            entry["rows_digest"] = json!(digest(rows));
        }
        blocks.insert(name, entry);
    }
    let table = "ny_taxi.yellow_cab_data";
    json!({
        "blocks": blocks,
        "parquet_export": export(&p.path().join(".weft/local/exports/nyc_taxi/yellow_cab_data")),
        "postgres": {
            "rows": db.scalar(&format!("SELECT count(*)::text FROM {table}")),
            "rows_digest": db.scalar(&format!(
                "SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) FROM {table} t"
            )),
        },
    })
}

#[test]
fn nyc_taxi_answers_what_it_answered_before() {
    let data = tempfile::tempdir().unwrap();
    taxi_file(data.path(), "trips.csv.gz", TRIPS);
    let http = http_server(data.path());
    let source = format!("source_url={}/trips.csv.gz", http.url());
    let p = Project::new();
    p.copy_from_repo(&["pipelines/nyc_taxi", "blocks/nyc_taxi", "io_config.yaml"]);
    let db = TestDb::new();
    let mut env = db.env();
    env.extend(["GCS_BUCKET", "BIGQUERY_PROJECT"].map(|k| (k.to_string(), String::new())));
    let ran = p.weft_env(&["run", "nyc_taxi", "--json", "--var", &source], &env);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let got = answers(&p, &ran.json(), &db);

    let golden = repo().join("tests/golden/nyc_taxi.json");
    let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
    if std::env::var_os("WEFT_BLESS").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with WEFT_BLESS=1 to write it",
            golden.display()
        )
    });
    assert!(
        text == want,
        "nyc_taxi answered differently from {} (WEFT_BLESS=1 rewrites it when the change is meant):\n{}",
        golden.display(),
        differences(&serde_json::from_str(&want).unwrap(), &got, "")
    );
}

/// The paths where `want` and `got` differ, with both values.
fn differences(want: &Value, got: &Value, at: &str) -> String {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            let mut keys: Vec<&String> = w.keys().chain(g.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.iter()
                .map(|k| {
                    let null = Value::Null;
                    differences(
                        w.get(*k).unwrap_or(&null),
                        g.get(*k).unwrap_or(&null),
                        &format!("{at}.{k}"),
                    )
                })
                .collect()
        }
        (w, g) if w == g => String::new(),
        (w, g) => format!("  {at}: was {w}, now {g}\n"),
    }
}
