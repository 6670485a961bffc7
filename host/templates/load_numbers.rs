//! Loader: generates `rows` rows of numbers.
use std::sync::Arc;

use weft_sdk::arrow_array::{Int64Array, StringArray};
use weft_sdk::prelude::*;

#[derive(serde::Deserialize)]
struct Config {
    rows: i64,
}

#[loader(tests(not_empty))]
fn load_numbers(ctx: &Context, _inputs: Inputs) -> Result<RecordBatch> {
    let cfg: Config = ctx.config()?;
    ctx.info(format!("generating {} rows", cfg.rows));
    let schema = Arc::new(Schema::new(vec![
        Field::new("n", DataType::Int64, false),
        Field::new("name", DataType::Utf8, false),
    ]));
    let n = Int64Array::from_iter_values(1..=cfg.rows);
    let names = StringArray::from_iter_values((1..=cfg.rows).map(|i| format!("item {i}")));
    Ok(RecordBatch::try_new(
        schema,
        vec![Arc::new(n), Arc::new(names)],
    )?)
}

#[test_block]
fn not_empty(output: &Table) -> Result<()> {
    ensure(output.num_rows() > 0, "no rows were generated")
}
