//! Python blocks: built with componentize-py from source, mixed with Rust blocks, table
//! operations run in the host engine, and every kind of Python failure reported clearly.

use serde_json::{json, Value};

use crate::support::*;

/// The rows of a block's stored output, as JSON.
fn output_rows(p: &Project, run: &str, block: &str) -> Value {
    serde_json::from_str(&output_table(p, run, block).to_json(None).unwrap()).unwrap()
}

/// `(name, Arrow type)` of each column of a block's stored output.
fn columns(p: &Project, run: &str, block: &str) -> Vec<(String, String)> {
    output_table(p, run, block)
        .columns()
        .into_iter()
        .map(|c| (c.name, c.data_type))
        .collect()
}

#[test]
fn python_loader_python_transformer_rust_exporter() {
    let p = Project::new();
    p.pipeline(
        "taxi",
        &format!(
            "blocks:\n  - {{ name: trips, kind: loader, source: {}, config: {{ rows: 12 }} }}\n  - {{ name: clean, kind: transformer, source: {}, upstream: [trips] }}\n  - {{ name: total, kind: exporter, source: {{probe}}, upstream: [clean], config: {{ mode: sum }} }}\n",
            py("py_trips.py"),
            py("py_clean.py")
        ),
    );
    let (summary, ran) = p.run("taxi");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // 12 trips; passenger_count = i % 3 > 0 and trip_distance = 1.5 i > 0 keeps i % 3 != 0: 8.
    assert_eq!(block(&summary, "trips")["rows"], 12);
    assert_eq!(block(&summary, "clean")["rows"], 8);
    assert_eq!(block(&summary, "total")["rows"], 1);
    assert!(
        ran.stderr.contains("[trips] generated 12 trips"),
        "print goes to the log:\n{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("[clean] clean: kept 8 of 12 trips"),
        "logging goes to the log:\n{}",
        ran.stderr
    );
    let run = summary["run_id"].as_str().unwrap();
    let cols = columns(&p, run, "clean");
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "vendor_id",
            "tpep_pickup_datetime",
            "passenger_count",
            "trip_distance",
            "pu_location_id",
            "store_and_fwd_flag",
            "tpep_pickup_date"
        ]
    );
    assert!(
        cols.iter()
            .any(|(n, t)| n == "tpep_pickup_date" && t == "Date32"),
        "{cols:?}"
    );
    assert!(
        cols.iter()
            .any(|(n, t)| n == "tpep_pickup_datetime" && t.starts_with("Timestamp")),
        "{cols:?}"
    );
    let rows = output_rows(&p, run, "clean");
    assert_eq!(rows[0]["tpep_pickup_date"], "2021-01-01");
    assert_eq!(rows[0]["passenger_count"], 1);
    assert_eq!(rows[1]["tpep_pickup_date"], "2021-01-01");
    assert_eq!(rows[2]["tpep_pickup_date"], "2021-01-02");
}

#[test]
fn every_table_operation_gives_the_expected_rows() {
    let p = Project::new();
    let ops = [
        "select",
        "drop",
        "rename",
        "filter",
        "filter_or",
        "with_column",
        "cast",
        "sort",
        "head",
        "sql",
        "sql_by_name",
        "fill_null",
        "isin",
        "divide",
        "pydict",
        "shape",
    ];
    let mut yaml = format!(
        "concurrency: 2\nblocks:\n  - {{ name: src, kind: loader, source: {} }}\n",
        py("py_src.py")
    );
    for op in ops {
        yaml.push_str(&format!(
            "  - {{ name: {op}, kind: transformer, source: {}, upstream: [src], config: {{ op: {op} }} }}\n",
            py("py_ops.py")
        ));
    }
    p.pipeline("ops", &yaml);
    let (summary, ran) = p.run("ops");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let run = summary["run_id"].as_str().unwrap();
    let rows = |b: &str| output_rows(&p, run, b);
    let x = json!({"a": 1, "b": "x", "c": 1.5, "e": "2021-01-01"});
    let y = json!({"a": 2, "b": "y", "c": null, "e": "2021-01-02"});
    let z = json!({"a": 3, "b": "z", "c": 3.5, "e": "2021-01-03"});
    assert_eq!(rows("src"), json!([x, y, z]));
    assert_eq!(
        rows("select"),
        json!([{"b": "x", "a": 1}, {"b": "y", "a": 2}, {"b": "z", "a": 3}])
    );
    assert_eq!(
        rows("drop"),
        json!([{"a": 1, "b": "x", "e": "2021-01-01"}, {"a": 2, "b": "y", "e": "2021-01-02"}, {"a": 3, "b": "z", "e": "2021-01-03"}])
    );
    assert_eq!(
        rows("rename")[0],
        json!({"alpha": 1, "beta": "x", "c": 1.5, "e": "2021-01-01"})
    );
    assert_eq!(rows("filter"), json!([z]));
    assert_eq!(rows("filter_or"), json!([x, z]));
    assert_eq!(
        rows("with_column"),
        json!([
            {"a": 1, "b": "x", "c": 1.5, "e": "2021-01-01", "d": 3},
            {"a": 0, "b": "y", "c": null, "e": "2021-01-02", "d": 5},
            {"a": 1, "b": "z", "c": 3.5, "e": "2021-01-03", "d": 7}
        ])
    );
    assert_eq!(
        rows("cast")[0],
        json!({"a": 1.0, "b": "x", "c": 1.5, "e": "2021-01-01"})
    );
    let cast_types = columns(&p, run, "cast");
    assert_eq!(cast_types[0], ("a".into(), "Float64".into()));
    assert_eq!(cast_types[3], ("e".into(), "Date32".into()));
    assert_eq!(rows("sort"), json!([z, y, x]));
    assert_eq!(rows("head"), json!([x, y]));
    assert_eq!(
        rows("sql"),
        json!([{"b": "x", "total": 1}, {"b": "y", "total": 2}, {"b": "z", "total": 3}])
    );
    assert_eq!(rows("sql_by_name"), json!([{"n": 2}]));
    assert_eq!(
        rows("fill_null"),
        json!([{"c": 1.5}, {"c": 0.0}, {"c": 3.5}])
    );
    assert_eq!(rows("isin"), json!([{"a": 1}, {"a": 3}]));
    assert_eq!(
        rows("divide"),
        json!([{"half": 0.5}, {"half": 1.0}, {"half": 1.5}])
    );
    assert_eq!(
        rows("pydict"),
        json!([{"a": 1, "b_upper": "X"}, {"a": 2, "b_upper": "Y"}, {"a": 3, "b_upper": "Z"}])
    );
    assert_eq!(
        rows("shape"),
        json!([{"rows": 3, "columns": "a,b,c,e", "types": "Int64,Utf8,Float64,Utf8"}])
    );
}

