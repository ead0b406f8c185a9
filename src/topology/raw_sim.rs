//! The `simulation:` section exactly as written: one type per mapping, each field documented
//! (the JSON Schema derives from them, as from `raw`). What needs only the mapping itself is
//! checked while reading (a step with both `choose` and a turn, a persona's `plan` without a
//! `model`); references to the rest of the topology are checked in `simulation`.

use schemars::JsonSchema;

use super::quantity::{Dist, Messages, Millis, Named, Number, RegexField, Seed, Share, Weight};
use super::raw::RawTurn;
use super::read::{Count, Dur, Fields, FromNode, Located, Reader, did_you_mean};
use super::tree::{Node, Value};
use crate::sim::ModelFaultKind;
use crate::tool::ToolErrorKind;

/// The `simulation:` field: the section, or the file that holds it.
#[derive(Debug, JsonSchema)]
#[serde(untagged)]
pub(crate) enum RawSimulationEntry {
    /// A file next to the topology file holding the section (`simulation.yaml`).
    File(String),
    /// The section, written here.
    Inline(Box<RawSimulation>),
}

impl FromNode for RawSimulationEntry {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        match &node.value {
            Value::String(_) => r.string(node).map(RawSimulationEntry::File),
            _ => RawSimulation::read(node, r).map(|s| RawSimulationEntry::Inline(Box::new(s))),
        }
    }
}

/// How `baton sim` simulates the topology: run defaults, how each model entry, tool and agent
/// behaves, who the users are, and what must hold of the results.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Baton simulation")]
pub(crate) struct RawSimulation {
    /// Conversations to simulate (default 1000; `--conversations` overrides it).
    pub(crate) conversations: Option<Count>,
    /// The seed: the same seed gives the same report (default 0; `--seed` overrides it).
    pub(crate) seed: Option<Seed>,
    /// Conversations in flight at once: the concurrent users (default 100).
    pub(crate) concurrency: Option<Count>,
    /// Latencies, token counts and faults, by model entry name (`scripted`: the agents that
    /// name no model entry).
    #[serde(default)]
    pub(crate) models: Named<RawModelSim>,
    /// Latencies, failures and outputs, by tool name. Tools that are not built-ins or agents
    /// need an `output`.
    #[serde(default)]
    pub(crate) tools: Named<RawToolSim>,
    /// How each agent's model answers, by agent name: steps tried in order, the first whose
    /// `when` holds plays. Agents not listed play their `scripted:` turns.
    #[serde(default)]
    pub(crate) agents: Named<Vec<Located<RawStep>>>,
    /// Who the users are (default: one who says `Hello`).
    #[serde(default)]
    pub(crate) personas: Vec<Located<RawPersona>>,
    /// What must hold of the report: `baton sim` exits 1 when one fails.
    #[serde(default)]
    pub(crate) expect: Vec<Located<RawExpectation>>,
}

impl FromNode for RawSimulation {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a simulation")?;
        let simulation = RawSimulation {
            conversations: f.get("conversations"),
            seed: f.get("seed"),
            concurrency: f.get("concurrency"),
            models: f.get("models").unwrap_or_default(),
            tools: f.get("tools").unwrap_or_default(),
            agents: f.get("agents").unwrap_or_default(),
            personas: f.get("personas").unwrap_or_default(),
            expect: f.get("expect").unwrap_or_default(),
        };
        f.finish();
        Some(simulation)
    }
}

/// How a model entry behaves.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModelSim {
    /// How long each request takes (default: no time).
    pub(crate) latency: Option<Dist<Millis>>,
    /// Tokens per request (default: an estimate, 4 bytes a token).
    pub(crate) tokens: Option<RawTokens>,
    /// Faults injected into a share of the requests each.
    #[serde(default)]
    pub(crate) faults: Vec<RawFault>,
}

impl FromNode for RawModelSim {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a simulated model")?;
        let model = RawModelSim {
            latency: f.get("latency"),
            tokens: f.get("tokens"),
            faults: f.get("faults").unwrap_or_default(),
        };
        f.finish();
        Some(model)
    }
}

/// Token counts per request.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTokens {
    /// Input tokens.
    pub(crate) input: Option<Dist<Number>>,
    /// Output tokens.
    pub(crate) output: Option<Dist<Number>>,
}

impl FromNode for RawTokens {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "token counts")?;
        let tokens = RawTokens {
            input: f.get("input"),
            output: f.get("output"),
        };
        f.finish();
        Some(tokens)
    }
}

/// One kind of model fault, at a rate.
#[derive(Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFault {
    /// What happens to the request.
    #[schemars(required)]
    pub(crate) kind: Option<FaultKindField>,
    /// The share of requests it happens to.
    #[schemars(required)]
    pub(crate) rate: Option<Share>,
    /// `rate_limit` only: the `Retry-After` the API asks for.
    pub(crate) retry_after: Option<Dur>,
}

