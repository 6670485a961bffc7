//! Every file format through the writer and back through the reader, from Rust and Python
//! blocks: parquet partitioned Hive-style and read back as one table (partition columns
//! restored with their types), csv, ndjson and Arrow files; folders that cannot be read say why.

use serde_json::Value;

use crate::support::*;

#[test]
fn every_format_round_trips_and_partitioned_folders_read_back() {
    let p = Project::new();
    let writer = py("io_write.py");
    // Values that test escaping: a `/` and a non-ASCII letter in a partition value, nulls.
    write(
        p.path(),
        "blocks/typed.sql",
        "SELECT id, value,\n  CASE WHEN id % 10 = 0 THEN NULL ELSE concat('zone ', CAST(id % 4 AS VARCHAR), '/é') END AS tag,\n  to_date(concat('2021-01-0', CAST(id % 3 + 1 AS VARCHAR))) AS day\nFROM {{ df_1 }}\n",
    );
    // Each read-back table against the source, row by row; the count of rows that agree.
    write(
        p.path(),
        "blocks/agree.sql",
        "SELECT\n  (SELECT count(*) FROM typed t JOIN back_parquet r ON t.id = r.id AND t.value = r.value AND t.day = r.day AND t.tag IS NOT DISTINCT FROM r.tag) AS parquet,\n  (SELECT count(*) FROM typed t JOIN back_csv r ON t.id = r.id AND t.value = r.value AND t.day = r.day AND t.tag IS NOT DISTINCT FROM r.tag) AS csv,\n  (SELECT count(*) FROM typed t JOIN back_ndjson r ON t.id = r.id AND t.value = r.value AND t.day = r.day AND t.tag IS NOT DISTINCT FROM r.tag) AS ndjson,\n  (SELECT count(*) FROM typed t JOIN back_arrow r ON t.id = r.id AND t.value = r.value AND t.day = r.day AND t.tag IS NOT DISTINCT FROM r.tag) AS arrow,\n  (SELECT count(*) FROM typed t JOIN back_files r ON t.id = r.id AND t.value = r.value AND t.day = r.day AND t.tag IS NOT DISTINCT FROM r.tag) AS files,\n  (SELECT count(*) FROM back_parquet WHERE tag IS NULL) AS null_tags,\n  (SELECT count(DISTINCT tag) FROM back_parquet) AS tags\n",
    );
    std::fs::create_dir_all(p.path().join("data/empty")).unwrap();
    write(p.path(), "data/empty/_SUCCESS", "");
    write(p.path(), "data/mismatch/a.csv", "x,y\n1,2\n");
    write(p.path(), "data/mismatch/b.csv", "x,z\n1,2\n");
    write(p.path(), "data/lossy/a.ndjson", "{\"amt\": 1}\n");
    write(p.path(), "data/lossy/b.ndjson", "{\"amt\": 1.5}\n");
    let w = |name: &str, target: &str, options: &str| {
        format!("  - name: {name}\n    kind: exporter\n    source: {writer}\n    upstream: [typed]\n    grants: {{ write: [\"local://rt/\", \"file://data/\"] }}\n    config: {{ target: \"{target}\", options: {options} }}\n")
    };
    let r = |name: &str, after: &str, url: &str, options: &str| {
        format!("  - name: {name}\n    kind: loader\n    source: {{probe}}\n    upstream: [{after}]\n    grants: {{ urls: [\"local://rt/\", \"file://data/\"] }}\n    config: {{ mode: read, url: \"{url}\", options: {options} }}\n")
    };
    let mut yaml = String::from("blocks:\n  - { name: src, kind: loader, source: {probe}, config: { mode: rows, rows: 1000 } }\n  - { name: typed, kind: transformer, source: blocks/typed.sql, upstream: [src] }\n");
    yaml += &w(
        "put_parquet",
        "local://rt/parquet/",
        "{ partition_by: [day, tag] }",
    );
    yaml += &w("put_csv", "file://data/rows.csv", "{ format: csv }");
    yaml += &w(
        "put_files",
        "file://data/parts/",
        "{ partition_by: [day, tag] }",
    );
    yaml += &r("back_files", "put_files", "file://data/parts", "{}");
    yaml += &w(
        "put_ndjson",
        "local://rt/json/rows.ndjson",
        "{ format: ndjson }",
    );
    yaml += &w(
        "put_arrow",
        "local://rt/arrow/rows.arrow",
        "{ format: arrow }",
    );
    yaml += &r("back_parquet", "put_parquet", "local://rt/parquet/", "{}");
    yaml += &r(
        "back_csv",
        "put_csv",
        "file://data/rows.csv",
        "{ dtype: { day: date, tag: str } }",
    );
    yaml += &r(
        "back_ndjson",
        "put_ndjson",
        "local://rt/json/rows.ndjson",
        "{ dtype: { day: date } }",
    );
    yaml += &r(
        "back_arrow",
        "put_arrow",
        "local://rt/arrow/rows.arrow",
        "{}",
    );
    yaml += "  - { name: agree, kind: transformer, source: blocks/agree.sql, upstream: [typed, back_parquet, back_csv, back_ndjson, back_arrow, back_files] }\n";
    // The host's SQL engine from a Rust block: inputs by name, the first also as `self`.
    yaml += "  - name: rs_sql\n    kind: transformer\n    source: {probe}\n    upstream: [typed, back_arrow]\n    config: { mode: sql, sql: \"SELECT (SELECT count(*) FROM self WHERE tag IS NULL) AS nulls, (SELECT count(*) FROM typed JOIN back_arrow USING (id)) AS joined\" }\n";
    // A folder holding parquet, ndjson and arrow files; one with no data files.
    yaml += &r(
        "mixed",
        "put_parquet, put_ndjson, put_arrow",
        "local://rt/",
        "{}",
    );
    yaml += &r("empty", "src", "file://data/empty/", "{}");
    yaml += &r("mismatch", "src", "file://data/mismatch/", "{}");
    yaml += &r("lossy", "src", "file://data/lossy/", "{}");
    yaml += &r(
        "one_format",
        "put_parquet, put_ndjson, put_arrow",
        "local://rt/",
        "{ format: arrow }",
    );
    p.pipeline("formats", &yaml);
    let (summary, ran) = p.run("formats");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let run = summary["run_id"].as_str().unwrap().to_string();
    for b in [
        "put_parquet",
        "put_csv",
        "put_ndjson",
        "put_arrow",
        "back_parquet",
        "back_csv",
        "back_ndjson",
        "back_arrow",
        "agree",
        "rs_sql",
        "put_files",
        "back_files",
    ] {
        assert_eq!(
            block(&summary, b)["status"],
            "success",
            "{b}: {}",
            block(&summary, b)["error"]
        );
    }

    // Every row came back with every value, from every format.
    let agree: Value = p.weft(&["show", &run, "agree", "--json"]).json();
    let row = &agree[0];
    for f in ["parquet", "csv", "ndjson", "arrow", "files"] {
        assert_eq!(row[f], 1000, "{f}: {row}");
    }
    assert_eq!(row["null_tags"], 100, "{row}");
    assert_eq!(row["tags"], 4, "{row}");
    let rs: Value = p.weft(&["show", &run, "rs_sql", "--json"]).json();
    assert_eq!(rs[0]["nulls"], 100, "{rs}");
    assert_eq!(rs[0]["joined"], 1000, "{rs}");

    // The partition folders are Hive-style, values escaped; the columns come back typed.
    let day_dirs: Vec<String> = std::fs::read_dir(p.path().join(".weft/local/rt/parquet"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        day_dirs.contains(&"day=2021-01-03".to_string()),
        "{day_dirs:?}"
    );
    let types: Vec<(String, String)> = output_table(&p, &run, "back_parquet")
        .columns()
        .into_iter()
        .map(|c| (c.name, c.data_type))
        .collect();
    assert_eq!(
        types
            .iter()
            .map(|(n, t)| format!("{n}:{t}"))
            .collect::<Vec<_>>(),
        ["id:Int64", "value:Float64", "day:Date32", "tag:Utf8"],
    );
    assert_eq!(block(&summary, "back_parquet")["rows"], 1000);
    // A project folder reads back the same way (files decoded from disk by range).
    assert_eq!(block(&summary, "back_files")["rows"], 1000);
    let cols: Vec<String> = output_table(&p, &run, "back_files")
        .columns()
        .into_iter()
        .map(|c| format!("{}:{}", c.name, c.data_type))
        .collect();
    assert_eq!(
        cols,
        ["id:Int64", "value:Float64", "day:Date32", "tag:Utf8"]
    );

    // Folders that cannot be read as one table say why.
    let error = |b: &str| {
        block(&summary, b)["error"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let e = error("mixed");
    assert!(
        e.contains("mixes formats") && e.contains("pass `format`"),
        "{e}"
    );
    let e = error("empty");
    assert!(
        e.contains("data/empty") && e.contains("holds no data files"),
        "{e}"
    );
    let e = error("mismatch");
    assert!(
        e.contains("b.csv` has the columns [x, z]") && e.contains("a.csv` has [x, y]"),
        "{e}"
    );
    // Files that disagree on a column's type: the wider one holds both (1.5 stays 1.5).
    let amt: Vec<String> = output_table(&p, &run, "lossy")
        .columns()
        .into_iter()
        .map(|c| format!("{}:{}", c.name, c.data_type))
        .collect();
    assert_eq!(amt, ["amt:Float64"]);
    let rows: Value = p.weft(&["show", &run, "lossy", "--json"]).json();
    assert_eq!(rows, serde_json::json!([{"amt": 1.0}, {"amt": 1.5}]));
    assert_eq!(block(&summary, "one_format")["rows"], 1000);
}
