//! The seed pipeline, `pipelines/nyc_taxi`, end to end: a generated month of trips served over
//! loopback HTTP, cleaned, loaded into a real Postgres and written as partitioned parquet; on
//! embedded defaults the Postgres and BigQuery streams are skipped with a notice. Also: a
//! failed Postgres load leaves the old table intact, and secrets never reach a log.

use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;

use crate::io::taxi_file;
use crate::services::*;
use crate::support::*;

/// Rows in every parquet file under `dir`, by partition folder.
fn parquet_rows(dir: &Path) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let part = e.unwrap().path();
        // weft's record of the files it wrote sits beside the partition folders.
        if !part.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&part).unwrap() {
            let f = f.unwrap().path();
            let r = SerializedFileReader::new(std::fs::File::open(&f).unwrap()).unwrap();
            out.push((
                part.file_name().unwrap().to_string_lossy().into_owned(),
                r.metadata().file_metadata().num_rows(),
            ));
        }
    }
    out.sort();
    out
}

fn no_postgres_env() -> Vec<(String, String)> {
    [
        "POSTGRES_HOST",
        "POSTGRES_PORT",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "POSTGRES_DBNAME",
        "GCS_BUCKET",
        "BIGQUERY_PROJECT",
    ]
    .iter()
    .map(|k| (k.to_string(), String::new()))
    .collect()
}

#[test]
fn nyc_taxi_pipeline_end_to_end() {
    let data = tempfile::tempdir().unwrap();
    let counts = taxi_file(data.path(), "yellow_tripdata_2021-01.csv.gz", 30_000);
    let clean = counts["clean"].as_i64().unwrap();
    let http = http_server(data.path());
    let source = format!("source_url={}/yellow_tripdata_2021-01.csv.gz", http.url());
    let p = Project::new();
    p.copy_from_repo(&["pipelines/nyc_taxi", "blocks/nyc_taxi", "io_config.yaml"]);

    // Embedded defaults: no Postgres, no cloud. Parquet goes to the local store.
    let ran = p.weft_env(
        &["run", "nyc_taxi", "--json", "--var", &source],
        &no_postgres_env(),
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let summary = ran.json();
    assert_eq!(block(&summary, "load_taxi_data")["rows"], counts["rows"]);
    assert_eq!(
        block(&summary, "transform_taxi_data")["rows"].as_i64(),
        Some(clean)
    );
    let logs = p.logs(summary["run_id"].as_str().unwrap());
    let pg_lines = log_lines(&logs, "export_to_postgres").join("\n");
    assert!(pg_lines.contains("Postgres stream skipped"), "{pg_lines}");
    let bq_lines = log_lines(&logs, "load_bigquery").join("\n");
    assert!(bq_lines.contains("BigQuery stream skipped"), "{bq_lines}");
    let exports = p
        .path()
        .join(".weft/local/exports/nyc_taxi/yellow_cab_data");
    let parts = parquet_rows(&exports);
    assert!(parts.len() >= 31, "{parts:?}");
    assert!(
        parts
            .iter()
            .any(|(d, _)| d == "tpep_pickup_date=2021-01-15"),
        "{parts:?}"
    );
    assert_eq!(parts.iter().map(|(_, n)| n).sum::<i64>(), clean);

    // The SQL block's daily totals add up to the cleaned trips.
    let run = summary["run_id"].as_str().unwrap();
    let days = p.weft(&["show", run, "trips_per_day", "--rows", "100"]);
    assert!(days.stdout.contains("2021-01-31"), "{}", days.stdout);

    // With Postgres: the table is replaced, not appended to, on every run.
    let db = TestDb::new();
    for _ in 0..2 {
        let ran = p.weft_env(&["run", "nyc_taxi", "--json", "--var", &source], &db.env());
        assert_eq!(ran.code, 0, "{}", ran.stderr);
        assert_eq!(
            db.scalar("SELECT count(*)::text FROM ny_taxi.yellow_cab_data"),
            clean.to_string()
        );
    }
    let columns = db.column(
        "SELECT column_name || ':' || data_type FROM information_schema.columns WHERE table_schema = 'ny_taxi' AND table_name = 'yellow_cab_data' ORDER BY ordinal_position",
    );
    let columns: Vec<String> = columns.into_iter().flatten().collect();
    for want in [
        "vendor_id:bigint",
        "tpep_pickup_datetime:timestamp without time zone",
        "passenger_count:bigint",
        "trip_distance:double precision",
        "ratecode_id:bigint",
        "store_and_fwd_flag:text",
        "pu_location_id:bigint",
        "do_location_id:bigint",
        "tpep_pickup_date:date",
    ] {
        assert!(
            columns.contains(&want.to_string()),
            "{want} not in {columns:?}"
        );
    }
    assert_eq!(db.scalar("SELECT (min(passenger_count) > 0 AND min(trip_distance) > 0)::text FROM ny_taxi.yellow_cab_data"), "true");
    // Values survive the trip: the database's daily totals equal the SQL block's.
    let run: Value = p.weft(&["runs", "--json"]).json();
    let last = run[0]["id"].as_str().unwrap();
    let shown = p.weft(&["show", last, "trips_per_day", "--rows", "1"]);
    let first_day = db.scalar("SELECT count(*)::text FROM ny_taxi.yellow_cab_data WHERE tpep_pickup_date = (SELECT min(tpep_pickup_date) FROM ny_taxi.yellow_cab_data)");
    assert!(
        shown.stdout.contains(&format!("| {first_day} ")),
        "{first_day} not in\n{}",
        shown.stdout
    );
    let pickup = db.scalar("SELECT min(tpep_pickup_datetime)::text FROM ny_taxi.yellow_cab_data WHERE tpep_pickup_date = '2021-01-02'");
    assert!(pickup.starts_with("2021-01-02 00:"), "{pickup}");
}

#[test]
fn a_failed_postgres_load_leaves_the_old_table_intact() {
    let db = TestDb::new();
    let p = Project::new();
    p.copy_from_repo(&["io_config.yaml"]);
    let writer = py("io_write.py");
    let yaml = |rows: u32, mode: &str| {
        format!(
            "blocks:\n  - {{ name: src, kind: loader, source: {{probe}}, config: {{ mode: {mode}, rows: {rows} }} }}\n  - name: load\n    kind: exporter\n    source: {writer}\n    upstream: [src]\n    grants: {{ profiles: [default], write: [\"postgres://default/ny_taxi\"] }}\n    config: {{ target: \"postgres://default/ny_taxi.trips\", options: {{ if_exists: replace }} }}\n"
        )
    };
    p.pipeline("load", &yaml(10, "rows"));
    let ran = p.weft_env(&["run", "load", "--json"], &db.env());
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(db.scalar("SELECT count(*)::text FROM ny_taxi.trips"), "10");

    // A view on the table makes the swap at the end of the load fail, after every row of
    // the new table was copied: the transaction rolls back. 300,000 rows go over several
    // COPY streams into a staging table (committed per stream), which is dropped.
    db.exec("CREATE VIEW ny_taxi.trips_view AS SELECT * FROM ny_taxi.trips");
    for rows in [50_000, 300_000] {
        p.pipeline("load", &yaml(rows, "rows"));
        let ran = p.weft_env(&["run", "load", "--json"], &db.env());
        assert_eq!(ran.code, 1, "{}", ran.stderr);
        let e = block(&ran.json(), "load")["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            e.contains("ny_taxi.trips") && e.contains("depend"),
            "{rows}: {e}"
        );
        assert_eq!(db.scalar("SELECT count(*)::text FROM ny_taxi.trips"), "10");
        assert_eq!(db.scalar("SELECT max(id)::text FROM ny_taxi.trips"), "9");
        assert_eq!(
            db.scalar("SELECT count(*)::text FROM pg_tables WHERE tablename LIKE 'trips__weft%'"),
            "0",
            "{rows}: a staging table was left behind"
        );
    }
    // Without the view the parallel load replaces the table with every row exactly once.
    db.exec("DROP VIEW ny_taxi.trips_view");
    let ran = p.weft_env(&["run", "load", "--json"], &db.env());
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        db.scalar("SELECT count(*)::text || ' ' || count(DISTINCT id)::text || ' ' || min(id)::text || ' ' || max(id)::text FROM ny_taxi.trips"),
        "300000 300000 0 299999"
    );
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM pg_tables WHERE tablename LIKE 'trips__weft%'"),
        "0"
    );
}

