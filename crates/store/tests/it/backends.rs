use weft_store::*;

use crate::pg::PgDb;

/// Children of a fan-out are made as they start or are decided, read back in child order
/// (not text order), with labels; a sensor's wait is kept; leftovers of an earlier attempt go.
async fn children(store: &Store) {
    store
        .create_run(&NewRun {
            id: "f1",
            pipeline: "fan",
            trigger: "manual",
            variables: "{}",
            created_at: 1,
            blocks: &["files".into(), "parse".into(), "wait".into()],
            owner: None,
        })
        .await
        .unwrap();
    let child = |key: &'static str, label: Option<&'static str>| BlockRef {
        key,
        block: "parse",
        position: 1,
        label,
    };
    for (key, label) in [
        ("parse[10]", Some("j.csv")),
        ("parse[2]", Some("b.csv")),
        ("parse[1.0]", None),
    ] {
        store
            .block_started("f1", &child(key, label), 1, 10)
            .await
            .unwrap();
    }
    store
        .skip_blocks(
            "f1",
            &[child("parse[2]", None), child("parse[3]", None)],
            BlockStatus::Skipped,
            "condition false",
        )
        .await
        .unwrap();
    store
        .block_started("f1", &BlockRef::block("wait", 2), 1, 20)
        .await
        .unwrap();
    store.block_waiting("f1", "wait", 5_000, 21).await.unwrap();
    store
        .block_started("f1", &BlockRef::block("wait", 2), 2, 5_000)
        .await
        .unwrap();
    let b = store.block_runs("f1").await.unwrap();
    let got: Vec<(&str, &str, Option<&str>, BlockStatus)> = b
        .iter()
        .map(|r| {
            (
                r.key.as_str(),
                r.block.as_str(),
                r.label.as_deref(),
                r.status,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("files", "files", None, BlockStatus::Pending),
            ("parse", "parse", None, BlockStatus::Pending),
            ("parse[1.0]", "parse", None, BlockStatus::Running),
            ("parse[2]", "parse", Some("b.csv"), BlockStatus::Skipped),
            ("parse[3]", "parse", None, BlockStatus::Skipped),
            ("parse[10]", "parse", Some("j.csv"), BlockStatus::Running),
            ("wait", "wait", None, BlockStatus::Running),
        ]
    );
    let wait = b.iter().find(|r| r.key == "wait").unwrap();
    assert_eq!(
        (wait.attempt, wait.first_at, wait.wake_at),
        (2, Some(20), None)
    );
    store.drop_pending_blocks("f1").await.unwrap();
    let left: Vec<String> = store
        .block_runs("f1")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(
        left,
        ["parse[1.0]", "parse[2]", "parse[3]", "parse[10]", "wait"]
    );
}

/// A store made before block runs had keys: migrated in place, its rows keyed by block name.
async fn migrated_from_block_names(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "0006" {
            std::fs::copy(&p, dir.path().join(&name)).unwrap();
        }
    }
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    sqlx::migrate::Migrator::new(dir.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO weft_runs (id, pipeline, status, trigger, variables, created_at) VALUES ('old', 'p', 'success', 'manual', '{}', 1)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO weft_block_runs (run_id, block, position, status, attempt, rows_out, output) VALUES ('old', 'load', 0, 'success', 1, 5, 'runs/old/load/1.arrow'), ('old', 'clean', 1, 'failed', 2, NULL, NULL)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let store = Store::connect(url).await.unwrap();
    let b = store.block_runs("old").await.unwrap();
    let got: Vec<(&str, &str, BlockStatus, i64, Option<i64>)> = b
        .iter()
        .map(|r| {
            (
                r.key.as_str(),
                r.block.as_str(),
                r.status,
                r.attempt,
                r.rows,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("load", "load", BlockStatus::Success, 1, Some(5)),
            ("clean", "clean", BlockStatus::Failed, 2, None)
        ]
    );
    store.close().await;
}

#[tokio::test]
async fn sqlite_store_from_before_block_run_keys_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    migrated_from_block_names(&url).await;
}

#[tokio::test]
async fn postgres_store_from_before_block_run_keys_is_migrated() {
    let (_db, url) = PgDb::create().await;
    migrated_from_block_names(&url).await;
}

/// Triggers follow the file; tokens survive updates and are kept only as hashes.
async fn triggers(store: &Store) {
    let spec = |name: &'static str, kind: &'static str, spec: &str| TriggerSpec {
        name,
        kind,
        spec: spec.to_string(),
    };
    store
        .sync_triggers(
            "etl",
            &[
                spec("nightly", "schedule", "{\"cron\":\"0 3 * * *\"}"),
                spec("hook", "api", "{}"),
            ],
            1,
        )
        .await
        .unwrap();
    store
        .sync_triggers("other", &[spec("hook", "api", "{}")], 1)
        .await
        .unwrap();
    assert!(store.set_token_hash("etl", "hook", "abc123").await.unwrap());
    assert!(!store.set_token_hash("etl", "nope", "abc123").await.unwrap());
    assert_eq!(
        store.token_hash("etl", "hook").await.unwrap().as_deref(),
        Some("abc123")
    );
    assert_eq!(store.token_hash("other", "hook").await.unwrap(), None);
    // The schedule changes and the hook stays: its token is kept.
    store
        .sync_triggers(
            "etl",
            &[
                spec("nightly", "schedule", "{\"cron\":\"0 4 * * *\"}"),
                spec("hook", "api", "{}"),
            ],
            2,
        )
        .await
        .unwrap();
    assert_eq!(
        store.token_hash("etl", "hook").await.unwrap().as_deref(),
        Some("abc123")
    );
    let all = store.triggers(None).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(
        all[1].name == "nightly" && all[1].spec.contains("0 4"),
        "{all:?}"
    );
    // Deleted from the file: deleted from the store.
    store
        .sync_triggers("etl", &[spec("nightly", "schedule", "{}")], 3)
        .await
        .unwrap();
    let etl = store.triggers(Some("etl")).await.unwrap();
    assert_eq!(
        etl.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["nightly"]
    );
    assert_eq!(store.token_hash("etl", "hook").await.unwrap(), None);
}

/// An idempotency key and its run are recorded together: a replay gets the first run, and a
/// call whose run cannot be recorded leaves the key free.
async fn idempotency(store: &Store) {
    let blocks = vec!["src".to_string()];
    let run = |id: &'static str| NewRun {
        id,
        pipeline: "hooks",
        trigger: "webhook",
        variables: "{}",
        created_at: 1,
        blocks: &blocks,
        owner: None,
    };
    assert_eq!(
        store.create_run_once(&run("h1"), "k1", 1).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .create_run_once(&run("h2"), "k1", 2)
            .await
            .unwrap()
            .as_deref(),
        Some("h1")
    );
    // Run h1 exists: recording it again fails, and takes key k2 with it.
    assert!(store.create_run_once(&run("h1"), "k2", 3).await.is_err());
    assert_eq!(
        store.create_run_once(&run("h3"), "k2", 4).await.unwrap(),
        None
    );
    let ids: Vec<String> = store
        .list_runs(Some("hooks"), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&"h1".to_string()) && ids.contains(&"h3".to_string()));
}

