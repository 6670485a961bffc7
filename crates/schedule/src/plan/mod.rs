//! The executor's core: a pure, synchronous state machine over a run's block runs. It is fed
//! outcomes ([`Outcome`]) and answers which block runs are ready ([`Plan::take_ready`]), with
//! where each one's inputs come from. Trigger rules, skips, sensor waits, fan-outs and
//! gathers live here and nowhere else; running a block is the caller's business.
//!
//! A block run is named by a [`RunKey`]: the block, and its child index in each fan-out it
//! runs within. Children are made when their dynamic parent's output is known; a block after
//! a `reduce` waits for the whole fan-out, whatever its size (zero included).

mod fan;
mod graph;
mod key;
mod rules;

use std::collections::{BTreeSet, HashMap};

use weft_pipeline::Pipeline;

pub use key::{BadRunKey, RunKey};

use graph::Graph;

/// How a block run ended, or how the plan decided it without running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// It ran and produced its output (or none).
    Success,
    /// It ran and failed.
    Failed,
    /// Not run, or ran and chose not to go on: a condition answered false, a sensor timed out
    /// with `soft_fail`, its trigger rule saw skipped upstream blocks, its fan-out was empty.
    Skipped,
    /// Not run because an upstream block failed.
    UpstreamFailed,
    /// Not run, or stopped, because the run was cancelled.
    Cancelled,
}

/// What a block run reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It succeeded; `rows` is its output's row count (none: no output). A dynamic block
    /// starts one child per row.
    Output {
        /// Rows of its output.
        rows: Option<u64>,
    },
    /// It chose not to go on (a condition was false, a sensor gave up with `soft_fail`).
    Skipped,
    /// A sensor answered false: poke it again at `at` (Unix ms). It holds no slot meanwhile.
    Reschedule {
        /// When to poke next.
        at: i64,
    },
    /// It failed for good (after its retries).
    Failed,
    /// It stopped because the run was cancelled.
    Cancelled,
}

/// Where one input of a ready block run comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The whole output of a block run.
    Whole(RunKey),
    /// One row of a dynamic block run's output: this child's row.
    Row(RunKey, u32),
    /// The outputs of a reduced block's children, in child order (skipped children left out).
    Gather(Vec<RunKey>),
}

/// A block run ready to be executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    /// Which block run.
    pub key: RunKey,
    /// Its inputs, named by upstream block, in `upstream:` order; upstream blocks that did not
    /// succeed are left out.
    pub inputs: Vec<(String, Source)>,
    /// The fan-out rows whose fields become its variables, outermost first.
    pub rows: Vec<(RunKey, u32)>,
}

/// A block run the plan decided without running it (or that ended), for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// Which block run.
    pub key: RunKey,
    /// Its final status.
    pub status: Status,
    /// Why, in words.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting { missing: usize },
    Ready,
    Running,
    Sleeping { at: i64 },
    Done(Status),
}

type Id = (usize, Vec<u32>);

/// The run's block runs and what each waits for.
#[derive(Debug, Clone)]
pub struct Plan {
    graph: Graph,
    nodes: HashMap<Id, State>,
    ready: BTreeSet<Id>,
    sleeping: BTreeSet<(i64, Id)>,
    running: usize,
    running_per_step: Vec<usize>,
    /// Materialized and not yet running or final, per step.
    pending_per_step: Vec<usize>,
    /// Materialized and not final, per step.
    active_per_step: Vec<usize>,
    waiters: HashMap<fan::Wait, Vec<Id>>,
    gathers: HashMap<Id, fan::Gather>,
    fans: HashMap<Id, u32>,
    cancelled: bool,
    decided: Vec<Decided>,
}

