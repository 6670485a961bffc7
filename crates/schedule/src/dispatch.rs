//! The seam between the plan and whatever executes a block run. The run loop hands each
//! ready block run to a [`Dispatch`] as a [`Job`] that refers to its inputs by block run key
//! and stored path — never in-memory tables — so a worker elsewhere can implement it; the
//! in-process one ([`crate::local::LocalDispatch`]) reads them from memory when it can.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use weft_data::Table;

use crate::event::BlockSummary;
use crate::plan::{Outcome, RunKey};

/// A block run's output, by reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRef {
    /// The block run that produced it.
    pub key: RunKey,
    /// Its object-store path (see [`crate::Outputs`]); none when it produced no table.
    pub stored: Option<String>,
}

/// One input of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A whole output.
    Whole(OutputRef),
    /// One row of a dynamic block run's output.
    Row(OutputRef, u32),
    /// Outputs of a reduced block's children, concatenated in this order.
    Gather(Vec<OutputRef>),
}

impl Input {
    /// The block runs this input reads.
    pub fn keys(&self) -> Vec<&RunKey> {
        match self {
            Input::Whole(r) | Input::Row(r, _) => vec![&r.key],
            Input::Gather(rs) => rs.iter().map(|r| &r.key).collect(),
        }
    }
}

/// A block run to execute.
#[derive(Debug, Clone)]
pub struct Job {
    /// Which block run.
    pub key: RunKey,
    /// Its block's position in the pipeline's order.
    pub position: i64,
    /// A child's name (its `child_key` value).
    pub label: Option<String>,
    /// Inputs named by upstream block, in `upstream:` order.
    pub inputs: Vec<(String, Input)>,
    /// Variables of this block run beyond the run's: the fields of its fan-out rows.
    pub variables: BTreeMap<String, String>,
    /// Attempts (or sensor pokes) already made; the next is numbered after them.
    pub prior_attempts: u32,
    /// For a sensor: when it was first poked (Unix ms); its timeout counts from there.
    pub first_at: Option<i64>,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Which block run.
    pub key: RunKey,
    /// What the plan is told.
    pub outcome: Outcome,
    /// What the run's summary shows.
    pub summary: BlockSummary,
    /// Its output, when it ran in this process (a remote worker returns none: readers use
    /// `stored`).
    pub output: Option<Table>,
    /// Where its output is stored.
    pub stored: Option<String>,
}

/// Executes jobs. Implementations record each attempt in the state store and never fail:
/// every problem ends in the [`Finished`].
pub trait Dispatch: Send + Sync {
    /// Start `job`; the future resolves when it has ended (or, for a sensor, poked once).
    fn dispatch(&self, job: Job) -> BoxFuture<'static, Finished>;
}
