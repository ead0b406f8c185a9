//! The report of a simulation: outcomes tallied as they arrive, in any order, into numbers
//! that depend on the outcomes alone (so the same seed gives the same report, byte for byte,
//! whatever the concurrency or the number of worker threads).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use super::counts::Counts;
use super::expect::Checked;
use super::outcome::Outcome;
use crate::tool::ToolErrorKind;

/// How many failed conversations a report lists (the lowest indices).
pub const LISTED_FAILURES: usize = 20;

/// What a simulation found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// The topology's name.
    pub topology: String,
    /// The seed.
    pub seed: u64,
    /// Conversations simulated.
    pub conversations: u32,
    /// Conversations whose every run answered.
    pub finished: u32,
    /// Handoff paths, most common first.
    pub paths: Vec<PathCount>,
    /// The agents conversations ended in, most common first.
    pub ends: Vec<AgentCount>,
    /// Why conversations stopped early, by kind (`max_turns`, `handoff_loop`, ...).
    pub stops: BTreeMap<&'static str, u32>,
    /// Tool calls by tool, with how many got an error output.
    pub tool_calls: Vec<ToolCount>,
    /// Error outputs by tool and kind.
    pub error_outputs: Vec<ErrorCount>,
    /// What the simulation injected.
    pub faults: Faults,
    /// Run latencies (one run per user message), in virtual milliseconds.
    pub latency_ms: Percentiles,
    /// Model turns per conversation.
    pub turns: PerConversation,
    /// Model requests per conversation.
    pub model_requests: PerConversation,
    /// Input tokens per conversation.
    pub input_tokens: PerConversation,
    /// Output tokens per conversation.
    pub output_tokens: PerConversation,
    /// The conversations that stopped early (the first [`LISTED_FAILURES`] by index), each
    /// rerunnable alone with `--conversation <index>`.
    pub failures: Vec<Failure>,
    /// How many conversations stopped early in all.
    pub failed: u32,
    /// The expectations, checked.
    pub expectations: Vec<Checked>,
}

/// One handoff path and how often it was taken.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathCount {
    /// The agents, in order.
    pub path: Vec<String>,
    /// Conversations that took it.
    pub count: u32,
    /// Its share of all conversations.
    pub share: f64,
}

/// An agent and a count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentCount {
    /// The agent.
    pub agent: String,
    /// How many.
    pub count: u32,
}

/// Calls of one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolCount {
    /// The tool (as the model named it).
    pub tool: String,
    /// Calls.
    pub calls: u64,
    /// Calls that got an error output.
    pub errors: u64,
}

/// Error outputs of one kind from one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorCount {
    /// The tool.
    pub tool: String,
    /// The kind.
    pub kind: ToolErrorKind,
    /// How many.
    pub count: u64,
}

/// What was injected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Faults {
    /// Model faults by kind (`rate_limit`, `server_error`, ...), those that happened.
    pub model: BTreeMap<&'static str, u64>,
    /// Tool calls made to fail.
    pub tool_failures: u64,
    /// Tool calls made to hang until their timeout.
    pub tool_timeouts: u64,
}

/// Percentiles of a quantity (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Percentiles {
    /// How many values.
    pub count: u64,
    /// The median.
    pub p50: u64,
    /// The 95th percentile.
    pub p95: u64,
    /// The 99th percentile.
    pub p99: u64,
    /// The largest.
    pub max: u64,
}

/// A per-conversation quantity: its total, mean and largest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct PerConversation {
    /// Over all conversations.
    pub total: u64,
    /// The mean per conversation.
    pub mean: f64,
    /// The largest of one conversation.
    pub max: u64,
}

/// A conversation that stopped early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Its index: rerun it with `--conversation <index>`.
    pub conversation: u32,
    /// Its trace id.
    pub trace_id: String,
    /// Its persona.
    pub persona: Option<String>,
    /// What stopped it.
    pub stop: &'static str,
    /// The error.
    pub error: String,
    /// The agents it went through.
    pub path: Vec<String>,
}

/// Outcomes tallied so far.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    conversations: u32,
    finished: u32,
    paths: HashMap<Vec<String>, u32>,
    ends: HashMap<String, u32>,
    stops: BTreeMap<&'static str, u32>,
    tools: BTreeMap<String, (u64, u64)>,
    errors: BTreeMap<(String, ToolErrorKind), u64>,
    latencies: Vec<u64>,
    turns: (u64, u64),
    requests: (u64, u64),
    input_tokens: (u64, u64),
    output_tokens: (u64, u64),
    failures: BTreeMap<u32, Failure>,
}