impl Plan {
    /// The plan of a new run of `pipeline`: its top-level blocks made, those without
    /// upstream blocks ready.
    pub fn new(pipeline: &Pipeline) -> Plan {
        let graph = Graph::new(pipeline);
        let n = graph.steps.len();
        let mut plan = Plan {
            graph,
            nodes: HashMap::new(),
            ready: BTreeSet::new(),
            sleeping: BTreeSet::new(),
            running: 0,
            running_per_step: vec![0; n],
            pending_per_step: vec![0; n],
            active_per_step: vec![0; n],
            waiters: HashMap::new(),
            gathers: HashMap::new(),
            fans: HashMap::new(),
            cancelled: false,
            decided: Vec::new(),
        };
        for s in 0..n {
            if plan.graph.steps[s].scope.is_empty() {
                plan.make((s, Vec::new()));
            }
        }
        plan
    }

    /// The block runs that steps of the graph, in pipeline order (conditions and callbacks
    /// are not steps).
    pub fn blocks(&self) -> impl Iterator<Item = &str> {
        self.graph.steps.iter().map(|s| s.name.as_str())
    }

    /// Up to `limit` ready block runs, in pipeline then child order, each block within its
    /// `max_parallel`; they count as running until fed an [`Outcome`].
    pub fn take_ready(&mut self, limit: usize) -> Vec<Ready> {
        use std::ops::Bound;
        let mut out = Vec::new();
        let mut from: Bound<Id> = Bound::Unbounded;
        while out.len() < limit {
            let Some(id) = self
                .ready
                .range((from.clone(), Bound::Unbounded))
                .next()
                .cloned()
            else {
                break;
            };
            let step = &self.graph.steps[id.0];
            if step
                .max_parallel
                .is_some_and(|m| self.running_per_step[id.0] >= m)
            {
                // The rest of this block's children wait for a free place.
                from = Bound::Included((id.0 + 1, Vec::new()));
                continue;
            }
            self.ready.remove(&id);
            self.set(&id, State::Running);
            out.push(self.describe(&id));
            from = Bound::Excluded(id);
        }
        out
    }

    /// Feed the outcome of a running (or, when restoring a recorded run, not yet started)
    /// block run. Returns the block runs decided because of it.
    ///
    /// # Panics
    /// When `key` is not a block run of this plan (a caller bug).
    pub fn finish(&mut self, key: &RunKey, outcome: Outcome) -> Vec<Decided> {
        let id = self.id(key).expect("a block run of this plan");
        match outcome {
            Outcome::Reschedule { at } => {
                self.set(&id, State::Sleeping { at });
                self.ready.remove(&id);
                self.sleeping.insert((at, id));
            }
            Outcome::Output { rows } => self.done(id, Status::Success, rows, String::new()),
            Outcome::Skipped => self.done(id, Status::Skipped, None, String::new()),
            Outcome::Failed => self.done(id, Status::Failed, None, String::new()),
            Outcome::Cancelled => self.done(id, Status::Cancelled, None, String::new()),
        }
        std::mem::take(&mut self.decided)
    }

    /// Sensors whose poke time has come (`now`, Unix ms) become ready again.
    pub fn wake(&mut self, now: i64) {
        while let Some((at, id)) = self.sleeping.first().cloned() {
            if at > now {
                break;
            }
            self.sleeping.pop_first();
            self.set(&id, State::Ready);
            self.ready.insert(id);
        }
    }

    /// When the next sleeping sensor wants to be poked (Unix ms).
    pub fn next_wake(&self) -> Option<i64> {
        self.sleeping.first().map(|(at, _)| *at)
    }

    /// Stop: every block run not running is cancelled (returned); running ones are still
    /// fed their outcomes, and nothing starts afterwards.
    pub fn cancel(&mut self) -> Vec<Decided> {
        self.cancelled = true;
        let open: Vec<Id> = self
            .nodes
            .iter()
            .filter(|(_, s)| {
                matches!(
                    s,
                    State::Waiting { .. } | State::Ready | State::Sleeping { .. }
                )
            })
            .map(|(id, _)| id.clone())
            .collect();
        let mut open = open;
        open.sort();
        for id in open {
            self.ready.remove(&id);
            self.sleeping.retain(|(_, s)| *s != id);
            self.done(id, Status::Cancelled, None, "the run was cancelled".into());
        }
        std::mem::take(&mut self.decided)
    }

