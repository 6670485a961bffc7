//! Folder reads: every data file under a folder or object prefix as one table, with Hive
//! partition folders (`tpep_pickup_date=2021-01-01/part-00000.parquet`) turned back into
//! columns — what `write(..., partition_by=[...])` wrote, or Spark, or BigQuery's exports.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use arrow::array::{new_null_array, Array, ArrayRef, StringArray};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use futures::TryStreamExt;
use object_store::path::Path as ObjPath;
use object_store::ObjectStore;
use percent_encoding::percent_decode_str;
use weft_data::Table;

use super::options::{Format, ReadOptions};
use crate::context::BlockIo;
use crate::error::{external, IoError};
use crate::location::Location;
use crate::profile::Profile;
use crate::{rt, store};

/// Files of one folder read decoded at once, at most.
const MAX_WORKERS: usize = 8;

/// Name of a null partition value (Hive's convention).
const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Whether `uri` names a folder rather than one file: it ends in `/`, is a directory on disk,
/// or is an object prefix whose last segment has no extension (`gs://lake/trips`) when no
/// `format` is given (with one, an object without extension is read as a file).
pub(super) fn is_folder(uri: &str, location: &Location, format_given: bool) -> bool {
    match location {
        Location::Http(_) => false,
        _ if uri.ends_with('/') => true,
        Location::File(p) => p.is_dir(),
        Location::Store { path, .. } => {
            !format_given && !path.rsplit('/').next().unwrap_or("").contains('.')
        }
    }
}

/// Casts that fail rather than turn a value they cannot convert into null.
const STRICT: CastOptions<'static> = CastOptions {
    safe: false,
    format_options: arrow::util::display::FormatOptions::new(),
};

/// One data file of a folder: where it is, its format and its partition values.
struct Part {
    location: Location,
    /// The store and key of a listed object (keys are used as listed, never re-encoded).
    object: Option<(Arc<dyn ObjectStore>, ObjPath)>,
    format: Format,
    keys: Vec<(String, Option<String>)>,
}

