//! [`Table`]: an immutable, cheaply clonable Arrow table owned by the host.

use std::io::Cursor;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::buffer::Buffer;
use arrow::datatypes::{Schema, SchemaRef};
use arrow::ipc::reader::{FileReader, StreamDecoder};
use arrow::ipc::writer::{FileWriter, StreamWriter};
use serde::Serialize;

use crate::error::DataError;

/// An Arrow table: one schema, zero or more record batches. Clones share the data.
#[derive(Debug, Clone)]
pub struct Table {
    schema: SchemaRef,
    batches: Arc<[RecordBatch]>,
    rows: u64,
}

/// Run a decoder of untrusted bytes; a panic inside Arrow (some malformed inputs reach an
/// `expect`) becomes a malformed-IPC error instead of unwinding through the host.
fn guarded(decode: impl FnOnce() -> Result<Table, DataError>) -> Result<Table, DataError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the decoder failed".into());
        Err(DataError::MalformedIpc(why))
    })
}

/// One column of a table's schema, as shown to blocks and users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Arrow data type as Arrow displays it.
    pub data_type: String,
    /// Whether the column may hold nulls.
    pub nullable: bool,
}

impl Table {
    /// A table with no columns and no rows.
    pub fn empty() -> Self {
        Self::new(Arc::new(Schema::empty()), Vec::new()).expect("empty table is valid")
    }

    /// A table from batches that all have `schema`.
    ///
    /// # Errors
    /// [`DataError::SchemaMismatch`] when a batch has another schema.
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<Self, DataError> {
        for b in &batches {
            if b.schema().fields() != schema.fields() {
                return Err(DataError::SchemaMismatch(format!(
                    "expected {:?}, found {:?}",
                    schema.fields(),
                    b.schema().fields()
                )));
            }
        }
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        Ok(Table {
            schema,
            batches: batches.into(),
            rows,
        })
    }

    /// A table of one batch.
    pub fn from_batch(batch: RecordBatch) -> Self {
        let rows = batch.num_rows() as u64;
        Table {
            schema: batch.schema(),
            batches: vec![batch].into(),
            rows,
        }
    }

    /// Decode an Arrow IPC stream. The bytes become the table's buffers without another copy
    /// where Arrow's alignment allows.
    ///
    /// # Errors
    /// [`DataError::MalformedIpc`] when the bytes are not a complete, valid IPC stream.
    pub fn from_ipc(bytes: Vec<u8>) -> Result<Self, DataError> {
        crate::ipc_guard::check_stream(&bytes)?;
        guarded(|| Self::decode_stream(bytes))
    }

    fn decode_stream(bytes: Vec<u8>) -> Result<Self, DataError> {
        let mut buffer = Buffer::from_vec(bytes);
        let mut decoder = StreamDecoder::new().with_require_alignment(false);
        let mut batches = Vec::new();
        while !buffer.is_empty() {
            match decoder.decode(&mut buffer) {
                Ok(Some(batch)) => batches.push(batch),
                Ok(None) => {}
                Err(e) => return Err(DataError::MalformedIpc(e.to_string())),
            }
        }
        decoder
            .finish()
            .map_err(|e| DataError::MalformedIpc(e.to_string()))?;
        let schema = match (decoder.schema(), batches.first()) {
            (Some(s), _) => s,
            (None, Some(b)) => b.schema(),
            (None, None) => {
                return Err(DataError::MalformedIpc(
                    "the stream holds no schema message".into(),
                ))
            }
        };
        for b in &batches {
            b.columns().iter().try_for_each(|c| {
                c.to_data()
                    .validate_full()
                    .map_err(|e| DataError::MalformedIpc(e.to_string()))
            })?;
        }
        Self::new(schema, batches)
    }

    /// Encode as an Arrow IPC stream, at most `limit` rows when given.
    ///
    /// # Errors
    /// [`DataError::Encode`] on an internal Arrow failure.
    pub fn to_ipc(&self, limit: Option<u64>) -> Result<Vec<u8>, DataError> {
        let size: usize = self.batches.iter().map(|b| b.get_array_memory_size()).sum();
        let mut out = Cursor::new(Vec::with_capacity(size + 1024));
        {
            let mut w = StreamWriter::try_new(&mut out, &self.schema)
                .map_err(|e| DataError::Encode(e.to_string()))?;
            let mut left = limit.unwrap_or(u64::MAX);
            for b in self.batches.iter() {
                if left == 0 {
                    break;
                }
                let take = (b.num_rows() as u64).min(left) as usize;
                let batch = if take == b.num_rows() {
                    b.clone()
                } else {
                    b.slice(0, take)
                };
                w.write(&batch)
                    .map_err(|e| DataError::Encode(e.to_string()))?;
                left -= take as u64;
            }
            w.finish().map_err(|e| DataError::Encode(e.to_string()))?;
        }
        Ok(out.into_inner())
    }

    /// Encode as an Arrow IPC file (the `.arrow` format readers such as pyarrow open with
    /// random access).
    ///
    /// # Errors
    /// [`DataError::Encode`] on an internal Arrow failure.
    pub fn to_ipc_file(&self) -> Result<Vec<u8>, DataError> {
        let size: usize = self.batches.iter().map(|b| b.get_array_memory_size()).sum();
        let mut out = Vec::with_capacity(size + 4096);
        self.write_ipc_file(&mut out)?;
        Ok(out)
    }

