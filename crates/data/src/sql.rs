//! The host's query engine: SQL over [`Table`]s with DataFusion, used by SQL blocks and by
//! every block's `compute.sql` (the Python SDK's dataframe methods compile to it).
//!
//! The engine is a read-only query engine over the tables it is handed, nothing more: one
//! `SELECT`/`WITH`/`VALUES` query per call, no DDL, DML, `COPY` or `SET`, no external tables,
//! no file paths as tables, no object stores and no spilling to disk. Each query runs within
//! [`QueryLimits`]: a memory pool the size of the block's budget (its result counts too), and
//! the block's deadline and cancel flag, which stop it mid-flight.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::object_store::ObjectStoreRegistry;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::{DFParser, Statement};
use futures::StreamExt;

use crate::error::DataError;
use crate::table::Table;

/// Threads of the engine's own Tokio runtime (it runs beside, not inside, the executor's).
const ENGINE_THREADS: usize = 2;
/// How often a running query looks at its deadline and cancel flag.
const WATCH_EVERY: Duration = Duration::from_millis(10);
/// Stack of the thread that plans a query (address space, touched only as deep as needed).
const PLAN_STACK: usize = 256 << 20;
/// Longest query text accepted.
pub const MAX_QUERY_BYTES: usize = 1 << 20;

/// What one query may use: memory, time, and a flag that stops it.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    /// Bytes the engine may hold for the query's operators, and (separately) for its result.
    pub memory: u64,
    /// When the query must have finished; past it the query stops with
    /// [`DataError::Deadline`].
    pub deadline: Option<Instant>,
    /// Set to stop the query with [`DataError::Cancelled`].
    pub cancel: Option<Arc<AtomicBool>>,
}

impl QueryLimits {
    /// `memory` bytes, no deadline, no cancel flag.
    pub fn memory(memory: u64) -> Self {
        QueryLimits {
            memory,
            deadline: None,
            cancel: None,
        }
    }

    fn stopped(&self) -> Option<DataError> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Some(DataError::Cancelled);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(DataError::Deadline);
        }
        None
    }
}

fn engine() -> &'static tokio::runtime::Runtime {
    static ENGINE: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    ENGINE.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(ENGINE_THREADS)
            .thread_name("weft-sql")
            .thread_stack_size(PLAN_STACK)
            .enable_all()
            .build()
            .expect("start the SQL engine's runtime")
    })
}

/// No object stores at all: a query can name no file, path or bucket.
#[derive(Debug)]
struct NoObjectStores;

impl ObjectStoreRegistry for NoObjectStores {
    fn register_store(
        &self,
        _url: &url::Url,
        _store: Arc<dyn object_store::ObjectStore>,
    ) -> Option<Arc<dyn object_store::ObjectStore>> {
        None
    }

    fn get_store(
        &self,
        url: &url::Url,
    ) -> datafusion::error::Result<Arc<dyn object_store::ObjectStore>> {
        Err(DataFusionError::Plan(format!(
            "the host SQL engine reads only the tables it is given, not `{url}`"
        )))
    }
}

fn session(limits: &QueryLimits) -> Result<SessionContext, DataError> {
    let mut config = SessionConfig::new()
        .with_target_partitions(ENGINE_THREADS)
        .with_information_schema(false);
    // Column names such as `VendorID` are matched as written, quoted or not.
    config.options_mut().sql_parser.enable_ident_normalization = false;
    // Rows keep their order through projections and filters (no round-robin split of the one
    // input partition): pandas code relies on it (`head`, positions, `iterrows`).
    config
        .options_mut()
        .optimizer
        .enable_round_robin_repartition = false;
    // Nor is the in-memory input itself cut into partitions scanned side by side.
    config.options_mut().optimizer.repartition_file_scans = false;
    let memory = usize::try_from(limits.memory).unwrap_or(usize::MAX);
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_limit(memory, 1.0)
        .with_disk_manager_builder(
            DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
        )
        .with_object_store_registry(Arc::new(NoObjectStores))
        .build_arc()
        .map_err(|e| DataError::Query(e.to_string()))?;
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    crate::capped::install(&ctx);
    Ok(ctx)
}

