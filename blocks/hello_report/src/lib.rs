//! Depends on both `numbers` and `squares` (a diamond): one summary row.
use std::sync::Arc;

use weft_sdk::arrow_array::{Float64Array, Int64Array};
use weft_sdk::prelude::*;

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| Error::InvalidInput(format!("missing or mistyped column `{name}`")))
}

#[exporter(tests(one_row))]
fn report(ctx: &Context, inputs: Inputs) -> Result<RecordBatch> {
    let numbers = inputs.get("numbers")?.to_batch()?;
    let squares = inputs.get("squares")?.to_batch()?;
    let value_sum: f64 = column::<Float64Array>(&numbers, "value")?
        .iter()
        .flatten()
        .sum();
    let square_sum: i64 = column::<Int64Array>(&squares, "square")?
        .iter()
        .flatten()
        .sum();
    ctx.info(format!(
        "{} numbers, value sum {value_sum}, square sum {square_sum}",
        numbers.num_rows()
    ));
    let schema = Arc::new(Schema::new(vec![
        Field::new("rows", DataType::Int64, false),
        Field::new("value_sum", DataType::Float64, false),
        Field::new("square_sum", DataType::Int64, false),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![numbers.num_rows() as i64])),
            Arc::new(Float64Array::from(vec![value_sum])),
            Arc::new(Int64Array::from(vec![square_sum])),
        ],
    )?)
}

#[test_block]
fn one_row(output: &Table) -> Result<()> {
    ensure(
        output.num_rows() == 1,
        format!("expected one summary row, got {}", output.num_rows()),
    )
}
