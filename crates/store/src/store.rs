//! [`Store`]: the run history, in SQLite (embedded default) or Postgres (shared, scale-out),
//! through one set of portable queries.

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

use crate::error::{redact, Context, StoreError};
use crate::model::*;

/// Database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A Postgres database.
    Postgres,
}

/// Handle to the state store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    pub(crate) changes: crate::changes::Changes,
    /// SQLite takes one writer at a time: this process's writers take turns here rather than
    /// in SQLite's busy handler, which sleeps milliseconds between tries.
    writes: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Block-run transitions, committed in groups.
    pub(crate) group: crate::group::Group,
}

/// A run to create, with its blocks in pipeline order.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    /// Run id.
    pub id: &'a str,
    /// Pipeline name.
    pub pipeline: &'a str,
    /// What started it.
    pub trigger: &'a str,
    /// Variables as JSON text.
    pub variables: &'a str,
    /// Creation time, Unix ms.
    pub created_at: i64,
    /// Block names in topological order.
    pub blocks: &'a [String],
    /// The instance driving it (see [`Store::register_instance`]), if any.
    pub owner: Option<&'a str>,
}

/// Attempts at migrating a database another process is migrating too.
const MIGRATE_RETRIES: u64 = 40;

fn is_busy(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("locked") || m.contains("busy")
}