/// Read every data file under `folder` into one table.
///
/// # Errors
/// [`IoError::Data`] when the folder holds no data files, mixes formats, or its files
/// disagree on columns (both files are named); the errors of reading each file.
pub(super) fn read(
    io: &BlockIo,
    folder: &Location,
    profile: Option<&Profile>,
    opts: &ReadOptions,
) -> Result<Table, IoError> {
    let label = folder.to_string();
    let parts = parts(io, folder, profile, opts)?;
    let types = opts.types()?;
    let key_names: Vec<String> = parts[0].keys.iter().map(|(k, _)| k.clone()).collect();
    for p in &parts {
        if p.keys.iter().map(|(k, _)| k).ne(key_names.iter()) {
            return Err(IoError::Data(format!(
                "{label}: `{}` is partitioned by [{}], other files by [{}]",
                p.location,
                joined(p.keys.iter().map(|(k, _)| k)),
                joined(key_names.iter())
            )));
        }
    }
    let key_types: Vec<DataType> = key_names
        .iter()
        .enumerate()
        .map(|(i, k)| match types.get(k) {
            Some(t) => t.clone(),
            None => infer(parts.iter().filter_map(|p| p.keys[i].1.as_deref())),
        })
        .collect();
    let file_types: BTreeMap<String, DataType> = types
        .into_iter()
        .filter(|(k, _)| !key_names.contains(k))
        .collect();

    let mut target: Option<(SchemaRef, String)> = None;
    let mut batches = Vec::new();
    let tables = decode_all(io, &parts, profile, opts, &file_types)?;
    // Each file column's type, widened over every file (1 in one, 1.5 in another: Float64).
    let widened: Vec<DataType> = (0..tables[0].schema().fields().len())
        .map(|i| {
            tables
                .iter()
                .filter_map(|t| t.schema().fields().get(i).map(|f| f.data_type().clone()))
                .reduce(|a, b| widen(&a, &b))
                .unwrap_or(DataType::Null)
        })
        .collect();
    for (part, table) in parts.iter().zip(tables) {
        let shown = part.location.to_string();
        let mut fields: Vec<Field> = table
            .schema()
            .fields()
            .iter()
            .map(|f| (**f).clone())
            .collect();
        for (name, t) in key_names.iter().zip(&key_types) {
            if fields.iter().any(|f| f.name() == name) {
                return Err(IoError::Data(format!(
                    "{shown}: column `{name}` is both in the file and a partition folder"
                )));
            }
            fields.push(Field::new(name, t.clone(), true));
        }
        let (schema, first) = target.get_or_insert_with(|| {
            let all_nullable = fields.iter().enumerate().map(|(i, f)| {
                let t = widened.get(i).unwrap_or(f.data_type()).clone();
                f.clone().with_data_type(t).with_nullable(true)
            });
            (
                Arc::new(Schema::new(all_nullable.collect::<Vec<_>>())),
                shown.clone(),
            )
        });
        let theirs = schema.fields().iter().map(|f| f.name());
        if fields.iter().map(|f| f.name()).ne(theirs.clone()) {
            return Err(IoError::Data(format!(
                "{label}: `{shown}` has the columns [{}], `{first}` has [{}]",
                joined(fields.iter().map(|f| f.name())),
                joined(theirs)
            )));
        }
        for b in table.batches() {
            let mut columns: Vec<ArrayRef> = b.columns().to_vec();
            for ((name, value), t) in part.keys.iter().zip(&key_types) {
                columns.push(
                    constant(value.as_deref(), t, b.num_rows())
                        .map_err(|e| IoError::Data(format!("{shown}: partition `{name}`: {e}")))?,
                );
            }
            let columns = columns
                .iter()
                .zip(schema.fields())
                .map(|(c, f)| cast_with_options(c, f.data_type(), &STRICT))
                .collect::<Result<Vec<_>, _>>()
                .and_then(|cols| RecordBatch::try_new(schema.clone(), cols))
                .map_err(|e| {
                    IoError::Data(format!("{label}: `{shown}` does not match `{first}`: {e}"))
                })?;
            batches.push(columns);
        }
    }
    let (schema, _) = target.expect("a folder read has at least one part");
    Table::new(schema, batches).map_err(|e| IoError::Data(format!("{label}: {e}")))
}

/// A type holding values of both `a` and `b`: the same type, the wider number, else text.
fn widen(a: &DataType, b: &DataType) -> DataType {
    match (a, b) {
        _ if a == b => a.clone(),
        (DataType::Null, t) | (t, DataType::Null) => t.clone(),
        _ if a.is_integer() && b.is_integer() => DataType::Int64,
        _ if a.is_numeric() && b.is_numeric() => DataType::Float64,
        _ => DataType::Utf8,
    }
}

/// Names as `a, b, c`.
fn joined<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names.map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// Decode every part, several at once (downloads overlap and decoding uses every core), in
/// order; the first part that fails (by position) is the error.
fn decode_all(
    io: &BlockIo,
    parts: &[Part],
    profile: Option<&Profile>,
    opts: &ReadOptions,
    types: &BTreeMap<String, DataType>,
) -> Result<Vec<Table>, IoError> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, MAX_WORKERS)
        .min(parts.len());
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    // The decoding threads work for this call: its limits are theirs.
    let meter = crate::limits::current();
    let one = |part: &Part| {
        let object = part.object.as_ref().map(|(s, k)| (s, k));
        let decode = || io.decode(&part.location, object, profile, part.format, opts, types);
        match &meter {
            Some(m) => m.scope(decode),
            None => decode(),
        }
    };
    let mut done: Vec<(usize, Result<Table, IoError>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(part) = parts.get(i) else { break };
                        let result = one(part);
                        if result.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        out.push((i, result));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    if done.len() < parts.len() && !done.iter().any(|(_, r)| r.is_err()) {
        return Err(IoError::External(format!(
            "{}: a reader thread stopped unexpectedly",
            parts[0].location
        )));
    }
    done.into_iter().map(|(_, r)| r).collect()
}