    /// Block runs running now.
    pub fn running(&self) -> usize {
        self.running
    }

    /// True once every block run has a final status.
    pub fn is_finished(&self) -> bool {
        self.running == 0 && self.active_per_step.iter().all(|&n| n == 0)
    }

    /// Whether a block run's output may still be read by a block run not yet started.
    pub fn still_needed(&self, block: &str) -> bool {
        let Some(&s) = self.graph.index.get(block) else {
            return false;
        };
        self.graph.steps[s].downstream.iter().any(|&d| {
            self.pending_per_step[d] > 0
                || self.graph.steps[d]
                    .scope
                    .iter()
                    .any(|&f| self.active_per_step[f] > 0)
        })
    }

    /// Whether a run of `block` may still start or is running: one has not ended, or a
    /// fan-out it runs within may still make children. True for a block that is no step of
    /// the graph (a condition or callback, run beside the block it is attached to).
    pub fn may_run_again(&self, block: &str) -> bool {
        let Some(&s) = self.graph.index.get(block) else {
            return true;
        };
        self.active_per_step[s] > 0
            || self.graph.steps[s]
                .scope
                .iter()
                .any(|&f| self.active_per_step[f] > 0)
    }

    /// Every block run with a final status, in pipeline then child order.
    pub fn statuses(&self) -> Vec<(RunKey, Option<Status>)> {
        let mut ids: Vec<&Id> = self.nodes.keys().collect();
        ids.sort();
        ids.into_iter()
            .map(|id| {
                let status = match self.nodes[id] {
                    State::Done(s) => Some(s),
                    _ => None,
                };
                (self.key(id), status)
            })
            .collect()
    }

    /// The status of one block run, if it has ended.
    pub fn status(&self, key: &RunKey) -> Option<Status> {
        match self.nodes.get(&self.id(key)?)? {
            State::Done(s) => Some(*s),
            _ => None,
        }
    }

    /// Whether `key` is a block run of this plan that has not ended.
    pub fn is_open(&self, key: &RunKey) -> bool {
        self.id(key)
            .and_then(|id| self.nodes.get(&id))
            .is_some_and(|s| !matches!(s, State::Done(_)))
    }

    fn id(&self, key: &RunKey) -> Option<Id> {
        let s = *self.graph.index.get(&key.block)?;
        let id = (s, key.path.clone());
        self.nodes.contains_key(&id).then_some(id)
    }

    fn key(&self, id: &Id) -> RunKey {
        RunKey::child(self.graph.steps[id.0].name.clone(), id.1.clone())
    }

    /// Change a node's state, keeping the counters right.
    fn set(&mut self, id: &Id, to: State) {
        let from = self.nodes.insert(id.clone(), to);
        let s = id.0;
        let pending = |st: &State| {
            matches!(
                st,
                State::Waiting { .. } | State::Ready | State::Sleeping { .. }
            )
        };
        let running = |st: &State| matches!(st, State::Running);
        let active = |st: &State| !matches!(st, State::Done(_));
        let (was_p, was_r, was_a) = from.as_ref().map_or((false, false, false), |f| {
            (pending(f), running(f), active(f))
        });
        let (now_p, now_r, now_a) = (pending(&to), running(&to), active(&to));
        let bump = |v: &mut usize, was: bool, now: bool| match (was, now) {
            (false, true) => *v += 1,
            (true, false) => *v -= 1,
            _ => {}
        };
        bump(&mut self.pending_per_step[s], was_p, now_p);
        bump(&mut self.running_per_step[s], was_r, now_r);
        bump(&mut self.running, was_r, now_r);
        bump(&mut self.active_per_step[s], was_a, now_a);
    }
}
