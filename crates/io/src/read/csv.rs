//! CSV (optionally gzip) → Arrow, streamed: the schema comes from the first rows and the
//! block's explicit types; rows decode with arrow-csv while the bytes are still arriving. A
//! line that does not parse fails the read naming its line number and column, or is skipped
//! and counted when the block asks for that.

use std::collections::BTreeMap;
use std::io::{BufReader, Cursor, Read};

use arrow::array::RecordBatch;
use arrow::csv::reader::{Decoder, Format as CsvFormat};
use arrow::csv::ReaderBuilder;
use arrow::datatypes::{DataType, Schema, SchemaRef};
use weft_data::Table;

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};
use std::sync::Mutex;

use super::pieces::{Cut, Pieces, MAX_RECORD, PIECE_BYTES};
use crate::error::IoError;

/// Charge a decoded batch to the current call's memory (see [`crate::limits`]).
fn held(batch: Option<&RecordBatch>) -> Result<(), IoError> {
    match batch {
        Some(b) => Ok(crate::limits::hold(b.get_array_memory_size() as u64)?),
        None => Ok(()),
    }
}

/// Most columns a file may have.
pub(crate) const MAX_COLUMNS: usize = 10_000;
/// Bytes a decoder may set aside for one batch (columns × rows × 16 bytes): wide files get
/// fewer rows per batch.
const BATCH_BYTES: usize = 256 << 20;

/// Rows per batch for `columns` columns: at most `wanted`, fewer for wide files.
pub(crate) fn rows_per_batch(label: &str, columns: usize, wanted: usize) -> Result<usize, IoError> {
    if columns > MAX_COLUMNS {
        return Err(IoError::Data(format!(
            "{label}: {columns} columns; at most {MAX_COLUMNS} can be read"
        )));
    }
    Ok(wanted.min(BATCH_BYTES / (columns.max(1) * 16)).max(1))
}

/// Bytes read ahead to infer column types.
const SAMPLE_BYTES: usize = 1 << 20;
/// Rows looked at to infer column types.
const INFER_ROWS: usize = 10_000;
/// Bad lines shown in the log when they are skipped.
const SHOWN_BAD_LINES: usize = 5;

/// How to decode one CSV stream.
pub(crate) struct CsvRead<'a> {
    /// Shown in messages (the URL or path).
    pub(crate) label: &'a str,
    pub(crate) header: bool,
    pub(crate) delimiter: u8,
    pub(crate) types: BTreeMap<String, DataType>,
    pub(crate) skip_bad_lines: bool,
    pub(crate) batch_size: usize,
    /// Receives notices (skipped lines).
    pub(crate) log: &'a dyn Fn(String),
}

