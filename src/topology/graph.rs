//! The topology as a graph: reachability and cycles (for `validate`), and drawings of it
//! (Mermaid and Graphviz DOT, for `baton graph`).
//!
//! Agents are nodes. A handoff is an edge to its target; an agent tool is an edge from each
//! agent that uses it to the agent it runs (a nested run). Built-in tools hang off the agents
//! that use them in drawings.

use std::fmt::Write as _;

use super::Topology;

/// A directed graph over `0..n`, as adjacency lists.
#[derive(Debug, Clone)]
pub(super) struct Graph {
    pub(super) edges: Vec<Vec<usize>>,
}

impl Graph {
    pub(super) fn new(n: usize) -> Self {
        Graph {
            edges: vec![Vec::new(); n],
        }
    }

    pub(super) fn add(&mut self, from: usize, to: usize) {
        if !self.edges[from].contains(&to) {
            self.edges[from].push(to);
        }
    }

    /// The nodes reachable from `start` (itself included), with the node each was first
    /// reached from, so paths can be rebuilt.
    pub(super) fn search(&self, start: usize) -> Vec<Option<usize>> {
        let mut parent = vec![None; self.edges.len()];
        parent[start] = Some(start);
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            for &next in &self.edges[node] {
                if parent[next].is_none() {
                    parent[next] = Some(node);
                    queue.push_back(next);
                }
            }
        }
        parent
    }

    /// The shortest path from `start` to `goal` (both included), if there is one.
    pub(super) fn path(&self, start: usize, goal: usize) -> Option<Vec<usize>> {
        Self::path_in(&self.search(start), start, goal)
    }

    /// The shortest path from `start` to `goal` (both included) in `parent`, what
    /// [`Graph::search`] found from `start`: one search serves paths to many goals.
    pub(super) fn path_in(
        parent: &[Option<usize>],
        start: usize,
        goal: usize,
    ) -> Option<Vec<usize>> {
        parent[goal]?;
        let mut path = vec![goal];
        let mut node = goal;
        while node != start {
            node = parent[node]?;
            path.push(node);
        }
        path.reverse();
        Some(path)
    }

    /// The strongly connected components with more than one node (the cycles, grouped), each
    /// sorted, in order of their smallest node. Iterative Tarjan: no recursion, so a long
    /// chain of agents cannot overflow the stack.
    pub(super) fn cyclic_components(&self) -> Vec<Vec<usize>> {
        let n = self.edges.len();
        let mut index = vec![usize::MAX; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut next_index = 0;
        let mut components = Vec::new();
        for root in 0..n {
            if index[root] != usize::MAX {
                continue;
            }
            // (node, position in its edge list)
            let mut work = vec![(root, 0)];
            index[root] = next_index;
            low[root] = next_index;
            next_index += 1;
            stack.push(root);
            on_stack[root] = true;
            while let Some(&mut (node, ref mut pos)) = work.last_mut() {
                if let Some(&next) = self.edges[node].get(*pos) {
                    *pos += 1;
                    if index[next] == usize::MAX {
                        index[next] = next_index;
                        low[next] = next_index;
                        next_index += 1;
                        stack.push(next);
                        on_stack[next] = true;
                        work.push((next, 0));
                    } else if on_stack[next] {
                        low[node] = low[node].min(index[next]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[node]);
                }
                if low[node] == index[node] {
                    let mut component = Vec::new();
                    while let Some(member) = stack.pop() {
                        on_stack[member] = false;
                        component.push(member);
                        if member == node {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        component.sort_unstable();
                        components.push(component);
                    }
                }
            }
        }
        components.sort();
        components
    }
}

// ===== drawings =====

impl Topology {
    /// Draws the topology as a Mermaid flowchart: agents (the entry agent marked and pointed
    /// at by `start`), handoff edges, agent tools as dotted edges to the agent they run, and
    /// built-in tools as side nodes.
    pub fn to_mermaid(&self) -> String {
        // Node ids are positions (`a0`, `t0`): names may hold `-`, which Mermaid could read
        // as part of an arrow.
        let agent_id = |name: &str| {
            let i = self.agents.iter().position(|a| a.name == name);
            format!("a{}", i.unwrap_or(usize::MAX))
        };
        let tool_id = |name: &str| {
            let i = self.tools.iter().position(|t| t.name == name);
            format!("t{}", i.unwrap_or(usize::MAX))
        };
        let mut out = String::from("flowchart LR\n");
        if !self.description.is_empty() {
            let _ = writeln!(out, "    %% {}: {}", self.name, one_line(&self.description));
        }
        out.push_str("    classDef entry stroke-width:3px\n");
        out.push_str("    classDef tool stroke-dasharray:4 3\n");
        let _ = writeln!(out, "    start((start)) --> {}", agent_id(&self.entry));
        for agent in &self.agents {
            let class = if agent.name == self.entry {
                ":::entry"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    {}([\"{}\"]){class}",
                agent_id(&agent.name),
                agent.name
            );
        }
        for tool in self.plain_tools_in_use() {
            let _ = writeln!(out, "    {}[/\"{tool}\"/]:::tool", tool_id(tool));
        }
        for agent in &self.agents {
            let from = agent_id(&agent.name);
            for target in &agent.handoffs {
                let _ = writeln!(out, "    {from} -->|handoff| {}", agent_id(target));
            }
            for tool in &agent.tools {
                match self.tool_agent(tool) {
                    Some(target) => {
                        let _ = writeln!(
                            out,
                            "    {from} -.->|\"tool: {tool}\"| {}",
                            agent_id(target)
                        );
                    }
                    _ => {
                        let _ = writeln!(out, "    {from} -.- {}", tool_id(tool));
                    }
                }
            }
        }
        out
    }

    /// Draws the topology in Graphviz DOT (render it with `dot -Tsvg`), with the same
    /// content as [`Topology::to_mermaid`].
    pub fn to_dot(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "digraph {} {{", quote(&self.name));
        out.push_str("    rankdir=LR;\n");
        out.push_str("    node [fontname=\"Helvetica\", fontsize=11];\n");
        out.push_str("    edge [fontname=\"Helvetica\", fontsize=10];\n");
        if !self.description.is_empty() {
            let _ = writeln!(
                out,
                "    label={}; labelloc=t;",
                quote(&format!("{}: {}", self.name, one_line(&self.description)))
            );
        }
        out.push_str("    start [shape=circle, label=\"start\", width=0.5, fixedsize=true];\n");
        let _ = writeln!(
            out,
            "    start -> {};",
            quote(&format!("agent:{}", self.entry))
        );
        for agent in &self.agents {
            let style = if agent.name == self.entry {
                "rounded,bold\", penwidth=2"
            } else {
                "rounded\""
            };
            let _ = writeln!(
                out,
                "    {} [label={}, shape=box, style=\"{style}];",
                quote(&format!("agent:{}", agent.name)),
                quote(&agent.name)
            );
        }
        for tool in self.plain_tools_in_use() {
            let _ = writeln!(
                out,
                "    {} [label={}, shape=ellipse, style=dashed];",
                quote(&format!("tool:{tool}")),
                quote(tool)
            );
        }
        for agent in &self.agents {
            let from = quote(&format!("agent:{}", agent.name));
            for target in &agent.handoffs {
                let _ = writeln!(
                    out,
                    "    {from} -> {} [label=\"handoff\"];",
                    quote(&format!("agent:{target}"))
                );
            }
            for tool in &agent.tools {
                match self.tool_agent(tool) {
                    Some(target) => {
                        let _ = writeln!(
                            out,
                            "    {from} -> {} [style=dotted, label={}];",
                            quote(&format!("agent:{target}")),
                            quote(&format!("tool: {tool}"))
                        );
                    }
                    _ => {
                        let _ = writeln!(
                            out,
                            "    {from} -> {} [style=dashed, arrowhead=none];",
                            quote(&format!("tool:{tool}"))
                        );
                    }
                }
            }
        }
        out.push_str("}\n");
        out
    }

    /// Tools (not agents used as tools) some agent uses, in definition order.
    fn plain_tools_in_use(&self) -> impl Iterator<Item = &str> {
        self.tools
            .iter()
            .filter(|t| t.kind.agent().is_none())
            .map(|t| t.name.as_str())
            .filter(|name| {
                self.agents
                    .iter()
                    .any(|a| a.tools.iter().any(|t| t == name))
            })
    }

    /// The agent the tool `name` runs, for agent tools.
    fn tool_agent(&self, name: &str) -> Option<&str> {
        self.tools
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| t.kind.agent())
    }
}

/// A DOT string literal.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Text on one line, without characters that end a Mermaid comment or label.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize, edges: &[(usize, usize)]) -> Graph {
        let mut g = Graph::new(n);
        for &(a, b) in edges {
            g.add(a, b);
        }
        g
    }

    #[test]
    fn cycles_are_grouped_by_component() {
        let g = graph(6, &[(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 3), (5, 5)]);
        assert_eq!(g.cyclic_components(), [vec![0, 1, 2], vec![3, 4]]);
        assert!(graph(3, &[(0, 1), (1, 2)]).cyclic_components().is_empty());
    }

    #[test]
    fn paths_are_shortest() {
        let g = graph(4, &[(0, 1), (1, 2), (0, 2), (2, 3)]);
        assert_eq!(g.path(0, 3), Some(vec![0, 2, 3]));
        assert_eq!(g.path(3, 0), None);
        assert_eq!(g.path(1, 1), Some(vec![1]));
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let n = 200_000;
        let mut g = Graph::new(n);
        for i in 0..n - 1 {
            g.add(i, i + 1);
        }
        g.add(n - 1, 0);
        assert_eq!(g.cyclic_components()[0].len(), n);
    }
}
