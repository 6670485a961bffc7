//! [`Table`]: a handle to an Arrow table owned by the host.

use crate::bindings::weft::block::types::Table as Handle;
use crate::error::{Error, Result};

/// A handle to a host-owned Arrow table. Cheap to pass on; rows are copied into the block only
/// by [`Table::to_ipc`] or, with the `arrow` feature, [`Table::to_batch`].
#[repr(transparent)]
pub struct Table(Handle);

/// One column of a table's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Arrow data type as Arrow displays it.
    pub data_type: String,
    /// Whether the column may hold nulls.
    pub nullable: bool,
}

impl Table {
    pub(crate) fn from_handle(h: Handle) -> Self {
        Table(h)
    }

    pub(crate) fn into_handle(self) -> Handle {
        self.0
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.0
    }

    pub(crate) fn from_borrowed(h: &Handle) -> &Table {
        // SAFETY: `Table` is `repr(transparent)` over `Handle`.
        unsafe { &*(h as *const Handle as *const Table) }
    }

    /// Number of rows.
    ///
    /// ```ignore
    /// ctx.info(format!("{} rows in", inputs.first()?.num_rows()));
    /// ```
    pub fn num_rows(&self) -> u64 {
        self.0.num_rows()
    }

    /// The columns, in order.
    ///
    /// ```ignore
    /// let has_id = table.columns().iter().any(|c| c.name == "id");
    /// ```
    pub fn columns(&self) -> Vec<Column> {
        self.0
            .schema()
            .into_iter()
            .map(|c| Column {
                name: c.name,
                data_type: c.data_type,
                nullable: c.nullable,
            })
            .collect()
    }

    /// Copy the rows (at most `limit`) into the block as an Arrow IPC stream.
    ///
    /// ```ignore
    /// let first_100 = table.to_ipc(Some(100));
    /// ```
    pub fn to_ipc(&self, limit: Option<u64>) -> Vec<u8> {
        self.0.to_ipc(limit)
    }

    /// The rows (at most `limit`) as a JSON array of row objects.
    ///
    /// ```ignore
    /// let json = table.to_json(Some(10))?;
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when a column has no JSON form.
    pub fn to_json(&self, limit: Option<u64>) -> Result<String> {
        self.0.to_json(limit).map_err(Error::from)
    }

    /// A table from a JSON array of row objects; column types follow the values.
    ///
    /// ```ignore
    /// let t = Table::from_json(r#"[{"id": 1, "name": "a"}]"#)?;
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the text is not an array of objects.
    pub fn from_json(rows: &str) -> Result<Table> {
        Handle::from_json(rows).map(Table).map_err(Error::from)
    }

    /// Run SQL over this table, visible as `self`, in the host engine.
    ///
    /// ```ignore
    /// let busy = trips.sql("SELECT * FROM self WHERE passenger_count > 0")?;
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the column or syntax the engine rejected.
    pub fn sql(&self, query: &str) -> Result<Table> {
        sql(query, &[("self", self)])
    }

    /// Hand an Arrow IPC stream to the host as a new table.
    ///
    /// ```ignore
    /// let copy = Table::from_ipc(&table.to_ipc(None))?;
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the bytes are not a valid Arrow IPC stream.
    pub fn from_ipc(bytes: &[u8]) -> Result<Table> {
        Handle::from_ipc(bytes).map(Table).map_err(Error::from)
    }
}

#[cfg(feature = "arrow")]
mod rows {
    use std::sync::Arc;

    use arrow_array::RecordBatch;
    use arrow_ipc::reader::StreamDecoder;
    use arrow_ipc::writer::StreamWriter;
    use arrow_schema::{ArrowError, Schema, SchemaRef};

    use super::Table;
    use crate::error::Result;

    /// Decode an IPC stream, keeping `bytes` as the arrays' backing memory.
    fn decode(bytes: Vec<u8>) -> std::result::Result<(SchemaRef, Vec<RecordBatch>), ArrowError> {
        let mut buffer = arrow_buffer::Buffer::from_vec(bytes);
        let mut decoder = StreamDecoder::new().with_require_alignment(false);
        let mut batches = Vec::new();
        while !buffer.is_empty() {
            if let Some(b) = decoder.decode(&mut buffer)? {
                batches.push(b);
            }
        }
        decoder.finish()?;
        let schema = match (decoder.schema(), batches.first()) {
            (Some(s), _) => s,
            (None, Some(b)) => b.schema(),
            (None, None) => Arc::new(Schema::empty()),
        };
        Ok((schema, batches))
    }

