//! BigQuery through its REST API: datasets and tables created from Arrow schemas, rows
//! loaded by a load job from parquet in GCS, streamed with `insertAll`, or — to replace a
//! table atomically — sent as parquet inside a load job.

use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use serde_json::{json, Value};
use weft_data::Table;

use crate::context::IoContext;
use crate::error::IoError;
use crate::postgres::IfExists;
use crate::profile::Profile;
use crate::rt;

/// Rows per `insertAll` request.
const INSERT_ROWS: u64 = 5_000;
/// How long a load job may take.
const JOB_TIMEOUT: Duration = Duration::from_secs(600);

/// The BigQuery settings of a profile.
struct Bq<'a> {
    ctx: &'a IoContext,
    profile: &'a Profile,
    base: String,
    /// Where load jobs carrying their data are posted.
    upload: String,
    project: String,
    token: Option<String>,
}

impl<'a> Bq<'a> {
    fn new(ctx: &'a IoContext, p: &'a Profile) -> Result<Bq<'a>, IoError> {
        let endpoint = p
            .get("BIGQUERY_ENDPOINT")
            .unwrap_or_else(|| "https://bigquery.googleapis.com".into());
        let key_project = p
            .get("GOOGLE_SERVICE_ACC_KEY_FILEPATH")
            .and_then(|f| std::fs::read_to_string(f).ok())
            .or_else(|| p.get("GOOGLE_SERVICE_ACC_KEY"))
            .and_then(|k| serde_json::from_str::<Value>(&k).ok())
            .and_then(|v| v["project_id"].as_str().map(str::to_string));
        let project = p
            .get("BIGQUERY_PROJECT")
            .or_else(|| p.get("GOOGLE_PROJECT_ID"))
            .or(key_project)
            .ok_or_else(|| {
                IoError::Invalid(format!(
                    "io profile \"{}\" does not configure BigQuery: set BIGQUERY_PROJECT (or GOOGLE_SERVICE_ACC_KEY_FILEPATH with a project_id)",
                    p.name
                ))
            })?;
        let token = crate::google::token(p)?;
        Ok(Bq {
            ctx,
            profile: p,
            base: format!(
                "{}/bigquery/v2/projects/{project}",
                endpoint.trim_end_matches('/')
            ),
            upload: format!(
                "{}/upload/bigquery/v2/projects/{project}/jobs?uploadType=multipart",
                endpoint.trim_end_matches('/')
            ),
            project,
            token,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), IoError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.ctx.http.request(method.clone(), &url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| {
            IoError::External(format!(
                "BigQuery {method} {path}: {}",
                crate::read::chain(&e)
            ))
        })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, value))
    }

    async fn ok(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, IoError> {
        let (status, v) = self.call(method.clone(), path, body).await?;
        if (200..300).contains(&status) {
            return Ok(v);
        }
        Err(IoError::External(format!(
            "BigQuery {method} {path} answered {status}: {}",
            v["error"]["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        )))
    }

    async fn ensure_dataset(&self, dataset: &str) -> Result<(), IoError> {
        let (status, _) = self
            .call(reqwest::Method::GET, &format!("/datasets/{dataset}"), None)
            .await?;
        if status == 404 {
            let mut body =
                json!({"datasetReference": {"projectId": self.project, "datasetId": dataset}});
            if let Some(loc) = self.profile.get("GOOGLE_LOCATION") {
                body["location"] = json!(loc);
            }
            // Another writer (a block running beside this one) may create it first: 409
            // Already Exists is what we wanted.
            let (status, v) = self
                .call(reqwest::Method::POST, "/datasets", Some(body))
                .await?;
            if !(200..300).contains(&status) && status != 409 {
                return Err(IoError::External(format!(
                    "BigQuery POST /datasets answered {status}: {}",
                    v["error"]["message"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                )));
            }
        }
        Ok(())
    }

    async fn table_exists(&self, dataset: &str, table: &str) -> Result<bool, IoError> {
        let (status, v) = self
            .call(
                reqwest::Method::GET,
                &format!("/datasets/{dataset}/tables/{table}"),
                None,
            )
            .await?;
        match status {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ => Err(IoError::External(format!(
                "BigQuery table {dataset}.{table}: {status} {v}"
            ))),
        }
    }
}

/// BigQuery's type for an Arrow type.
fn bq_type(t: &DataType) -> &'static str {
    use DataType::*;
    match t {
        Boolean => "BOOL",
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => "INT64",
        // NUMERIC holds 29 integer and 9 fraction digits exactly; BIGNUMERIC 38 and 38.
        Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) | Decimal256(p, s)
            if (0..=9).contains(s) && i16::from(*p) - i16::from(*s) <= 29 =>
        {
            "NUMERIC"
        }
        Decimal32(p, s) | Decimal64(p, s) | Decimal128(p, s) | Decimal256(p, s)
            if (0..=38).contains(s) && i16::from(*p) - i16::from(*s) <= 38 =>
        {
            "BIGNUMERIC"
        }
        Float16 | Float32 | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..)
        | Decimal256(..) => "FLOAT64",
        Date32 | Date64 => "DATE",
        Timestamp(..) => "TIMESTAMP",
        Binary | LargeBinary => "BYTES",
        _ => "STRING",
    }
}

/// The table's columns as a BigQuery schema, `last` moved to the end (Hive partition keys
/// come after the files' columns).
fn schema(table: &Table, last: &[String]) -> Value {
    let field = |f: &arrow::datatypes::Field| json!({"name": f.name(), "type": bq_type(f.data_type()), "mode": "NULLABLE"});
    let fields = table.schema().fields();
    let mut out: Vec<Value> = fields
        .iter()
        .filter(|f| !last.contains(f.name()))
        .map(|f| field(f))
        .collect();
    out.extend(
        fields
            .iter()
            .filter(|f| last.contains(f.name()))
            .map(|f| field(f)),
    );
    json!({ "fields": out })
}

/// Parquet files in GCS to load with a load job.
pub(crate) struct Source<'a> {
    /// The folder (`gs://bucket/path`), Hive-partitioned by `partitions`.
    pub(crate) prefix: &'a str,
    /// Every file under it, as `gs://` URIs.
    pub(crate) files: &'a [String],
    /// The columns named by its folders.
    pub(crate) partitions: &'a [String],
}

/// Load `table` into `dataset.table`: from parquet files in GCS with a load job, or by
/// streaming its rows. Returns the rows loaded.
pub(crate) fn load(
    ctx: &IoContext,
    p: &Profile,
    target: &str,
    table: &Table,
    if_exists: IfExists,
    source: Option<Source<'_>>,
) -> Result<u64, IoError> {
    let (dataset, name) = target
        .split_once('.')
        .filter(|(d, t)| !d.is_empty() && !t.is_empty() && !t.contains('.'))
        .ok_or_else(|| {
            IoError::Invalid(format!(
                "`{target}` is not a BigQuery table; write `dataset.table`"
            ))
        })?;
    // Names go into REST paths: BigQuery's own rules, and nothing that would change the path.
    if !dataset
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(IoError::Invalid(format!(
            "`{dataset}` is not a BigQuery dataset name: letters, digits and `_` only"
        )));
    }
    if name.len() > 1024 || name.contains(['/', '?', '#', '%', '\\']) {
        return Err(IoError::Invalid(format!(
            "`{name}` is not a BigQuery table name: at most 1024 characters, none of / ? # % \\"
        )));
    }
    let bq = Bq::new(ctx, p)?;
    rt::run(async {
        bq.ensure_dataset(dataset).await?;
        let exists = bq.table_exists(dataset, name).await?;
        if exists && if_exists == IfExists::Fail {
            return Err(IoError::Invalid(format!(
                "BigQuery table {dataset}.{name} already exists and if_exists is `fail`"
            )));
        }
        match source {
            Some(src) => {
                let schema = schema(table, src.partitions);
                load_job(&bq, dataset, name, &src, schema, if_exists).await
            }
            None => stream(&bq, dataset, name, table, exists, if_exists).await,
        }
    })
}

