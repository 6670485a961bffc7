//! Postgres through an io profile: bulk loads with binary `COPY` inside one transaction,
//! queries streamed back as Arrow, and SQL blocks run in the database over uploaded inputs.

mod copy;
mod rows;

use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema};
use futures::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{Column, ConnectOptions, Connection, Executor, TypeInfo};
use weft_data::Table;

use crate::error::IoError;
use crate::profile::Profile;
use crate::rt;

/// Rows per batch of query results.
const RESULT_ROWS: usize = 65_536;
/// Bytes of COPY data sent per message.
const COPY_CHUNK: usize = 4 << 20;
/// Default connect timeout when the profile sets none.
const CONNECT_SECS: u64 = 10;

/// What happens when the target table exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfExists {
    /// Load into a new table and swap it in (the old table stays until the load commits).
    Replace,
    /// Add the rows (the table is created if missing).
    Append,
    /// Refuse to touch an existing table.
    Fail,
}

impl IfExists {
    /// Parse `replace`, `append` or `fail`.
    ///
    /// # Errors
    /// [`IoError::Invalid`] for anything else.
    pub fn parse(s: Option<&str>) -> Result<IfExists, IoError> {
        match s {
            None | Some("replace") => Ok(IfExists::Replace),
            Some("append") => Ok(IfExists::Append),
            Some("fail") => Ok(IfExists::Fail),
            Some(other) => Err(IoError::Invalid(format!(
                "if_exists: `{other}` is not one of replace, append, fail"
            ))),
        }
    }
}

/// `host:port/db`, for messages (never the password).
fn describe(p: &Profile) -> String {
    format!(
        "{}:{}/{}",
        p.get("POSTGRES_HOST").unwrap_or_default(),
        p.get("POSTGRES_PORT").unwrap_or_else(|| "5432".into()),
        p.get("POSTGRES_DBNAME").unwrap_or_default()
    )
}

fn options(p: &Profile) -> Result<PgConnectOptions, IoError> {
    let host = p.require("POSTGRES_HOST", "Postgres")?;
    let port = match p.get("POSTGRES_PORT") {
        Some(s) => s.parse::<u16>().map_err(|_| {
            IoError::Invalid(format!(
                "io profile \"{}\": POSTGRES_PORT `{s}` is not a port number",
                p.name
            ))
        })?,
        None => 5432,
    };
    let mut o = PgConnectOptions::new_without_pgpass()
        .host(&host)
        .port(port)
        .application_name("weft")
        // Backslashes in '…' strings are plain characters whatever the server's default, as
        // SQL templates assume when they quote values.
        .options([("standard_conforming_strings", "on")])
        .log_statements(tracing::log::LevelFilter::Trace);
    if let Some(u) = p.get("POSTGRES_USER") {
        o = o.username(&u);
    }
    if let Some(pw) = p.get("POSTGRES_PASSWORD") {
        o = o.password(&pw);
    }
    if let Some(db) = p.get("POSTGRES_DBNAME") {
        o = o.database(&db);
    }
    if let Some(mode) = p.get("POSTGRES_SSLMODE") {
        o = o.ssl_mode(mode.parse::<PgSslMode>().map_err(|_| {
            IoError::Invalid(format!(
                "io profile \"{}\": POSTGRES_SSLMODE `{mode}` is not one of disable, allow, prefer, require, verify-ca, verify-full",
                p.name
            ))
        })?);
    }
    Ok(o)
}

async fn connect_async(p: &Profile) -> Result<PgConnection, IoError> {
    let mut opts = options(p)?;
    // The server stops a statement still running at the block's deadline.
    if let Some(deadline) = crate::limits::current().and_then(|m| m.deadline()) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let ms = left.as_millis().clamp(1, i32::MAX as u128);
        opts = opts.options([("statement_timeout", ms.to_string())]);
    }
    let secs = p
        .get("POSTGRES_CONNECT_TIMEOUT")
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(CONNECT_SECS);
    let failed = |why: String| {
        IoError::External(format!(
            "io profile \"{}\": cannot connect to Postgres at {}: {why}",
            p.name,
            describe(p)
        ))
    };
    match tokio::time::timeout(Duration::from_secs(secs), opts.connect()).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(failed(crate::read::chain(&e))),
        Err(_) => Err(failed(format!("no answer within {secs}s"))),
    }
}

