//! Data in and out of the pipeline, done natively by the host within the block's `grants:`.
//! Tables stay in the host: reading a 100 MB CSV into a block costs no guest memory until the
//! block asks for rows.
//!
//! ```ignore
//! use weft_sdk::io;
//!
//! let trips = io::read("https://example.com/trips.csv.gz", &serde_json::json!({
//!     "dtype": {"VendorID": "Int64"}, "parse_dates": ["tpep_pickup_datetime"],
//! }))?;
//! io::write(&trips, "postgres://default/ny_taxi.trips", &serde_json::json!({"if_exists": "replace"}))?;
//! ```

use serde_json::Value;

use crate::bindings::weft::block::io as host;
use crate::error::{Error, Result};
use crate::table::Table;

/// Read `uri` (`https://`, `file://`, `s3://`, `gs://`, `local://`) into a table. `options`
/// is a JSON object: `format`, `dtype`, `parse_dates`, `delimiter`, `header`,
/// `on_bad_lines`, `profile`. A folder (a URI ending in `/`, a directory, an object prefix)
/// reads every data file under it as one table, Hive partition folders becoming columns.
///
/// # Errors
/// [`Error::Denied`] naming the grant to add, [`Error::InvalidInput`] for a bad option or a
/// line that does not parse, [`Error::Io`] when the source cannot be reached.
pub fn read(uri: &str, options: &Value) -> Result<Table> {
    host::read(uri, &options.to_string())
        .map(Table::from_handle)
        .map_err(Error::from)
}

/// Write `table` to `target` (`postgres://<profile>/<schema>.<table>`,
/// `bigquery://<profile>/<dataset>.<table>`, or files under `file://`, `local://`, `s3://`,
/// `gs://`); returns the JSON summary (`target`, `rows`, `files`).
///
/// # Errors
/// As [`read`]; a failed database load changes nothing.
pub fn write(table: &Table, target: &str, options: &Value) -> Result<Value> {
    let summary = host::write(target, table.handle(), &options.to_string()).map_err(Error::from)?;
    Ok(serde_json::from_str(&summary)?)
}

/// Rows of `sql` run in the database of io profile `profile`.
///
/// # Errors
/// [`Error::Denied`] when the profile is not granted; [`Error::InvalidInput`] with the
/// database's message.
pub fn query(profile: &str, sql: &str) -> Result<Table> {
    host::query(profile, sql)
        .map(Table::from_handle)
        .map_err(Error::from)
}

/// Whether io profile `profile` configures `service` (`postgres`, `gcs`, `s3`, `bigquery`,
/// `http`) and, for Postgres, whether it answers.
///
/// # Errors
/// [`Error::Denied`] when the profile is not granted.
pub fn available(profile: &str, service: &str) -> Result<bool> {
    host::available(profile, service).map_err(Error::from)
}

/// A setting of io profile `profile` that is not a secret.
///
/// # Errors
/// [`Error::Denied`] for a secret key or a profile not granted.
pub fn setting(profile: &str, key: &str) -> Result<Option<String>> {
    host::setting(profile, key).map_err(Error::from)
}