impl CsvRead<'_> {
    /// Decode every row of `input`: cut into pieces on record boundaries, decoded side by
    /// side on [`workers`] threads and put back in order.
    pub(crate) fn read(&self, input: Box<dyn Read + Send>) -> Result<Table, IoError> {
        self.read_in_pieces(input, PIECE_BYTES)
    }

    fn read_in_pieces(&self, input: Box<dyn Read + Send>, piece: usize) -> Result<Table, IoError> {
        let mut input = BufReader::with_capacity(1 << 20, input);
        let sample = self.sample(&mut input)?;
        let schema = self.schema(&sample)?;
        let batch_rows = rows_per_batch(self.label, schema.fields().len(), self.batch_size)?;
        let mut pieces = Pieces::new(Cursor::new(sample).chain(input), self.delimiter, piece);
        let mut got = Collected {
            schema: schema.clone(),
            batches: Vec::new(),
            bad: BadLines::default(),
            lines_before: Vec::new(),
        };
        let (jobs, queue) = sync_channel::<Job>(workers());
        let queue = Mutex::new(queue);
        let (finished, done) = channel::<Done>();
        std::thread::scope(|scope| -> Result<(), IoError> {
            for _ in 0..workers() {
                let (queue, finished) = (&queue, finished.clone());
                let (schema, delimiter, header) = (schema.clone(), self.delimiter, self.header);
                let decoder =
                    move |first: bool| new_decoder(&schema, first && header, delimiter, batch_rows);
                std::thread::Builder::new()
                    .name("weft-csv-decode".into())
                    .spawn_scoped(scope, move || decode_jobs(queue, &finished, decoder))
                    .map_err(|e| {
                        IoError::External(format!("{}: no decoding thread: {e}", self.label))
                    })?;
            }
            drop(finished);
            let mut order = InOrder::default();
            let mut lines = 0usize;
            loop {
                let bytes = match pieces.next_piece() {
                    Ok(Some(b)) => b,
                    Ok(None) => break,
                    Err(Cut::Io(e)) => return Err(self.io(e)),
                    Err(Cut::Unterminated) => {
                        return Err(IoError::Data(format!(
                            "{}: more than {} MiB without the end of a record after line {lines}: is a quote left open?",
                            self.label,
                            MAX_RECORD >> 20
                        )))
                    }
                };
                got.lines_before.push(lines);
                lines += newlines(&bytes);
                let index = got.lines_before.len() - 1;
                if jobs.send(Job { index, bytes }).is_err() {
                    break; // a worker died: its pieces are missing below
                }
                for d in done.try_iter() {
                    order.add(d, |d| self.take(&mut got, d))?;
                }
            }
            drop(jobs);
            while order.next < got.lines_before.len() {
                let d = done.recv().map_err(|_| {
                    IoError::External(format!("{}: a decoding thread stopped", self.label))
                })?;
                order.add(d, |d| self.take(&mut got, d))?;
            }
            Ok(())
        })?;
        if got.bad.count > 0 {
            (self.log)(format!(
                "{}: skipped {} bad line(s) (first at line {})",
                self.label, got.bad.count, got.bad.first
            ));
        }
        Table::new(schema, got.batches).map_err(|e| IoError::Data(e.to_string()))
    }

    /// Keep a decoded piece, or go through a piece that did not decode record by record.
    fn take(&self, got: &mut Collected, done: Done) -> Result<(), IoError> {
        match done.decoded {
            Ok(batches) => {
                for b in batches {
                    held(Some(&b))?;
                    got.batches.push(b);
                }
            }
            Err(bytes) => {
                let before = got.lines_before[done.index];
                let header = self.header && done.index == 0;
                let slow = self.slow(
                    &got.schema,
                    Cursor::new(bytes),
                    before,
                    header,
                    &mut got.bad,
                )?;
                got.batches.extend(slow);
            }
        }
        Ok(())
    }

    fn decoder(&self, schema: &SchemaRef, header: bool, rows: usize) -> Decoder {
        new_decoder(schema, header, self.delimiter, rows)
    }

    fn io(&self, e: std::io::Error) -> IoError {
        match e.kind() {
            std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => IoError::Data(
                format!("{}: {e} (is it really gzip-compressed CSV?)", self.label),
            ),
            _ => IoError::External(format!("{}: {e}", self.label)),
        }
    }

    /// The first bytes, up to a line end, for type inference.
    fn sample(&self, input: &mut impl Read) -> Result<Vec<u8>, IoError> {
        let mut sample = Vec::with_capacity(SAMPLE_BYTES);
        input
            .take(SAMPLE_BYTES as u64)
            .read_to_end(&mut sample)
            .map_err(|e| self.io(e))?;
        Ok(sample)
    }

    /// Inferred types, overridden by the explicit ones; every column nullable.
    fn schema(&self, sample: &[u8]) -> Result<SchemaRef, IoError> {
        let whole = match sample.iter().rposition(|&b| b == b'\n') {
            Some(i) if sample.len() == SAMPLE_BYTES => &sample[..=i],
            _ => sample,
        };
        if whole.is_empty() {
            return Err(IoError::Data(format!("{}: the file is empty", self.label)));
        }
        // Infer from well-formed records only: a broken line is reported when it is read.
        let mut records = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .from_reader(whole);
        let mut clean = Vec::with_capacity(whole.len());
        let mut width = None;
        let mut record = csv::ByteRecord::new();
        let mut seen = 0;
        while seen <= INFER_ROWS && records.read_byte_record(&mut record).unwrap_or(false) {
            let w = *width.get_or_insert(record.len());
            if record.len() == w {
                clean.extend_from_slice(&encode(&record, self.delimiter));
                seen += 1;
            }
        }
        let (inferred, _) = CsvFormat::default()
            .with_header(self.header)
            .with_delimiter(self.delimiter)
            .infer_schema(Cursor::new(clean), Some(INFER_ROWS))
            .map_err(|e| IoError::Data(format!("{}: cannot read the header: {e}", self.label)))?;
        let names: Vec<&str> = inferred
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        if let Some(missing) = self.types.keys().find(|k| !names.contains(&k.as_str())) {
            return Err(IoError::Invalid(format!(
                "{}: read options give a type for column `{missing}`, which the file does not have; its columns: {}",
                self.label,
                names.join(", ")
            )));
        }
        Ok(super::with_types(&inferred, &self.types))
    }

    /// Record by record from `input`: bad lines fail the read or are skipped.
    fn slow(
        &self,
        schema: &SchemaRef,
        input: impl Read,
        lines_before: usize,
        skip_header: bool,
        bad: &mut BadLines,
    ) -> Result<Vec<RecordBatch>, IoError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .from_reader(input);
        let columns = schema.fields().len();
        let mut out = Vec::new();
        let mut chunk: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut record = csv::ByteRecord::new();
        let mut first = skip_header;
        loop {
            let more = reader.read_byte_record(&mut record).map_err(|e| {
                IoError::Data(format!(
                    "{}: line {}: {e}",
                    self.label,
                    lines_before + e.position().map_or(0, |p| p.line() as usize)
                ))
            })?;
            if !more {
                break;
            }
            let line = lines_before + record.position().map_or(0, |p| p.line() as usize);
            if first {
                first = false;
                continue;
            }
            if record.len() != columns {
                let reason = format!("expected {columns} fields, found {}", record.len());
                self.bad(bad, line, reason)?;
                continue;
            }
            chunk.push((line, encode(&record, self.delimiter)));
            if chunk.len() >= rows_per_batch(self.label, columns, self.batch_size)? {
                let b = self.decode_chunk(schema, &mut chunk, bad)?;
                held(b.as_ref())?;
                out.extend(b);
            }
        }
        let b = self.decode_chunk(schema, &mut chunk, bad)?;
        held(b.as_ref())?;
        out.extend(b);
        Ok(out)
    }

    /// Decode whole records; when the batch fails, find and handle the bad ones.
    fn decode_chunk(
        &self,
        schema: &SchemaRef,
        chunk: &mut Vec<(usize, Vec<u8>)>,
        bad: &mut BadLines,
    ) -> Result<Option<RecordBatch>, IoError> {
        if chunk.is_empty() {
            return Ok(None);
        }
        let bytes: Vec<u8> = chunk.iter().flat_map(|(_, b)| b.iter().copied()).collect();
        let rows = rows_per_batch(self.label, schema.fields().len(), self.batch_size)?;
        if let Ok(Some(b)) = decode_all(&mut self.decoder(schema, false, rows), &bytes) {
            chunk.clear();
            return Ok(Some(b));
        }
        let mut good = Vec::with_capacity(chunk.len());
        for (line, rec) in chunk.drain(..) {
            match decode_all(&mut self.decoder(schema, false, 1), &rec) {
                Ok(Some(b)) => good.push(b),
                Ok(None) => {}
                Err(e) => self.bad(bad, line, explain(&e.to_string(), schema))?,
            }
        }
        if good.is_empty() {
            return Ok(None);
        }
        arrow::compute::concat_batches(schema, &good)
            .map(Some)
            .map_err(|e| IoError::Data(e.to_string()))
    }

    fn bad(&self, bad: &mut BadLines, line: usize, reason: String) -> Result<(), IoError> {
        if !self.skip_bad_lines {
            return Err(IoError::Data(format!(
                "{}: line {line}: {reason} (pass on_bad_lines: skip to drop such lines)",
                self.label
            )));
        }
        if bad.count == 0 {
            bad.first = line;
        }
        bad.count += 1;
        if bad.count <= SHOWN_BAD_LINES {
            (self.log)(format!("{}: skipping line {line}: {reason}", self.label));
        }
        Ok(())
    }
}

