//! The block graph: cycle detection and a deterministic topological order.

use std::collections::{BTreeSet, HashMap};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

/// Edges from each block to the blocks it feeds, over manifest positions.
pub(crate) struct Dag {
    graph: DiGraph<usize, ()>,
}

impl Dag {
    /// Build the graph of `names` where `upstream[i]` lists the positions block `i` reads from.
    pub(crate) fn new(count: usize, upstream: &[Vec<usize>]) -> Self {
        let mut graph = DiGraph::with_capacity(count, count);
        for i in 0..count {
            graph.add_node(i);
        }
        for (i, ups) in upstream.iter().enumerate() {
            for &u in ups {
                graph.add_edge(NodeIndex::new(u), NodeIndex::new(i), ());
            }
        }
        Dag { graph }
    }

    /// Every cycle, one per strongly connected group, as positions in edge order with the first
    /// position repeated at the end. Groups and their starts follow manifest order.
    pub(crate) fn cycles(&self) -> Vec<Vec<usize>> {
        let mut cycles: Vec<Vec<usize>> = tarjan_scc(&self.graph)
            .into_iter()
            .filter(|scc| scc.len() > 1 || self.graph.contains_edge(scc[0], scc[0]))
            .map(|scc| self.cycle_through(&scc))
            .collect();
        cycles.sort();
        cycles
    }

    /// A concrete cycle inside one strongly connected group, starting at its first block.
    fn cycle_through(&self, scc: &[NodeIndex]) -> Vec<usize> {
        let members: BTreeSet<usize> = scc.iter().map(|n| n.index()).collect();
        let start = *members.iter().next().expect("non-empty group");
        // Breadth-first search from start back to start, staying inside the group.
        let mut parent: HashMap<usize, usize> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            let mut next: Vec<usize> = self
                .graph
                .neighbors(NodeIndex::new(n))
                .map(|m| m.index())
                .filter(|m| members.contains(m))
                .collect();
            next.sort_unstable();
            for m in next {
                if m == start {
                    let mut path = vec![n];
                    let mut cur = n;
                    while cur != start {
                        cur = parent[&cur];
                        path.push(cur);
                    }
                    path.reverse();
                    path.push(start);
                    return path;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(m) {
                    e.insert(n);
                    queue.push_back(m);
                }
            }
        }
        unreachable!("a strongly connected group always has a cycle through its members")
    }

    /// Positions in topological order, ties broken by manifest position. Only valid on an
    /// acyclic graph.
    pub(crate) fn order(&self) -> Vec<usize> {
        let n = self.graph.node_count();
        let mut indegree: Vec<usize> = (0..n)
            .map(|i| {
                self.graph
                    .neighbors_directed(NodeIndex::new(i), petgraph::Direction::Incoming)
                    .count()
            })
            .collect();
        let mut ready: BTreeSet<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for m in self.graph.neighbors(NodeIndex::new(i)) {
                indegree[m.index()] -= 1;
                if indegree[m.index()] == 0 {
                    ready.insert(m.index());
                }
            }
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_topological_with_manifest_ties() {
        // 0 -> 2, 1 -> 2, 3 alone
        let dag = Dag::new(4, &[vec![], vec![], vec![0, 1], vec![]]);
        assert!(dag.cycles().is_empty());
        assert_eq!(dag.order(), vec![0, 1, 2, 3]);
        // 1 feeds 0: 1 must come first.
        let dag = Dag::new(2, &[vec![1], vec![]]);
        assert_eq!(dag.order(), vec![1, 0]);
    }

    #[test]
    fn cycles_are_reported_in_edge_order() {
        // 0 -> 1 -> 2 -> 0, and 3 -> 3
        let dag = Dag::new(4, &[vec![2], vec![0], vec![1], vec![3]]);
        assert_eq!(dag.cycles(), vec![vec![0, 1, 2, 0], vec![3, 3]]);
    }
}