impl Tally {
    pub(crate) fn add(&mut self, outcome: &Outcome) {
        self.conversations += 1;
        // Look up before inserting: the keys are nearly always there already.
        match self.paths.get_mut(&outcome.path) {
            Some(count) => *count += 1,
            None => {
                self.paths.insert(outcome.path.clone(), 1);
            }
        }
        if let Some(last) = outcome.last_agent() {
            match self.ends.get_mut(last) {
                Some(count) => *count += 1,
                None => {
                    self.ends.insert(last.to_owned(), 1);
                }
            }
        }
        for (tool, error) in &outcome.tool_calls {
            if !self.tools.contains_key(&**tool) {
                self.tools.insert(tool.to_string(), (0, 0));
            }
            let Some(counts) = self.tools.get_mut(&**tool) else {
                continue;
            };
            counts.0 += 1;
            if let Some(kind) = error {
                counts.1 += 1;
                *self.errors.entry((tool.to_string(), *kind)).or_default() += 1;
            }
        }
        self.latencies.extend(
            outcome
                .runs
                .iter()
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        );
        let add = |slot: &mut (u64, u64), n: u64| {
            slot.0 += n;
            slot.1 = slot.1.max(n);
        };
        add(&mut self.turns, u64::from(outcome.turns));
        add(&mut self.requests, outcome.usage.requests);
        add(&mut self.input_tokens, outcome.usage.input_tokens);
        add(&mut self.output_tokens, outcome.usage.output_tokens);
        match &outcome.stop {
            None => self.finished += 1,
            Some(stop) => {
                *self.stops.entry(stop.kind).or_default() += 1;
                self.failures.insert(
                    outcome.index,
                    Failure {
                        conversation: outcome.index,
                        trace_id: outcome.trace_id.clone(),
                        persona: outcome.persona.clone(),
                        stop: stop.kind,
                        error: stop.message.clone(),
                        path: outcome.path.clone(),
                    },
                );
                if self.failures.len() > LISTED_FAILURES {
                    self.failures.pop_last();
                }
            }
        }
    }

    /// How many outcomes were tallied.
    pub(crate) fn len(&self) -> u32 {
        self.conversations
    }

    /// The report, expectations not yet checked.
    pub(crate) fn report(mut self, topology: &str, seed: u64, counts: &Counts) -> Report {
        let n = self.conversations;
        let share = |count: u32| {
            if n == 0 {
                0.0
            } else {
                f64::from(count) / f64::from(n)
            }
        };
        let mut paths: Vec<PathCount> = self
            .paths
            .drain()
            .map(|(path, count)| PathCount {
                path,
                count,
                share: share(count),
            })
            .collect();
        paths.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.path.cmp(&b.path)));
        let mut ends: Vec<AgentCount> = self
            .ends
            .drain()
            .map(|(agent, count)| AgentCount { agent, count })
            .collect();
        ends.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.agent.cmp(&b.agent)));
        self.latencies.sort_unstable();
        let per = |(total, max): (u64, u64)| PerConversation {
            total,
            mean: if n == 0 {
                0.0
            } else {
                total as f64 / f64::from(n)
            },
            max,
        };
        let (tool_failures, tool_timeouts) = counts.tool_faults();
        let failed = n - self.finished;
        Report {
            topology: topology.to_owned(),
            seed,
            conversations: n,
            finished: self.finished,
            paths,
            ends,
            stops: self.stops,
            tool_calls: self
                .tools
                .into_iter()
                .map(|(tool, (calls, errors))| ToolCount {
                    tool,
                    calls,
                    errors,
                })
                .collect(),
            error_outputs: self
                .errors
                .into_iter()
                .map(|((tool, kind), count)| ErrorCount { tool, kind, count })
                .collect(),
            faults: Faults {
                model: counts.model_faults().into_iter().collect(),
                tool_failures,
                tool_timeouts,
            },
            latency_ms: percentiles(&self.latencies),
            turns: per(self.turns),
            model_requests: per(self.requests),
            input_tokens: per(self.input_tokens),
            output_tokens: per(self.output_tokens),
            failures: self.failures.into_values().collect(),
            failed,
            expectations: Vec::new(),
        }
    }
}

/// Nearest-rank percentiles of sorted `values`.
fn percentiles(values: &[u64]) -> Percentiles {
    let rank = |p: f64| {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a rank within the slice"
        )]
        let index = ((p * values.len() as f64).ceil() as usize).saturating_sub(1);
        values.get(index).copied().unwrap_or(0)
    };
    Percentiles {
        count: values.len() as u64,
        p50: rank(0.50),
        p95: rank(0.95),
        p99: rank(0.99),
        max: values.last().copied().unwrap_or(0),
    }
}