async fn exercise(store: &Store) {
    let blocks = ["load", "clean", "export"].map(String::from);
    store
        .create_run(&NewRun {
            id: "r1",
            pipeline: "etl",
            trigger: "manual",
            variables: r#"{"day":"2021-01-01"}"#,
            created_at: 1_000,
            blocks: &blocks,
            owner: None,
        })
        .await
        .unwrap();
    store
        .create_run(&NewRun {
            id: "r2",
            pipeline: "other",
            trigger: "manual",
            variables: "{}",
            created_at: 2_000,
            blocks: &["x".to_string()],
            owner: None,
        })
        .await
        .unwrap();
    // The same id twice is refused, and the first run is untouched.
    assert!(store
        .create_run(&NewRun {
            id: "r1",
            pipeline: "etl",
            trigger: "manual",
            variables: "{}",
            created_at: 3_000,
            blocks: &[],
            owner: None,
        })
        .await
        .is_err());

    let run = store.run("r1").await.unwrap();
    assert_eq!(run.status, RunStatus::Queued);
    assert_eq!(run.variables, r#"{"day":"2021-01-01"}"#);
    store
        .set_run_status("r1", RunStatus::Running, 1_100, None)
        .await
        .unwrap();

    store
        .block_started("r1", &BlockRef::block("load", 0), 1, 1_200)
        .await
        .unwrap();
    store
        .block_finished(
            "r1",
            "load",
            &BlockEnd {
                status: BlockStatus::Success,
                at: 1_300,
                rows: Some(42),
                bytes: Some(4096),
                output: Some("runs/r1/load/1.arrow".into()),
                error: None,
                peak_memory: Some(64 << 20),
            },
        )
        .await
        .unwrap();
    store
        .block_started("r1", &BlockRef::block("clean", 1), 1, 1_300)
        .await
        .unwrap();
    store
        .block_finished(
            "r1",
            "clean",
            &BlockEnd {
                status: BlockStatus::Retrying,
                at: 1_350,
                rows: None,
                bytes: None,
                output: None,
                error: Some("boom".into()),
                peak_memory: Some(3 << 30),
            },
        )
        .await
        .unwrap();
    store
        .block_started("r1", &BlockRef::block("clean", 1), 2, 1_400)
        .await
        .unwrap();
    store
        .block_finished(
            "r1",
            "clean",
            &BlockEnd {
                status: BlockStatus::Failed,
                at: 1_500,
                rows: None,
                bytes: None,
                output: None,
                error: Some("boom again".into()),
                peak_memory: None,
            },
        )
        .await
        .unwrap();
    store
        .skip_blocks(
            "r1",
            &[BlockRef::block("export", 2)],
            BlockStatus::UpstreamFailed,
            "upstream block \"clean\" failed",
        )
        .await
        .unwrap();
    store
        .set_run_status("r1", RunStatus::Failed, 1_600, Some("failed blocks: clean"))
        .await
        .unwrap();

    let lines: Vec<LogRecord> = (0..300)
        .map(|i| LogRecord {
            seq: i,
            block: Some("load".into()),
            attempt: Some(1),
            at: 1_200 + i,
            level: "info".into(),
            message: format!("line {i} with 'quotes' and ünïcode"),
        })
        .collect();
    store.append_logs("r1", &lines).await.unwrap();
    store
        .append_logs(
            "r1",
            &[LogRecord {
                seq: 300,
                block: Some("clean".into()),
                attempt: Some(2),
                at: 1_450,
                level: "error".into(),
                message: "boom again".into(),
            }],
        )
        .await
        .unwrap();

    let run = store.run("r1").await.unwrap();
    assert_eq!(
        (run.status, run.started_at, run.finished_at),
        (RunStatus::Failed, Some(1_100), Some(1_600))
    );
    assert_eq!(run.error.as_deref(), Some("failed blocks: clean"));

    let b = store.block_runs("r1").await.unwrap();
    let got: Vec<(&str, BlockStatus, i64)> = b
        .iter()
        .map(|b| (b.block.as_str(), b.status, b.attempt))
        .collect();
    assert_eq!(
        got,
        vec![
            ("load", BlockStatus::Success, 1),
            ("clean", BlockStatus::Failed, 2),
            ("export", BlockStatus::UpstreamFailed, 0)
        ]
    );
    assert_eq!(
        (b[0].rows, b[0].bytes, b[0].output.as_deref()),
        (Some(42), Some(4096), Some("runs/r1/load/1.arrow"))
    );
    assert_eq!(
        (b[1].started_at, b[1].finished_at, b[1].error.as_deref()),
        (Some(1_400), Some(1_500), Some("boom again"))
    );
    assert_eq!((b[0].peak_memory, b[1].peak_memory), (Some(64 << 20), None));
    // The first attempt of `clean` is kept beside its row; the latest one only in the row.
    let earlier = store.earlier_attempts("r1").await.unwrap();
    assert_eq!(
        earlier,
        vec![AttemptRecord {
            key: "clean".into(),
            attempt: 1,
            started_at: Some(1_300),
            finished_at: Some(1_350),
            status: BlockStatus::Retrying,
            error: Some("boom".into()),
            peak_memory: Some(3 << 30),
        }]
    );

    let all = store.logs("r1", None).await.unwrap();
    assert_eq!(all.len(), 301);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(all[7].message, "line 7 with 'quotes' and ünïcode");
    let clean = store.logs("r1", Some("clean")).await.unwrap();
    assert_eq!(clean.len(), 1);
    assert_eq!(clean[0].attempt, Some(2));

    let runs = store.list_runs(None, 10).await.unwrap();
    assert_eq!(
        runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec!["r2", "r1"]
    );
    let etl = store.list_runs(Some("etl"), 10).await.unwrap();
    assert_eq!(etl.len(), 1);
    assert!(matches!(
        store.run("nope").await,
        Err(StoreError::NoSuchRun(_))
    ));
}

/// Crash safety: ticks fire with their runs or not at all, orphans are adopted once, runs
/// end or reopen in one transaction, and the API's filters and log positions.
async fn recovery(store: &Store) {
    let spec = TriggerSpec {
        name: "every",
        kind: "schedule",
        spec: "{}".into(),
    };
    store.sync_triggers("tick", &[spec], 0).await.unwrap();
    let blocks = ["only".to_string()];
    let run = |id: &'static str, owner: Option<&'static str>| NewRun {
        id,
        pipeline: "tick",
        trigger: "every",
        variables: "{}",
        created_at: 5_000,
        blocks: &[],
        owner,
    };
    let t1 = NewRun {
        blocks: &blocks,
        ..run("t1", Some("serve-a"))
    };
    assert!(store
        .fire_schedule("tick", "every", None, 1_000, &[t1])
        .await
        .unwrap());
    // A second server that read the same last tick loses, and records nothing.
    let t1b = NewRun {
        blocks: &blocks,
        ..run("t1b", Some("serve-b"))
    };
    assert!(!store
        .fire_schedule("tick", "every", None, 1_000, &[t1b])
        .await
        .unwrap());
    assert!(matches!(
        store.run("t1b").await,
        Err(StoreError::NoSuchRun(_))
    ));
    // A failing insert rolls the tick back.
    let dup = NewRun {
        blocks: &blocks,
        ..run("t1", Some("serve-a"))
    };
    assert!(store
        .fire_schedule("tick", "every", Some(1_000), 2_000, &[dup])
        .await
        .is_err());
    let t = store.triggers(Some("tick")).await.unwrap();
    assert_eq!(t[0].last_tick, Some(1_000));

    store
        .register_instance(&InstanceRecord {
            id: "serve-a".into(),
            host: "h".into(),
            pid: 7,
            kind: "serve".into(),
            started_at: 0,
            heartbeat_at: 10,
        })
        .await
        .unwrap();
    assert!(store.heartbeat("serve-a", 4_000).await.unwrap());
    assert!(!store.heartbeat("serve-gone", 4_000).await.unwrap());
    store
        .block_started("t1", &BlockRef::block("only", 0), 1, 4_100)
        .await
        .unwrap();
    store
        .set_run_status("t1", RunStatus::Running, 4_100, None)
        .await
        .unwrap();
    let open = store.open_runs().await.unwrap();
    let t1 = open.iter().find(|o| o.run.id == "t1").unwrap();
    assert_eq!(t1.owner.as_deref(), Some("serve-a"));
    assert_eq!(t1.instance.as_ref().unwrap().heartbeat_at, 4_000);
    // Two adopters: one wins.
    assert!(store
        .adopt_run("t1", Some("serve-a"), "serve-b")
        .await
        .unwrap());
    assert!(!store
        .adopt_run("t1", Some("serve-a"), "serve-c")
        .await
        .unwrap());
    store
        .append_logs(
            "t1",
            &[
                LogRecord {
                    seq: 0,
                    block: Some("only".into()),
                    attempt: Some(1),
                    at: 1,
                    level: "info".into(),
                    message: "one".into(),
                },
                LogRecord {
                    seq: 1,
                    block: None,
                    attempt: None,
                    at: 2,
                    level: "info".into(),
                    message: "two".into(),
                },
            ],
        )
        .await
        .unwrap();
    assert_eq!(store.next_log_seq("t1").await.unwrap(), 2);
    assert_eq!(store.next_log_seq("nope").await.unwrap(), 0);
    let after = store.logs_after("t1", None, 0, 10).await.unwrap();
    assert_eq!(
        after.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(),
        ["two"]
    );
    assert_eq!(
        store
            .logs_after("t1", Some("only"), -1, 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // Ending an orphan fails its unfinished blocks too, once.
    assert!(store
        .abandon_run("t1", RunStatus::Failed, "its process died", 6_000)
        .await
        .unwrap());
    assert!(!store
        .abandon_run("t1", RunStatus::Failed, "again", 7_000)
        .await
        .unwrap());
    // An ended run is not started again by a late launcher.
    assert!(!store.start_run("t1", 7_000).await.unwrap());
    let b = store.block_runs("t1").await.unwrap();
    assert_eq!(
        (b[0].status, b[0].error.as_deref()),
        (BlockStatus::Failed, Some("its process died"))
    );
    // Reopened for a retry: queued again, the failed block pending with its attempts kept.
    assert_eq!(
        store.reopen_run("t1", Some("serve-b")).await.unwrap(),
        Some(vec!["only".to_string()])
    );
    assert_eq!(
        store.reopen_run("t1", None).await.unwrap(),
        None,
        "only failed runs reopen"
    );
    let r = store.run("t1").await.unwrap();
    assert_eq!(
        (r.status, r.error, r.finished_at),
        (RunStatus::Queued, None, None)
    );
    let b = store.block_runs("t1").await.unwrap();
    assert_eq!((b[0].status, b[0].attempt), (BlockStatus::Pending, 1));

    // A cancel asked of another process's run: it sees the request, and the run never starts.
    assert!(store.request_cancel("t1", 8_000).await.unwrap());
    assert_eq!(store.cancel_requests("serve-b").await.unwrap(), ["t1"]);
    assert!(store.cancel_requests("serve-a").await.unwrap().is_empty());
    assert!(!store.start_run("t1", 8_100).await.unwrap());
    store
        .create_runs(&[run("t2", None), run("t3", None)])
        .await
        .unwrap();
    store
        .set_run_status("t3", RunStatus::Success, 9_000, None)
        .await
        .unwrap();
    let filter = |status: Option<RunStatus>, before: Option<String>| RunFilter {
        pipeline: Some("tick".into()),
        status,
        trigger: Some("every".into()),
        before,
        limit: 10,
    };
    let queued = store
        .find_runs(&filter(Some(RunStatus::Queued), None))
        .await
        .unwrap();
    assert_eq!(
        queued.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["t2", "t1"]
    );
    // t1, t2 and t3 were created in the same millisecond: paging by id sees each once.
    let page = store
        .find_runs(&filter(None, Some("t2".into())))
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["t1"]
    );
    store.retire_instance("serve-a", 0).await.unwrap();
    let open = store.open_runs().await.unwrap();
    assert!(open.iter().all(|o| o.instance.is_none()));
}

#[tokio::test]
async fn sqlite_store_records_runs_blocks_and_logs() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("state.db").display()
    );
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    exercise(&store).await;
    triggers(&store).await;
    recovery(&store).await;
    idempotency(&store).await;
    children(&store).await;
    store.close().await;
    // Reopening migrates nothing twice and keeps the history.
    let again = Store::connect(&url).await.unwrap();
    assert_eq!(again.list_runs(None, 100).await.unwrap().len(), 8);
    again.close().await;
}