#[test]
fn python_failures_are_reported_with_file_and_line_and_leave_the_host_healthy() {
    let p = Project::new();
    p.pipeline(
        "fails",
        &format!(
            "variables: {{ region: eu }}\nblocks:\n  - {{ name: src, kind: loader, source: {src} }}\n  - {{ name: boom, kind: transformer, source: {raise}, upstream: [src] }}\n  - {{ name: unknown_column, kind: transformer, source: {ops}, upstream: [src], config: {{ op: unknown_column }} }}\n  - {{ name: bad_filter, kind: transformer, source: {ops}, upstream: [src], config: {{ op: bad_filter }} }}\n  - {{ name: tested, kind: loader, source: {failing} }}\n  - {{ name: forever, kind: loader, source: {spin}, timeout: 2s }}\n  - {{ name: vars, kind: loader, source: {vars}, config: {{ rows: 5 }} }}\n",
            src = py("py_src.py"),
            raise = py("py_raise.py"),
            ops = py("py_ops.py"),
            failing = py("py_failing_test.py"),
            spin = py("py_spin.py"),
            vars = py("py_vars.py"),
        ),
    );
    let (summary, ran) = p.run("fails");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let err = |b: &str| {
        block(&summary, b)["error"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        err("boom"),
        "block \"boom\" failed: failed: ZeroDivisionError: division by zero (py_raise.py, line 7)"
    );
    assert!(
        err("unknown_column").contains("no column named 'nope'; columns: a, b, c, e"),
        "{}",
        err("unknown_column")
    );
    assert!(
        err("bad_filter").contains("TableError") && err("bad_filter").contains("missing"),
        "{}",
        err("bad_filter")
    );
    assert_eq!(err("tested"), "block \"tested\": test `all_positive` failed: x has negative values (py_failing_test.py, line 11)");
    assert!(
        err("forever").contains("timed out after 2s"),
        "{}",
        err("forever")
    );
    assert_eq!(block(&summary, "src")["status"], "success");
    assert_eq!(block(&summary, "vars")["status"], "success");
    let run = summary["run_id"].as_str().unwrap();
    assert_eq!(
        output_rows(&p, run, "vars"),
        json!([{"region": "eu", "block": "vars", "rows": 5}])
    );
    // The traceback is in the block's log.
    let logs = p.logs(run);
    let boom: Vec<&str> = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["block"] == "boom")
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert!(boom.iter().any(|m| m.starts_with("Traceback")), "{boom:?}");
    assert!(
        boom.iter().any(|m| m.contains("py_raise.py\", line 7")),
        "{boom:?}"
    );
}

#[test]
fn python_build_errors_name_the_file_and_line() {
    let p = Project::new();
    p.pipeline(
        "syntax",
        &format!(
            "blocks:\n  - {{ name: rows, kind: loader, source: {} }}\n",
            py("py_syntax.py")
        ),
    );
    let ran = p.weft(&["build"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("block \"rows\""), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("py_syntax.py") && ran.stderr.contains("line 6"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("SyntaxError"), "{}", ran.stderr);

    let p = Project::new();
    p.pipeline(
        "numpy",
        &format!(
            "blocks:\n  - {{ name: t, kind: transformer, source: {} }}\n",
            py("py_numpy.py")
        ),
    );
    let ran = p.weft(&["build"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("line 2: imports `numpy`, a package with native extensions"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("Table API"), "{}", ran.stderr);
}

#[test]
fn pure_python_requirements_are_bundled_and_native_ones_refused() {
    let p = Project::new();
    write(
        p.path(),
        "blocks/human.py",
        "# requirements: humanize==4.9.0\nimport humanize\nfrom weft import loader\n\n\n@loader\ndef sizes():\n    return [{\"size\": humanize.naturalsize(3000000)}]\n",
    );
    write(
        p.path(),
        "pipelines/req/pipeline.yaml",
        "blocks:\n  - { name: sizes, kind: loader, source: blocks/human.py }\n",
    );
    let (summary, ran) = p.run("req");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        output_rows(&p, summary["run_id"].as_str().unwrap(), "sizes"),
        json!([{"size": "3.0 MB"}])
    );

    write(
        p.path(),
        "blocks/native.py",
        "# requirements: numpy\nfrom weft import loader\n\n\n@loader\ndef x():\n    return []\n",
    );
    write(
        p.path(),
        "pipelines/native/pipeline.yaml",
        "blocks:\n  - { name: x, kind: loader, source: blocks/native.py }\n",
    );
    let ran = p.weft(&["build", "native"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("requirement `numpy` has native extensions"),
        "{}",
        ran.stderr
    );
}
