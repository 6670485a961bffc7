//! SQL blocks: run by the host's engine over upstream outputs (`{{ df_1 }}`, variables), or in
//! a profile's Postgres with the upstream outputs uploaded; errors name the block and engine.

use crate::services::*;
use crate::support::*;

#[test]
fn sql_blocks_in_datafusion_and_postgres() {
    let db = TestDb::new();
    db.exec("CREATE TABLE zones (zone bigint, name text); INSERT INTO zones VALUES (1, 'one'), (2, 'two'), (3, 'three')");
    let p = Project::new();
    write(
        p.path(),
        "io_config.yaml",
        "warehouse:\n  POSTGRES_HOST: \"{{ env_var('POSTGRES_HOST') }}\"\n  POSTGRES_PORT: \"{{ env_var('POSTGRES_PORT') }}\"\n  POSTGRES_USER: \"{{ env_var('POSTGRES_USER') }}\"\n  POSTGRES_PASSWORD: \"{{ env_var('POSTGRES_PASSWORD') }}\"\n  POSTGRES_DBNAME: \"{{ env_var('POSTGRES_DBNAME') }}\"\n",
    );
    // The probe's `rows` mode: columns id (0..n) and value (id / 2.0).
    write(
        p.path(),
        "blocks/big.sql",
        "-- rows above a threshold given as a run variable\nSELECT id, value, id % 3 AS zone FROM {{ df_1 }} WHERE id >= {{ min_id }}\n",
    );
    write(
        p.path(),
        "blocks/named.sql",
        "SELECT count(*) AS n, sum(id) AS total FROM big WHERE '{{ execution_date }}' <> ''",
    );
    write(
        p.path(),
        "blocks/joined.sql",
        "SELECT z.name, count(*) AS trips FROM {{ df_1 }} AS b JOIN zones AS z ON z.zone = b.zone GROUP BY z.name ORDER BY z.name",
    );
    write(p.path(), "blocks/typo.sql", "SELECT idd FROM {{ df_1 }}");
    write(
        p.path(),
        "blocks/unknown_var.sql",
        "SELECT *\nFROM {{ df_1 }}\nWHERE id > {{ nope }}",
    );
    p.pipeline(
        "sql",
        r#"variables: { min_id: 4 }
blocks:
  - { name: src, kind: loader, source: {probe}, config: { mode: rows, rows: 10 } }
  - { name: big, kind: transformer, source: blocks/big.sql, upstream: [src] }
  - { name: named, kind: transformer, source: blocks/named.sql, upstream: [big] }
  - name: joined
    kind: transformer
    source: blocks/joined.sql
    upstream: [big]
    engine: postgres:warehouse
    grants: { profiles: [warehouse] }
  - { name: typo, kind: transformer, source: blocks/typo.sql, upstream: [src] }
  - { name: unknown_var, kind: transformer, source: blocks/unknown_var.sql, upstream: [src] }
"#,
    );
    let env = db.env();
    let ran = p.weft_env(&["run", "sql", "--json"], &env);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let summary = ran.json();
    let run = summary["run_id"].as_str().unwrap();
    assert_eq!(block(&summary, "big")["rows"], 6, "{summary}");
    let shown = p.weft(&["show", run, "named"]);
    assert!(shown.stdout.contains("| 6 | 39    |"), "{}", shown.stdout);
    // ids 4..9 → zones 1,2,0,1,2,0: zone 0 has no name in the database.
    let shown = p.weft(&["show", run, "joined"]);
    assert!(
        shown.stdout.contains("| one  | 2     |") && shown.stdout.contains("| two  | 2     |"),
        "{}",
        shown.stdout
    );
    let e = block(&summary, "typo")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        e.contains("block \"typo\" (blocks/typo.sql): SQL error") && e.contains("idd"),
        "{e}"
    );
    let e = block(&summary, "unknown_var")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        e.contains("line 3: unknown name `nope`") && e.contains("df_1"),
        "{e}"
    );

    // A later run with another threshold: the variable reaches the template.
    let ran = p.weft_env(&["run", "sql", "--json", "--var", "min_id=8"], &env);
    assert_eq!(block(&ran.json(), "big")["rows"], 2);
}

#[test]
fn postgres_engine_errors_name_the_block_and_hide_secrets() {
    let p = Project::new();
    write(
        p.path(),
        "io_config.yaml",
        "warehouse:\n  POSTGRES_HOST: 127.0.0.1\n  POSTGRES_PORT: 1\n  POSTGRES_USER: someone\n  POSTGRES_PASSWORD: hunter2-very-secret\n  POSTGRES_CONNECT_TIMEOUT: 2\n",
    );
    write(p.path(), "blocks/q.sql", "SELECT 1 AS one");
    p.pipeline(
        "pg",
        "blocks:\n  - { name: q, kind: loader, source: blocks/q.sql, engine: postgres:warehouse, grants: { profiles: [warehouse] } }\n",
    );
    let (summary, ran) = p.run("pg");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let e = block(&summary, "q")["error"].as_str().unwrap().to_string();
    assert!(
        e.contains("block \"q\"") && e.contains("cannot connect to Postgres at 127.0.0.1:1"),
        "{e}"
    );
    let logs = p.weft(&["logs", summary["run_id"].as_str().unwrap(), "--json"]);
    for text in [&ran.stdout, &ran.stderr, &logs.stdout, &e] {
        assert!(
            !text.contains("hunter2-very-secret"),
            "secret leaked: {text}"
        );
    }
}
