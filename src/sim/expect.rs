//! Checking a simulation's expectations against its report: each one passes or fails, and
//! says what was observed, so a failing `baton sim` names the expectation and the value.

use serde::Serialize;

use super::report::Report;
use super::spec::Expectation;

/// One expectation, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// What was expected, in words: `path triage -> refunds in at most 5.0%`.
    pub expectation: String,
    /// Whether it held.
    pub passed: bool,
    /// What was observed: `7.3% (73 of 1000)`.
    pub observed: String,
}

/// Checks `expectation` against `report`.
pub(crate) fn check(expectation: &Expectation, report: &Report) -> Checked {
    let n = report.conversations;
    let share = |count: u32| {
        if n == 0 {
            0.0
        } else {
            f64::from(count) / f64::from(n)
        }
    };
    let of = |count: u32| format!("{:.1}% ({count} of {n})", share(count) * 100.0);
    let (expectation, passed, observed) = match expectation {
        Expectation::EndsIn(agents) => {
            let elsewhere: Vec<String> = report
                .ends
                .iter()
                .filter(|e| !agents.contains(&e.agent))
                .map(|e| format!("{} in `{}`", e.count, e.agent))
                .collect();
            let unfinished = report.failed;
            let observed = if elsewhere.is_empty() {
                "all did".to_owned()
            } else {
                elsewhere.join(", ")
            };
            (
                format!("every conversation ends in {}", names(agents)),
                elsewhere.is_empty() && unfinished == 0,
                if unfinished > 0 {
                    format!("{observed}; {unfinished} stopped early")
                } else {
                    observed
                },
            )
        }
        Expectation::PathAtMost { path, max } => {
            let count = taking(report, path);
            (
                format!("path {} in at most {:.1}%", path.join(" -> "), max * 100.0),
                share(count) <= *max,
                of(count),
            )
        }
        Expectation::PathAtLeast { path, min } => {
            let count = taking(report, path);
            (
                format!("path {} in at least {:.1}%", path.join(" -> "), min * 100.0),
                share(count) >= *min,
                of(count),
            )
        }
        Expectation::MaxTurns(max) => (
            format!("no conversation takes more than {max} turns"),
            report.turns.max <= u64::from(*max),
            format!("at most {}", report.turns.max),
        ),
        Expectation::LatencyUnder { percentile, under } => {
            let l = &report.latency_ms;
            let (name, value) = match percentile {
                50 => ("p50", l.p50),
                95 => ("p95", l.p95),
                99 => ("p99", l.p99),
                _ => ("max", l.max),
            };
            let bound = u64::try_from(under.as_millis()).unwrap_or(u64::MAX);
            (
                format!(
                    "{name} run latency under {}",
                    humantime::format_duration(*under)
                ),
                value < bound,
                format!("{value} ms"),
            )
        }
        Expectation::NoErrorOutput { kind, tool } => {
            let count: u64 = report
                .error_outputs
                .iter()
                .filter(|e| kind.is_none_or(|k| e.kind == k))
                .filter(|e| tool.as_ref().is_none_or(|t| &e.tool == t))
                .map(|e| e.count)
                .sum();
            let what = match (kind, tool) {
                (Some(kind), Some(tool)) => format!("no `{kind}` error output from `{tool}`"),
                (Some(kind), None) => format!("no `{kind}` error output"),
                (None, Some(tool)) => format!("no error output from `{tool}`"),
                (None, None) => "no error output".to_owned(),
            };
            (what, count == 0, format!("{count}"))
        }
        Expectation::FinishAtLeast(min) => (
            format!("at least {:.1}% of conversations finish", min * 100.0),
            share(report.finished) >= *min,
            of(report.finished),
        ),
    };
    Checked {
        expectation,
        passed,
        observed,
    }
}

/// How many conversations took a path holding `agents` one after the other.
fn taking(report: &Report, agents: &[String]) -> u32 {
    report
        .paths
        .iter()
        .filter(|p| agents.is_empty() || p.path.windows(agents.len()).any(|w| w == agents))
        .map(|p| p.count)
        .sum()
}

fn names(agents: &[String]) -> String {
    agents
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
