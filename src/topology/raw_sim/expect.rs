//! A simulation's expectations as written: one kind per list item.

use schemars::JsonSchema;

use crate::tool::ToolErrorKind;
use crate::topology::quantity::Share;
use crate::topology::read::{Count, Dur, Fields, FromNode, Located, Reader, did_you_mean};
use crate::topology::tree::{Node, Value};

/// Something every simulation must show: one kind each.
#[derive(Debug, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub(crate) enum RawExpectation {
    /// Every conversation ends in one of these agents.
    EndsIn {
        /// The agents.
        ends_in: Vec<Located<String>>,
    },
    /// The share of conversations whose path holds these agents one after the other.
    Path {
        /// The agents, in order.
        path: Vec<Located<String>>,
        /// The largest share allowed.
        at_most: Option<Share>,
        /// The smallest share allowed.
        at_least: Option<Share>,
    },
    /// No conversation takes more model turns than this.
    MaxTurns {
        /// The most turns.
        max_turns: Count,
    },
    /// Run latency percentiles (virtual time) stay under these bounds.
    Latency {
        /// The bounds.
        latency: RawLatencyBounds,
    },
    /// No call gets an error output of this kind (`any`: of any kind), or of this tool.
    NoErrorOutput {
        /// The kind, or `{kind, tool}`.
        no_error_output: RawErrorOutput,
    },
    /// At least this share of conversations finish (every run answers).
    Finished {
        /// `{at_least: <share>}`.
        finished: RawAtLeast,
    },
}

/// The kinds of expectation, by their key.
const EXPECTATIONS: [&str; 6] = [
    "ends_in",
    "path",
    "max_turns",
    "latency",
    "no_error_output",
    "finished",
];

impl FromNode for RawExpectation {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "an expectation")?;
        let present: Vec<&str> = EXPECTATIONS.into_iter().filter(|k| f.has(k)).collect();
        let expectation = match present.as_slice() {
            [] => {
                let list = EXPECTATIONS.map(|k| format!("`{k}`")).join(", ");
                // A handful of short candidates: no need to hold this to the hints' budget.
                let mut work = u64::MAX;
                let hint = f
                    .keys()
                    .find_map(|key| did_you_mean(key, EXPECTATIONS, &mut work));
                f.reader
                    .error(node, format!("an expectation needs one of {list}"), hint);
                return None;
            }
            [_, _, ..] => {
                f.reader.error(
                    node,
                    format!(
                        "an expectation has one kind: `{}` or `{}`, not both",
                        present[0], present[1]
                    ),
                    Some("write each in its own list item".to_owned()),
                );
                return None;
            }
            ["ends_in"] => {
                agents(&mut f, "ends_in").map(|ends_in| RawExpectation::EndsIn { ends_in })
            }
            ["path"] => {
                let path = agents(&mut f, "path");
                let at_most = f.get("at_most");
                let at_least = f.get("at_least");
                match (f.has("at_most"), f.has("at_least")) {
                    (true, true) => f.reader.error(
                        node,
                        "a path expectation takes `at_most` or `at_least`, not both",
                        Some("write each in its own list item".to_owned()),
                    ),
                    (false, false) => f.reader.error(
                        node,
                        "a path expectation needs `at_most` or `at_least`",
                        None,
                    ),
                    _ => {}
                }
                path.map(|path| RawExpectation::Path {
                    path,
                    at_most,
                    at_least,
                })
            }
            ["max_turns"] => f
                .get("max_turns")
                .map(|max_turns| RawExpectation::MaxTurns { max_turns }),
            ["latency"] => f
                .get("latency")
                .map(|latency| RawExpectation::Latency { latency }),
            ["no_error_output"] => f
                .get("no_error_output")
                .map(|no_error_output| RawExpectation::NoErrorOutput { no_error_output }),
            _ => f
                .get("finished")
                .map(|finished| RawExpectation::Finished { finished }),
        };
        f.finish();
        expectation
    }
}

/// Reads a list of agent names that must not be empty.
fn agents(f: &mut Fields<'_, '_, '_>, key: &'static str) -> Option<Vec<Located<String>>> {
    let list: Vec<Located<String>> = f.get(key)?;
    if list.is_empty() {
        if let Some(at) = f.node(key) {
            f.reader
                .error(at, format!("`{key}` needs at least one agent"), None);
        }
        return None;
    }
    Some(list)
}

/// Bounds on run latency percentiles.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLatencyBounds {
    /// The median.
    pub(crate) p50: Option<Dur>,
    /// The 95th percentile.
    pub(crate) p95: Option<Dur>,
    /// The 99th percentile.
    pub(crate) p99: Option<Dur>,
    /// The slowest run.
    pub(crate) max: Option<Dur>,
}

impl RawLatencyBounds {
    /// Each bound given, with its percentile (100: the maximum).
    pub(crate) fn bounds(&self) -> impl Iterator<Item = (u8, std::time::Duration)> {
        [
            (50, self.p50),
            (95, self.p95),
            (99, self.p99),
            (100, self.max),
        ]
        .into_iter()
        .filter_map(|(percentile, bound)| bound.map(|d| (percentile, d.0)))
    }
}

impl FromNode for RawLatencyBounds {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "latency bounds")?;
        if f.keys().next().is_none() {
            f.reader.error(
                node,
                "`latency` needs a bound: `p50`, `p95`, `p99` or `max`",
                None,
            );
        }
        let bounds = RawLatencyBounds {
            p50: f.get("p50"),
            p95: f.get("p95"),
            p99: f.get("p99"),
            max: f.get("max"),
        };
        f.finish();
        Some(bounds)
    }
}

/// `no_error_output`: a kind name (`any` for every kind), or `{kind, tool}`.
#[derive(Debug, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub(crate) enum RawErrorOutput {
    /// Of this kind, from any tool.
    Kind(ErrorKindField),
    /// Of this kind (default any), from this tool (default any).
    Of {
        /// The kind.
        kind: Option<ErrorKindField>,
        /// The tool.
        tool: Option<Located<String>>,
    },
}

impl FromNode for RawErrorOutput {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        if !matches!(node.value, Value::Map(_)) {
            return ErrorKindField::read(node, r).map(RawErrorOutput::Kind);
        }
        let mut f = Fields::new(r, node, "an error output")?;
        let of = RawErrorOutput::Of {
            kind: f.get("kind"),
            tool: f.get("tool"),
        };
        f.finish();
        Some(of)
    }
}

/// A [`ToolErrorKind`] by name, or `any` (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ErrorKindField(pub(crate) Option<ToolErrorKind>);

impl ErrorKindField {
    /// `any`, then every kind's name.
    fn names() -> Vec<&'static str> {
        std::iter::once("any")
            .chain(ToolErrorKind::ALL.iter().map(|k| k.name()))
            .collect()
    }
}

impl JsonSchema for ErrorKindField {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ToolErrorKind".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A kind of error output (`any`: every kind).",
            "enum": Self::names(),
        })
    }
}

impl FromNode for ErrorKindField {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let names = Self::names();
        let i = r.choice(node, &names)?;
        Some(ErrorKindField(ToolErrorKind::from_name(names[i])))
    }
}

/// `{at_least: <share>}`.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAtLeast {
    /// The smallest share allowed.
    #[schemars(required)]
    pub(crate) at_least: Option<Share>,
}

impl FromNode for RawAtLeast {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a share bound")?;
        let bound = RawAtLeast {
            at_least: f.required("at_least"),
        };
        f.finish();
        Some(bound)
    }
}