async fn load_job(
    bq: &Bq<'_>,
    dataset: &str,
    name: &str,
    source: &Source<'_>,
    schema: Value,
    if_exists: IfExists,
) -> Result<u64, IoError> {
    let prefix = source.prefix.trim_end_matches('/');
    let disposition = disposition(if_exists);
    let mut load = json!({
        // Every file named: a `prefix/*` wildcard is not read the same by every endpoint.
        "sourceUris": source.files,
        "sourceFormat": "PARQUET",
        "schema": schema,
        "destinationTable": {"projectId": bq.project, "datasetId": dataset, "tableId": name},
        "createDisposition": "CREATE_IF_NEEDED",
        "writeDisposition": disposition,
    });
    if !source.partitions.is_empty() {
        load["hivePartitioningOptions"] =
            json!({"mode": "AUTO", "sourceUriPrefix": format!("{prefix}/")});
    }
    let body = json!({"configuration": {"load": load}});
    let job = bq.ok(reqwest::Method::POST, "/jobs", Some(body)).await?;
    wait(bq, job, dataset, name).await
}

/// `if_exists` as a load job's write disposition.
fn disposition(if_exists: IfExists) -> &'static str {
    match if_exists {
        IfExists::Append => "WRITE_APPEND",
        IfExists::Fail => "WRITE_EMPTY",
        IfExists::Replace => "WRITE_TRUNCATE",
    }
}

