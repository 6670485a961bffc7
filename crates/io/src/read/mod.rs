//! `read`: a file, download or object decoded into a host-owned table, natively.

mod ahead;
mod csv;
mod folder;
mod options;
mod pieces;
mod source;

use std::collections::BTreeMap;
use std::io::{BufReader, Cursor, Read};
use std::sync::Arc;

use object_store::ObjectStore;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use flate2::read::MultiGzDecoder;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use weft_data::Table;

pub use options::{data_type, Format, ReadOptions};
pub(crate) use source::chain;

use crate::context::BlockIo;
use crate::error::{external, IoError};
use crate::location::Location;

/// Default rows per record batch.
const BATCH_ROWS: usize = 65_536;
/// Largest `batch_size` accepted: readers allocate for a whole batch up front.
pub const MAX_BATCH_ROWS: usize = 1 << 20;

impl BlockIo {
    /// Read `uri` into a table. The block must be granted a URL prefix covering it (and the
    /// profile named in the options, if any).
    ///
    /// # Errors
    /// [`IoError::Denied`] naming the grant to add, [`IoError::Invalid`] for bad options,
    /// [`IoError::Data`] naming the line that does not parse, [`IoError::External`] when the
    /// source cannot be reached.
    pub fn read(&self, uri: &str, options: &str) -> Result<Table, IoError> {
        self.redacted(|| self.read_inner(uri, options))
    }

    fn read_inner(&self, uri: &str, options: &str) -> Result<Table, IoError> {
        let opts = ReadOptions::parse(options)?;
        let location = Location::parse(uri, &self.ctx.root)?;
        self.access.location("read", &location)?;
        let profile = match &opts.profile {
            Some(p) => {
                self.access.profile(p)?;
                Some(self.ctx.profiles.get(p)?)
            }
            None => None,
        };
        let table = if folder::is_folder(uri, &location, opts.format.is_some()) {
            folder::read(self, &location, profile, &opts)?
        } else {
            let format = opts.format(&location.file_name())?;
            self.decode(&location, None, profile, format, &opts, &opts.types()?)?
        };
        self.notice(format!(
            "read {} rows × {} columns from {location}",
            table.num_rows(),
            table.schema().fields().len()
        ));
        Ok(table)
    }

    /// Decode one file, download or object at `location` in `format`, with `types` applied;
    /// `object` is the store and key a folder listing found it under.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn decode(
        &self,
        location: &Location,
        object: Option<(&Arc<dyn ObjectStore>, &object_store::path::Path)>,
        profile: Option<&crate::profile::Profile>,
        format: Format,
        opts: &ReadOptions,
        types: &BTreeMap<String, DataType>,
    ) -> Result<Table, IoError> {
        let batch_size = match opts.batch_size {
            None => BATCH_ROWS,
            Some(n) if (1..=MAX_BATCH_ROWS).contains(&n) => n,
            Some(n) => {
                return Err(IoError::Invalid(format!(
                    "read option `batch_size` is {n}; give 1 to {MAX_BATCH_ROWS} rows"
                )))
            }
        };
        let label = location.to_string();
        let open = || match object {
            Some((store, key)) => source::object(store, key, label.clone(), self.progress.clone()),
            None => source::open(
                &self.ctx,
                location,
                profile,
                self.progress.clone(),
                &self.access,
            ),
        };
        let read_all = || source::read_all(open()?, &label);
        let table = match format {
            Format::Csv { gzip } => {
                let opened = open()?;
                let log = |m: String| self.notice(m);
                csv::CsvRead {
                    label: &label,
                    header: opts.header.unwrap_or(true),
                    delimiter: opts.delimiter()?,
                    types: types.clone(),
                    skip_bad_lines: opts.skip_bad_lines()?,
                    batch_size,
                    log: &log,
                }
                .read(maybe_gzip(opened.reader, gzip))?
            }
            Format::Ndjson { gzip } => {
                let opened = open()?;
                ndjson(maybe_gzip(opened.reader, gzip), types, batch_size, &label)?
            }
            Format::Parquet => {
                // Files on disk are read by range, as the decoder asks; others arrive whole.
                let (schema, batches) = match (location, object) {
                    (Location::File(path), None) => {
                        let file = std::fs::File::open(path).map_err(|e| external(&label, e))?;
                        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
                        crate::limits::read(size)?;
                        parquet(file, batch_size, &label)?
                    }
                    _ => parquet(read_all()?, batch_size, &label)?,
                };
                cast(
                    Table::new(schema, batches).map_err(|e| IoError::Data(e.to_string()))?,
                    types,
                    &label,
                )?
            }
            Format::Arrow => {
                let bytes = read_all()?;
                let t = Table::from_ipc_file(bytes.to_vec())
                    .or_else(|_| Table::from_ipc(bytes.to_vec()))
                    .map_err(|e| IoError::Data(format!("{label}: {e}")))?;
                crate::limits::hold(t.memory_size())?;
                cast(t, types, &label)?
            }
        };
        Ok(table)
    }
}

