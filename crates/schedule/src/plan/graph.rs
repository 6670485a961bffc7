//! The pipeline as the plan sees it: the blocks that run as steps of the graph (conditions and
//! callbacks ride along with others), by position, with their edges and fan-out scopes.

use std::collections::HashMap;

use weft_pipeline::{Pipeline, TriggerRule};

/// One step of the graph.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) name: String,
    pub(crate) upstream: Vec<usize>,
    pub(crate) downstream: Vec<usize>,
    /// Positions of the dynamic blocks whose fan-outs it runs within, outermost first.
    pub(crate) scope: Vec<usize>,
    pub(crate) dynamic: bool,
    pub(crate) reduce: bool,
    pub(crate) rule: TriggerRule,
    pub(crate) max_children: usize,
    pub(crate) max_parallel: Option<usize>,
}

impl Step {
    /// Length of the scope its downstream blocks see.
    pub(crate) fn out_len(&self) -> usize {
        self.scope.len() + usize::from(self.dynamic) - usize::from(self.reduce)
    }
}

/// Every step, upstream before downstream.
#[derive(Debug, Clone)]
pub(crate) struct Graph {
    pub(crate) steps: Vec<Step>,
    pub(crate) index: HashMap<String, usize>,
    /// For each dynamic step: the steps whose scope it closes at its own level (its
    /// children's level), i.e. whose scope's entry at that level is it.
    pub(crate) inner: Vec<Vec<usize>>,
    /// For each dynamic step: the reducing steps gathering its children directly.
    pub(crate) reducers: Vec<Vec<usize>>,
}

impl Graph {
    pub(crate) fn new(p: &Pipeline) -> Graph {
        let blocks: Vec<_> = p.blocks.iter().filter(|b| !b.is_attached()).collect();
        let index: HashMap<String, usize> = blocks
            .iter()
            .enumerate()
            .map(|(i, b)| (b.name.clone(), i))
            .collect();
        let mut steps: Vec<Step> = blocks
            .iter()
            .map(|b| Step {
                name: b.name.clone(),
                upstream: b
                    .upstream
                    .iter()
                    .filter_map(|u| index.get(u).copied())
                    .collect(),
                downstream: Vec::new(),
                scope: b
                    .flow
                    .scope
                    .iter()
                    .filter_map(|d| index.get(d).copied())
                    .collect(),
                dynamic: b.flow.dynamic,
                reduce: b.flow.reduce,
                rule: b.flow.trigger_rule,
                max_children: b.flow.max_children,
                max_parallel: b.flow.max_parallel,
            })
            .collect();
        let mut inner = vec![Vec::new(); steps.len()];
        let mut reducers = vec![Vec::new(); steps.len()];
        for i in 0..steps.len() {
            for u in steps[i].upstream.clone() {
                steps[u].downstream.push(i);
            }
            for (level, &d) in steps[i].scope.iter().enumerate() {
                if level == steps[d].scope.len() {
                    inner[d].push(i);
                }
            }
            if steps[i].reduce {
                if let Some(&d) = steps[i].scope.last() {
                    reducers[d].push(i);
                }
            }
        }
        Graph {
            steps,
            index,
            inner,
            reducers,
        }
    }
}
