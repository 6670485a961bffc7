//! Loader: generates `rows` numbered rows (config `rows`, default 10).
use std::sync::Arc;

use weft_sdk::arrow_array::{Float64Array, Int64Array, StringArray};
use weft_sdk::prelude::*;

#[derive(serde::Deserialize)]
struct Config {
    #[serde(default = "ten")]
    rows: i64,
}

fn ten() -> i64 {
    10
}

#[loader(tests(has_rows))]
fn numbers(ctx: &Context, _inputs: Inputs) -> Result<RecordBatch> {
    let cfg: Config = ctx.config()?;
    ctx.info(format!("generating {} rows", cfg.rows));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Float64, false),
        Field::new("label", DataType::Utf8, false),
    ]));
    let ids = Int64Array::from_iter_values(1..=cfg.rows);
    let values = Float64Array::from_iter_values((1..=cfg.rows).map(|i| i as f64 * 1.5));
    let labels = StringArray::from_iter_values((1..=cfg.rows).map(|i| format!("row-{i}")));
    Ok(RecordBatch::try_new(
        schema,
        vec![Arc::new(ids), Arc::new(values), Arc::new(labels)],
    )?)
}

#[test_block]
fn has_rows(output: &Table) -> Result<()> {
    ensure(output.num_rows() > 0, "the loader produced no rows")
}