    /// Encode as an Arrow IPC file into `out`, batch by batch.
    ///
    /// # Errors
    /// [`DataError::Encode`] on an internal Arrow failure or when `out` fails.
    pub fn write_ipc_file(&self, out: &mut impl std::io::Write) -> Result<(), DataError> {
        let mut w =
            FileWriter::try_new(out, &self.schema).map_err(|e| DataError::Encode(e.to_string()))?;
        for b in self.batches.iter() {
            w.write(b).map_err(|e| DataError::Encode(e.to_string()))?;
        }
        w.finish().map_err(|e| DataError::Encode(e.to_string()))
    }

    /// Decode an Arrow IPC file written by [`Table::to_ipc_file`].
    ///
    /// # Errors
    /// [`DataError::MalformedIpc`] when the bytes are not a valid IPC file.
    pub fn from_ipc_file(bytes: Vec<u8>) -> Result<Self, DataError> {
        crate::ipc_guard::check_file(&bytes)?;
        guarded(|| Self::decode_file(bytes))
    }

    fn decode_file(bytes: Vec<u8>) -> Result<Self, DataError> {
        let reader = FileReader::try_new(Cursor::new(bytes), None)
            .map_err(|e| DataError::MalformedIpc(e.to_string()))?;
        let schema = reader.schema();
        let batches = reader
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| DataError::MalformedIpc(e.to_string()))?;
        Self::new(schema, batches)
    }

    /// The table converted to `target` (same column count and order), column by column with
    /// Arrow's cast kernels.
    ///
    /// # Errors
    /// [`DataError::SchemaMismatch`] when a value cannot be converted or the shapes differ.
    pub fn cast_to(&self, target: SchemaRef) -> Result<Table, DataError> {
        if target.fields() == self.schema.fields() {
            return Ok(self.clone());
        }
        let mismatch = |e: &dyn std::fmt::Display| DataError::SchemaMismatch(e.to_string());
        let mut out = Vec::with_capacity(self.batches.len());
        for b in self.batches.iter() {
            let cols = b
                .columns()
                .iter()
                .zip(target.fields())
                .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| mismatch(&e))?;
            out.push(RecordBatch::try_new(target.clone(), cols).map_err(|e| mismatch(&e))?);
        }
        Table::new(target, out)
    }

    /// The schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The record batches.
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// Number of rows.
    pub fn num_rows(&self) -> u64 {
        self.rows
    }

    /// Bytes of Arrow memory held by the table's buffers.
    pub fn memory_size(&self) -> u64 {
        self.batches
            .iter()
            .map(|b| b.get_array_memory_size() as u64)
            .sum()
    }

    /// The columns, in order.
    pub fn columns(&self) -> Vec<ColumnInfo> {
        self.schema
            .fields()
            .iter()
            .map(|f| ColumnInfo {
                name: f.name().clone(),
                data_type: f.data_type().to_string(),
                nullable: f.is_nullable(),
            })
            .collect()
    }

    /// The first `limit` rows as a text table for terminals.
    ///
    /// # Errors
    /// [`DataError::Encode`] when a value cannot be displayed.
    pub fn pretty(&self, limit: usize) -> Result<String, DataError> {
        let mut left = limit;
        let mut shown = Vec::new();
        for b in self.batches.iter() {
            if left == 0 {
                break;
            }
            let take = b.num_rows().min(left);
            shown.push(b.slice(0, take));
            left -= take;
        }
        if shown.is_empty() {
            shown.push(RecordBatch::new_empty(self.schema.clone()));
        }
        arrow::util::pretty::pretty_format_batches(&shown)
            .map(|t| t.to_string())
            .map_err(|e| DataError::Encode(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field};

    fn sample(rows: i64) -> Table {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let ids = Int64Array::from_iter_values(0..rows);
        let names =
            StringArray::from_iter((0..rows).map(|i| (i % 2 == 0).then(|| format!("n{i}"))));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(ids), Arc::new(names)]).unwrap();
        Table::new(
            schema,
            vec![
                batch.slice(0, rows as usize / 2),
                batch.slice(rows as usize / 2, rows as usize - rows as usize / 2),
            ],
        )
        .unwrap()
    }

    #[test]
    fn ipc_round_trip_keeps_rows_and_schema() {
        let t = sample(10);
        let back = Table::from_ipc(t.to_ipc(None).unwrap()).unwrap();
        assert_eq!(back.num_rows(), 10);
        assert_eq!(back.columns(), t.columns());
        let head = Table::from_ipc(t.to_ipc(Some(7)).unwrap()).unwrap();
        assert_eq!(head.num_rows(), 7);
    }

    #[test]
    fn ipc_file_round_trip() {
        let t = sample(10);
        let back = Table::from_ipc_file(t.to_ipc_file().unwrap()).unwrap();
        assert_eq!(back.num_rows(), 10);
        assert!(Table::from_ipc_file(b"junk".to_vec()).is_err());
    }

    #[test]
    fn empty_table_round_trips() {
        let back = Table::from_ipc(Table::empty().to_ipc(None).unwrap()).unwrap();
        assert_eq!(back.num_rows(), 0);
        assert!(back.columns().is_empty());
    }

    #[test]
    fn garbage_and_truncated_streams_are_malformed() {
        assert!(matches!(
            Table::from_ipc(b"not arrow at all".to_vec()),
            Err(DataError::MalformedIpc(_))
        ));
        assert!(matches!(
            Table::from_ipc(Vec::new()),
            Err(DataError::MalformedIpc(_))
        ));
        let mut bytes = sample(100).to_ipc(None).unwrap();
        bytes.truncate(bytes.len() / 2);
        assert!(matches!(
            Table::from_ipc(bytes),
            Err(DataError::MalformedIpc(_))
        ));
    }

    #[test]
    fn pretty_shows_first_rows() {
        let text = sample(10).pretty(3).unwrap();
        assert!(text.contains("n0"), "{text}");
        assert!(!text.contains("n4"), "{text}");
    }
}
