//! How block runs are made, wait for their upstream block runs, end, and open or gather
//! fan-outs.

use super::rules::{decide, Verdict};
use super::{Decided, Id, Plan, Ready, RunKey, Source, State, Status};

/// What a waiting block run waits for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Wait {
    /// One block run.
    Node(Id),
    /// Every child of a reducing block within one fan-out: (reducing step, fan-out path).
    Gather(Id),
}

/// The children of a reducing block within one fan-out.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gather {
    /// How many children there are, once the fan-out is known.
    expected: Option<u32>,
    /// Children ended so far.
    ended: u32,
    /// The worst ending of a child so far.
    worst: Option<Status>,
    /// The fan-out never opened: its dynamic block ended so.
    origin: Option<Status>,
}

impl Gather {
    fn complete(&self) -> bool {
        self.origin.is_some() || self.expected.is_some_and(|n| self.ended >= n)
    }

    fn status(&self) -> Status {
        self.origin.or(self.worst).unwrap_or(Status::Success)
    }
}

/// What a fan-out that never opened means for the blocks within it.
fn inherited(status: Status) -> Status {
    match status {
        Status::Failed | Status::UpstreamFailed => Status::UpstreamFailed,
        other => other,
    }
}

impl Plan {
    /// What upstream step `u` of a block run at `path` gives it.
    fn wait_for(&self, u: usize, path: &[u32]) -> Wait {
        let step = &self.graph.steps[u];
        let prefix = path[..step.out_len()].to_vec();
        if step.reduce {
            Wait::Gather((u, prefix))
        } else if step.dynamic {
            Wait::Node((u, prefix[..prefix.len() - 1].to_vec()))
        } else {
            Wait::Node((u, prefix))
        }
    }

    /// The final status of what `w` waits for, once it has one.
    fn ended(&self, w: &Wait) -> Option<Status> {
        match w {
            Wait::Node(id) => match self.nodes.get(id) {
                Some(State::Done(s)) => Some(*s),
                _ => None,
            },
            Wait::Gather(g) => self
                .gathers
                .get(g)
                .filter(|g| g.complete())
                .map(Gather::status),
        }
    }

    /// Make block run `id`: it waits for its upstream block runs, or is decided at once.
    pub(super) fn make(&mut self, id: Id) {
        let waits: Vec<Wait> = self.graph.steps[id.0]
            .upstream
            .iter()
            .map(|&u| self.wait_for(u, &id.1))
            .collect();
        let open: Vec<Wait> = waits
            .into_iter()
            .filter(|w| self.ended(w).is_none())
            .collect();
        self.set(
            &id,
            State::Waiting {
                missing: open.len(),
            },
        );
        for w in open.iter() {
            self.waiters.entry(w.clone()).or_default().push(id.clone());
        }
        if open.is_empty() {
            self.decide(id);
        }
    }

    /// Every upstream block run of `id` has ended: run it, or decide it by its rule.
    fn decide(&mut self, id: Id) {
        let step = &self.graph.steps[id.0];
        let upstream: Vec<(String, Status)> = step
            .upstream
            .iter()
            .map(|&u| {
                let w = self.wait_for(u, &id.1);
                (
                    self.graph.steps[u].name.clone(),
                    self.ended(&w).unwrap_or(Status::Failed),
                )
            })
            .collect();
        let named: Vec<(&str, Status)> = upstream.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        let verdict = if self.cancelled {
            Verdict::Not(Status::Cancelled, "the run was cancelled".into())
        } else {
            decide(step.rule, &named)
        };
        match verdict {
            Verdict::Run => {
                self.set(&id, State::Ready);
                self.ready.insert(id);
            }
            Verdict::Not(status, reason) => self.done(id, status, None, reason),
        }
    }

    /// Block run `id` ended with `status` (`rows`: its output's rows). A non-empty `reason`
    /// means the plan decided it, and it is reported.
    pub(super) fn done(&mut self, id: Id, status: Status, rows: Option<u64>, reason: String) {
        if matches!(self.nodes.get(&id), Some(State::Done(_))) {
            return;
        }
        if let Some(State::Sleeping { at }) = self.nodes.get(&id).copied() {
            self.sleeping.remove(&(at, id.clone()));
        }
        self.ready.remove(&id);
        self.set(&id, State::Done(status));
        if !reason.is_empty() {
            self.decided.push(Decided {
                key: self.key(&id),
                status,
                reason,
            });
        }
        let step = id.0;
        if self.graph.steps[step].dynamic {
            self.open_fan(&id, status, rows);
        }
        if self.graph.steps[step].reduce {
            let prefix = id.1[..id.1.len() - 1].to_vec();
            let g = self.gathers.entry((step, prefix.clone())).or_default();
            g.ended += 1;
            if matches!(status, Status::Failed | Status::UpstreamFailed) {
                g.worst = Some(Status::Failed);
            } else if status == Status::Cancelled && g.worst.is_none() {
                g.worst = Some(Status::Cancelled);
            }
            if g.complete() {
                self.notify(Wait::Gather((step, prefix)));
            }
        }
        self.notify(Wait::Node(id));
    }