#[derive(Default)]
struct BadLines {
    count: usize,
    first: usize,
}

/// Decoding threads: one per core, at most [`MAX_WORKERS`].
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, MAX_WORKERS))
}

/// Most decoding threads of one read.
const MAX_WORKERS: usize = 8;

/// A piece to decode, and its place in the file.
struct Job {
    index: usize,
    bytes: Vec<u8>,
}

/// A piece decoded, or handed back whole when a record in it did not decode.
struct Done {
    index: usize,
    decoded: Result<Vec<RecordBatch>, Vec<u8>>,
}

/// What a read has put together so far.
struct Collected {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    bad: BadLines,
    /// Lines before each piece handed out.
    lines_before: Vec<usize>,
}

/// Finished pieces, handed on in file order.
#[derive(Default)]
struct InOrder {
    next: usize,
    waiting: BTreeMap<usize, Done>,
}

impl InOrder {
    fn add(
        &mut self,
        done: Done,
        mut take: impl FnMut(Done) -> Result<(), IoError>,
    ) -> Result<(), IoError> {
        self.waiting.insert(done.index, done);
        while let Some(d) = self.waiting.remove(&self.next) {
            take(d)?;
            self.next += 1;
        }
        Ok(())
    }
}

/// An arrow-csv decoder of `rows`-row batches.
fn new_decoder(schema: &SchemaRef, header: bool, delimiter: u8, rows: usize) -> Decoder {
    ReaderBuilder::new(schema.clone())
        .with_header(header)
        .with_delimiter(delimiter)
        .with_batch_size(rows)
        .build_decoder()
}