impl Report {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.expectations.iter().all(|e| e.passed)
    }

    /// The report as pretty JSON (deterministic: the same report gives the same bytes).
    pub fn to_json(&self) -> String {
        // Every field serializes (strings, numbers, maps with string keys).
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as text for a terminal: tables, most common first.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let pct = |share: f64| format!("{:.1}%", share * 100.0);
        let n = self.conversations;
        let _ = writeln!(
            out,
            "{}: {n} conversations, seed {}: {} finished ({}), {} stopped early",
            self.topology,
            self.seed,
            self.finished,
            pct(if n == 0 {
                0.0
            } else {
                f64::from(self.finished) / f64::from(n)
            }),
            self.failed
        );
        let _ = writeln!(out, "\nhandoff paths");
        let width = self
            .paths
            .iter()
            .map(|p| p.path.join(" -> ").len())
            .max()
            .unwrap_or(4)
            .max(4);
        for path in self.paths.iter().take(15) {
            let _ = writeln!(
                out,
                "  {:<width$}  {:>8}  {:>6}",
                path.path.join(" -> "),
                path.count,
                pct(path.share)
            );
        }
        if self.paths.len() > 15 {
            let _ = writeln!(out, "  ... and {} more paths", self.paths.len() - 15);
        }
        if !self.stops.is_empty() {
            let _ = writeln!(out, "\nstopped early");
            for (kind, count) in &self.stops {
                let _ = writeln!(out, "  {kind:<20}  {count:>8}");
            }
        }
        if !self.tool_calls.is_empty() {
            let _ = writeln!(out, "\ntool calls              calls   errors");
            for tool in &self.tool_calls {
                let _ = writeln!(
                    out,
                    "  {:<20}  {:>8}  {:>6}",
                    tool.tool, tool.calls, tool.errors
                );
            }
        }
        if !self.error_outputs.is_empty() {
            let _ = writeln!(out, "\nerror outputs");
            for error in &self.error_outputs {
                let _ = writeln!(
                    out,
                    "  {:<20}  {:<18}  {:>8}",
                    error.tool,
                    error.kind.name(),
                    error.count
                );
            }
        }
        let faults = &self.faults;
        if !faults.model.is_empty() || faults.tool_failures > 0 || faults.tool_timeouts > 0 {
            let _ = writeln!(out, "\ninjected faults");
            for (kind, count) in &faults.model {
                let _ = writeln!(out, "  model {kind:<20}  {count:>8}");
            }
            if faults.tool_failures > 0 {
                let _ = writeln!(
                    out,
                    "  tool failures               {:>8}",
                    faults.tool_failures
                );
            }
            if faults.tool_timeouts > 0 {
                let _ = writeln!(
                    out,
                    "  tool timeouts               {:>8}",
                    faults.tool_timeouts
                );
            }
        }
        let l = &self.latency_ms;
        let _ = writeln!(
            out,
            "\nrun latency (virtual): p50 {}  p95 {}  p99 {}  max {}  ({} runs)",
            ms(l.p50),
            ms(l.p95),
            ms(l.p99),
            ms(l.max),
            l.count
        );
        let _ = writeln!(
            out,
            "per conversation: {:.2} turns (max {}), {:.2} model requests, {:.0} input + {:.0} output tokens",
            self.turns.mean,
            self.turns.max,
            self.model_requests.mean,
            self.input_tokens.mean,
            self.output_tokens.mean
        );
        if !self.failures.is_empty() {
            let _ = writeln!(
                out,
                "\nconversations that stopped early (rerun one with --conversation <n>)"
            );
            for failure in &self.failures {
                let _ = writeln!(
                    out,
                    "  #{:<6} {:<16} {}",
                    failure.conversation, failure.stop, failure.error
                );
            }
            if self.failed as usize > self.failures.len() {
                let _ = writeln!(
                    out,
                    "  ... and {} more",
                    self.failed as usize - self.failures.len()
                );
            }
        }
        if !self.expectations.is_empty() {
            let _ = writeln!(out, "\nexpectations");
            for e in &self.expectations {
                let mark = if e.passed { "ok  " } else { "FAIL" };
                let _ = writeln!(
                    out,
                    "  {mark}  {}  (observed {})",
                    e.expectation, e.observed
                );
            }
        }
        out
    }
}

/// Milliseconds for people: `850 ms`, `1.25 s`.
fn ms(value: u64) -> String {
    if value < 1000 {
        format!("{value} ms")
    } else {
        format!("{:.2} s", value as f64 / 1000.0)
    }
}
