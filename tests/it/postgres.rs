//! The same pipeline with its state in Postgres.

use sqlx::Connection;

use crate::support::*;

fn admin_url() -> String {
    std::env::var("WEFT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn pg(sql: &str) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut c = sqlx::PgConnection::connect(&admin_url())
                .await
                .expect("Postgres must run on 127.0.0.1:5432");
            sqlx::query(sql).execute(&mut c).await.unwrap();
        })
}

struct Db(String);

impl Drop for Db {
    fn drop(&mut self) {
        pg(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.0));
    }
}

#[test]
fn state_lives_in_postgres_when_configured() {
    let name = format!(
        "weft_it_{}_{:08x}",
        std::process::id(),
        rand::random::<u32>()
    );
    pg(&format!("CREATE DATABASE {name}"));
    let db = Db(name.clone());
    let base = admin_url();
    let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);

    let mut p = Project::new();
    p.state_url = Some(url);
    p.pipeline(
        "pg",
        "blocks:\n  - { name: src, kind: loader, source: {probe}, config: { mode: rows, rows: 7 } }\n  - { name: boom, kind: transformer, source: {probe}, upstream: [src], config: { mode: trap } }\n",
    );
    let (summary, ran) = p.run("pg");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let run_id = summary["run_id"].as_str().unwrap();
    assert!(
        !p.path().join(".weft/state.db").exists(),
        "SQLite was used instead of Postgres"
    );
    let logs = p.logs(run_id);
    assert_eq!(logs["run"]["status"], "failed");
    let blocks = logs["blocks"].as_array().unwrap();
    assert_eq!(
        (
            blocks[0]["block"].as_str(),
            blocks[0]["status"].as_str(),
            blocks[0]["rows"].as_i64()
        ),
        (Some("src"), Some("success"), Some(7))
    );
    assert_eq!(blocks[1]["status"], "failed");
    assert!(blocks[1]["error"].as_str().unwrap().contains("trapped"));
    let runs = p.weft(&["runs", "--json"]).json();
    assert_eq!(runs[0]["id"], run_id);
    let shown = p.weft(&["show", run_id, "src"]);
    assert!(shown.stdout.contains("| 6  | 3.0   |"), "{}", shown.stdout);
    drop(db);
}