/// Open a connection with the profile's settings (blocking).
///
/// # Errors
/// [`IoError::Invalid`] when the profile lacks POSTGRES_HOST; [`IoError::External`] when the
/// server cannot be reached or refuses the login.
pub(crate) fn connect(p: &Profile) -> Result<(), IoError> {
    rt::run(async {
        let c = connect_async(p).await?;
        let _ = c.close().await;
        Ok(())
    })
}

/// About the bytes a fetched row takes in memory.
fn row_bytes(row: &sqlx::postgres::PgRow) -> u64 {
    use sqlx::Row;
    (0..row.len())
        .map(|i| {
            row.try_get_raw(i)
                .ok()
                .and_then(|v| v.as_bytes().ok().map(|b| b.len() as u64))
                .unwrap_or(0)
                + 8
        })
        .sum()
}

/// A quoted identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `schema.table` (schema defaulting to the profile's POSTGRES_SCHEMA, else `public`) as
/// `(schema, table)`.
pub(crate) fn split_table(p: &Profile, target: &str) -> Result<(String, String), IoError> {
    let (schema, table) = match target.split_once('.') {
        Some((s, t)) => (s.to_string(), t.to_string()),
        None => (
            p.get("POSTGRES_SCHEMA").unwrap_or_else(|| "public".into()),
            target.to_string(),
        ),
    };
    if schema.is_empty() || table.is_empty() || table.contains('.') {
        return Err(IoError::Invalid(format!(
            "`{target}` is not a table name; write `schema.table` or `table`"
        )));
    }
    Ok((schema, table))
}

/// Column definitions and the table cast to the types they take.
fn prepare(table: &Table) -> Result<(String, Vec<RecordBatch>), IoError> {
    let mut defs = Vec::new();
    let mut fields = Vec::new();
    for f in table.schema().fields() {
        let (pg, cast) = copy::pg_type(f.name(), f.data_type())?;
        defs.push(format!("{} {pg}", ident(f.name())));
        fields.push(Field::new(f.name(), cast, true));
    }
    let cast = table
        .cast_to(std::sync::Arc::new(Schema::new(fields)))
        .map_err(|e| IoError::Data(e.to_string()))?;
    Ok((defs.join(", "), cast.batches().to_vec()))
}

