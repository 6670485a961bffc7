//! Cloud streams against real emulators started by the test: the seed pipeline writes
//! partitioned parquet to GCS (fake-gcs-server) and loads it into BigQuery (bqemulator); S3
//! (moto) takes and gives back parquet.

use std::path::Path;

use serde_json::json;

use crate::io::taxi_file;
use crate::services::*;
use crate::support::*;

/// Files under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The first row of `sql` run by the BigQuery emulator, as text cells, and the whole answer
/// (for messages).
fn bq_row(bq: &Server, sql: &str) -> (Vec<String>, serde_json::Value) {
    let (status, answer) = http_json(
        "POST",
        &format!("{}/bigquery/v2/projects/test-proj/queries", bq.url()),
        Some(json!({"query": sql, "useLegacySql": false})),
    );
    assert_eq!(status, 200, "{answer}");
    let cells = answer["rows"][0]["f"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|c| c["v"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    (cells, answer)
}

#[test]
fn seed_pipeline_to_gcs_and_bigquery_and_parquet_through_s3() {
    let data = tempfile::tempdir().unwrap();
    let counts = taxi_file(data.path(), "yellow.csv.gz", 20_000);
    let clean = counts["clean"].as_i64().unwrap();
    let http = http_server(data.path());
    let Clouds {
        gcs_root,
        gcs,
        bq,
        s3,
    } = clouds();

    let p = Project::new();
    p.copy_from_repo(&["pipelines/nyc_taxi", "blocks/nyc_taxi", "io_config.yaml"]);
    let mut io_config = std::fs::read_to_string(p.path().join("io_config.yaml")).unwrap();
    io_config.push_str("s3:\n  AWS_ENDPOINT: \"{{ env_var('AWS_ENDPOINT') }}\"\n  AWS_ACCESS_KEY_ID: weft-test-key\n  AWS_SECRET_ACCESS_KEY: weft-test-secret\n  AWS_REGION: us-east-1\n");
    write(p.path(), "io_config.yaml", &io_config);
    let env: Vec<(String, String)> = [
        ("GCS_ENDPOINT", gcs.url()),
        ("GCS_BUCKET", "lake".to_string()),
        ("BIGQUERY_ENDPOINT", bq.url()),
        ("BIGQUERY_PROJECT", "test-proj".to_string()),
        ("BIGQUERY_DATASET", "ny_taxi".to_string()),
        ("AWS_ENDPOINT", s3.url()),
        ("POSTGRES_HOST", String::new()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();

    // GCS → BigQuery: the seed pipeline as a user runs it.
    let source = format!("source_url={}/yellow.csv.gz", http.url());
    let ran = p.weft_env(&["run", "nyc_taxi", "--json", "--var", &source], &env);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let summary = ran.json();
    let objects = files(&gcs_root.path().join("lake"));
    assert!(
        objects.iter().any(|o| o == "nyc_taxi/yellow_cab_data/tpep_pickup_date=2021-01-15/part-00000.parquet"),
        "{objects:?}"
    );
    assert!(objects.len() >= 31, "{objects:?}");
    assert_eq!(block(&summary, "load_bigquery")["status"], "success");
    let (row, answer) = bq_row(
        &bq,
        "SELECT COUNT(*) AS n, COUNT(DISTINCT tpep_pickup_date) AS days FROM ny_taxi.yellow_cab_data",
    );
    assert_eq!(row[0].parse::<i64>().unwrap(), clean, "{answer}");
    assert!(row[1].parse::<i64>().unwrap() >= 31, "{answer}");

    // S3: parquet written with the write block, read back with the read block.
    let writer = py("io_write.py");
    let reader = py("io_read.py");
    p.pipeline(
        "s3",
        &format!(
            "blocks:\n  - {{ name: src, kind: loader, source: {{probe}}, config: {{ mode: rows, rows: 1234 }} }}\n  - name: put\n    kind: exporter\n    source: {writer}\n    upstream: [src]\n    grants: {{ profiles: [s3], write: [\"s3://warehouse/\"] }}\n    config: {{ target: \"s3://warehouse/probe/rows.parquet\", options: {{ profile: s3 }} }}\n  - name: get\n    kind: loader\n    source: {reader}\n    upstream: [put]\n    grants: {{ profiles: [s3], urls: [\"s3://warehouse/probe/\"] }}\n    config: {{ url: \"s3://warehouse/probe/rows.parquet\", options: {{ profile: s3 }} }}\n  - name: stream\n    kind: exporter\n    source: {writer}\n    upstream: [src]\n    grants: {{ profiles: [gcs], write: [\"bigquery://gcs/\"] }}\n    config: {{ target: \"bigquery://gcs/probe.streamed\" }}\n  - {{ name: small, kind: loader, source: {{probe}}, config: {{ mode: rows, rows: 10 }} }}\n  - name: restream\n    kind: exporter\n    source: {writer}\n    upstream: [small, stream]\n    grants: {{ profiles: [gcs], write: [\"bigquery://gcs/\"] }}\n    config: {{ target: \"bigquery://gcs/probe.streamed\", options: {{ if_exists: replace }} }}\n  - {{ name: binary, kind: transformer, source: blocks/binary.sql, upstream: [src] }}\n  - name: bytes\n    kind: exporter\n    source: {writer}\n    upstream: [binary]\n    grants: {{ profiles: [gcs], write: [\"bigquery://gcs/\"] }}\n    config: {{ target: \"bigquery://gcs/probe.bytes\" }}\n  - name: lake\n    kind: loader\n    source: {reader}\n    grants: {{ profiles: [gcs], urls: [\"gs://lake/\"] }}\n    config: {{ url: \"gs://lake/nyc_taxi/yellow_cab_data/\", options: {{ profile: gcs }} }}\n  - name: sneaky\n    kind: loader\n    source: {reader}\n    grants: {{ profiles: [s3], urls: [\"s3://warehouse/probe/\"] }}\n    config: {{ url: \"s3://warehouse/other/x.parquet\", options: {{ profile: s3 }} }}\n"
        ),
    );
    write(
        p.path(),
        "blocks/binary.sql",
        "SELECT id, arrow_cast(concat('b', CAST(id AS VARCHAR)), 'Binary') AS raw, CAST(CAST(id AS VARCHAR) || '.05' AS DECIMAL(12, 2)) AS amount FROM {{ df_1 }}",
    );
    let ran = p.weft_env(&["run", "s3", "--json"], &env);
    let summary = ran.json();
    assert_eq!(block(&summary, "get")["rows"], 1234, "{}", ran.stderr);
    // Rows streamed into BigQuery are there; a replace swapped them for others in one load
    // job; bytes arrive as the bytes they were.
    for b in ["stream", "restream", "bytes"] {
        assert_eq!(
            block(&summary, b)["status"],
            "success",
            "{b}: {}",
            block(&summary, b)["error"]
        );
    }
    let (row, answer) = bq_row(
        &bq,
        "SELECT COUNT(*) AS n, SUM(id) AS total FROM probe.streamed",
    );
    assert_eq!(row[0], "10", "{answer}");
    assert_eq!(row[1], "45", "{answer}");
    let (row, answer) = bq_row(
        &bq,
        "SELECT COUNT(*) AS n, SUM(CASE WHEN CAST(raw AS STRING) = CONCAT('b', CAST(id AS STRING)) THEN 1 ELSE 0 END) AS same, SUM(amount) AS total FROM probe.bytes",
    );
    assert_eq!(row[0], "1234", "{answer}");
    assert_eq!(row[1], "1234", "{answer}");
    let total: f64 = row[2].parse().unwrap_or(0.0);
    assert!((total - 760_822.7).abs() < 1e-6, "{answer}");
    // Decimals are NUMERIC there, not floats.
    let (status, meta) = http_json(
        "GET",
        &format!(
            "{}/bigquery/v2/projects/test-proj/datasets/probe/tables/bytes",
            bq.url()
        ),
        None,
    );
    assert_eq!(status, 200, "{meta}");
    let amount = meta["schema"]["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "amount"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(amount["type"], "NUMERIC", "{meta}");
    // The partitioned export reads back from GCS as one table, pickup date restored.
    assert_eq!(
        block(&summary, "lake")["rows"].as_i64(),
        Some(clean),
        "{}",
        block(&summary, "lake")["error"]
    );
    let run = summary["run_id"].as_str().unwrap();
    let lake = output_table(&p, run, "lake");
    assert!(
        lake.columns()
            .iter()
            .any(|c| c.name == "tpep_pickup_date" && c.data_type == "Date32"),
        "{:?}",
        lake.columns()
    );
    let e = block(&summary, "sneaky")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        e.contains("may not read s3://warehouse/other/x.parquet"),
        "{e}"
    );
}
