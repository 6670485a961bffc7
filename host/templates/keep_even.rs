//! Transformer: keeps the rows whose `n` is even.
use weft_sdk::arrow_array::{BooleanArray, Int64Array};
use weft_sdk::prelude::*;

#[transformer]
fn keep_even(ctx: &Context, inputs: Inputs) -> Result<RecordBatch> {
    let batch = inputs.get("load_numbers")?.to_batch()?;
    let n = batch
        .column_by_name("n")
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        .ok_or_else(|| Error::InvalidInput("expected an Int64 column `n`".into()))?;
    let even: BooleanArray = n.iter().map(|v| v.map(|v| v % 2 == 0)).collect();
    let kept = weft_sdk::arrow_select::filter::filter_record_batch(&batch, &even)?;
    ctx.info(format!(
        "kept {} of {} rows",
        kept.num_rows(),
        batch.num_rows()
    ));
    Ok(kept)
}