/// Decode pieces from `queue` until it closes; `decoder(true)` for the first piece (index 0),
/// which may start with the header.
fn decode_jobs(
    queue: &Mutex<Receiver<Job>>,
    finished: &Sender<Done>,
    decoder: impl Fn(bool) -> Decoder,
) {
    loop {
        let job = match queue.lock() {
            Ok(q) => q.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let mut d = decoder(job.index == 0);
        let decoded = decode_piece(&mut d, &job.bytes).map_err(|_| job.bytes);
        if finished
            .send(Done {
                index: job.index,
                decoded,
            })
            .is_err()
        {
            return;
        }
    }
}

/// Every row of one piece, in batches of the decoder's size.
fn decode_piece(
    decoder: &mut Decoder,
    bytes: &[u8],
) -> Result<Vec<RecordBatch>, arrow::error::ArrowError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let n = decoder.decode(&bytes[at..])?;
        at += n;
        if decoder.capacity() == 0 {
            out.extend(decoder.flush()?);
        } else if n == 0 {
            break;
        }
    }
    decoder.decode(&[])?;
    out.extend(decoder.flush()?);
    Ok(out)
}

fn decode_all(
    decoder: &mut Decoder,
    bytes: &[u8],
) -> Result<Option<RecordBatch>, arrow::error::ArrowError> {
    let mut at = 0;
    while at < bytes.len() {
        let n = decoder.decode(&bytes[at..])?;
        if n == 0 {
            break;
        }
        at += n;
    }
    decoder.decode(&[])?;
    decoder.flush()
}

/// One record as a CSV line.
fn encode(record: &csv::ByteRecord, delimiter: u8) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_byte_record(record);
    w.into_inner().unwrap_or_default()
}

/// arrow-csv's parse error as "column `x`: cannot parse `v` as T".
fn explain(message: &str, schema: &Schema) -> String {
    let value = message
        .split_once("value '")
        .and_then(|(_, r)| r.split_once("' as type"))
        .map(|(v, _)| v);
    let column = message
        .split_once("for column ")
        .and_then(|(_, r)| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|d| d.parse::<usize>().ok())
        .and_then(|i| schema.fields().get(i));
    match (value, column) {
        (Some(v), Some(f)) => format!(
            "column `{}`: cannot parse `{v}` as {}; give the column another type with `dtype`",
            f.name(),
            f.data_type()
        ),
        _ => message
            .split(". Row data")
            .next()
            .unwrap_or(message)
            .to_string(),
    }
}