#[test]
fn secrets_never_reach_blocks_or_logs() {
    let db = TestDb::new();
    let secret = format!("pw-{:08x}-do-not-print", rand::random::<u32>());
    let mut env = db.env();
    env.retain(|(k, _)| k != "POSTGRES_PASSWORD");
    env.push(("POSTGRES_PASSWORD".into(), secret.clone()));
    let p = Project::new();
    p.copy_from_repo(&["io_config.yaml"]);
    let probe = py("io_probe.py");
    let printer = py("print_env.py");
    p.pipeline(
        "secrets",
        &format!(
            "blocks:\n  - name: probe\n    kind: loader\n    source: {probe}\n    grants: {{ profiles: [default] }}\n    config: {{ profile: default, settings: [POSTGRES_HOST, POSTGRES_PASSWORD], services: [postgres] }}\n  - name: ungranted\n    kind: loader\n    source: {probe}\n    config: {{ profile: default, settings: [POSTGRES_HOST] }}\n  - name: printer\n    kind: loader\n    source: {printer}\n    grants: {{ env: [POSTGRES_PASSWORD] }}\n    config: {{ name: POSTGRES_PASSWORD }}\n"
        ),
    );
    let ran = p.weft_env(&["run", "secrets", "--json"], &env);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let run = ran.json()["run_id"].as_str().unwrap().to_string();
    let shown = p.weft(&["show", &run, "probe", "--json"]);
    let row = &shown.json()[0];
    assert_eq!(row["POSTGRES_HOST"], "127.0.0.1");
    assert_eq!(row["postgres"], "True");
    let refused = row["POSTGRES_PASSWORD"].as_str().unwrap();
    assert!(
        refused.starts_with("Denied: `POSTGRES_PASSWORD` of io profile \"default\" is a secret"),
        "{refused}"
    );
    let row = &p.weft(&["show", &run, "ungranted", "--json"]).json()[0];
    assert!(
        row["POSTGRES_HOST"]
            .as_str()
            .unwrap()
            .contains("not granted io profile \"default\""),
        "{row}"
    );
    let logs = p.weft(&["logs", &run, "--json"]);
    let printed = log_lines(&logs.json(), "printer").join("\n");
    assert!(printed.contains("the value is ***"), "{printed}");
    for text in [&ran.stdout, &ran.stderr, &logs.stdout, &shown.stdout] {
        assert!(!text.contains(&secret), "the secret leaked:\n{text}");
    }
}
