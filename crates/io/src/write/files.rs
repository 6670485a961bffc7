//! Tables as files in a folder or object store: parquet (snappy), CSV, NDJSON or Arrow IPC,
//! optionally partitioned Hive-style (`col=value/part-00000.parquet`, the partition columns
//! stored in the folder names, not the files).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, RecordBatch, StringArray};
use arrow::compute::{lexsort_to_indices, partition, take_record_batch, SortColumn};
use arrow::datatypes::{DataType, Schema};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use weft_data::Table;

use super::{written, WriteOptions, WriteSummary};
use crate::context::BlockIo;
use crate::error::{external, IoError};
use crate::location::{Location, StoreKind};
use crate::postgres::IfExists;
use crate::profile::Profile;
use crate::{rt, store};

/// Rows per run of equal partition keys below which a batch is sorted by its keys first.
const MIN_RUN: usize = 16;
/// Most partition folders one write makes.
const MAX_PARTITIONS: usize = 10_000;
/// Uploads in flight at once.
const UPLOADS: usize = 8;
/// Name of a null partition value (Hive's convention).
const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

#[derive(Clone, Copy)]
enum FileFormat {
    Parquet,
    Csv,
    Ndjson,
    Arrow,
}

impl FileFormat {
    fn parse(s: Option<&str>) -> Result<FileFormat, IoError> {
        Ok(match s.unwrap_or("parquet") {
            "parquet" => FileFormat::Parquet,
            "csv" => FileFormat::Csv,
            "ndjson" | "jsonl" => FileFormat::Ndjson,
            "arrow" | "ipc" => FileFormat::Arrow,
            other => {
                return Err(IoError::Invalid(format!(
                    "write options: unknown format `{other}`; valid: parquet, csv, ndjson, arrow"
                )))
            }
        })
    }

    fn ext(self) -> &'static str {
        match self {
            FileFormat::Parquet => "parquet",
            FileFormat::Csv => "csv",
            FileFormat::Ndjson => "ndjson",
            FileFormat::Arrow => "arrow",
        }
    }
}

