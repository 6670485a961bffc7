//! Errors that stop a whole run (block failures are recorded, not returned).

/// A failure of the run itself, not of one block.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The state store failed; the run's record may be incomplete.
    #[error(transparent)]
    Store(#[from] weft_store::StoreError),
    /// The output store could not be opened.
    #[error("cannot open the output store at {location}: {reason}")]
    Outputs {
        /// The folder or URL.
        location: String,
        /// What went wrong.
        reason: String,
    },
    /// A block's output could not be read back.
    #[error("cannot read output {path}: {reason}")]
    ReadOutput {
        /// The object path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A single-block run cannot take an upstream output from the run it borrows from.
    #[error("run {run} has no successful output of {}; run the pipeline once (or that block) first", .blocks.join(", "))]
    Borrow {
        /// The run outputs were to be taken from.
        run: String,
        /// The block runs without a successful output there.
        blocks: Vec<String>,
    },
}
