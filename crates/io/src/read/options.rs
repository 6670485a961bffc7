//! Options of `read`, as a block passes them (JSON), with pandas-like column types.

use std::collections::BTreeMap;
use std::str::FromStr;

use arrow::datatypes::{DataType, TimeUnit};
use serde::Deserialize;

use crate::error::IoError;

/// Options of one read. Unknown keys are refused with the list of valid ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadOptions {
    /// `csv`, `csv.gz`, `parquet`, `ndjson`, `ndjson.gz` or `arrow`; default: from the file
    /// name's extension.
    pub format: Option<String>,
    /// Column types: pandas names (`Int64`, `float`, `str`, `bool`, `datetime64[ns]`,
    /// `date`) or Arrow names (`Int32`, `Utf8`, `Timestamp(Microsecond, None)`). Columns not
    /// listed are inferred from the first rows.
    #[serde(default, alias = "schema")]
    pub dtype: BTreeMap<String, String>,
    /// Columns parsed as timestamps (pandas' `parse_dates`).
    #[serde(default)]
    pub parse_dates: Vec<String>,
    /// CSV field separator (one character; default `,`).
    pub delimiter: Option<String>,
    /// Whether a CSV file starts with a header row (default true).
    pub header: Option<bool>,
    /// A CSV line that does not parse: `error` (default) fails the read naming the line;
    /// `skip` drops it, counts it and logs the first few.
    pub on_bad_lines: Option<String>,
    /// io_config.yaml profile with the credentials (S3, GCS) or headers (HTTP).
    pub profile: Option<String>,
    /// Rows per record batch (default 65 536).
    pub batch_size: Option<usize>,
}

/// Recognised file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values, optionally gzip-compressed.
    Csv {
        /// gzip-compressed.
        gzip: bool,
    },
    /// Newline-delimited JSON objects, optionally gzip-compressed.
    Ndjson {
        /// gzip-compressed.
        gzip: bool,
    },
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC (file or stream).
    Arrow,
}

impl ReadOptions {
    /// Parse options JSON (`""`, `null` and `{}` are the defaults).
    ///
    /// # Errors
    /// [`IoError::Invalid`] naming the option that is wrong.
    pub fn parse(json: &str) -> Result<ReadOptions, IoError> {
        if matches!(json.trim(), "" | "null") {
            return Ok(ReadOptions::default());
        }
        serde_json::from_str(json).map_err(|e| IoError::Invalid(format!("read options: {e}")))
    }

    /// The format: the `format` option, else guessed from `file_name`.
    ///
    /// # Errors
    /// [`IoError::Invalid`] when neither says.
    pub fn format(&self, file_name: &str) -> Result<Format, IoError> {
        let from = |s: &str| -> Option<Format> {
            let s = s.to_ascii_lowercase();
            Some(match s.as_str() {
                "csv" | "txt" | "tsv" => Format::Csv { gzip: false },
                "csv.gz" | "txt.gz" | "tsv.gz" => Format::Csv { gzip: true },
                "ndjson" | "jsonl" | "json" => Format::Ndjson { gzip: false },
                "ndjson.gz" | "jsonl.gz" | "json.gz" => Format::Ndjson { gzip: true },
                "parquet" | "pq" => Format::Parquet,
                "arrow" | "ipc" | "feather" | "arrows" => Format::Arrow,
                _ => return None,
            })
        };
        if let Some(f) = &self.format {
            return from(f).ok_or_else(|| {
                IoError::Invalid(format!(
                    "read options: unknown format `{f}`; valid: csv, csv.gz, ndjson, ndjson.gz, parquet, arrow"
                ))
            });
        }
        let name = file_name.to_ascii_lowercase();
        let ext = match name.strip_suffix(".gz") {
            Some(stem) => stem.rsplit('.').next().map(|e| format!("{e}.gz")),
            None => name.rsplit_once('.').map(|(_, e)| e.to_string()),
        };
        ext.as_deref().and_then(from).ok_or_else(|| {
            IoError::Invalid(format!(
                "cannot tell the format of `{file_name}` from its name; pass `format` (csv, csv.gz, ndjson, parquet, arrow)"
            ))
        })
    }

