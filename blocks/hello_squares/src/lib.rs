//! Transformer: squares the `id` column of its input.
use std::sync::Arc;

use weft_sdk::arrow_array::Int64Array;
use weft_sdk::prelude::*;

#[transformer]
fn squares(ctx: &Context, inputs: Inputs) -> Result<RecordBatch> {
    let batch = inputs.get("numbers")?.to_batch()?;
    let ids = batch
        .column_by_name("id")
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        .ok_or_else(|| Error::InvalidInput("input `numbers` needs an Int64 column `id`".into()))?;
    let squares: Int64Array = ids.iter().map(|v| v.map(|v| v * v)).collect();
    ctx.info(format!("squared {} ids", squares.len()));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("square", DataType::Int64, true),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![batch.column(0).clone(), Arc::new(squares)],
    )?)
}
