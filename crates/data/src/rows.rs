//! Cutting and joining tables by rows: one row of a fan-out's output for its child, and the
//! children's outputs gathered back in order.

use std::sync::Arc;

use arrow::datatypes::Schema;

use crate::error::DataError;
use crate::Table;

impl Table {
    /// Rows `offset..offset + len` (clamped to the table), sharing the data.
    pub fn slice(&self, offset: u64, len: u64) -> Table {
        let mut skip = offset;
        let mut left = len;
        let mut out = Vec::new();
        for b in self.batches() {
            let n = b.num_rows() as u64;
            if skip >= n {
                skip -= n;
                continue;
            }
            if left == 0 {
                break;
            }
            let take = (n - skip).min(left);
            out.push(b.slice(skip as usize, take as usize));
            left -= take;
            skip = 0;
        }
        Table::new(self.schema().clone(), out).expect("slices keep the schema")
    }

    /// `tables` one after another, as one table with the first one's columns; the others
    /// are converted to them. No tables: an empty table.
    ///
    /// # Errors
    /// [`DataError::SchemaMismatch`] naming the position of a table whose columns differ.
    pub fn concat(tables: &[Table]) -> Result<Table, DataError> {
        let Some(first) = tables.iter().find(|t| !t.schema().fields().is_empty()) else {
            return Ok(tables.first().cloned().unwrap_or_else(Table::empty));
        };
        let schema = Arc::new(Schema::new(first.schema().fields().clone()));
        let mut batches = Vec::new();
        for (i, t) in tables.iter().enumerate() {
            if t.num_rows() == 0 {
                continue;
            }
            let names = |s: &Schema| {
                s.fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect::<Vec<_>>()
            };
            if names(t.schema()) != names(&schema) {
                return Err(DataError::SchemaMismatch(format!(
                    "table {} has columns {:?}, the first has {:?}",
                    i + 1,
                    names(t.schema()),
                    names(&schema)
                )));
            }
            let t = t
                .cast_to(schema.clone())
                .map_err(|e| DataError::SchemaMismatch(format!("table {}: {e}", i + 1)))?;
            batches.extend(t.batches().iter().cloned());
        }
        Table::new(schema, batches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(rows: &str) -> Table {
        Table::from_json(rows).unwrap()
    }

    #[test]
    fn slices_cross_batches_and_concat_keeps_order() {
        let a = t(r#"[{"x": 1}, {"x": 2}]"#);
        let b = t(r#"[{"x": 3}]"#);
        let all = Table::concat(&[a, Table::empty(), b]).unwrap();
        assert_eq!(all.num_rows(), 3);
        assert_eq!(all.batches().len(), 2);
        assert_eq!(
            all.slice(1, 2).to_json(None).unwrap(),
            r#"[{"x":2},{"x":3}]"#
        );
        assert_eq!(all.slice(2, 9).num_rows(), 1);
        assert_eq!(all.slice(5, 1).num_rows(), 0);
        let err = Table::concat(&[t(r#"[{"x": 1}]"#), t(r#"[{"y": 1}]"#)]).unwrap_err();
        assert!(err.to_string().contains("table 2"), "{err}");
        assert_eq!(Table::concat(&[]).unwrap().num_rows(), 0);
    }
}