/// Refuse anything but one read-only query, naming the statement kind.
fn read_only(query: &str) -> Result<(), DataError> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(DataError::Refused(format!(
            "a query of {} bytes; at most {MAX_QUERY_BYTES} bytes",
            query.len()
        )));
    }
    complexity(query)?;
    let statements =
        DFParser::parse_sql(query).map_err(|e| DataError::Query(clean(e.to_string())))?;
    if statements.len() != 1 {
        return Err(DataError::Refused(format!(
            "{} statements; give exactly one query",
            statements.len()
        )));
    }
    let kind = match &statements[0] {
        Statement::Statement(s) => match s.as_ref() {
            datafusion::sql::sqlparser::ast::Statement::Query(q) => match q.body.as_ref() {
                // `SELECT … INTO t` makes a table.
                datafusion::sql::sqlparser::ast::SetExpr::Select(select)
                    if select.into.is_some() =>
                {
                    "SELECT INTO".to_string()
                }
                _ => return Ok(()),
            },
            other => keywords(&other.to_string()),
        },
        Statement::CreateExternalTable(_) => "CREATE EXTERNAL TABLE".into(),
        Statement::CopyTo(_) => "COPY".into(),
        Statement::Explain(_) => "EXPLAIN".into(),
        Statement::Reset(_) => "RESET".into(),
    };
    Err(DataError::Refused(format!("a `{kind}` statement")))
}

/// Refuse anything but one query (`SELECT`, `WITH`, `VALUES`) in PostgreSQL's syntax, naming
/// the statement kind: what a block may send to a profile's database without a write grant.
///
/// # Errors
/// What was refused: the statement kind, or the parser's message.
pub fn postgres_query_only(query: &str) -> Result<(), String> {
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, query)
        .map_err(|e| format!("refused a statement that does not parse ({e})"))?;
    match statements.as_slice() {
        [datafusion::sql::sqlparser::ast::Statement::Query(_)] => Ok(()),
        [other] => Err(format!(
            "refused a `{}` statement",
            keywords(&other.to_string())
        )),
        many => Err(format!(
            "refused {} statements; give exactly one query",
            many.len()
        )),
    }
}

/// Most operators one query may hold, and how deep its parentheses may nest: planning and
/// optimising an expression tree costs more than linear time in its size, and the deadline
/// cannot interrupt planning.
const MAX_OPERATORS: usize = 4096;
const MAX_NESTING: usize = 256;

/// Refuse queries too big to plan in reasonable time, counted on tokens (no recursion).
fn complexity(query: &str) -> Result<(), DataError> {
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::keywords::Keyword;
    use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, query).tokenize() else {
        // The parser reports it.
        return Ok(());
    };
    let (mut depth, mut deepest, mut operators) = (0usize, 0usize, 0usize);
    for t in &tokens {
        match t {
            Token::LParen => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::Mod
            | Token::StringConcat
            | Token::Eq
            | Token::Neq
            | Token::Lt
            | Token::Gt
            | Token::LtEq
            | Token::GtEq => operators += 1,
            Token::Word(w) if matches!(w.keyword, Keyword::AND | Keyword::OR) => operators += 1,
            _ => {}
        }
    }
    if operators > MAX_OPERATORS || deepest > MAX_NESTING {
        return Err(DataError::Refused(format!(
            "a query with {operators} operators and parentheses {deepest} deep; at most {MAX_OPERATORS} operators and {MAX_NESTING} levels"
        )));
    }
    Ok(())
}

/// The leading keywords of a statement (`INSERT`, `CREATE TABLE`, `DROP VIEW`...).
fn keywords(statement: &str) -> String {
    let words: Vec<&str> = statement.split_whitespace().take(3).collect();
    let n = match words.first().map(|w| w.to_ascii_uppercase()).as_deref() {
        Some("CREATE" | "DROP" | "ALTER") => {
            if words.get(1).is_some_and(|w| w.eq_ignore_ascii_case("OR")) {
                3
            } else {
                2
            }
        }
        _ => 1,
    };
    words[..n.min(words.len())].join(" ").to_ascii_uppercase()
}

/// Run `query` over `tables`, each registered under its name, within `limits`. Blocking:
/// call it from a thread that may block (a block's host call, `spawn_blocking`).
///
/// # Errors
/// [`DataError::Refused`] for anything but one read-only query; [`DataError::Query`] with the
/// engine's message (it names unknown columns and tables and lists the valid ones);
/// [`DataError::MemoryBudget`], [`DataError::Deadline`] or [`DataError::Cancelled`] when a
/// limit stops it.
pub fn sql(
    query: &str,
    tables: &[(String, Table)],
    limits: &QueryLimits,
) -> Result<Table, DataError> {
    // Parsing, planning and dropping a deeply nested expression recurse: they get a thread
    // with room for that, and a panic in the engine is this query's error.
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("weft-sql-plan".into())
            .stack_size(PLAN_STACK)
            .spawn_scoped(scope, || run(query, tables, limits))
            .map_err(|e| DataError::Query(format!("cannot start a query thread: {e}")))?;
        worker.join().unwrap_or_else(|_| {
            Err(DataError::Query(
                "the query engine failed on this query".into(),
            ))
        })
    })
}