    impl Table {
        /// Copy every row into the block as record batches. The bytes received from the host
        /// become the batches' buffers without another copy.
        ///
        /// ```ignore
        /// let rows: usize = table.to_batches()?.iter().map(|b| b.num_rows()).sum();
        /// ```
        ///
        /// # Errors
        /// [`crate::Error::Failed`] when the host's bytes cannot be decoded.
        pub fn to_batches(&self) -> Result<Vec<RecordBatch>> {
            Ok(decode(self.0.to_ipc(None))?.1)
        }

        /// Copy every row into the block as one record batch.
        ///
        /// ```ignore
        /// let batch = inputs.get("orders")?.to_batch()?;
        /// let ids = batch.column_by_name("id");
        /// ```
        ///
        /// # Errors
        /// [`crate::Error::Failed`] when the host's bytes cannot be decoded.
        pub fn to_batch(&self) -> Result<RecordBatch> {
            let (schema, mut batches) = decode(self.0.to_ipc(None))?;
            if batches.len() == 1 {
                return Ok(batches.pop().expect("one batch"));
            }
            Ok(arrow_select::concat::concat_batches(&schema, &batches)?)
        }

        /// Hand record batches to the host as a new table.
        ///
        /// ```ignore
        /// let out = Table::from_batches(batches[0].schema(), &batches)?;
        /// ```
        ///
        /// # Errors
        /// [`crate::Error::Failed`] when the batches cannot be encoded.
        pub fn from_batches(schema: Arc<Schema>, batches: &[RecordBatch]) -> Result<Table> {
            let size: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
            let mut out = Vec::with_capacity(size + 4096);
            {
                let mut w = StreamWriter::try_new(&mut out, &schema)?;
                for b in batches {
                    w.write(b)?;
                }
                w.finish()?;
            }
            Table::from_ipc(&out)
        }

        /// Hand one record batch to the host as a new table.
        ///
        /// ```ignore
        /// return Table::from_batch(&batch);
        /// ```
        ///
        /// # Errors
        /// [`crate::Error::Failed`] when the batch cannot be encoded.
        pub fn from_batch(batch: &RecordBatch) -> Result<Table> {
            Table::from_batches(batch.schema(), std::slice::from_ref(batch))
        }
    }
}

/// Run SQL over `tables` (each visible under its name) in the host engine (DataFusion), at
/// native speed; the rows never enter the block.
///
/// ```ignore
/// let joined = weft_sdk::sql(
///     "SELECT o.id, c.name FROM orders o JOIN customers c ON o.customer = c.id",
///     &[("orders", inputs.get("orders")?), ("customers", inputs.get("customers")?)],
/// )?;
/// ```
///
/// # Errors
/// [`Error::InvalidInput`] naming the column, table or syntax the engine rejected.
pub fn sql(query: &str, tables: &[(&str, &Table)]) -> Result<Table> {
    let args: Vec<(String, &Handle)> = tables.iter().map(|(n, t)| (n.to_string(), &t.0)).collect();
    crate::bindings::weft::block::compute::sql(query, &args)
        .map(Table)
        .map_err(Error::from)
}

/// What a block function may return as its output: a [`Table`], an `Option<Table>`, a
/// `RecordBatch` (with the `arrow` feature) or `()` for none.
///
/// ```ignore
/// #[exporter]
/// fn export(ctx: &Context, inputs: Inputs) -> Result<()> { Ok(()) }
/// ```
pub trait IntoOutput {
    /// The output table, if any.
    ///
    /// # Errors
    /// When the value cannot be handed to the host.
    fn into_output(self) -> Result<Option<Table>>;
}

impl IntoOutput for Table {
    fn into_output(self) -> Result<Option<Table>> {
        Ok(Some(self))
    }
}

impl IntoOutput for Option<Table> {
    fn into_output(self) -> Result<Option<Table>> {
        Ok(self)
    }
}

/// A sensor's or condition's answer: a one-row table `{"answer": true}`.
impl IntoOutput for bool {
    fn into_output(self) -> Result<Option<Table>> {
        Table::from_json(&format!("[{{\"answer\": {self}}}]")).map(Some)
    }
}

impl IntoOutput for () {
    fn into_output(self) -> Result<Option<Table>> {
        Ok(None)
    }
}

#[cfg(feature = "arrow")]
impl IntoOutput for arrow_array::RecordBatch {
    fn into_output(self) -> Result<Option<Table>> {
        Table::from_batch(&self).map(Some)
    }
}
