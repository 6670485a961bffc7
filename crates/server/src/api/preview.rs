//! The first rows of a block's stored output, made safe to show: binary values become their
//! length and first bytes, long texts are cut, and each column says how many nulls it holds.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use weft_data::Table;

use super::views::{Preview, PreviewColumn};
use crate::error::ApiError;
use crate::state::AppState;

/// Characters of a text value a preview shows.
pub const MAX_TEXT: usize = 1000;
/// Bytes of a binary value a preview shows (as hex).
const BINARY_HEAD: usize = 16;

/// `{block, rows, columns: [{name, type, nulls}], head}` of `block`'s output in run `id`.
///
/// # Errors
/// [`ApiError::NotFound`] for an unknown run or block, or a block that stored no output.
pub async fn preview(
    state: &AppState,
    id: &str,
    block: &str,
    limit: u64,
) -> Result<Preview, ApiError> {
    let blocks = state.executor().store().block_runs(id).await?;
    if blocks.is_empty() {
        state.executor().store().run(id).await?;
    }
    let b = blocks
        .iter()
        .find(|b| b.key == block)
        .ok_or_else(|| ApiError::NotFound(format!("run {id} has no block \"{block}\"")))?;
    let path = b.output.clone().ok_or_else(|| {
        ApiError::NotFound(format!(
            "block \"{block}\" of run {id} stored no output (status {})",
            b.status
        ))
    })?;
    let table = state.executor().outputs().get(&path).await?;
    describe(block, &table, limit)
}

/// The preview of `table`.
///
/// # Errors
/// [`ApiError::Internal`] when a column has no JSON form.
pub fn describe(block: &str, table: &Table, limit: u64) -> Result<Preview, ApiError> {
    let columns = table
        .schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| PreviewColumn {
            name: f.name().clone(),
            data_type: f.data_type().to_string(),
            nulls: table
                .batches()
                .iter()
                .map(|b| b.column(i).null_count())
                .sum(),
        })
        .collect();
    let internal = |e: &dyn std::fmt::Display| ApiError::Internal(e.to_string());
    let head = head(table, limit).map_err(|e| internal(&e))?;
    let text = head.to_json(None).map_err(|e| internal(&e))?;
    Ok(Preview {
        block: block.to_string(),
        rows: table.num_rows(),
        columns,
        head: serde_json::from_str(&text).map_err(|e| internal(&e))?,
    })
}

/// The first `limit` rows with binary and long text values made short (one batch, so each
/// column is shortened alike in every row).
fn head(table: &Table, limit: u64) -> Result<Table, Box<dyn std::error::Error>> {
    let mut left = limit as usize;
    let mut batches = Vec::new();
    for b in table.batches() {
        if left == 0 {
            break;
        }
        let take = b.num_rows().min(left);
        left -= take;
        batches.push(b.slice(0, take));
    }
    let rows = arrow::compute::concat_batches(table.schema(), &batches)?;
    let short = shorten(&rows)?;
    Ok(Table::new(short.schema(), vec![short])?)
}

fn shorten(batch: &RecordBatch) -> Result<RecordBatch, arrow::error::ArrowError> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (f, a) in batch.schema().fields().iter().zip(batch.columns()) {
        let short: Option<ArrayRef> = match a.data_type() {
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => {
                let bin = arrow::compute::cast(a, &DataType::LargeBinary)?;
                let bin = bin.as_binary::<i64>();
                let text: StringArray = bin.iter().map(|v| v.map(describe_bytes)).collect();
                Some(Arc::new(text))
            }
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                let s = arrow::compute::cast(a, &DataType::LargeUtf8)?;
                let s = s.as_string::<i64>();
                let long = s.iter().flatten().any(|v| v.len() > MAX_TEXT);
                long.then(|| {
                    let text: StringArray = s.iter().map(|v| v.map(cut)).collect();
                    Arc::new(text) as ArrayRef
                })
            }
            _ => None,
        };
        match short {
            Some(s) => {
                fields.push(Field::new(f.name(), DataType::Utf8, true));
                arrays.push(s);
            }
            None => {
                fields.push(f.as_ref().clone());
                arrays.push(a.clone());
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

/// `12 bytes: 00ff…`.
fn describe_bytes(v: &[u8]) -> String {
    let hex: String = v
        .iter()
        .take(BINARY_HEAD)
        .map(|b| format!("{b:02x}"))
        .collect();
    let more = if v.len() > BINARY_HEAD { "…" } else { "" };
    format!("{} bytes: {hex}{more}", v.len())
}

/// At most [`MAX_TEXT`] characters, saying how many there were.
fn cut(v: &str) -> String {
    if v.chars().count() <= MAX_TEXT {
        return v.to_string();
    }
    let head: String = v.chars().take(MAX_TEXT).collect();
    format!("{head}… ({} characters)", v.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{BinaryArray, Int64Array};

    #[test]
    fn binary_and_long_text_are_shown_short_and_nulls_counted() {
        let long = "x".repeat(MAX_TEXT + 5);
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("blob", DataType::Binary, true),
            Field::new("note", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])),
                Arc::new(BinaryArray::from(vec![
                    Some(&[0u8, 255][..]),
                    None,
                    Some(&[7u8; 40][..]),
                ])),
                Arc::new(StringArray::from(vec![
                    Some("a"),
                    Some(long.as_str()),
                    None,
                ])),
            ],
        )
        .unwrap();
        let table = Table::new(schema, vec![batch]).unwrap();
        let v = serde_json::to_value(describe("b", &table, 2).unwrap()).unwrap();
        assert_eq!(v["rows"], 3);
        assert_eq!(v["columns"][0]["nulls"], 1);
        assert_eq!(v["columns"][1]["type"], "Binary");
        assert_eq!(v["columns"][2]["nulls"], 1);
        let head = v["head"].as_array().unwrap();
        assert_eq!(head.len(), 2);
        assert_eq!(head[0]["blob"], "2 bytes: 00ff");
        assert!(head[1]["blob"].is_null());
        let note = head[1]["note"].as_str().unwrap();
        assert!(
            note.ends_with(&format!("… ({} characters)", MAX_TEXT + 5)),
            "{note}"
        );
        // Over two batches, one with a long text and one without: one schema still.
        let two = Table::new(
            table.schema().clone(),
            vec![
                table.batches()[0].slice(0, 1),
                table.batches()[0].slice(1, 2),
            ],
        )
        .unwrap();
        let both = serde_json::to_value(describe("b", &two, 3).unwrap()).unwrap();
        assert_eq!(both["head"].as_array().unwrap().len(), 3);
        assert_eq!(both["head"][0]["note"], "a");
        assert_eq!(
            serde_json::to_value(describe("b", &table, 3).unwrap()).unwrap()["head"][2]["blob"]
                .as_str()
                .unwrap(),
            format!("40 bytes: {}…", "07".repeat(16))
        );
    }
}