fn run(query: &str, tables: &[(String, Table)], limits: &QueryLimits) -> Result<Table, DataError> {
    read_only(query)?;
    let ctx = session(limits)?;
    for (name, table) in tables {
        let mem = MemTable::try_new(table.schema().clone(), vec![table.batches().to_vec()])
            .map_err(|e| DataError::Query(e.to_string()))?;
        ctx.register_table(name.as_str(), Arc::new(mem))
            .map_err(|e| DataError::Query(e.to_string()))?;
    }
    let query = query.to_string();
    let limits = limits.clone();
    engine().block_on(async move {
        let work = async {
            let options = datafusion::execution::context::SQLOptions::new()
                .with_allow_ddl(false)
                .with_allow_dml(false)
                .with_allow_statements(false);
            let df = ctx
                .sql_with_options(&query, options)
                .await
                .map_err(|e| failed(e, &limits))?;
            let schema = Arc::new(df.schema().as_arrow().clone());
            let stream = df.execute_stream().await.map_err(|e| failed(e, &limits))?;
            let batches = collect(stream, &limits).await?;
            // The batches' own schema: the plan's may differ in nullability.
            let schema = batches.first().map_or(schema, |b| b.schema());
            Table::new(schema, batches)
        };
        let watch = async {
            loop {
                tokio::time::sleep(WATCH_EVERY).await;
                if let Some(stop) = limits.stopped() {
                    return stop;
                }
            }
        };
        // Dropping the query's future stops its operators and the tasks they spawned.
        tokio::select! {
            done = work => done,
            stop = watch => Err(stop),
        }
    })
}

/// The result's batches, their memory counted against the budget as they arrive.
async fn collect(
    mut stream: SendableRecordBatchStream,
    limits: &QueryLimits,
) -> Result<Vec<datafusion::arrow::array::RecordBatch>, DataError> {
    let mut held = 0u64;
    let mut batches = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| failed(e, limits))?;
        if batch.num_rows() == 0 {
            continue;
        }
        held += batch.get_array_memory_size() as u64;
        if held > limits.memory {
            return Err(DataError::MemoryBudget {
                limit: limits.memory,
            });
        }
        batches.push(batch);
    }
    Ok(batches)
}

/// An engine error, classified: memory exhaustion is a budget breach.
fn failed(e: DataFusionError, limits: &QueryLimits) -> DataError {
    if let DataFusionError::ResourcesExhausted(m) = e.find_root() {
        if m.contains("the host engine allows") {
            return DataError::Capped(m.clone());
        }
        return DataError::MemoryBudget {
            limit: limits.memory,
        };
    }
    DataError::Query(clean(e.to_string()))
}