/// Write `table` under `location`.
pub(super) fn write(
    io: &BlockIo,
    location: &Location,
    profile: Option<&Profile>,
    table: &Table,
    opts: &WriteOptions,
    if_exists: IfExists,
) -> Result<WriteSummary, IoError> {
    let format = FileFormat::parse(opts.format.as_deref())?;
    let (store, base) = open(io, location, profile)?;
    let label = location.to_string();
    let single_file =
        opts.partition_by.is_empty() && base.as_ref().ends_with(&format!(".{}", format.ext()));
    // The files of this write, as (path, batches).
    let parts: Vec<(StorePath, Vec<RecordBatch>)> = if single_file {
        let (_, batches) = partitions(table, &[])?.remove(0);
        vec![(base.clone(), batches)]
    } else {
        let file = match if_exists {
            IfExists::Append => format!("part-{}.{}", unique(), format.ext()),
            _ => format!("part-00000.{}", format.ext()),
        };
        partitions(table, &opts.partition_by)?
            .into_iter()
            .map(|(dirs, batches)| {
                let mut p = base.clone();
                for d in dirs {
                    p = p.join(d.as_str());
                }
                (p.join(file.as_str()), batches)
            })
            .collect()
    };
    if parts.len() > MAX_PARTITIONS {
        return Err(IoError::Invalid(format!(
            "{label}: partition_by makes {} folders; at most {MAX_PARTITIONS} per write",
            parts.len()
        )));
    }
    if single_file && if_exists == IfExists::Append {
        return Err(IoError::Invalid(format!(
            "{label} is one file: `append` adds files to a folder; write to a folder, or use `replace`"
        )));
    }
    // The folder whose record lists what weft wrote: the target, or a single file's parent.
    let folder = if single_file {
        StorePath::from_iter(base.parts().take(base.parts().count().saturating_sub(1)))
    } else {
        base.clone()
    };
    let record = written::record_path(&folder);
    let (existing, ours) = rt::run(async {
        if single_file {
            let here = store.head(&base).await.ok().map(|m| vec![m.location]);
            let ours = written::previous(store.as_ref(), &folder).await;
            return Ok((here.unwrap_or_default(), ours));
        }
        let listed = store
            .list(Some(&base))
            .map_ok(|m| m.location)
            .try_filter(|p| futures::future::ready(*p != record))
            .try_collect::<Vec<_>>()
            .await
            .map_err(|e| external(&label, e))?;
        Ok((listed, written::previous(store.as_ref(), &base).await))
    })?;
    if if_exists == IfExists::Fail && !existing.is_empty() {
        return Err(IoError::Invalid(format!(
            "{label} already holds {} file(s) and if_exists is `fail`; use `replace` or `append`",
            existing.len()
        )));
    }
    // Never overwrite what weft did not write, nor write through a link below the folder.
    for (path, _) in &parts {
        if existing.contains(path) && !ours.contains(path) {
            return Err(IoError::Invalid(format!(
                "{label}: refusing to overwrite {path}, which weft did not write; remove it or write elsewhere"
            )));
        }
        if !written::no_links(location, &base, path) {
            return Err(IoError::Denied(format!(
                "{label}: {path} lies behind a symbolic link; weft does not write through links"
            )));
        }
    }
    // Encode on every core, then upload concurrently, the record of what weft wrote with them.
    let mut encoded = encode_all(&parts, format)?;
    let written: Vec<StorePath> = parts.iter().map(|(p, _)| p.clone()).collect();
    let mut recorded = written.clone();
    if single_file || if_exists == IfExists::Append {
        recorded.extend(ours.iter().filter(|o| existing.contains(o)).cloned());
    }
    let mut uploads = written.clone();
    uploads.push(record.clone());
    encoded.push(written::record_bytes(&folder, &recorded)?);
    let gcs = match location {
        Location::Store {
            kind: StoreKind::Gcs,
            bucket,
            ..
        } => {
            let p = profile.ok_or_else(|| {
                IoError::Invalid("gs:// needs an io profile: pass `profile`".into())
            })?;
            let base = p
                .get("GCS_ENDPOINT")
                .unwrap_or_else(|| "https://storage.googleapis.com".into());
            Some((base, crate::google::token(p)?, bucket.clone()))
        }
        _ => None,
    };
    rt::run(async {
        futures::stream::iter(uploads.into_iter().zip(encoded))
            .map(|(path, bytes)| {
                let store = store.clone();
                let gcs = gcs.clone();
                let http = io.ctx.http.clone();
                let label = label.clone();
                async move {
                    match gcs {
                        Some((base, token, bucket)) => {
                            crate::google::upload(
                                &http,
                                &base,
                                token.as_deref(),
                                &bucket,
                                path.as_ref(),
                                bytes,
                            )
                            .await
                        }
                        None => store
                            .put(&path, PutPayload::from(bytes))
                            .await
                            .map(|_| ())
                            .map_err(|e| external(&label, e)),
                    }
                }
            })
            .buffer_unordered(UPLOADS)
            .try_collect::<Vec<()>>()
            .await?;
        if single_file {
            return Ok(());
        }
        let mut kept = 0;
        if if_exists == IfExists::Replace {
            // Files an earlier write of weft's made here that this one did not overwrite;
            // anything else in the folder is left alone.
            for old in existing.iter().filter(|o| !written.contains(o)) {
                if ours.contains(old) && written::unlinked(location, &base, old) {
                    store.delete(old).await.map_err(|e| external(&label, e))?;
                } else {
                    kept += 1;
                }
            }
        }
        if kept > 0 {
            io.notice(format!(
                "{label}: {kept} file(s) weft did not write there are left in place"
            ));
        }
        Ok(())
    })?;
    let prefix = match location {
        Location::Store {
            kind: StoreKind::Local,
            ..
        } => "local://".to_string(),
        Location::Store {
            kind: StoreKind::S3,
            bucket,
            ..
        } => format!("s3://{bucket}/"),
        Location::Store {
            kind: StoreKind::Gcs,
            bucket,
            ..
        } => format!("gs://{bucket}/"),
        Location::File(_) => "file:///".to_string(),
        Location::Http(_) => String::new(),
    };
    Ok(WriteSummary {
        target: label,
        rows: table.num_rows(),
        files: written.iter().map(|p| format!("{prefix}{p}")).collect(),
    })
}

/// The parquet objects under a `gs://` folder, as `gs://bucket/key` URIs, sorted.
pub(super) fn parquet_objects(
    io: &BlockIo,
    location: &Location,
    profile: &Profile,
) -> Result<Vec<String>, IoError> {
    let Location::Store {
        kind: StoreKind::Gcs,
        bucket,
        path,
    } = location
    else {
        return Err(IoError::Invalid(format!(
            "source `{location}`: BigQuery loads files from a gs:// folder"
        )));
    };
    let store = store::open(&io.ctx, StoreKind::Gcs, bucket, Some(profile))?;
    let prefix = StorePath::from(path.as_str());
    let mut uris: Vec<String> = rt::run(async {
        store
            .list(Some(&prefix))
            .try_collect::<Vec<_>>()
            .await
            .map_err(|e| external(location, e))
    })?
    .into_iter()
    .filter(|m| m.location.as_ref().ends_with(".parquet"))
    .map(|m| format!("gs://{bucket}/{}", m.location))
    .collect();
    uris.sort();
    if uris.is_empty() {
        return Err(IoError::Invalid(format!(
            "source `{location}` holds no parquet files"
        )));
    }
    Ok(uris)
}

