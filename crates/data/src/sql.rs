//! The host's query engine: SQL over [`Table`]s with DataFusion, used by SQL blocks and by
//! every block's `compute.sql` (the Python SDK's dataframe methods compile to it).

use std::sync::{Arc, OnceLock};

use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::DataError;
use crate::table::Table;

/// Threads of the engine's own Tokio runtime (it runs beside, not inside, the executor's).
const ENGINE_THREADS: usize = 2;

fn engine() -> &'static tokio::runtime::Runtime {
    static ENGINE: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    ENGINE.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(ENGINE_THREADS)
            .thread_name("weft-sql")
            .enable_all()
            .build()
            .expect("start the SQL engine's runtime")
    })
}

fn session() -> SessionContext {
    let mut config = SessionConfig::new()
        .with_target_partitions(ENGINE_THREADS)
        .with_information_schema(false);
    // Column names such as `VendorID` are matched as written, quoted or not.
    config.options_mut().sql_parser.enable_ident_normalization = false;
    SessionContext::new_with_config(config)
}

/// Run `query` over `tables`, each registered under its name. Blocking: call it from a
/// thread that may block (a block's host call, `spawn_blocking`).
///
/// # Errors
/// [`DataError::Query`] with the engine's message (it names unknown columns and tables and
/// lists the valid ones).
pub fn sql(query: &str, tables: &[(String, Table)]) -> Result<Table, DataError> {
    let ctx = session();
    for (name, table) in tables {
        let mem = MemTable::try_new(table.schema().clone(), vec![table.batches().to_vec()])
            .map_err(|e| DataError::Query(e.to_string()))?;
        ctx.register_table(name.as_str(), Arc::new(mem))
            .map_err(|e| DataError::Query(e.to_string()))?;
    }
    let query = query.to_string();
    engine().block_on(async move {
        let df = ctx
            .sql(&query)
            .await
            .map_err(|e| DataError::Query(clean(e.to_string())))?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        let batches = df
            .collect()
            .await
            .map_err(|e| DataError::Query(clean(e.to_string())))?;
        let batches: Vec<_> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
        Table::new(schema, batches)
    })
}

/// DataFusion prefixes some messages with internal context that says nothing to users.
fn clean(message: String) -> String {
    message
        .trim_start_matches("Error during planning: ")
        .trim_start_matches("Schema error: ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

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

    #[test]
    fn queries_see_tables_by_name_with_case_kept() {
        let out = sql(
            "SELECT VendorID, count(*) AS n FROM trips WHERE VendorID > 0 GROUP BY VendorID ORDER BY VendorID",
            &[("trips".into(), trips())],
        )
        .unwrap();
        assert_eq!(out.num_rows(), 2);
        let text = out.pretty(10).unwrap();
        assert!(text.contains("| 2        | 2 |"), "{text}");
    }

    #[test]
    fn unknown_columns_are_named() {
        let err = sql("SELECT fare FROM trips", &[("trips".into(), trips())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("fare") && err.contains("VendorID"), "{err}");
        let err = sql("SELECT * FROM nowhere", &[]).unwrap_err().to_string();
        assert!(err.contains("nowhere"), "{err}");
    }
}