/// DataFusion prefixes some messages with internal context that says nothing to users.
fn clean(message: String) -> String {
    message
        .trim_start_matches("Error during planning: ")
        .trim_start_matches("SQL error: ")
        .trim_start_matches("Schema error: ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    const BUDGET: u64 = 256 << 20;

    fn trips() -> Table {
        let schema = Arc::new(Schema::new(vec![
            Field::new("VendorID", DataType::Int64, false),
            Field::new("zone", DataType::Utf8, true),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 2, 0])),
                Arc::new(StringArray::from(vec![
                    Some("a"),
                    None,
                    Some("b"),
                    Some("c"),
                ])),
            ],
        )
        .unwrap();
        Table::from_batch(b)
    }

    fn run(query: &str) -> Result<Table, DataError> {
        sql(
            query,
            &[("trips".into(), trips())],
            &QueryLimits::memory(BUDGET),
        )
    }

    #[test]
    fn queries_see_tables_by_name_with_case_kept() {
        let out = run(
            "SELECT VendorID, count(*) AS n FROM trips WHERE VendorID > 0 GROUP BY VendorID ORDER BY VendorID",
        )
        .unwrap();
        assert_eq!(out.num_rows(), 2);
        let text = out.pretty(10).unwrap();
        assert!(text.contains("| 2        | 2 |"), "{text}");
        for ok in [
            "WITH t AS (SELECT 1 AS a) SELECT a FROM t",
            "VALUES (1), (2)",
        ] {
            assert!(run(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rows_keep_their_order_through_filters_and_projections() {
        use arrow::array::Array;
        // Many batches, as a CSV read makes them: a filter over them must not interleave them.
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        let batches: Vec<RecordBatch> = (0..64)
            .map(|b| {
                let ids = Int64Array::from_iter_values(b * 1000..(b + 1) * 1000);
                RecordBatch::try_new(schema.clone(), vec![Arc::new(ids)]).unwrap()
            })
            .collect();
        let table = Table::new(schema, batches).unwrap();
        for q in [
            "SELECT id, id * 2 AS twice FROM t WHERE id % 3 <> 0",
            "SELECT * FROM (SELECT id, row_number() OVER () AS pos FROM t) WHERE pos % 2 = 0",
        ] {
            let out = sql(
                q,
                &[("t".into(), table.clone())],
                &QueryLimits::memory(BUDGET),
            )
            .unwrap();
            let ids: Vec<i64> = out
                .batches()
                .iter()
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
            assert!(
                ids.windows(2).all(|w| w[0] < w[1]),
                "{q}: rows out of order"
            );
            assert!(ids.len() > 30_000, "{q}");
        }
    }

    #[test]
    fn unknown_columns_are_named() {
        let err = run("SELECT fare FROM trips").unwrap_err().to_string();
        assert!(err.contains("fare") && err.contains("VendorID"), "{err}");
        let err = run("SELECT * FROM nowhere").unwrap_err().to_string();
        assert!(err.contains("nowhere"), "{err}");
    }

    /// `tests/cases/sql_refused.txt`: every statement but a query is refused by name, and
    /// nothing is written.
    #[test]
    fn everything_but_a_query_is_refused_by_kind() {
        let dir = tempfile::tempdir().unwrap();
        let cases = include_str!("../tests/cases/sql_refused.txt");
        let mut n = 0;
        for line in cases
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let (statement, named) = line.split_once(" => ").expect("`statement => named`");
            let statement = statement.replace("{dir}", &dir.path().display().to_string());
            let err = run(&statement).expect_err(&statement);
            let text = err.to_string();
            assert!(text.contains(named), "{statement}: {text}");
            n += 1;
        }
        assert!(n >= 10, "the case file was not read");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "a refused statement wrote a file"
        );
        // The table is untouched.
        assert_eq!(
            run("SELECT count(*) AS n FROM trips").unwrap().num_rows(),
            1
        );
    }

    #[test]
    fn deeply_nested_or_huge_queries_do_not_take_the_host_down() {
        let started = Instant::now();
        let sum = format!("SELECT {} AS n", vec!["1"; 20_000].join(" + "));
        let ors = (0..5_000)
            .map(|i| format!("VendorID = {i}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let nested = format!("SELECT {}1{} AS n", "(".repeat(5_000), ")".repeat(5_000));
        for q in [
            sum,
            format!("SELECT count(*) AS n FROM trips WHERE {ors}"),
            nested,
        ] {
            let e = run(&q).unwrap_err().to_string();
            assert!(e.contains("operators") && e.contains("deep"), "{e}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        // Just under the limits, a query plans and runs.
        let sum = format!("SELECT {} AS n", vec!["1"; 2_000].join(" + "));
        assert_eq!(run(&sum).unwrap().num_rows(), 1);
        let huge = format!("SELECT '{}' AS s", "x".repeat(MAX_QUERY_BYTES));
        let e = run(&huge).unwrap_err().to_string();
        assert!(e.contains("at most"), "{e}");
        assert_eq!(run("SELECT 1 AS one").unwrap().num_rows(), 1);
    }

    #[test]
    fn a_query_past_its_memory_budget_stops() {
        let limits = QueryLimits::memory(8 << 20);
        let err = sql(
            "SELECT v % 1000003 AS k, count(*) AS n FROM generate_series(1, 50000000) AS t(v) GROUP BY v % 1000003 ORDER BY n",
            &[],
            &limits,
        )
        .unwrap_err();
        assert!(matches!(err, DataError::MemoryBudget { .. }), "{err}");
        assert!(err.to_string().contains("memory_limit"), "{err}");
        // A result bigger than the budget is a breach too, even when no operator buffers it.
        let err = sql(
            "SELECT v FROM generate_series(1, 5000000) AS t(v)",
            &[],
            &limits,
        )
        .unwrap_err();
        assert!(matches!(err, DataError::MemoryBudget { .. }), "{err}");
    }

    #[test]
    #[allow(clippy::disallowed_methods)]
    fn a_runaway_query_stops_at_its_deadline_or_cancel() {
        let endless =
            "SELECT count(*) AS n FROM generate_series(1, 1000000000000) AS t(v) WHERE v % 7 = 3";
        let limits = QueryLimits {
            memory: BUDGET,
            deadline: Some(Instant::now() + Duration::from_millis(300)),
            cancel: None,
        };
        let started = Instant::now();
        let err = sql(endless, &[], &limits).unwrap_err();
        assert!(matches!(err, DataError::Deadline), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        let cancel = Arc::new(AtomicBool::new(false));
        let limits = QueryLimits {
            memory: BUDGET,
            deadline: None,
            cancel: Some(cancel.clone()),
        };
        let flag = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            flag.store(true, Ordering::Relaxed);
        });
        let err = sql(endless, &[], &limits).unwrap_err();
        assert!(matches!(err, DataError::Cancelled), "{err}");
        // The engine is free for the next query.
        assert_eq!(run("SELECT 1 AS one").unwrap().num_rows(), 1);
    }
}