fn open(
    io: &BlockIo,
    location: &Location,
    profile: Option<&Profile>,
) -> Result<(Arc<dyn ObjectStore>, StorePath), IoError> {
    match location {
        Location::Store { kind, bucket, path } => {
            let s = store::open(&io.ctx, *kind, bucket, profile)?;
            Ok((s, StorePath::from(path.as_str())))
        }
        Location::File(path) => {
            // Rooted at `/`: no automatic cleanup, which would remove emptied folders above
            // the granted one.
            let fs = object_store::local::LocalFileSystem::new();
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| external(parent.display(), e))?;
            }
            let p = StorePath::from_absolute_path(path).map_err(|e| external(path.display(), e))?;
            Ok((Arc::new(fs), p))
        }
        Location::Http(u) => Err(IoError::Invalid(format!(
            "cannot write to {u}: http(s) is read-only; write to file://, local://, s3:// or gs://"
        ))),
    }
}

fn unique() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}-{:08x}", now.as_millis(), rand::random::<u32>())
}

/// Hive folder names (`col=value`) and the rows that go under them.
type Partition = (Vec<String>, Vec<RecordBatch>);

/// Rows grouped by the values of `by`: (folder names, batches without those columns).
fn partitions(table: &Table, by: &[String]) -> Result<Vec<Partition>, IoError> {
    if by.is_empty() {
        // An empty table still writes its columns: an empty batch carries the schema.
        let batches = match table.batches() {
            [] => vec![RecordBatch::new_empty(table.schema().clone())],
            b => b.to_vec(),
        };
        return Ok(vec![(Vec::new(), batches)]);
    }
    let schema = table.schema();
    let mut idx = Vec::new();
    for c in by {
        idx.push(schema.index_of(c).map_err(|_| {
            IoError::Invalid(format!(
                "partition_by: the table has no column `{c}`; its columns: {}",
                schema
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?);
    }
    if table.num_rows() == 0 {
        return Ok(Vec::new());
    }
    let keep: Vec<usize> = (0..schema.fields().len())
        .filter(|i| !idx.contains(i))
        .collect();
    let data = |e: arrow::error::ArrowError| IoError::Data(e.to_string());
    // Batch by batch, runs of equal keys become slices of their partition: no copy of the
    // table when it comes (mostly) in partition order, as time-ordered data does. A batch
    // whose keys change too often is sorted by them first.
    let mut out: BTreeMap<Vec<String>, Vec<RecordBatch>> = BTreeMap::new();
    for batch in table.batches().iter().filter(|b| b.num_rows() > 0) {
        let runs = |b: &RecordBatch| {
            let keys: Vec<_> = idx.iter().map(|&i| b.column(i).clone()).collect();
            partition(&keys).map(|p| p.ranges())
        };
        let mut batch = batch.clone();
        let mut ranges = runs(&batch).map_err(data)?;
        if ranges.len() * MIN_RUN > batch.num_rows() {
            let sort: Vec<SortColumn> = idx
                .iter()
                .map(|&i| SortColumn {
                    values: batch.column(i).clone(),
                    options: None,
                })
                .collect();
            let order = lexsort_to_indices(&sort, None).map_err(data)?;
            batch = take_record_batch(&batch, &order).map_err(data)?;
            ranges = runs(&batch).map_err(data)?;
        }
        let projected = batch.project(&keep).map_err(data)?;
        for r in ranges {
            let mut dirs = Vec::with_capacity(by.len());
            for (c, &i) in by.iter().zip(&idx) {
                dirs.push(format!("{c}={}", folder_value(batch.column(i), r.start)?));
            }
            out.entry(dirs)
                .or_default()
                .push(projected.slice(r.start, r.end - r.start));
        }
        if out.len() > MAX_PARTITIONS {
            break; // refused by the caller, naming the limit
        }
    }
    Ok(out.into_iter().collect())
}

/// The folder name of partition value `row` of `column`.
fn folder_value(column: &arrow::array::ArrayRef, row: usize) -> Result<String, IoError> {
    if column.is_null(row) {
        return Ok(NULL_PARTITION.to_string());
    }
    let text = arrow::compute::cast(&column.slice(row, 1), &DataType::Utf8)
        .map_err(|e| IoError::Data(e.to_string()))?;
    let text = text
        .as_any()
        .downcast_ref::<StringArray>()
        .map(|t| t.value(0).to_string())
        .unwrap_or_default();
    Ok(escape(&text))
}

/// A partition value safe as one path segment: anything but letters, digits and `-_.:+ `
/// percent-encoded as UTF-8 (as Hive and Spark do), so `a/b` stays one folder.
fn escape(v: &str) -> String {
    /// Bytes that are escaped.
    const UNSAFE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b':')
        .remove(b'+')
        .remove(b' ');
    percent_encoding::utf8_percent_encode(v, UNSAFE).to_string()
}

fn encode_all(
    parts: &[(StorePath, Vec<RecordBatch>)],
    format: FileFormat,
) -> Result<Vec<Bytes>, IoError> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(parts.len().max(1));
    let chunk = parts.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .chunks(chunk)
            .map(|group| {
                s.spawn(move || {
                    group
                        .iter()
                        .map(|(_, b)| encode(b, format))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(parts.len());
        for h in handles {
            out.extend(
                h.join()
                    .map_err(|_| IoError::Data("a file encoder panicked".into()))??,
            );
        }
        Ok(out)
    })
}

/// `table` as one parquet file (snappy), its columns kept when it has no rows.
pub(crate) fn parquet_bytes(table: &Table) -> Result<Bytes, IoError> {
    let (_, batches) = partitions(table, &[])?.remove(0);
    encode(&batches, FileFormat::Parquet)
}

fn encode(batches: &[RecordBatch], format: FileFormat) -> Result<Bytes, IoError> {
    let schema: Arc<Schema> = match batches.first() {
        Some(b) => b.schema(),
        None => Arc::new(Schema::empty()),
    };
    let bad = |e: &dyn std::fmt::Display| IoError::Data(format!("encoding {}: {e}", format.ext()));
    let mut out = Vec::new();
    match format {
        FileFormat::Parquet => {
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build();
            let mut w = ArrowWriter::try_new(&mut out, schema, Some(props)).map_err(|e| bad(&e))?;
            for b in batches {
                w.write(b).map_err(|e| bad(&e))?;
            }
            w.close().map_err(|e| bad(&e))?;
        }
        FileFormat::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            for b in batches {
                w.write(b).map_err(|e| bad(&e))?;
            }
        }
        FileFormat::Ndjson => {
            let mut w = arrow::json::LineDelimitedWriter::new(&mut out);
            for b in batches {
                w.write(b).map_err(|e| bad(&e))?;
            }
            w.finish().map_err(|e| bad(&e))?;
        }
        FileFormat::Arrow => {
            let t = Table::new(schema, batches.to_vec()).map_err(|e| bad(&e))?;
            out = t.to_ipc_file().map_err(|e| bad(&e))?;
        }
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    /// Each partition's rows (as `key:id`), in file order.
    fn grouped(table: &Table, by: &str) -> Vec<(String, Vec<i64>)> {
        partitions(table, &[by.to_string()])
            .unwrap()
            .into_iter()
            .map(|(dirs, batches)| {
                let ids = batches
                    .iter()
                    .flat_map(|b| {
                        let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                        ids.values().to_vec()
                    })
                    .collect();
                (dirs.join("/"), ids)
            })
            .collect()
    }

    fn table(batches: &[&[(i64, Option<&str>)]]) -> Table {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("k", DataType::Utf8, true),
        ]));
        let batches = batches
            .iter()
            .map(|rows| {
                let ids = Int64Array::from(rows.iter().map(|r| r.0).collect::<Vec<_>>());
                let keys = StringArray::from(rows.iter().map(|r| r.1).collect::<Vec<_>>());
                RecordBatch::try_new(schema.clone(), vec![Arc::new(ids), Arc::new(keys)]).unwrap()
            })
            .collect();
        Table::new(schema, batches).unwrap()
    }

    #[test]
    fn ordered_keys_become_slices_and_scattered_keys_are_sorted() {
        // Mostly in key order, with an outlier, across two batches: slices in row order.
        let mut first: Vec<(i64, Option<&str>)> = (0..40).map(|i| (i, Some("a"))).collect();
        first.push((40, Some("c")));
        first.extend((41..80).map(|i| (i, Some("b"))));
        let second: Vec<(i64, Option<&str>)> = (80..120)
            .map(|i| (i, if i < 100 { Some("b") } else { None }))
            .collect();
        let got = grouped(&table(&[&first, &second]), "k");
        assert_eq!(
            got,
            vec![
                ("k=__HIVE_DEFAULT_PARTITION__".into(), (100..120).collect()),
                ("k=a".into(), (0..40).collect()),
                ("k=b".into(), (41..100).collect()),
                ("k=c".into(), vec![40]),
            ]
        );
        // Keys alternating row by row: sorted first, every row still in its partition.
        let scattered: Vec<(i64, Option<&str>)> = (0..100)
            .map(|i| (i, Some(if i % 2 == 0 { "x/y" } else { "z" })))
            .collect();
        let got = grouped(&table(&[&scattered]), "k");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "k=x%2Fy");
        let mut even = got[0].1.clone();
        even.sort_unstable();
        assert_eq!(even, (0..100).step_by(2).collect::<Vec<_>>());
        assert_eq!(got[1].1.len(), 50);
    }
}
