//! BigQuery through its REST API: datasets and tables created from Arrow schemas, rows
//! loaded by a load job from parquet in GCS or streamed with `insertAll`.

use std::time::Duration;

use arrow::datatypes::DataType;
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
            self.ok(reqwest::Method::POST, "/datasets", Some(body))
                .await?;
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
    let bq = Bq::new(ctx, p)?;
    rt::block_on(async {
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
    let disposition = match if_exists {
        IfExists::Append => "WRITE_APPEND",
        IfExists::Fail => "WRITE_EMPTY",
        IfExists::Replace => "WRITE_TRUNCATE",
    };
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
    let rows = state["statistics"]["load"]["outputRows"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(rows)
}

async fn stream(
    bq: &Bq<'_>,
    dataset: &str,
    name: &str,
    table: &Table,
    exists: bool,
    if_exists: IfExists,
) -> Result<u64, IoError> {
    let path = format!("/datasets/{dataset}/tables/{name}");
    if exists && if_exists == IfExists::Replace {
        bq.ok(reqwest::Method::DELETE, &path, None).await?;
    }
    if !exists || if_exists == IfExists::Replace {
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
        let chunk = slice(table, sent, n)?;
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