#[tokio::test]
async fn postgres_store_records_runs_blocks_and_logs() {
    let (db, url) = PgDb::create().await;
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    exercise(&store).await;
    triggers(&store).await;
    recovery(&store).await;
    idempotency(&store).await;
    children(&store).await;
    store.close().await;
    let again = Store::connect(&url).await.unwrap();
    assert_eq!(again.list_runs(None, 100).await.unwrap().len(), 8);
    again.close().await;
    drop(db);
}

#[tokio::test]
async fn bad_urls_are_named_without_passwords() {
    let err = Store::connect("mysql://u:pw@h/db")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("mysql://u:***@h/db") && err.contains("not supported"),
        "{err}"
    );
    let err = Store::connect("postgres://u:hunter2@127.0.0.1:1/db")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("cannot open state store") && !err.contains("hunter2"),
        "{err}"
    );
}

/// Many processes opening a new SQLite store at once (`weft run` while `weft logs` polls)
/// take turns migrating it: every one opens it, none sees a half-applied migration.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_of_a_new_sqlite_store_all_succeed() {
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("state.db").display()
        );
        let opens = (0..8).map(|_| {
            let url = url.clone();
            tokio::spawn(async move { Store::connect(&url).await })
        });
        for opened in futures::future::join_all(opens).await {
            let store = opened
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            store.close().await;
        }
    }
}