fn newlines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn read(text: &str, skip: bool, batch: usize) -> (Result<Table, IoError>, Vec<String>) {
        let whole = read_cut(text, skip, batch, PIECE_BYTES);
        // The same read cut into many small pieces must come out the same.
        let cut = read_cut(text, skip, batch, 97);
        match (&whole.0, &cut.0) {
            (Ok(a), Ok(b)) => assert_eq!(a.pretty(usize::MAX).ok(), b.pretty(usize::MAX).ok()),
            (a, b) => assert_eq!(
                a.as_ref().map(|_| ()).map_err(|e| e.to_string()),
                b.as_ref().map(|_| ()).map_err(|e| e.to_string())
            ),
        }
        assert_eq!(whole.1, cut.1, "the same notices");
        whole
    }

    fn read_cut(
        text: &str,
        skip: bool,
        batch: usize,
        piece: usize,
    ) -> (Result<Table, IoError>, Vec<String>) {
        let logs = RefCell::new(Vec::new());
        let log = |m: String| logs.borrow_mut().push(m);
        let types = BTreeMap::from([("n".to_string(), DataType::Int64)]);
        let r = CsvRead {
            label: "t.csv",
            header: true,
            delimiter: b',',
            types,
            skip_bad_lines: skip,
            batch_size: batch,
            log: &log,
        }
        .read_in_pieces(Box::new(Cursor::new(text.as_bytes().to_vec())), piece);
        (r, logs.into_inner())
    }

    #[test]
    fn rows_decode_across_batches() {
        let mut text = String::from("n,name\n");
        for i in 0..1000 {
            text.push_str(&format!("{i},\"x,{i}\"\n"));
        }
        let (t, _) = read(&text, false, 64);
        let t = t.unwrap();
        assert_eq!(t.num_rows(), 1000);
        assert_eq!(t.columns()[1].data_type, "Utf8");
    }

    #[test]
    fn a_bad_value_names_its_line_and_column() {
        let mut text = String::from("n,name\n");
        for i in 0..300 {
            text.push_str(&format!("{i},a\n"));
        }
        text.push_str("oops,b\n1,c\n");
        let (t, _) = read(&text, false, 64);
        let e = t.unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv: line 302: column `n`: cannot parse `oops` as Int64"),
            "{e}"
        );
        let (t, logs) = read(&text, true, 64);
        assert_eq!(t.unwrap().num_rows(), 301);
        assert!(
            logs.iter()
                .any(|l| l.contains("skipped 1 bad line(s) (first at line 302)")),
            "{logs:?}"
        );
    }

    #[test]
    fn a_short_line_names_its_line() {
        let text = "n,name\n1,a\n2\n3,c\n";
        let (t, _) = read(text, false, 64);
        let e = t.unwrap_err().to_string();
        assert!(e.contains("line 3: expected 2 fields, found 1"), "{e}");
        let (t, _) = read(text, true, 64);
        assert_eq!(t.unwrap().num_rows(), 2);
    }

    #[test]
    fn unknown_typed_columns_list_the_real_ones() {
        let logs = |_: String| {};
        let r = CsvRead {
            label: "t.csv",
            header: true,
            delimiter: b',',
            types: BTreeMap::from([("m".to_string(), DataType::Int64)]),
            skip_bad_lines: false,
            batch_size: 10,
            log: &logs,
        }
        .read(Box::new(Cursor::new(b"n,name\n1,a\n".to_vec())));
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains("column `m`") && e.contains("its columns: n, name"),
            "{e}"
        );
    }

    #[test]
    fn quoted_line_feeds_survive_small_pieces() {
        let mut text = String::from("n,name\n");
        for i in 0..500 {
            text.push_str(&format!("{i},\"line\n{i}, \"\"q\"\"\"\n"));
        }
        let (t, _) = read(&text, false, 50);
        let t = t.unwrap();
        assert_eq!(t.num_rows(), 500);
        let all = arrow::compute::concat_batches(t.schema(), t.batches()).unwrap();
        let names = all
            .column(1)
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        assert_eq!(names.value(499), "line\n499, \"q\"");
    }

    #[test]
    fn bad_lines_in_many_pieces_are_counted_once() {
        let mut text = String::from("n,name\n");
        for i in 0..2000 {
            let n = if i % 500 == 7 {
                "bad".to_string()
            } else {
                i.to_string()
            };
            text.push_str(&format!("{n},x\n"));
        }
        let (t, _) = read_cut(&text, false, 64, 97);
        let e = t.unwrap_err().to_string();
        assert!(e.starts_with("t.csv: line 9: column `n`"), "{e}");
        let (t, logs) = read_cut(&text, true, 64, 97);
        assert_eq!(t.unwrap().num_rows(), 1996);
        let summaries: Vec<_> = logs.iter().filter(|l| l.contains("skipped")).collect();
        assert_eq!(
            summaries,
            ["t.csv: skipped 4 bad line(s) (first at line 9)"]
        );
    }
}
