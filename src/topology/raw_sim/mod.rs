//! The `simulation:` section exactly as written: one type per mapping, each field documented
//! (the JSON Schema derives from them, as from `raw`). What needs only the mapping itself is
//! checked while reading (a step with both `choose` and a turn, a persona's `plan` without a
//! `model`); references to the rest of the topology are checked in `simulation`. Steps and
//! their conditions are in `step`, expectations in `expect`.

use schemars::JsonSchema;

mod expect;
mod step;

pub(crate) use expect::{RawErrorOutput, RawExpectation};
pub(crate) use step::{RawOutputContains, RawStep, RawWhen};

use super::distribution::{Dist, Millis, Number};
use super::quantity::{Messages, Named, Seed, Share, Weight};
use super::read::{Count, Dur, Fields, FromNode, Located, Reader};
use super::tree::{Node, Value};
use crate::sim::ModelFaultKind;

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
