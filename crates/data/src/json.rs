//! Tables to and from JSON rows, for blocks that want rows as plain values (Python's
//! `to_pylist` / `from_pylist`).

use std::sync::Arc;

use arrow::datatypes::Schema;
use arrow::json::reader::{infer_json_schema_from_iterator, ReaderBuilder};
use arrow::json::writer::{ArrayWriter, JsonArray, WriterBuilder};

use crate::error::DataError;
use crate::table::Table;

impl Table {
    /// The first `limit` rows (all when `None`) as a JSON array of objects. Nulls are kept as
    /// `null`; dates and timestamps become ISO 8601 strings.
    ///
    /// # Errors
    /// [`DataError::Encode`] when a column type has no JSON form.
    pub fn to_json(&self, limit: Option<u64>) -> Result<String, DataError> {
        let mut out = Vec::new();
        let mut w: ArrayWriter<&mut Vec<u8>> = WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, JsonArray>(&mut out);
        let mut left = limit.unwrap_or(u64::MAX);
        for b in self.batches() {
            if left == 0 {
                break;
            }
            let take = (b.num_rows() as u64).min(left) as usize;
            w.write(&b.slice(0, take))
                .map_err(|e| DataError::Encode(e.to_string()))?;
            left -= take as u64;
        }
        w.finish().map_err(|e| DataError::Encode(e.to_string()))?;
        drop(w);
        if out.is_empty() {
            return Ok("[]".into());
        }
        String::from_utf8(out).map_err(|e| DataError::Encode(e.to_string()))
    }

    /// A table from a JSON array of row objects, with column types inferred from the values.
    ///
    /// # Errors
    /// [`DataError::InvalidRows`] when the text is not an array of objects or the values of a
    /// column do not agree.
    pub fn from_json(rows: &str) -> Result<Table, DataError> {
        let values: Vec<serde_json::Value> = match serde_json::from_str(rows) {
            Ok(serde_json::Value::Array(v)) => v,
            Ok(_) => {
                return Err(DataError::InvalidRows(
                    "expected a JSON array of row objects".into(),
                ))
            }
            Err(e) => return Err(DataError::InvalidRows(e.to_string())),
        };
        if let Some((i, _)) = values.iter().enumerate().find(|(_, v)| !v.is_object()) {
            return Err(DataError::InvalidRows(format!("row {i} is not an object")));
        }
        if values.is_empty() {
            return Ok(Table::empty());
        }
        let inferred = infer_json_schema_from_iterator(values.iter().map(|v| Ok(v.clone())))
            .map_err(|e| DataError::InvalidRows(e.to_string()))?;
        // Columns in the order their keys first appear in the rows.
        let mut order: Vec<&str> = Vec::new();
        for v in &values {
            for k in v.as_object().into_iter().flat_map(|o| o.keys()) {
                if !order.contains(&k.as_str()) {
                    order.push(k);
                }
            }
        }
        let fields: Vec<_> = order
            .iter()
            .filter_map(|k| inferred.field_with_name(k).ok().cloned())
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let mut decoder = ReaderBuilder::new(schema.clone())
            .with_batch_size(values.len().max(1))
            .build_decoder()
            .map_err(|e| DataError::InvalidRows(e.to_string()))?;
        decoder
            .serialize(&values)
            .map_err(|e| DataError::InvalidRows(e.to_string()))?;
        let batches: Vec<_> = decoder
            .flush()
            .map_err(|e| DataError::InvalidRows(e.to_string()))?
            .into_iter()
            .collect();
        Table::new(schema, batches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_json() {
        let t = Table::from_json(r#"[{"a": 1, "b": "x", "c": 1.5}, {"a": 2, "b": null, "c": 2}]"#)
            .unwrap();
        assert_eq!(t.num_rows(), 2);
        let cols: Vec<(String, String)> = t
            .columns()
            .into_iter()
            .map(|c| (c.name, c.data_type))
            .collect();
        assert_eq!(
            cols,
            [
                ("a".into(), "Int64".into()),
                ("b".into(), "Utf8".into()),
                ("c".into(), "Float64".into())
            ]
        );
        let back: serde_json::Value = serde_json::from_str(&t.to_json(None).unwrap()).unwrap();
        assert_eq!(
            back,
            serde_json::json!([{"a": 1, "b": "x", "c": 1.5}, {"a": 2, "b": null, "c": 2.0}])
        );
        assert_eq!(t.to_json(Some(1)).unwrap().matches('{').count(), 1);
    }

    #[test]
    fn bad_rows_are_refused() {
        assert!(Table::from_json("{}").is_err());
        assert!(Table::from_json("[1, 2]").is_err());
        assert!(Table::from_json("[{\"a\": 1},").is_err());
        assert_eq!(Table::from_json("[]").unwrap().num_rows(), 0);
    }
}
