//! Control flow of a block: when it runs (trigger rule, conditions), how it waits (sensors),
//! how it fans out and gathers (dynamic, reduce), and what it tells (callbacks).

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// Default wait between two pokes of a sensor.
pub const DEFAULT_POKE_INTERVAL: Duration = Duration::from_secs(30);
/// Shortest wait between two pokes of a sensor.
pub const MIN_POKE_INTERVAL: Duration = Duration::from_secs(1);
/// Default bound on the children of one dynamic block run.
pub const DEFAULT_MAX_CHILDREN: usize = 100_000;

/// How a block's control flow is set up, with every default applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    /// When the block runs, given how its upstream blocks ended.
    pub trigger_rule: TriggerRule,
    /// Condition blocks asked before the block runs; any false answer skips it.
    pub conditions: Vec<String>,
    /// Callback blocks told when the block ends.
    pub callbacks: Vec<String>,
    /// For a callback block: which ends of the block (or run) it handles.
    pub on: Vec<End>,
    /// Each row of the block's output starts one instance of each direct downstream block.
    pub dynamic: bool,
    /// The column naming each child (its value shows in listings); none: the row index.
    pub child_key: Option<String>,
    /// At most this many children per run of the block.
    pub max_children: usize,
    /// What happens when the block's output has more rows than `max_children`.
    pub on_max_children: OnMaxChildren,
    /// At most this many instances of the block run at once (none: the pipeline's
    /// concurrency alone bounds them).
    pub max_parallel: Option<usize>,
    /// The block runs once per child of a fan-out and its downstream blocks see one table
    /// with every child's output, in child order.
    pub reduce: bool,
    /// For a sensor: the wait between pokes.
    #[serde(rename = "poke_interval_ms", serialize_with = "millis")]
    pub poke_interval: Duration,
    /// For a sensor: a timeout skips it instead of failing it.
    pub soft_fail: bool,
    /// The dynamic blocks whose fan-outs this block runs within, outermost first (empty: the
    /// block runs once per run).
    pub scope: Vec<String>,
}

impl Default for Flow {
    fn default() -> Self {
        Flow {
            trigger_rule: TriggerRule::AllSuccess,
            conditions: Vec::new(),
            callbacks: Vec::new(),
            on: End::ALL.to_vec(),
            dynamic: false,
            child_key: None,
            max_children: DEFAULT_MAX_CHILDREN,
            on_max_children: OnMaxChildren::Fail,
            max_parallel: None,
            reduce: false,
            poke_interval: DEFAULT_POKE_INTERVAL,
            soft_fail: false,
            scope: Vec::new(),
        }
    }
}

impl Flow {
    /// The fan-outs downstream blocks of this one run within: its own scope, plus itself when
    /// it fans out, less the innermost when it reduces.
    pub fn out_scope(&self, name: &str) -> Vec<String> {
        let mut s = self.scope.clone();
        if self.dynamic {
            s.push(name.to_string());
        }
        if self.reduce {
            s.pop();
        }
        s
    }
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// When a block runs, given how its upstream blocks ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerRule {
    /// Every upstream block succeeded (the default).
    AllSuccess,
    /// Every upstream block ended, however.
    AllDone,
    /// No upstream block failed (skipped ones are fine).
    NoneFailed,
    /// At least one upstream block succeeded (once all have ended).
    OneSuccess,
}

impl TriggerRule {
    /// Every rule, in documentation order.
    pub const ALL: [TriggerRule; 4] = [
        TriggerRule::AllSuccess,
        TriggerRule::AllDone,
        TriggerRule::NoneFailed,
        TriggerRule::OneSuccess,
    ];

    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerRule::AllSuccess => "all_success",
            TriggerRule::AllDone => "all_done",
            TriggerRule::NoneFailed => "none_failed",
            TriggerRule::OneSuccess => "one_success",
        }
    }
}

impl fmt::Display for TriggerRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An end a callback handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// The block (or run) succeeded.
    Success,
    /// It failed.
    Failure,
    /// It was cancelled.
    Cancel,
}

impl End {
    /// Every end, in documentation order.
    pub const ALL: [End; 3] = [End::Success, End::Failure, End::Cancel];

    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            End::Success => "success",
            End::Failure => "failure",
            End::Cancel => "cancel",
        }
    }
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a dynamic block does with more rows than `max_children`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMaxChildren {
    /// The block fails, naming the count and the limit.
    Fail,
    /// Only the first `max_children` rows start children; the rest are logged as dropped.
    Limit,
}

impl crate::Pipeline {
    /// The pipeline cut down to run `block` (and, with `downstream`, everything after it)
    /// alone: the selected blocks, the blocks they read from (directly or not), and every
    /// condition and callback block. Returns it with the names of the upstream blocks, whose
    /// outputs come from an earlier run; `None` when `block` is not a step of the pipeline.
    pub fn select(&self, block: &str, downstream: bool) -> Option<(crate::Pipeline, Vec<String>)> {
        use std::collections::BTreeSet;
        let start = self.block(block).filter(|b| !b.is_attached())?;
        let mut selected = BTreeSet::from([start.name.clone()]);
        if downstream {
            // Blocks are in topological order: one pass finds every descendant.
            for b in &self.blocks {
                if b.upstream.iter().any(|u| selected.contains(u)) {
                    selected.insert(b.name.clone());
                }
            }
        }
        let mut needed: BTreeSet<String> = BTreeSet::new();
        for b in self.blocks.iter().rev() {
            if selected.contains(&b.name) || needed.contains(&b.name) {
                needed.extend(b.upstream.iter().cloned());
            }
        }
        let upstream: Vec<String> = self
            .blocks
            .iter()
            .filter(|b| needed.contains(&b.name) && !selected.contains(&b.name))
            .map(|b| b.name.clone())
            .collect();
        let mut cut = self.clone();
        cut.blocks
            .retain(|b| b.is_attached() || selected.contains(&b.name) || needed.contains(&b.name));
        Some((cut, upstream))
    }
}
