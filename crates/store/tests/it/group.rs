//! Block-run transitions committed in groups: whatever ends up in one batch (a start and its
//! end, a retry's several attempts, ends of runs started in an earlier batch), each block run
//! is read back as its last transition left it.

use weft_store::*;

use crate::pg::PgDb;

const CHILDREN: usize = 300;

fn end(status: BlockStatus, at: i64, output: Option<&str>, error: Option<&str>) -> BlockEnd {
    BlockEnd {
        status,
        at,
        rows: output.map(|_| 5),
        bytes: output.map(|_| 64),
        output: output.map(str::to_string),
        error: error.map(str::to_string),
        peak_memory: Some(at * 1000),
    }
}

/// One child's life: a failed attempt, then a successful one. Run for many children at
/// once, their transitions share batches: a start with its end, one child's end with
/// another's start.
async fn child(store: &Store, i: usize) {
    let key = format!("each[{i}]");
    let label = format!("row-{i}");
    let b = BlockRef {
        key: &key,
        block: "each",
        position: 1,
        label: Some(&label),
    };
    store.block_started("g", &b, 1, 100).await.unwrap();
    let retry = end(BlockStatus::Retrying, 110, None, Some("boom"));
    let last = end(BlockStatus::Success, 130, Some(&format!("out/{i}")), None);
    store.block_finished("g", &key, &retry).await.unwrap();
    store.block_started("g", &b, 2, 120).await.unwrap();
    store.block_finished("g", &key, &last).await.unwrap();
}

async fn grouped(store: &Store) {
    store
        .create_run(&NewRun {
            id: "g",
            pipeline: "fan",
            trigger: "manual",
            variables: "{}",
            created_at: 1,
            blocks: &["ids".into(), "each".into()],
            owner: None,
        })
        .await
        .unwrap();
    // A block run whose second attempt is still running keeps the first one's output.
    let ids = BlockRef::block("ids", 0);
    store.block_started("g", &ids, 1, 10).await.unwrap();
    let done = end(BlockStatus::Success, 20, Some("out/ids"), None);
    store.block_finished("g", "ids", &done).await.unwrap();
    store.block_started("g", &ids, 2, 30).await.unwrap();

    futures::future::join_all((0..CHILDREN).map(|i| child(store, i))).await;

    let runs = store.block_runs("g").await.unwrap();
    let ids = runs.iter().find(|r| r.key == "ids").unwrap();
    assert_eq!(
        (ids.status, ids.attempt, ids.started_at, ids.finished_at),
        (BlockStatus::Running, 2, Some(30), None)
    );
    assert_eq!(
        (ids.output.as_deref(), ids.rows, ids.first_at),
        (Some("out/ids"), Some(5), Some(10))
    );
    let children: Vec<&BlockRunRecord> = runs.iter().filter(|r| r.block == "each").collect();
    assert_eq!(
        children.len(),
        CHILDREN + 1,
        "the block's own row and each child"
    );
    for i in 0..CHILDREN {
        let key = format!("each[{i}]");
        let (label, output) = (format!("row-{i}"), format!("out/{i}"));
        let c = runs.iter().find(|r| r.key == key).unwrap();
        let got = (
            c.status,
            c.attempt,
            c.label.as_deref(),
            c.started_at,
            c.finished_at,
            c.first_at,
            c.rows,
            c.output.as_deref(),
            c.error.as_deref(),
        );
        let want = (
            BlockStatus::Success,
            2,
            Some(label.as_str()),
            Some(120),
            Some(130),
            Some(100),
            Some(5),
            Some(output.as_str()),
            None,
        );
        assert_eq!(got, want, "{key}");
        assert_eq!(c.peak_memory, Some(130_000), "{key}");
    }
    // Each child's failed first attempt is kept, whether its start shared its batch or not;
    // a success is not (`ids`'s first attempt).
    let earlier = store.earlier_attempts("g").await.unwrap();
    assert_eq!(earlier.len(), CHILDREN, "{earlier:?}");
    for a in &earlier {
        let got = (
            a.attempt,
            a.started_at,
            a.finished_at,
            a.status,
            a.error.as_deref(),
            a.peak_memory,
        );
        let want = (
            1,
            Some(100),
            Some(110),
            BlockStatus::Retrying,
            Some("boom"),
            Some(110_000),
        );
        assert_eq!(got, want, "{}", a.key);
    }
}

#[tokio::test]
async fn sqlite_group_commits_leave_each_block_run_as_last_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("state.db").display()
    );
    let store = Store::connect(&url).await.unwrap();
    grouped(&store).await;
    store.close().await;
}

#[tokio::test]
async fn postgres_group_commits_leave_each_block_run_as_last_recorded() {
    let (db, url) = PgDb::create().await;
    let store = Store::connect(&url).await.unwrap();
    grouped(&store).await;
    store.close().await;
    drop(db);
}
