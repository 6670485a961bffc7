//! Keep trips with passenger_count > 0 and trip_distance > 0, add tpep_pickup_date from
//! tpep_pickup_datetime, rename every column to snake_case: all in the guest with arrow.
use std::sync::Arc;

use weft_sdk::arrow_array::{Array, ArrayRef, Datum, Float64Array, Int64Array};
use weft_sdk::arrow_select::filter::filter_record_batch;
use weft_sdk::prelude::*;

fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &ch) in chars.iter().enumerate() {
        let boundary = i > 0
            && ch.is_uppercase()
            && (!chars[i - 1].is_uppercase() || chars.get(i + 1).is_some_and(|n| n.is_lowercase()));
        if boundary {
            out.push('_');
        }
        out.extend(ch.to_lowercase());
    }
    out
}

fn positive(batch: &RecordBatch, name: &str, zero: &dyn Datum) -> Result<weft_sdk::arrow_array::BooleanArray> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| Error::InvalidInput(format!("no column {name}")))?;
    Ok(arrow_ord::cmp::gt(column, zero)?)
}

#[transformer]
fn clean(_ctx: &Context, inputs: Inputs) -> Result<RecordBatch> {
    let batch = inputs.first()?.to_batch()?;
    let passengers = positive(&batch, "passenger_count", &Int64Array::new_scalar(0))?;
    let distance = positive(&batch, "trip_distance", &Float64Array::new_scalar(0.0))?;
    let keep = arrow_arith::boolean::and(&passengers, &distance)?;
    let kept = filter_record_batch(&batch, &keep)?;
    let pickup = kept
        .column_by_name("tpep_pickup_datetime")
        .ok_or_else(|| Error::InvalidInput("no column tpep_pickup_datetime".into()))?;
    let date: ArrayRef = arrow_cast::cast(pickup, &DataType::Date32)?;
    let mut fields: Vec<Field> = kept
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_name(snake(f.name())))
        .collect();
    fields.push(Field::new("tpep_pickup_date", DataType::Date32, date.null_count() > 0));
    let mut columns = kept.columns().to_vec();
    columns.push(date);
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}