/// `batches` with decimal and float columns cast to what the existing table's columns are
/// (`double precision` or `numeric`), so an append to a table created otherwise loads.
async fn fit_existing(
    conn: &mut PgConnection,
    schema: &str,
    name: &str,
    batches: Vec<RecordBatch>,
) -> Result<Vec<RecordBatch>, String> {
    let Some(first) = batches.first() else {
        return Ok(batches);
    };
    let existing: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
    )
    .bind(schema)
    .bind(name)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| e.to_string())?;
    let fields: Vec<Field> = first
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let theirs = existing
                .iter()
                .find(|(n, _)| n == f.name())
                .map(|(_, t)| t.as_str());
            let t = match (f.data_type(), theirs) {
                (DataType::Decimal128(..), Some("double precision")) => DataType::Float64,
                (DataType::Float64, Some("numeric")) => DataType::Decimal128(38, 9),
                (t, _) => t.clone(),
            };
            Field::new(f.name(), t, true)
        })
        .collect();
    let target = std::sync::Arc::new(Schema::new(fields));
    if target.fields() == first.schema().fields() {
        return Ok(batches);
    }
    batches
        .iter()
        .map(|b| {
            let columns = b
                .columns()
                .iter()
                .zip(target.fields())
                .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
                .collect::<Result<Vec<_>, _>>()?;
            RecordBatch::try_new(target.clone(), columns)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

/// Create `schema` if it is missing, outside the load's transaction. Only a missing schema
/// is created (CREATE SCHEMA needs the database's CREATE privilege even with IF NOT EXISTS),
/// and a concurrent load creating it first is not an error.
async fn ensure_schema(conn: &mut PgConnection, schema: &str) -> Result<(), sqlx::Error> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(schema)
            .fetch_one(&mut *conn)
            .await?;
    if exists {
        return Ok(());
    }
    match conn
        .execute(format!("CREATE SCHEMA IF NOT EXISTS {}", ident(schema)).as_str())
        .await
    {
        Ok(_) => Ok(()),
        // unique_violation / duplicate_schema: another load won the race.
        Err(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("23505" | "42P06")) => {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// COPY every row of `batches` into `qualified` (binary format), in the connection's
/// current transaction.
async fn copy_in(
    conn: &mut PgConnection,
    qualified: &str,
    batches: &[RecordBatch],
) -> Result<u64, IoError> {
    if batches.iter().all(|b| b.num_rows() == 0) {
        return Ok(0);
    }
    let columns: Vec<String> = batches
        .first()
        .map(|b| {
            b.schema()
                .fields()
                .iter()
                .map(|f| ident(f.name()))
                .collect()
        })
        .unwrap_or_default();
    let statement = format!(
        "COPY {qualified} ({}) FROM STDIN WITH (FORMAT binary)",
        columns.join(", ")
    );
    let mut sink = conn
        .copy_in_raw(&statement)
        .await
        .map_err(|e| IoError::External(format!("COPY into {qualified}: {e}")))?;
    // Rows are encoded on a thread of their own while the database takes the chunks before:
    // the two run side by side instead of taking turns.
    let (chunks, mut ready) = tokio::sync::mpsc::channel::<Result<Vec<u8>, IoError>>(2);
    let batches = batches.to_vec();
    let encoder = tokio::task::spawn_blocking(move || encode_chunks(&batches, &chunks));
    while let Some(chunk) = ready.recv().await {
        let c = match chunk {
            Ok(c) => c,
            Err(e) => {
                let _ = sink.abort(e.to_string()).await;
                return Err(e);
            }
        };
        sink.send(c)
            .await
            .map_err(|e| IoError::External(format!("COPY into {qualified}: {e}")))?;
    }
    if let Err(e) = encoder.await {
        let _ = sink.abort(e.to_string()).await;
        return Err(IoError::External(format!("COPY into {qualified}: {e}")));
    }
    sink.finish()
        .await
        .map_err(|e| IoError::External(format!("COPY into {qualified}: {e}")))
}

/// Encode `batches` as binary COPY data (header to trailer) in chunks of about
/// [`COPY_CHUNK`] bytes, handed to `out`; an encoding error is handed on and ends it.
fn encode_chunks(
    batches: &[RecordBatch],
    out: &tokio::sync::mpsc::Sender<Result<Vec<u8>, IoError>>,
) {
    let mut buf = Vec::with_capacity(COPY_CHUNK + (1 << 16));
    buf.extend_from_slice(copy::HEADER);
    for b in batches {
        // Encode in slices so one message stays near COPY_CHUNK bytes.
        let step = 8192.min(b.num_rows().max(1));
        let mut at = 0;
        while at < b.num_rows() {
            let n = step.min(b.num_rows() - at);
            if let Err(e) = copy::encode(&b.slice(at, n), &mut buf) {
                let _ = out.blocking_send(Err(e));
                return;
            }
            at += n;
            if buf.len() >= COPY_CHUNK {
                let full = std::mem::replace(&mut buf, Vec::with_capacity(COPY_CHUNK + (1 << 16)));
                if out.blocking_send(Ok(full)).is_err() {
                    return; // the load stopped
                }
            }
        }
    }
    buf.extend_from_slice(copy::TRAILER);
    let _ = out.blocking_send(Ok(buf));
}

/// Load `table` into `schema.table` of the profile's database, in one transaction: a failed
/// load leaves the database as it was. Returns the rows loaded.
///
/// # Errors
/// [`IoError::External`] naming the table for database failures; [`IoError::Data`] for a
/// column Postgres cannot store.
pub fn load(p: &Profile, target: &str, table: &Table, if_exists: IfExists) -> Result<u64, IoError> {
    let (schema, name) = split_table(p, target)?;
    let (defs, batches) = prepare(table)?;
    let qualified = format!("{}.{}", ident(&schema), ident(&name));
    let db = |e: sqlx::Error| {
        IoError::External(format!(
            "Postgres {} table {schema}.{name}: {e}",
            describe(p)
        ))
    };
    rt::run(async {
        let mut conn = connect_async(p).await?;
        ensure_schema(&mut conn, &schema).await.map_err(db)?;
        let mut tx = conn.begin().await.map_err(db)?;
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2)",
        )
        .bind(&schema)
        .bind(&name)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let rows = match if_exists {
            IfExists::Fail if exists => {
                return Err(IoError::Invalid(format!(
                    "table {schema}.{name} already exists and if_exists is `fail`; use `replace` or `append`"
                )))
            }
            IfExists::Append if exists => {
                let batches = fit_existing(&mut tx, &schema, &name, batches).await.map_err(|e| {
                    IoError::Data(format!("appending to {schema}.{name}: {e}"))
                })?;
                copy_in(&mut tx, &qualified, &batches).await?
            }
            _ if streams(&batches) > 1 => {
                // Big loads: several COPY streams into a staging table, swapped in by one
                // short transaction (see `copy_parallel`).
                tx.rollback().await.map_err(db)?;
                let rows = copy_parallel(p, &mut conn, &schema, &name, &defs, &batches, exists).await?;
                let _ = conn.close().await;
                return Ok(rows);
            }
            IfExists::Replace if exists => {
                let staging = format!("{name}__weft_load");
                let staged = format!("{}.{}", ident(&schema), ident(&staging));
                (&mut *tx).execute(format!("DROP TABLE IF EXISTS {staged}").as_str()).await.map_err(db)?;
                (&mut *tx).execute(format!("CREATE TABLE {staged} ({defs})").as_str()).await.map_err(db)?;
                let rows = copy_in(&mut tx, &staged, &batches).await?;
                (&mut *tx).execute(format!("DROP TABLE {qualified}").as_str()).await.map_err(db)?;
                (&mut *tx).execute(format!("ALTER TABLE {staged} RENAME TO {}", ident(&name)).as_str())
                    .await
                    .map_err(db)?;
                rows
            }
            _ => {
                (&mut *tx).execute(format!("CREATE TABLE {qualified} ({defs})").as_str()).await.map_err(db)?;
                copy_in(&mut tx, &qualified, &batches).await?
            }
        };
        tx.commit().await.map_err(db)?;
        let _ = conn.close().await;
        Ok(rows)
    })
}

/// Rows from which a load is split over several COPY streams.
const PARALLEL_ROWS: usize = 200_000;
/// Most COPY streams one load opens.
const MAX_STREAMS: usize = 4;

/// How many COPY streams a load of `batches` uses: one per core (at most [`MAX_STREAMS`])
/// for [`PARALLEL_ROWS`] rows or more, else one.
fn streams(batches: &[RecordBatch]) -> usize {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if rows < PARALLEL_ROWS {
        return 1;
    }
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(2, MAX_STREAMS)
}

/// `batches` cut into `n` runs of about equal rows (slices: nothing is copied).
fn split(batches: &[RecordBatch], n: usize) -> Vec<Vec<RecordBatch>> {
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let per = total.div_ceil(n.max(1)).max(1);
    let mut parts = vec![Vec::new()];
    let mut room = per;
    for b in batches {
        let mut at = 0;
        while at < b.num_rows() {
            if room == 0 {
                parts.push(Vec::new());
                room = per;
            }
            let take = room.min(b.num_rows() - at);
            if let Some(last) = parts.last_mut() {
                last.push(b.slice(at, take));
            }
            at += take;
            room -= take;
        }
    }
    parts
}

/// Load a new or replaced table with several COPY streams at once: the database ingests on
/// as many backends as there are streams. The rows go into a staging table of a name of its
/// own, committed per stream; one short transaction then drops the old table (if any) and
/// renames the staging table into place, so readers see the old table or the whole new one,
/// never part of it. A failed load drops its staging table.
async fn copy_parallel(
    p: &Profile,
    conn: &mut PgConnection,
    schema: &str,
    name: &str,
    defs: &str,
    batches: &[RecordBatch],
    exists: bool,
) -> Result<u64, IoError> {
    let db = |e: sqlx::Error| {
        IoError::External(format!(
            "Postgres {} table {schema}.{name}: {e}",
            describe(p)
        ))
    };
    let staging = format!("{name}__weft_{:08x}", rand::random::<u32>());
    let staged = format!("{}.{}", ident(schema), ident(&staging));
    conn.execute(format!("CREATE TABLE {staged} ({defs})").as_str())
        .await
        .map_err(db)?;
    let loaded = async {
        let copies = split(batches, streams(batches)).into_iter().map(|part| {
            let staged = staged.clone();
            async move {
                let mut c = connect_async(p).await?;
                let mut tx = c.begin().await.map_err(db)?;
                let n = copy_in(&mut tx, &staged, &part).await?;
                tx.commit().await.map_err(db)?;
                let _ = c.close().await;
                Ok::<u64, IoError>(n)
            }
        });
        let rows: u64 = futures::future::try_join_all(copies)
            .await?
            .into_iter()
            .sum();
        let mut tx = conn.begin().await.map_err(db)?;
        if exists {
            let qualified = format!("{}.{}", ident(schema), ident(name));
            (&mut *tx)
                .execute(format!("DROP TABLE {qualified}").as_str())
                .await
                .map_err(db)?;
        }
        (&mut *tx)
            .execute(format!("ALTER TABLE {staged} RENAME TO {}", ident(name)).as_str())
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok::<u64, IoError>(rows)
    }
    .await;
    if loaded.is_err() {
        let _ = conn
            .execute(format!("DROP TABLE IF EXISTS {staged}").as_str())
            .await;
    }
    loaded
}

/// Run `sql` in the profile's database and return its rows. `inputs` are uploaded first as
/// temporary tables named after them, so the query can join them with the database's own.
/// With `read_only`, the query runs in a read-only session: it may read and write only those
/// temporary tables (give the profile a read-only role too: that is the database's own lock).
///
/// # Errors
/// [`IoError::Invalid`] with the database's message for a bad query (a write in a read-only
/// session among them); [`IoError::External`] when the database cannot be reached.
pub fn query(
    p: &Profile,
    sql: &str,
    inputs: &[(String, Table)],
    read_only: bool,
) -> Result<Table, IoError> {
    rt::run(async {
        let mut conn = connect_async(p).await?;
        for (name, t) in inputs {
            let (defs, batches) = prepare(t)?;
            let temp = ident(name);
            let up = |e: sqlx::Error| IoError::External(format!("uploading input \"{name}\": {e}"));
            (&mut conn)
                .execute(format!("CREATE TEMP TABLE {temp} ({defs})").as_str())
                .await
                .map_err(up)?;
            if t.num_rows() > 0 {
                copy_in(&mut conn, &temp, &batches).await?;
            }
        }
        if read_only {
            (&mut conn)
                .execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                .await
                .map_err(|e| IoError::External(format!("Postgres {}: {e}", describe(p))))?;
        }
        let bad = |e: sqlx::Error| {
            match e {
            sqlx::Error::Database(d) if read_only && d.code().as_deref() == Some("25006") => {
                IoError::Denied(format!(
                    "Postgres: {}: queries through io profile \"{}\" are read-only unless the block is granted its whole database (`write: [\"postgres://{}/\"]`)",
                    d.message(),
                    p.name,
                    p.name
                ))
            }
            sqlx::Error::Database(d) => IoError::Invalid(format!("Postgres: {}", d.message())),
            other => IoError::External(format!("Postgres {}: {other}", describe(p))),
        }
        };
        let described = (&mut conn).describe(sql).await.map_err(bad)?;
        let columns: Vec<(String, String)> = described
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), c.type_info().name().to_string()))
            .collect();
        let mut batcher = rows::Batcher::new(&columns)?;
        let mut batches = Vec::new();
        {
            let mut stream = sqlx::query(sql).fetch(&mut conn);
            while let Some(row) = stream.try_next().await.map_err(bad)? {
                // Each row is charged as it arrives: one wide row can be big.
                crate::limits::hold(row_bytes(&row))?;
                batcher.push(&row)?;
                if batcher.len() >= RESULT_ROWS {
                    batches.push(batcher.finish()?);
                }
            }
        }
        if batcher.len() > 0 {
            batches.push(batcher.finish()?);
        }
        let _ = conn.close().await;
        Table::new(batcher.schema(), batches).map_err(|e| IoError::Data(e.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Int64Array};

    use super::*;

    fn batch(from: i64, n: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(Int64Array::from_iter_values(from..from + n))],
        )
        .unwrap()
    }

    #[test]
    fn a_load_splits_into_even_runs_that_keep_every_row_once_in_order() {
        // (batch sizes, streams) → rows per part
        let cases: &[(&[i64], usize, &[usize])] = &[
            (&[10], 2, &[5, 5]),
            (&[7, 3], 2, &[5, 5]),
            (&[3, 3, 3], 2, &[5, 4]),
            (&[1], 4, &[1]),
            (&[100, 1], 4, &[26, 26, 26, 23]),
            (&[0, 5], 2, &[3, 2]),
        ];
        for (sizes, n, want) in cases {
            let mut at = 0;
            let batches: Vec<RecordBatch> = sizes
                .iter()
                .map(|s| {
                    let b = batch(at, *s);
                    at += s;
                    b
                })
                .collect();
            let parts = split(&batches, *n);
            let rows: Vec<usize> = parts
                .iter()
                .map(|p| p.iter().map(RecordBatch::num_rows).sum())
                .collect();
            assert_eq!(&rows, want, "{sizes:?} over {n}");
            let ids: Vec<i64> = parts
                .iter()
                .flatten()
                .flat_map(|b| {
                    let a = b
                        .column(0)
                        .as_any()
                        .downcast_ref::<Int64Array>()
                        .unwrap()
                        .clone();
                    (0..a.len()).map(move |i| a.value(i))
                })
                .collect();
            assert_eq!(ids, (0..at).collect::<Vec<_>>(), "{sizes:?} over {n}");
        }
    }
}