    /// Whether bad CSV lines are skipped.
    ///
    /// # Errors
    /// [`IoError::Invalid`] for a value other than `error` or `skip`.
    pub fn skip_bad_lines(&self) -> Result<bool, IoError> {
        match self.on_bad_lines.as_deref() {
            None | Some("error") => Ok(false),
            Some("skip") | Some("warn") => Ok(true),
            Some(other) => Err(IoError::Invalid(format!(
                "read options: on_bad_lines: `{other}` is not `error` or `skip`"
            ))),
        }
    }

    /// The one-byte delimiter.
    ///
    /// # Errors
    /// [`IoError::Invalid`] when it is not a single ASCII character.
    pub fn delimiter(&self) -> Result<u8, IoError> {
        match self.delimiter.as_deref() {
            None => Ok(b','),
            Some("\\t") | Some("\t") => Ok(b'\t'),
            Some(d) if d.len() == 1 && d.is_ascii() => Ok(d.as_bytes()[0]),
            Some(d) => Err(IoError::Invalid(format!(
                "read options: delimiter `{d}` must be one ASCII character"
            ))),
        }
    }

    /// Every explicit column type, `parse_dates` included.
    ///
    /// # Errors
    /// [`IoError::Invalid`] naming a column whose type is not known.
    pub fn types(&self) -> Result<BTreeMap<String, DataType>, IoError> {
        let mut out = BTreeMap::new();
        for (col, name) in &self.dtype {
            let t = data_type(name).ok_or_else(|| {
                IoError::Invalid(format!(
                    "read options: dtype of column `{col}`: `{name}` is not a type; use Int64, int32, float, str, bool, date, datetime64[ns] or an Arrow type name"
                ))
            })?;
            out.insert(col.clone(), t);
        }
        for col in &self.parse_dates {
            out.insert(
                col.clone(),
                DataType::Timestamp(TimeUnit::Microsecond, None),
            );
        }
        Ok(out)
    }
}

/// A pandas-like or Arrow type name as an Arrow type.
pub fn data_type(name: &str) -> Option<DataType> {
    let t = match name.trim() {
        "Int64" | "int64" | "int" | "Int" | "integer" | "long" => DataType::Int64,
        "Int32" | "int32" => DataType::Int32,
        "Int16" | "int16" => DataType::Int16,
        "Int8" | "int8" => DataType::Int8,
        "float" | "float64" | "Float64" | "double" => DataType::Float64,
        "float32" | "Float32" => DataType::Float32,
        "str" | "string" | "object" | "utf8" | "Utf8" | "text" => DataType::Utf8,
        "bool" | "boolean" | "Boolean" => DataType::Boolean,
        "date" | "date32" | "Date32" => DataType::Date32,
        "datetime" | "datetime64" | "datetime64[ns]" | "datetime64[us]" | "timestamp" => {
            DataType::Timestamp(TimeUnit::Microsecond, None)
        }
        other => return DataType::from_str(other).ok(),
    };
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_options_or_names() {
        let o = ReadOptions::default();
        assert_eq!(o.format("a.csv.gz").unwrap(), Format::Csv { gzip: true });
        assert_eq!(o.format("a.CSV").unwrap(), Format::Csv { gzip: false });
        assert_eq!(o.format("x.parquet").unwrap(), Format::Parquet);
        assert!(o.format("blob").is_err());
        let o = ReadOptions::parse(r#"{"format": "ndjson"}"#).unwrap();
        assert_eq!(o.format("blob").unwrap(), Format::Ndjson { gzip: false });
        let e = ReadOptions::parse(r#"{"fromat": "csv"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown field `fromat`") && e.contains("`format`"),
            "{e}"
        );
    }

    #[test]
    fn pandas_types_map_to_arrow() {
        let o = ReadOptions::parse(
            r#"{"dtype": {"a": "Int64", "b": "float", "c": "str", "d": "Timestamp(Millisecond, None)"}, "parse_dates": ["t"]}"#,
        )
        .unwrap();
        let t = o.types().unwrap();
        assert_eq!(t["a"], DataType::Int64);
        assert_eq!(t["b"], DataType::Float64);
        assert_eq!(t["c"], DataType::Utf8);
        assert_eq!(t["d"], DataType::Timestamp(TimeUnit::Millisecond, None));
        assert_eq!(t["t"], DataType::Timestamp(TimeUnit::Microsecond, None));
        let e = ReadOptions::parse(r#"{"dtype": {"a": "bigint!"}}"#)
            .unwrap()
            .types()
            .unwrap_err()
            .to_string();
        assert!(e.contains("column `a`") && e.contains("bigint!"), "{e}");
    }
}
