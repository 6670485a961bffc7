//! Errors of the data plane.

/// A failure decoding or encoding a table.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Bytes that should be an Arrow IPC stream are not one.
    #[error("malformed Arrow IPC stream: {0}")]
    MalformedIpc(String),
    /// Batches that do not share one schema.
    #[error("record batches disagree on the schema: {0}")]
    SchemaMismatch(String),
    /// Rows handed over as JSON that do not form a table.
    #[error("invalid rows: {0}")]
    InvalidRows(String),
    /// The query engine refused or failed a query.
    #[error("{0}")]
    Query(String),
    /// An internal Arrow failure while encoding.
    #[error("cannot encode Arrow IPC: {0}")]
    Encode(String),
}