impl RawFault {
    /// The fault, if it could be read.
    pub(crate) fn kind(&self) -> Option<ModelFaultKind> {
        let retry_after = self.retry_after.map(|d| d.0);
        Some(match self.kind?.0 {
            "rate_limit" => ModelFaultKind::RateLimit { retry_after },
            "server_error" => ModelFaultKind::ServerError,
            "timeout" => ModelFaultKind::Timeout,
            "malformed_arguments" => ModelFaultKind::MalformedArguments,
            "unknown_tool" => ModelFaultKind::UnknownTool,
            _ => ModelFaultKind::DuplicateCallIds,
        })
    }
}

impl FromNode for RawFault {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a model fault")?;
        let fault = RawFault {
            kind: f.required("kind"),
            rate: f.required("rate"),
            retry_after: f.get("retry_after"),
        };
        if fault.kind.is_some_and(|k| k.0 != "rate_limit")
            && let Some(at) = f.node("retry_after")
        {
            f.reader.error(
                at,
                "`retry_after` only applies to `rate_limit` faults",
                None,
            );
        }
        f.finish();
        Some(fault)
    }
}

/// A model fault kind, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FaultKindField(pub(crate) &'static str);

impl JsonSchema for FaultKindField {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ModelFaultKind".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`rate_limit`: HTTP 429 (with `retry_after`); `server_error`: HTTP 500; `timeout`: no answer until the entry's timeout; `malformed_arguments`: the first call's arguments are not JSON; `unknown_tool`: the turn also calls a tool the agent lacks; `duplicate_call_ids`: the turn's calls share one id.",
            "enum": ModelFaultKind::NAMES,
        })
    }
}

impl FromNode for FaultKindField {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        r.choice(node, ModelFaultKind::NAMES)
            .map(|i| FaultKindField(ModelFaultKind::NAMES[i]))
    }
}

/// How a tool behaves: a wait, maybe a failure, then its output.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawToolSim {
    /// How long each call takes (default: no time).
    pub(crate) latency: Option<Dist<Millis>>,
    /// A share of calls that fail, and with what error.
    pub(crate) fail: Option<RawFail>,
    /// The share of calls that never answer, so the tool's timeout ends them.
    pub(crate) timeout_rate: Option<Share>,
    /// The output of a call that succeeds (`{{args.<name>}}` is that argument); without it
    /// the tool's real body runs, which only built-ins and agent tools can.
    pub(crate) output: Option<String>,
}

impl FromNode for RawToolSim {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a simulated tool")?;
        let tool = RawToolSim {
            latency: f.get("latency"),
            fail: f.get("fail"),
            timeout_rate: f.get("timeout_rate"),
            output: f.get("output"),
        };
        f.finish();
        Some(tool)
    }
}

/// Failed calls of a tool.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFail {
    /// The share of calls that fail.
    #[schemars(required)]
    pub(crate) rate: Option<Share>,
    /// Their error text (default `simulated failure`).
    pub(crate) error: Option<String>,
}

impl FromNode for RawFail {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a tool failure")?;
        let fail = RawFail {
            rate: f.required("rate"),
            error: f.get("error"),
        };
        f.finish();
        Some(fail)
    }
}

/// One step of an agent's behaviour: when it applies, and the turn it plays (written inline,
/// as a `scripted:` turn) or the weighted turns it chooses from.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    /// What must hold for it to apply (every condition given); left out: always.
    pub(crate) when: Option<RawWhen>,
    /// Turns to choose from by weight, instead of one turn.
    pub(crate) choose: Option<Vec<Located<RawChoice>>>,
    #[serde(flatten)]
    pub(crate) turn: RawTurn,
}

impl FromNode for RawStep {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a simulated step")?;
        let inline = RawTurn::FIELDS.iter().any(|k| f.has(k));
        let step = RawStep {
            when: f.get("when"),
            choose: f.get("choose"),
            turn: RawTurn::read_fields(&mut f),
        };
        match (f.node("choose"), inline) {
            (Some(_), true) => f.reader.error(
                node,
                "a step plays one turn (`text`, `calls`, `handoff`) or chooses one (`choose`), not both",
                None,
            ),
            (Some(choose), false) if matches!(&choose.value, Value::Seq(list) if list.is_empty()) => {
                f.reader.error(choose, "`choose` needs at least one choice", None);
            }
            (None, _) => check_turn(&mut f, node, inline, &step.turn, "a step"),
            (Some(_), false) => {}
        }
        f.finish();
        Some(step)
    }
}

/// Reports a turn that plays nothing.
fn check_turn(f: &mut Fields<'_, '_, '_>, node: &Node, given: bool, turn: &RawTurn, what: &str) {
    if !given {
        f.reader.error(
            node,
            format!("{what} needs a turn: `text`, `calls` or `handoff`"),
            None,
        );
    } else if turn.is_empty() && !f.has("text") && !f.has("handoff") {
        // Only `calls: []`.
        f.reader.error(
            node,
            format!("{what} plays an empty turn"),
            Some("give it `text` or calls".to_owned()),
        );
    }
}