/// Longest wait for another process to finish migrating the same SQLite file.
const MIGRATION_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// An exclusive lock on `<db>.lock`, held while migrating; released when dropped. Waits
/// without blocking the runtime.
async fn migration_lock(db: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(std::path::PathBuf::from(name))?;
    let start = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < MIGRATION_WAIT => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(std::io::Error::other(format!(
                    "another process has been migrating {} for over {}s",
                    db.display(),
                    MIGRATION_WAIT.as_secs()
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

impl Store {
    /// Open (creating if needed) the store at `url` and bring its schema up to date.
    ///
    /// # Errors
    /// [`StoreError::UnsupportedUrl`] or [`StoreError::Connect`] naming the URL (password hidden).
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let shown = redact(url);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl { url: shown });
        };
        let fail = |e: &dyn std::fmt::Display| StoreError::Connect {
            url: shown.clone(),
            reason: e.to_string(),
        };
        let mut sqlite_file = None;
        if backend == Backend::Sqlite {
            // A new project has no `.weft/` yet: the database file's folder is created.
            let path = url
                .trim_start_matches("sqlite:")
                .trim_start_matches("//")
                .split('?')
                .next()
                .unwrap_or("");
            if let Some(dir) = std::path::Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
            }
            if !path.is_empty() && !path.starts_with(':') {
                sqlite_file = Some(std::path::PathBuf::from(path));
            }
        }
        let options = AnyConnectOptions::from_str(url).map_err(|e| fail(&e))?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            // An unreachable store fails the command quickly instead of hanging.
            .acquire_timeout(std::time::Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| fail(&e))?;
        // Two processes opening a new SQLite database at once (`weft run` and `weft logs`,
        // say) would both apply the same migration: they take turns on a lock file beside
        // it (Postgres migrations take an advisory lock of their own). One that still sees
        // "database is locked" (another process writing) tries again.
        let _turn = match &sqlite_file {
            Some(db) => Some(migration_lock(db).await.map_err(|e| fail(&e))?),
            None => None,
        };
        let mut attempt = 0;
        loop {
            match sqlx::migrate!("./migrations").run(&pool).await {
                Ok(()) => break,
                Err(e) if attempt < MIGRATE_RETRIES && is_busy(&e.to_string()) => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                }
                Err(e) => return Err(fail(&e)),
            }
        }
        let changes = crate::changes::Changes::new();
        let writes: std::sync::Arc<tokio::sync::Mutex<()>> = Default::default();
        let group = crate::group::Group::start(
            pool.clone(),
            (backend == Backend::Sqlite).then(|| writes.clone()),
            changes.clone(),
        );
        Ok(Store {
            pool,
            backend,
            changes,
            writes,
            group,
        })
    }

    /// Follow every run's changes made in this process (see [`crate::AllRuns`]).
    pub fn watch_all(&self) -> crate::AllRuns {
        self.changes.watch_all()
    }

    /// Follow run `id`'s changes made in this process (see [`crate::RunWatch`]).
    pub fn watch(&self, id: &str) -> crate::RunWatch {
        self.changes.watch(id)
    }

    /// This process's turn to write (SQLite; Postgres takes writers at once).
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.writes.lock().await),
            Backend::Postgres => None,
        }
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Record a new queued run and its pending blocks, atomically.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn create_run(&self, run: &NewRun<'_>) -> Result<(), StoreError> {
        let action = || format!("create run {}", run.id);
        let mut tx = self.pool.begin().await.during(action)?;
        insert_run(&mut tx, run).await.during(action)?;
        tx.commit().await.during(action)
    }

    /// Record many queued runs in one transaction: all of them or none.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn create_runs(&self, runs: &[NewRun<'_>]) -> Result<(), StoreError> {
        let action = || format!("create {} runs", runs.len());
        let mut tx = self.pool.begin().await.during(action)?;
        for run in runs {
            insert_run(&mut tx, run).await.during(action)?;
        }
        tx.commit().await.during(action)
    }

    /// Mark a queued (or interrupted) run running at `at`; false, changing nothing, when the
    /// run has ended meanwhile or someone asked to cancel it.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn start_run(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE weft_runs SET status = 'running', started_at = COALESCE(started_at, $2), finished_at = NULL, error = NULL WHERE id = $1 AND status IN ('queued', 'running') AND cancel_requested IS NULL",
        )
        .bind(id)
        .bind(at)
        .execute(&self.pool)
        .await
        .during(|| format!("start run {id}"))?;
        self.changes.announce(id);
        Ok(done.rows_affected() == 1)
    }

    /// Set a run's status; `at` becomes its start time (running) or end time (final states).
    /// A run that has ended keeps its status: the first end recorded wins.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn set_run_status(
        &self,
        id: &str,
        status: RunStatus,
        at: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.group.flush().await;
        let _turn = self.write_turn().await;
        let sql = match status {
            RunStatus::Running => {
                "UPDATE weft_runs SET status = $1, started_at = COALESCE(started_at, $2), finished_at = NULL, error = $3 WHERE id = $4 AND status IN ('queued', 'running')"
            }
            _ => "UPDATE weft_runs SET status = $1, finished_at = $2, error = $3 WHERE id = $4 AND status IN ('queued', 'running')",
        };
        sqlx::query(sql)
            .bind(status.as_str())
            .bind(at)
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await
            .during(|| format!("set run {id} {status}"))?;
        self.changes.announce(id);
        Ok(())
    }

    /// Append log lines of a run, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn append_logs(&self, run: &str, lines: &[LogRecord]) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        if lines.is_empty() {
            return Ok(());
        }
        let action = || format!("append logs of run {run}");
        let mut tx = self.pool.begin().await.during(action)?;
        for l in lines {
            sqlx::query(
                "INSERT INTO weft_logs (run_id, seq, block, attempt, at, level, message) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(run)
            .bind(l.seq)
            .bind(l.block.as_deref())
            .bind(l.attempt)
            .bind(l.at)
            .bind(l.level.as_str())
            .bind(l.message.as_str())
            .execute(&mut *tx)
            .await
            .during(action)?;
        }
        tx.commit().await.during(action)?;
        self.changes.announce(run);
        Ok(())
    }

    /// Runs, newest first, optionally of one pipeline.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn list_runs(
        &self,
        pipeline: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RunRecord>, StoreError> {
        self.find_runs(&crate::RunFilter {
            pipeline: pipeline.map(str::to_string),
            limit,
            ..Default::default()
        })
        .await
    }

    /// One run by id.
    ///
    /// # Errors
    /// [`StoreError::NoSuchRun`] when it does not exist.
    pub async fn run(&self, id: &str) -> Result<RunRecord, StoreError> {
        let row = sqlx::query(&format!("{RUN_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .during(|| format!("read run {id}"))?
            .ok_or_else(|| StoreError::NoSuchRun(id.to_string()))?;
        run_record(&row)
    }

    /// Log lines of a run in order, optionally of one block.
    ///
    /// # Errors
    /// [`StoreError::Query`] when the database refuses.
    pub async fn logs(&self, run: &str, block: Option<&str>) -> Result<Vec<LogRecord>, StoreError> {
        let base =
            "SELECT seq, block, attempt, at, level, message FROM weft_logs WHERE run_id = $1";
        let rows = match block {
            Some(b) => {
                sqlx::query(&format!("{base} AND block = $2 ORDER BY seq"))
                    .bind(run)
                    .bind(b)
                    .fetch_all(&self.pool)
                    .await
            }
            None => {
                sqlx::query(&format!("{base} ORDER BY seq"))
                    .bind(run)
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .during(|| format!("read logs of run {run}"))?;
        rows.iter()
            .map(|r| {
                Ok(LogRecord {
                    seq: get(r, "seq")?,
                    block: get(r, "block")?,
                    attempt: get(r, "attempt")?,
                    at: get(r, "at")?,
                    level: get(r, "level")?,
                    message: get(r, "message")?,
                })
            })
            .collect()
    }

    /// Close the pool, waiting for writes in flight.
    pub async fn close(&self) {
        self.group.release().await;
        self.pool.close().await;
    }
}

/// Insert a queued run and its pending blocks within `tx`.
pub(crate) async fn insert_run(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    run: &NewRun<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO weft_runs (id, pipeline, status, trigger, variables, created_at, owner) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(run.id)
    .bind(run.pipeline)
    .bind(RunStatus::Queued.as_str())
    .bind(run.trigger)
    .bind(run.variables)
    .bind(run.created_at)
    .bind(run.owner)
    .execute(&mut **tx)
    .await?;
    for (i, block) in run.blocks.iter().enumerate() {
        sqlx::query(
            "INSERT INTO weft_block_runs (run_id, run_key, block, position, status, attempt) VALUES ($1, $2, $2, $3, $4, 0)",
        )
        .bind(run.id)
        .bind(block.as_str())
        .bind(i as i64)
        .bind(BlockStatus::Pending.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(crate) const RUN_COLUMNS: &str =
    "SELECT id, pipeline, status, trigger, variables, created_at, started_at, finished_at, error FROM weft_runs";

pub(crate) fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column)
        .during(|| format!("read column {column}"))
}

pub(crate) fn run_record(r: &AnyRow) -> Result<RunRecord, StoreError> {
    let status: String = get(r, "status")?;
    Ok(RunRecord {
        id: get(r, "id")?,
        pipeline: get(r, "pipeline")?,
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
        trigger: get(r, "trigger")?,
        variables: get(r, "variables")?,
        created_at: get(r, "created_at")?,
        started_at: get(r, "started_at")?,
        finished_at: get(r, "finished_at")?,
        error: get(r, "error")?,
    })
}
