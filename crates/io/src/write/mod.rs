//! `write`: a table out of the pipeline — into Postgres, BigQuery, or files (parquet, CSV,
//! NDJSON, Arrow) in a folder or object store, optionally Hive-partitioned.

mod files;
mod written;

pub(crate) use files::parquet_bytes;

use serde::Deserialize;
use weft_data::Table;

use crate::context::BlockIo;
use crate::error::IoError;
use crate::location::Location;
use crate::postgres::{self, IfExists};

/// Options of one write. Unknown keys are refused with the list of valid ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteOptions {
    /// Files: `parquet` (default), `csv`, `ndjson` or `arrow`.
    pub format: Option<String>,
    /// Files: columns whose values name Hive-style folders (`col=value/`). BigQuery loads
    /// from `source`: the columns the source's folders are partitioned by.
    #[serde(default)]
    pub partition_by: Vec<String>,
    /// `replace` (default), `append` or `fail` when the table or folder exists.
    pub if_exists: Option<String>,
    /// io_config.yaml profile with the credentials (S3, GCS).
    pub profile: Option<String>,
    /// BigQuery: load from these parquet files in GCS (a `gs://` folder written before)
    /// instead of streaming the rows.
    pub source: Option<String>,
}

impl WriteOptions {
    fn parse(json: &str) -> Result<WriteOptions, IoError> {
        if matches!(json.trim(), "" | "null") {
            return Ok(WriteOptions::default());
        }
        serde_json::from_str(json).map_err(|e| IoError::Invalid(format!("write options: {e}")))
    }
}

/// What a write did, returned to the block as JSON.
#[derive(Debug, serde::Serialize)]
pub struct WriteSummary {
    /// Where the rows went.
    pub target: String,
    /// Rows written.
    pub rows: u64,
    /// Files written (file targets).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

impl BlockIo {
    /// Write `table` to `target`:
    /// - `postgres://<profile>/<schema>.<table>` — bulk COPY in one transaction;
    /// - `bigquery://<profile>/<dataset>.<table>` — a load job from GCS (`source`) or streamed rows;
    /// - `file://…`, `local://…`, `s3://…`, `gs://…` — files, Hive-partitioned by `partition_by`.
    ///
    /// Returns a JSON summary (`{"target", "rows", "files"}`).
    ///
    /// # Errors
    /// [`IoError::Denied`] naming the grant to add; [`IoError::Invalid`] for bad options;
    /// [`IoError::External`] when the target fails (a failed database load changes nothing).
    pub fn write(&self, target: &str, table: &Table, options: &str) -> Result<String, IoError> {
        self.redacted(|| {
            let summary = self.write_inner(target, table, options)?;
            self.notice(format!("wrote {} rows to {}", summary.rows, summary.target));
            serde_json::to_string(&summary).map_err(|e| IoError::Data(e.to_string()))
        })
    }

    fn write_inner(
        &self,
        target: &str,
        table: &Table,
        options: &str,
    ) -> Result<WriteSummary, IoError> {
        let opts = WriteOptions::parse(options)?;
        let if_exists = IfExists::parse(opts.if_exists.as_deref())?;
        if let Some(rest) = target.strip_prefix("postgres://") {
            let (profile, name) = profile_target(target, rest, "schema.table")?;
            self.access.profile(profile)?;
            let p = self.ctx.profiles.get(profile)?;
            let (schema, t) = postgres::split_table(p, name)?;
            self.access
                .table("postgres", profile, &format!("{schema}.{t}"))?;
            let rows = postgres::load(p, name, table, if_exists)?;
            return Ok(WriteSummary {
                target: format!("postgres://{profile}/{schema}.{t}"),
                rows,
                files: Vec::new(),
            });
        }
        if let Some(rest) = target.strip_prefix("bigquery://") {
            let (profile, name) = profile_target(target, rest, "dataset.table")?;
            self.access.table("bigquery", profile, name)?;
            let p = self.ctx.profiles.get(profile)?;
            let files = match &opts.source {
                Some(source) => {
                    let loc = Location::parse(source, &self.ctx.root)?;
                    self.access.location("read", &loc)?;
                    Some(files::parquet_objects(self, &loc, p)?)
                }
                None => None,
            };
            let source = opts.source.as_deref().zip(files.as_deref());
            let rows = crate::bigquery::load(
                &self.ctx,
                p,
                name,
                table,
                if_exists,
                source.map(|(prefix, files)| crate::bigquery::Source {
                    prefix,
                    files,
                    partitions: &opts.partition_by,
                }),
            )?;
            return Ok(WriteSummary {
                target: format!("bigquery://{profile}/{name}"),
                rows,
                files: Vec::new(),
            });
        }
        let location = Location::parse(target, &self.ctx.root)?;
        self.access.location("write", &location)?;
        let profile = match &opts.profile {
            Some(p) => {
                self.access.profile(p)?;
                Some(self.ctx.profiles.get(p)?)
            }
            None => None,
        };
        files::write(self, &location, profile, table, &opts, if_exists)
    }
}

/// `<profile>/<name>` of a profile-relative target.
fn profile_target<'a>(
    target: &str,
    rest: &'a str,
    form: &str,
) -> Result<(&'a str, &'a str), IoError> {
    match rest.split_once('/') {
        Some((profile, name)) if !profile.is_empty() && !name.is_empty() && !profile.contains(['@', ':']) => {
            Ok((profile, name))
        }
        _ => Err(IoError::Invalid(format!(
            "`{}` is not a target; write `{}://<io profile>/{form}` (connection details belong in io_config.yaml)",
            target.split('@').next_back().unwrap_or(target),
            target.split("://").next().unwrap_or("postgres")
        ))),
    }
}