/// One weighted choice of a step.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChoice {
    /// Its weight, relative to the step's other choices (more than zero).
    #[schemars(required)]
    pub(crate) weight: Option<Weight>,
    #[serde(flatten)]
    pub(crate) turn: RawTurn,
}

impl FromNode for RawChoice {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a choice")?;
        let given = RawTurn::FIELDS.iter().any(|k| f.has(k));
        let choice = RawChoice {
            weight: f.required("weight"),
            turn: RawTurn::read_fields(&mut f),
        };
        check_turn(&mut f, node, given, &choice.turn, "a choice");
        f.finish();
        Some(choice)
    }
}

/// Conditions on the conversation; a step applies when all hold.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWhen {
    /// The agent's request in this run is its n-th (1-based).
    pub(crate) turn: Option<Count>,
    /// The latest user message matches this regex.
    pub(crate) input_matches: Option<RegexField>,
    /// The latest output of a call (of any tool, or of `tool`) contains the text.
    pub(crate) output_contains: Option<RawOutputContains>,
    /// This condition does not hold.
    pub(crate) not: Option<Box<RawWhen>>,
}

impl FromNode for RawWhen {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let field = r.field;
        let mut f = Fields::new(r, node, "a condition")?;
        if f.keys().next().is_none() {
            let hint = if field == "not" {
                "write the condition that must not hold"
            } else {
                "leave `when` out for a step that always applies"
            };
            f.reader.error(
                node,
                format!("`{field}` needs a condition"),
                Some(hint.to_owned()),
            );
        } else if field == "not" && f.keys().nth(1).is_some() {
            f.reader.error(
                node,
                "`not` takes one condition",
                Some("write one `not` per condition".to_owned()),
            );
        }
        let when = RawWhen {
            turn: f.get("turn"),
            input_matches: f.get("input_matches"),
            output_contains: f.get("output_contains"),
            not: f.node("not").and_then(|n| {
                f.reader.field = "not";
                RawWhen::read(n, f.reader).map(Box::new)
            }),
        };
        f.finish();
        Some(when)
    }
}

/// `output_contains`: a text (in the latest output of any tool), or `{tool, text}`.
#[derive(Debug, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub(crate) enum RawOutputContains {
    /// The text, in the latest output of any tool.
    Any(String),
    /// The text, in the latest output of this tool.
    Of {
        /// The tool.
        tool: Located<String>,
        /// The text.
        text: String,
    },
}

impl FromNode for RawOutputContains {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        if !matches!(node.value, Value::Map(_)) {
            return r.string(node).map(RawOutputContains::Any);
        }
        let mut f = Fields::new(r, node, "an output condition")?;
        let tool = f.required("tool");
        let text = f.required("text");
        f.finish();
        Some(RawOutputContains::Of {
            tool: tool?,
            text: text?,
        })
    }
}

/// A kind of user.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPersona {
    /// Its name, in reports.
    #[schemars(required)]
    pub(crate) name: Option<Located<String>>,
    /// How often it comes, relative to the other personas (default 1).
    pub(crate) weight: Option<Weight>,
    /// What it says first (one of them, drawn evenly).
    #[schemars(required)]
    pub(crate) says: Option<Messages>,
    /// What it says after each answer, in order; the conversation ends when they run out.
    pub(crate) replies: Option<Messages>,
    /// A model entry that plays the user (it writes the replies from `description` and
    /// `plan`).
    pub(crate) model: Option<Located<String>>,
    /// `model` only: who the user is.
    pub(crate) description: Option<String>,
    /// `model` only: what the user wants done, step by step.
    pub(crate) plan: Option<String>,
    /// `model` only: the most messages the user sends after the opening (default 3).
    pub(crate) max_replies: Option<Count>,
}

impl FromNode for RawPersona {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let modelled = matches!(&node.value, Value::Map(entries)
            if entries.iter().any(|(k, _)| k.value == Value::String("model".into())));
        let what = if modelled {
            "a persona played by a model"
        } else {
            "a persona"
        };
        let mut f = Fields::new(r, node, what)?;
        let persona = RawPersona {
            name: f.required("name"),
            weight: f.get("weight"),
            says: f.required("says"),
            replies: f.get("replies"),
            model: f.get("model"),
            description: if modelled {
                f.required("description")
            } else {
                f.get("description")
            },
            plan: if modelled {
                f.required("plan")
            } else {
                f.get("plan")
            },
            max_replies: f.get("max_replies"),
        };
        if modelled {
            if let Some(at) = f.node("replies") {
                f.reader.error(
                    at,
                    "a persona played by a model writes its own replies",
                    Some("remove `replies`, or `model`".to_owned()),
                );
            }
        } else {
            for key in ["description", "plan", "max_replies"] {
                if let Some(at) = f.node(key) {
                    f.reader.error(
                        at,
                        format!("`{key}` only applies to a persona played by a model"),
                        Some("add `model:` (a model entry), or remove it".to_owned()),
                    );
                }
            }
        }
        f.finish();
        Some(persona)
    }
}

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
