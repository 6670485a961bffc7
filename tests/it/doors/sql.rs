//! The host SQL engine answers read-only queries over the tables it is handed, within the
//! block's memory and time; SQL templates cannot be restructured by a run variable's value.

use std::time::{Duration, Instant};

use super::*;
use crate::services::TestDb;

#[test]
fn the_host_sql_engine_is_read_only_from_rust_python_and_sql_blocks() {
    let p = Project::new();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().display().to_string();
    write(
        p.path(),
        "blocks/copy.sql",
        &format!("COPY (SELECT 1 AS a) TO '{dir}/from_sql_block.csv'"),
    );
    write(
        p.path(),
        "blocks/external.sql",
        "CREATE EXTERNAL TABLE leak STORED AS CSV LOCATION '/etc/passwd'",
    );
    write(p.path(), "blocks/path.sql", "SELECT * FROM '/etc/passwd'");
    let mut yaml = format!(
        "blocks:\n  - {{ name: rust_copy, kind: loader, source: {{probe}}, config: {{ mode: sql, sql: \"COPY (SELECT 1 AS a) TO '{dir}/from_rust.csv'\" }} }}\n  - {{ name: rust_insert, kind: loader, source: {{probe}}, config: {{ mode: sql, sql: \"CREATE TABLE t AS SELECT 1\" }} }}\n  - {{ name: sql_copy, kind: loader, source: blocks/copy.sql }}\n  - {{ name: sql_external, kind: loader, source: blocks/external.sql }}\n  - {{ name: sql_path, kind: loader, source: blocks/path.sql }}\n"
    );
    yaml += &py_door(
        "py_copy",
        &format!("{{ door: sql, sql: \"COPY (SELECT 1 AS a) TO '{dir}/from_python.csv'\" }}"),
        "",
    );
    yaml += &py_door(
        "py_external",
        "{ door: sql, sql: \"CREATE EXTERNAL TABLE leak STORED AS CSV LOCATION '/etc/passwd'\" }",
        "",
    );
    yaml += HEALTHY;
    p.pipeline("sqlro", &yaml);
    let (summary, ran) = p.run("sqlro");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let run = summary["run_id"].as_str().unwrap();
    for (name, kind) in [
        ("rust_copy", "COPY"),
        ("rust_insert", "CREATE TABLE"),
        ("sql_copy", "COPY"),
        ("sql_external", "CREATE EXTERNAL TABLE"),
    ] {
        let e = error_of(&summary, name);
        assert!(
            e.contains("read-only queries") && e.contains(&format!("`{kind}` statement")),
            "{name}: {e}"
        );
        assert!(e.contains(&format!("block \"{name}\"")), "{name}: {e}");
    }
    let e = error_of(&summary, "sql_path");
    assert!(e.contains("/etc/passwd"), "{e}");
    for name in ["py_copy", "py_external"] {
        let o = outcome(&p, run, name);
        assert!(
            o.contains("read-only queries") && o.contains("statement"),
            "{name}: {o}"
        );
    }
    assert_eq!(block(&summary, "healthy")["status"], "success");
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert!(left.is_empty(), "a refused statement wrote {left:?}");
}

#[test]
fn queries_are_held_to_the_block_s_memory_and_time() {
    let p = Project::new();
    write(
        p.path(),
        "blocks/endless.sql",
        "SELECT count(*) AS n FROM generate_series(1, 1000000000000) AS t(v) WHERE v % 7 = 3",
    );
    let big_group = "SELECT v % 3000017 AS k, count(*) AS n FROM generate_series(1, 60000000) AS t(v) GROUP BY v % 3000017";
    let mut yaml = format!(
        "blocks:\n  - {{ name: rust_greedy, kind: loader, source: {{probe}}, memory_limit: 64MiB, config: {{ mode: sql, sql: \"{big_group}\" }} }}\n  - {{ name: rust_hoard, kind: loader, source: {{probe}}, memory_limit: 64MiB, config: {{ mode: hoard_tables, rows: 100 }} }}\n  - {{ name: sql_endless, kind: loader, source: blocks/endless.sql, timeout: 2s }}\n  - {{ name: rust_endless, kind: loader, source: {{probe}}, timeout: 2s, config: {{ mode: sql, sql: \"SELECT count(*) AS n FROM generate_series(1, 1000000000000) AS t(v) WHERE v % 7 = 3\" }} }}\n"
    );
    yaml += &py_door(
        "py_endless",
        "{ door: sql, sql: \"SELECT count(*) AS n FROM generate_series(1, 1000000000000) AS t(v) WHERE v % 7 = 3\" }",
        ", timeout: 3s",
    );
    yaml += HEALTHY;
    p.pipeline("sqlmem", &yaml);
    let started = Instant::now();
    let (summary, ran) = p.run("sqlmem");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "deadlines did not stop the queries: {:?}",
        started.elapsed()
    );
    let e = error_of(&summary, "rust_greedy");
    assert!(
        e.contains("memory budget") && e.contains("memory_limit"),
        "{e}"
    );
    let e = error_of(&summary, "rust_hoard");
    assert!(
        e.contains("memory limit of 64 MiB is exceeded") && e.contains("tables made by the host"),
        "{e}"
    );
    for name in ["sql_endless", "rust_endless", "py_endless"] {
        let e = error_of(&summary, name);
        assert!(
            e.contains("timed out") || e.contains("deadline"),
            "{name}: {e}"
        );
    }
    assert_eq!(block(&summary, "healthy")["status"], "success");
}