/// The data files under `folder`, sorted by path; hidden and bookkeeping files (`.x`, `_SUCCESS`)
/// and files whose format is not the read's are left out.
fn parts(
    io: &BlockIo,
    folder: &Location,
    profile: Option<&Profile>,
    opts: &ReadOptions,
) -> Result<Vec<Part>, IoError> {
    let label = folder.to_string();
    // (location, the listed object if any, names of its path relative to the folder as found)
    type Found = (
        Location,
        Option<(Arc<dyn ObjectStore>, ObjPath)>,
        Vec<String>,
    );
    // Layers of percent-encoding on partition names: the writer's own, then object_store's
    // (which also names files on disk that way).
    let layers = 2;
    let found: Vec<Found> = match folder {
        Location::File(dir) => {
            let mut out = Vec::new();
            walk(dir, dir, &mut out).map_err(|e| external(&label, e))?;
            // Every file is checked like a file read on its own: weft's own files under a
            // granted folder (a configured output folder, say) are left out.
            out.into_iter()
                .map(|(path, rel)| (Location::File(path), None, rel))
                .filter(|(l, _, _)| io.access.location("read", l).is_ok())
                .collect()
        }
        Location::Store { kind, bucket, path } => {
            let s = store::open(&io.ctx, *kind, bucket, profile)?;
            let prefix = ObjPath::from(path.as_str());
            let listed = rt::run(async {
                s.list(Some(&prefix))
                    .try_collect::<Vec<_>>()
                    .await
                    .map_err(|e| external(&label, e))
            })?;
            listed
                .into_iter()
                .map(|m| {
                    let rel: Vec<String> = m
                        .location
                        .prefix_match(&prefix)
                        .map(|parts| parts.map(|p| p.as_ref().to_string()).collect())
                        .unwrap_or_default();
                    let location = Location::Store {
                        kind: *kind,
                        bucket: bucket.clone(),
                        path: m.location.to_string(),
                    };
                    (location, Some((s.clone(), m.location)), rel)
                })
                .collect()
        }
        Location::Http(u) => {
            return Err(IoError::Invalid(format!(
                "{u}: http(s) has no folders; name a file"
            )))
        }
    };
    let wanted = match &opts.format {
        Some(_) => Some(opts.format("")?),
        None => None,
    };
    let mut parts: Vec<Part> = Vec::new();
    for (location, object, rel) in found {
        let segments: Vec<&str> = rel
            .iter()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .collect();
        let Some((name, dirs)) = segments.split_last() else {
            continue;
        };
        let hidden = |s: &&str| (s.starts_with('.') || s.starts_with('_')) && !s.contains('=');
        if hidden(name) || dirs.iter().any(hidden) {
            continue;
        }
        let Ok(format) = ReadOptions::default().format(name) else {
            continue;
        };
        if wanted.is_some_and(|w| w != format) {
            continue;
        }
        if let Some(first) = parts.first() {
            if first.format != format {
                return Err(IoError::Data(format!(
                    "{label} mixes formats: `{}` and `{location}`; pass `format` to read one of them",
                    first.location
                )));
            }
        }
        let keys = dirs
            .iter()
            .filter_map(|d| d.split_once('='))
            .map(|(k, v)| {
                let v = decode(v, layers);
                (decode(k, layers), (v != NULL_PARTITION).then_some(v))
            })
            .collect();
        parts.push(Part {
            location,
            object,
            format,
            keys,
        });
    }
    if parts.is_empty() {
        return Err(IoError::Data(format!(
            "{label} holds no data files (csv, ndjson, parquet, arrow)"
        )));
    }
    parts.sort_by_key(|p| p.location.to_string());
    Ok(parts)
}

/// Most files one folder read takes.
const MAX_FILES: usize = 100_000;