/// Every row group of a parquet file, decoded.
fn parquet<R: parquet::file::reader::ChunkReader + 'static>(
    input: R,
    batch_size: usize,
    label: &str,
) -> Result<(SchemaRef, Vec<arrow::record_batch::RecordBatch>), IoError> {
    let invalid = |e: &dyn std::fmt::Display| {
        IoError::Data(format!("{label}: not a valid parquet file: {e}"))
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(input).map_err(|e| invalid(&e))?;
    // What the file says its data takes once decompressed must fit before decoding starts.
    let unpacked: i64 = builder
        .metadata()
        .row_groups()
        .iter()
        .map(|rg| rg.total_byte_size().max(0))
        .sum();
    crate::limits::fits(unpacked as u64)?;
    let schema = builder.schema().clone();
    let reader = builder
        .with_batch_size(batch_size)
        .build()
        .map_err(|e| invalid(&e))?;
    let batches = held(reader, label)?;
    Ok((schema, batches))
}

fn maybe_gzip(reader: Box<dyn Read + Send>, gzip: bool) -> Box<dyn Read + Send> {
    if gzip {
        // Inflating runs on its own thread, beside the decoding of what it inflated.
        ahead::ReadAhead::start(Box::new(crate::limits::Inflated::new(MultiGzDecoder::new(
            BufReader::with_capacity(1 << 20, reader),
        ))))
    } else {
        reader
    }
}

/// Newline-delimited JSON: types inferred from the first rows, explicit ones applied.
fn ndjson(
    input: Box<dyn Read + Send>,
    types: &BTreeMap<String, DataType>,
    batch_size: usize,
    label: &str,
) -> Result<Table, IoError> {
    let mut input = BufReader::with_capacity(1 << 20, input);
    let mut sample = Vec::new();
    (&mut input)
        .take(1 << 20)
        .read_to_end(&mut sample)
        .map_err(|e| external(label, e))?;
    let cut = match sample.iter().rposition(|&b| b == b'\n') {
        Some(i) => &sample[..=i],
        None => &sample[..],
    };
    let (inferred, _) =
        arrow::json::reader::infer_json_schema(BufReader::new(Cursor::new(cut)), Some(10_000))
            .map_err(|e| IoError::Data(format!("{label}: {e}")))?;
    let schema = with_types(&inferred, types);
    let rows = csv::rows_per_batch(label, schema.fields().len(), batch_size)?;
    let reader = arrow::json::ReaderBuilder::new(schema.clone())
        .with_batch_size(rows)
        .build(BufReader::new(Cursor::new(sample).chain(input)))
        .map_err(|e| IoError::Data(format!("{label}: {e}")))?;
    let batches = held(reader, label)?;
    Table::new(schema, batches).map_err(|e| IoError::Data(e.to_string()))
}

/// Every batch of `reader`, each charged to the current call's memory as it arrives.
fn held<E: std::fmt::Display>(
    reader: impl Iterator<Item = Result<arrow::record_batch::RecordBatch, E>>,
    label: &str,
) -> Result<Vec<arrow::record_batch::RecordBatch>, IoError> {
    let mut batches = Vec::new();
    for b in reader {
        let b = b.map_err(|e| IoError::Data(format!("{label}: {e}")))?;
        crate::limits::hold(b.get_array_memory_size() as u64)?;
        batches.push(b);
    }
    Ok(batches)
}

/// `schema` with the types of the columns named in `types`, every column nullable.
pub(crate) fn with_types(schema: &Schema, types: &BTreeMap<String, DataType>) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let t = types.get(f.name()).unwrap_or(f.data_type());
            Field::new(f.name(), t.clone(), true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Cast the columns named in `types`.
fn cast(table: Table, types: &BTreeMap<String, DataType>, label: &str) -> Result<Table, IoError> {
    if types.is_empty() {
        return Ok(table);
    }
    let schema = table.schema();
    if let Some(name) = types.keys().find(|n| schema.field_with_name(n).is_err()) {
        return Err(IoError::Invalid(format!(
            "{label}: read options give a type for column `{name}`, which the file does not have"
        )));
    }
    table
        .cast_to(with_types(schema, types))
        .map_err(|e| IoError::Data(format!("{label}: {e}")))
}