#[test]
fn a_variable_cannot_rewrite_a_sql_template() {
    let db = TestDb::new();
    db.exec("CREATE TABLE zones (zone bigint, name text); INSERT INTO zones VALUES (1, 'one'), (2, 'two'), (3, 'three')");
    let p = Project::new();
    write(
        p.path(),
        "io_config.yaml",
        "warehouse:\n  POSTGRES_HOST: \"{{ env_var('POSTGRES_HOST') }}\"\n  POSTGRES_PORT: \"{{ env_var('POSTGRES_PORT') }}\"\n  POSTGRES_USER: \"{{ env_var('POSTGRES_USER') }}\"\n  POSTGRES_PASSWORD: \"{{ env_var('POSTGRES_PASSWORD') }}\"\n  POSTGRES_DBNAME: \"{{ env_var('POSTGRES_DBNAME') }}\"\n",
    );
    write(
        p.path(),
        "blocks/by_name.sql",
        "SELECT count(*) AS n FROM zones WHERE name = '{{ zone }}'",
    );
    write(
        p.path(),
        "blocks/by_id.sql",
        "SELECT count(*) AS n FROM zones WHERE zone > {{ min_zone }}",
    );
    write(
        p.path(),
        "blocks/table.sql",
        "SELECT count(*) AS n FROM {{ table | ident }}",
    );
    let pg = "engine: postgres:warehouse, grants: { profiles: [warehouse] }";
    p.pipeline(
        "inject",
        &format!("blocks:\n  - {{ name: by_name, kind: loader, source: blocks/by_name.sql, {pg} }}\n  - {{ name: by_id, kind: loader, source: blocks/by_id.sql, {pg} }}\n  - {{ name: table, kind: loader, source: blocks/table.sql, {pg} }}\n"),
    );
    let mut env = db.env();
    env.push(("RUST_LOG".into(), "off".into()));
    // Ordinary values work as Mage users write them.
    let ran = p.weft_env(
        &[
            "run",
            "inject",
            "--json",
            "--var",
            "zone=two",
            "--var",
            "min_zone=1",
            "--var",
            "table=zones",
        ],
        &env,
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let run = ran.json()["run_id"].as_str().unwrap().to_string();
    for (name, want) in [("by_name", "| 1 |"), ("by_id", "| 2 |"), ("table", "| 3 |")] {
        let shown = p.weft(&["show", &run, name]);
        assert!(shown.stdout.contains(want), "{name}: {}", shown.stdout);
    }
    // Hostile values stay values: no extra rows, no second statement.
    let ran = p.weft_env(
        &[
            "run",
            "inject",
            "--json",
            "--var",
            "zone=x' OR '1'='1",
            "--var",
            "min_zone=0; DROP TABLE zones; --",
            "--var",
            "table=zones\"; DROP TABLE zones; --",
        ],
        &env,
    );
    let summary = ran.json();
    let run = summary["run_id"].as_str().unwrap().to_string();
    let shown = p.weft(&["show", &run, "by_name"]);
    assert!(shown.stdout.contains("| 0 |"), "{}", shown.stdout);
    assert_eq!(block(&summary, "by_id")["status"], "failed", "{summary}");
    let e = error_of(&summary, "table");
    assert!(e.contains("does not exist"), "{e}");
    assert_eq!(db.scalar("SELECT count(*)::text FROM zones"), "3");
}
