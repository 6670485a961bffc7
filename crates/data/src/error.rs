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
    /// The host SQL engine answers one read-only query; anything else is refused.
    #[error("the host SQL engine answers only read-only queries over the tables it is given; refused: {0}")]
    Refused(String),
    /// A query needed more memory than the block's budget.
    #[error("the query needed more than the block's memory budget of {} MiB; raise the block's `memory_limit` in pipeline.yaml or query less at once", .limit >> 20)]
    MemoryBudget {
        /// The budget in bytes.
        limit: u64,
    },
    /// A function call would have produced more than the host engine allows per batch.
    #[error("{0}; use smaller arguments or fewer rows at once")]
    Capped(String),
    /// A query was still running when the block's deadline passed.
    #[error("the query was stopped at the block's deadline")]
    Deadline,
    /// A query was stopped because its run was cancelled.
    #[error("the query was stopped: the run was cancelled")]
    Cancelled,
    /// An internal Arrow failure while encoding.
    #[error("cannot encode Arrow IPC: {0}")]
    Encode(String),
}