/// Wait for load job `job` into `dataset.name` to finish; the rows it loaded.
async fn wait(bq: &Bq<'_>, job: Value, dataset: &str, name: &str) -> Result<u64, IoError> {
    let id = job["jobReference"]["jobId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Jobs outside the US and EU multi-regions are found only with their location.
    let poll = match job["jobReference"]["location"].as_str() {
        Some(loc) if !loc.is_empty() => format!("/jobs/{id}?location={loc}"),
        _ => format!("/jobs/{id}"),
    };
    let started = std::time::Instant::now();
    let mut state = job;
    while state["status"]["state"].as_str() != Some("DONE") {
        if started.elapsed() > JOB_TIMEOUT {
            return Err(IoError::External(format!(
                "BigQuery load job {id} did not finish within {JOB_TIMEOUT:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        state = bq.ok(reqwest::Method::GET, &poll, None).await?;
    }
    if let Some(err) = state["status"]["errorResult"].as_object() {
        return Err(IoError::External(format!(
            "BigQuery load job into {dataset}.{name} failed: {}",
            err.get("message")
                .and_then(Value::as_str)
                .unwrap_or("unknown error")
        )));
    }
    Ok(state["statistics"]["load"]["outputRows"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0))
}

/// Replace `dataset.name` with `table` in one load job that carries the rows as parquet: the
/// old rows stay until the new ones are all in.
async fn upload_job(
    bq: &Bq<'_>,
    dataset: &str,
    name: &str,
    table: &Table,
    if_exists: IfExists,
) -> Result<u64, IoError> {
    let config = json!({"configuration": {"load": {
        "sourceFormat": "PARQUET",
        "schema": schema(table, &[]),
        "destinationTable": {"projectId": bq.project, "datasetId": dataset, "tableId": name},
        "createDisposition": "CREATE_IF_NEEDED",
        "writeDisposition": disposition(if_exists),
    }}});
    let data = crate::write::parquet_bytes(&text_columns(table.clone(), &parquet_as_text)?)?;
    let boundary = format!("weft-{:016x}", rand::random::<u64>());
    let mut body = format!(
        "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{config}\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut req = bq
        .ctx
        .http
        .post(&bq.upload)
        .header(
            reqwest::header::CONTENT_TYPE,
            format!("multipart/related; boundary={boundary}"),
        )
        .body(body);
    if let Some(t) = &bq.token {
        req = req.bearer_auth(t);
    }
    let what = format!("BigQuery load job into {dataset}.{name}");
    let resp = req
        .send()
        .await
        .map_err(|e| IoError::External(format!("{what}: {}", crate::read::chain(&e))))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let job: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if !status.is_success() {
        return Err(IoError::External(format!(
            "{what} answered {status}: {}",
            job["error"]["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| job.to_string())
        )));
    }
    wait(bq, job, dataset, name).await
}

async fn stream(
    bq: &Bq<'_>,
    dataset: &str,
    name: &str,
    table: &Table,
    exists: bool,
    if_exists: IfExists,
) -> Result<u64, IoError> {
    if exists && if_exists == IfExists::Replace {
        return upload_job(bq, dataset, name, table, if_exists).await;
    }
    let path = format!("/datasets/{dataset}/tables/{name}");
    if !exists {
        let body = json!({
            "tableReference": {"projectId": bq.project, "datasetId": dataset, "tableId": name},
            "schema": schema(table, &[]),
        });
        bq.ok(
            reqwest::Method::POST,
            &format!("/datasets/{dataset}/tables"),
            Some(body),
        )
        .await?;
    }
    let mut sent = 0u64;
    while sent < table.num_rows() {
        let n = INSERT_ROWS.min(table.num_rows() - sent);
        let chunk = text_columns(slice(table, sent, n)?, &json_as_text)?;
        let rows: Vec<Value> = serde_json::from_str::<Vec<Value>>(
            &chunk
                .to_json(None)
                .map_err(|e| IoError::Data(e.to_string()))?,
        )
        .map_err(|e| IoError::Data(e.to_string()))?
        .into_iter()
        .map(|r| json!({"json": r}))
        .collect();
        let answer = bq
            .ok(
                reqwest::Method::POST,
                &format!("{path}/insertAll"),
                Some(json!({"rows": rows})),
            )
            .await?;
        if let Some(errors) = answer["insertErrors"].as_array().filter(|e| !e.is_empty()) {
            return Err(IoError::External(format!(
                "BigQuery refused rows of {dataset}.{name} (first at row {}): {}",
                sent + errors[0]["index"].as_u64().unwrap_or(0),
                errors[0]["errors"]
            )));
        }
        sent += n;
    }
    Ok(sent)
}

/// Columns `pick` chooses, as text: binary as base64 (the form BigQuery takes BYTES in as
/// JSON; Arrow's JSON writer would write hex, which BigQuery would decode as other bytes), the
/// rest with Arrow's cast (decimals keep every digit, times their `HH:MM:SS` form).
fn text_columns(table: Table, pick: &dyn Fn(&DataType) -> bool) -> Result<Table, IoError> {
    use arrow::array::{ArrayRef, AsArray, StringArray};
    use base64::Engine;
    let schema = table.schema();
    if !schema.fields().iter().any(|f| pick(f.data_type())) {
        return Ok(table);
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match pick(f.data_type()) {
            true => Field::new(f.name(), DataType::Utf8, true),
            false => (**f).clone(),
        })
        .collect();
    let target = Arc::new(Schema::new(fields));
    let bad = |e: arrow::error::ArrowError| IoError::Data(e.to_string());
    let mut batches = Vec::new();
    for b in table.batches() {
        let mut columns: Vec<ArrayRef> = Vec::new();
        for c in b.columns() {
            if !pick(c.data_type()) {
                columns.push(c.clone());
            } else if matches!(c.data_type(), DataType::Binary | DataType::LargeBinary) {
                let wide = arrow::compute::cast(c, &DataType::LargeBinary).map_err(bad)?;
                let text: StringArray = wide
                    .as_binary::<i64>()
                    .iter()
                    .map(|v| v.map(|v| base64::engine::general_purpose::STANDARD.encode(v)))
                    .collect();
                columns.push(Arc::new(text));
            } else {
                columns.push(arrow::compute::cast(c, &DataType::Utf8).map_err(bad)?);
            }
        }
        batches.push(RecordBatch::try_new(target.clone(), columns).map_err(bad)?);
    }
    Table::new(target, batches).map_err(|e| IoError::Data(e.to_string()))
}

/// Whether rows streamed as JSON need a column of type `t` as text: bytes (base64) and
/// decimals (a JSON number would be read as a float).
fn json_as_text(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Binary
            | DataType::LargeBinary
            | DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..)
    )
}

/// Whether a parquet load needs a column of type `t` as text: BigQuery's column is STRING but
/// parquet would carry another type (times, durations, intervals...).
fn parquet_as_text(t: &DataType) -> bool {
    bq_type(t) == "STRING"
        && !matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Rows `[offset, offset + len)` of `table`.
fn slice(table: &Table, offset: u64, len: u64) -> Result<Table, IoError> {
    let mut out = Vec::new();
    let mut skip = offset;
    let mut left = len;
    for b in table.batches() {
        let rows = b.num_rows() as u64;
        if skip >= rows {
            skip -= rows;
            continue;
        }
        let take = (rows - skip).min(left);
        out.push(b.slice(skip as usize, take as usize));
        left -= take;
        skip = 0;
        if left == 0 {
            break;
        }
    }
    Table::new(table.schema().clone(), out).map_err(|e| IoError::Data(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profiles;

    #[test]
    fn names_that_would_change_the_rest_path_are_refused() {
        let ctx = IoContext::new(".".into(), ".weft/local".into(), Profiles::empty()).unwrap();
        let p = Profile::from_pairs("gcs", [("BIGQUERY_PROJECT", "proj")]);
        let t = Table::empty();
        for (target, want) in [
            ("ny_taxi", "write `dataset.table`"),
            ("ny-taxi.trips", "not a BigQuery dataset name"),
            ("a b.trips", "not a BigQuery dataset name"),
            ("ny_taxi.trips?alt=media", "not a BigQuery table name"),
            ("ny_taxi.a/b", "not a BigQuery table name"),
        ] {
            let e = load(&ctx, &p, target, &t, IfExists::Replace, None)
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{target}: {e}");
        }
    }
}