    /// A dynamic block run ended: make its children (or, when it did not succeed or had no
    /// rows, decide the blocks within its fan-out at once).
    fn open_fan(&mut self, id: &Id, status: Status, rows: Option<u64>) {
        let step = &self.graph.steps[id.0];
        let n = match status {
            Status::Success => rows.unwrap_or(0).min(step.max_children as u64) as u32,
            _ => 0,
        };
        self.fans.insert(id.clone(), n);
        let depth = id.1.len() + 1;
        let inner = self.graph.inner[id.0].clone();
        let name = step.name.clone();
        for r in self.graph.reducers[id.0].clone() {
            let g = self.gathers.entry((r, id.1.clone())).or_default();
            g.expected = Some(n);
            if status != Status::Success {
                g.origin = Some(inherited(status));
            }
        }
        if n == 0 {
            let (status, reason) = match status {
                Status::Success => (
                    Status::Skipped,
                    format!("the fan-out of \"{name}\" has no children"),
                ),
                s => (
                    inherited(s),
                    format!(
                        "the fan-out of \"{name}\" did not open: it ended {}",
                        label(s)
                    ),
                ),
            };
            for &c in &inner {
                let cid = (c, id.1.clone());
                self.set(&cid, State::Done(status));
                self.decided.push(Decided {
                    key: self.key(&cid),
                    status,
                    reason: reason.clone(),
                });
            }
        } else {
            let direct: Vec<usize> = inner
                .iter()
                .copied()
                .filter(|&c| self.graph.steps[c].scope.len() == depth)
                .collect();
            for c in direct {
                for i in 0..n {
                    let mut path = id.1.clone();
                    path.push(i);
                    self.make((c, path));
                }
            }
        }
        for r in self.graph.reducers[id.0].clone() {
            if self.gathers[&(r, id.1.clone())].complete() {
                self.notify(Wait::Gather((r, id.1.clone())));
            }
        }
    }

    /// What `w` waited for has ended: its waiters may now be decided.
    fn notify(&mut self, w: Wait) {
        let Some(waiters) = self.waiters.remove(&w) else {
            return;
        };
        for id in waiters {
            if let Some(State::Waiting { missing }) = self.nodes.get(&id).copied() {
                let missing = missing.saturating_sub(1);
                self.set(&id, State::Waiting { missing });
                if missing == 0 {
                    self.decide(id);
                }
            }
        }
    }

    /// Block run `id` as a ready job: its inputs and fan-out rows.
    pub(super) fn describe(&self, id: &Id) -> Ready {
        let step = &self.graph.steps[id.0];
        let mut inputs = Vec::new();
        for &u in &step.upstream {
            let name = self.graph.steps[u].name.clone();
            let w = self.wait_for(u, &id.1);
            if self.ended(&w) != Some(Status::Success) {
                continue;
            }
            let source = match w {
                Wait::Gather((g, prefix)) => {
                    let n = self.gathers[&(g, prefix.clone())].expected.unwrap_or(0);
                    let children = (0..n)
                        .map(|j| {
                            let mut p = prefix.clone();
                            p.push(j);
                            (g, p)
                        })
                        .filter(|c| self.nodes.get(c) == Some(&State::Done(Status::Success)))
                        .map(|c| self.key(&c))
                        .collect();
                    Source::Gather(children)
                }
                Wait::Node(n) if self.graph.steps[u].dynamic => {
                    let row = id.1[n.1.len()];
                    Source::Row(self.key(&n), row)
                }
                Wait::Node(n) => Source::Whole(self.key(&n)),
            };
            inputs.push((name, source));
        }
        let rows = step
            .scope
            .iter()
            .enumerate()
            .map(|(level, &d)| (self.key(&(d, id.1[..level].to_vec())), id.1[level]))
            .collect();
        Ready {
            key: self.key(id),
            inputs,
            rows,
        }
    }

    /// The number of children a dynamic block run started, once it ended.
    pub fn children(&self, key: &RunKey) -> Option<u32> {
        self.fans.get(&self.id(key)?).copied()
    }
}

fn label(s: Status) -> &'static str {
    match s {
        Status::Success => "successfully",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::UpstreamFailed => "after an upstream failure",
        Status::Cancelled => "cancelled",
    }
}