/// Files under `dir`, recursively, links not followed: (path, names of its path relative to
/// `base`).
fn walk(
    base: &Path,
    dir: &Path,
    out: &mut Vec<(std::path::PathBuf, Vec<String>)>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        crate::limits::check().map_err(crate::limits::io_error)?;
        if out.len() >= MAX_FILES {
            return Err(std::io::Error::other(format!(
                "more than {MAX_FILES} files under the folder; read a narrower one"
            )));
        }
        // Links are not followed: they could lead outside the granted folder, or loop.
        if entry.file_type()?.is_symlink() {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk(base, &path, out)?;
        } else {
            let rel = path
                .strip_prefix(base)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((path, rel));
        }
    }
    Ok(())
}

/// Undo `layers` of percent-encoding (text without `%` comes back as it was).
fn decode(s: &str, layers: usize) -> String {
    let mut text = s.to_string();
    for _ in 0..layers {
        if !text.contains('%') {
            break;
        }
        text = percent_decode_str(&text).decode_utf8_lossy().into_owned();
    }
    text
}

/// The narrowest type every partition value parses as: Int64, Float64, Date32, else Utf8.
fn infer<'a>(values: impl Iterator<Item = &'a str> + Clone) -> DataType {
    let all: StringArray = values.map(Some).collect();
    for t in [DataType::Int64, DataType::Float64, DataType::Date32] {
        if !all.is_empty() && cast_with_options(&all, &t, &STRICT).is_ok() {
            return t;
        }
    }
    DataType::Utf8
}

/// `rows` copies of a partition value as a column of type `t`.
fn constant(value: Option<&str>, t: &DataType, rows: usize) -> Result<ArrayRef, String> {
    match value {
        None => Ok(new_null_array(t, rows)),
        Some(v) => {
            let text: ArrayRef = Arc::new(StringArray::from(vec![v; rows]));
            cast_with_options(&text, t, &STRICT)
                .map_err(|e| format!("cannot read `{v}` as {t}: {e}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_get_the_narrowest_type() {
        assert_eq!(infer(["1", "22"].into_iter()), DataType::Int64);
        assert_eq!(infer(["1", "2.5"].into_iter()), DataType::Float64);
        assert_eq!(
            infer(["2021-01-01", "2021-01-31"].into_iter()),
            DataType::Date32
        );
        assert_eq!(infer(["2021-01-01", "soon"].into_iter()), DataType::Utf8);
        assert_eq!(infer([].into_iter()), DataType::Utf8);
        assert_eq!(widen(&DataType::Int32, &DataType::Int64), DataType::Int64);
        assert_eq!(
            widen(&DataType::Int64, &DataType::Float64),
            DataType::Float64
        );
        assert_eq!(widen(&DataType::Int64, &DataType::Utf8), DataType::Utf8);
        assert_eq!(widen(&DataType::Null, &DataType::Date32), DataType::Date32);
    }

    #[test]
    fn encoded_names_lose_exactly_their_layers() {
        assert_eq!(decode("a%2Fb", 1), "a/b");
        assert_eq!(decode("a%252Fb", 2), "a/b");
        assert_eq!(decode("a%252520b", 2), "a%20b");
        assert_eq!(decode("caf%C3%A9", 1), "café");
        assert_eq!(decode("plain", 2), "plain");
    }

    #[test]
    fn folders_are_told_from_files() {
        let root = Path::new("/p");
        let loc = |u: &str| Location::parse(u, root).unwrap();
        assert!(is_folder(
            "local://exports/",
            &loc("local://exports/"),
            false
        ));
        assert!(is_folder("gs://lake/trips", &loc("gs://lake/trips"), false));
        assert!(!is_folder("gs://lake/trips", &loc("gs://lake/trips"), true));
        assert!(is_folder(
            "gs://lake/trips/",
            &loc("gs://lake/trips/"),
            true
        ));
        assert!(!is_folder(
            "gs://lake/trips.parquet",
            &loc("gs://lake/trips.parquet"),
            false
        ));
        assert!(!is_folder(
            "https://h/data/",
            &loc("https://h/data/"),
            false
        ));
    }
}
