//! What a simulation declares: how each agent's scripted model behaves (branching steps),
//! who the users are (personas), how long models and tools take and how they fail, and what
//! must hold of the results (expectations).
//!
//! These are plain data: a topology's `simulation:` section is read into a [`SimSpec`]
//! (`topology::simulation`), and Rust tests build one in code. [`Simulation`](super::Simulation)
//! runs it.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::tool::ToolErrorKind;

/// A whole simulation: defaults for a run of it, and how every part behaves.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SimSpec {
    /// Conversations to simulate (default 1,000; `baton sim --conversations` overrides it).
    pub conversations: Option<u32>,
    /// The seed (default 0; `--seed` overrides it).
    pub seed: Option<u64>,
    /// Conversations in flight at once: the simulated concurrent users (default 100).
    pub concurrency: Option<u32>,
    /// Latencies, tokens and faults per model entry of the topology, by entry name
    /// ([`NO_MODEL`] for agents that name none).
    pub models: BTreeMap<String, ModelSim>,
    /// Latencies, failures and outputs per tool, by tool name.
    pub tools: BTreeMap<String, ToolSim>,
    /// How each agent's model answers, by agent name. An agent not listed plays its
    /// `scripted:` turns (the n-th request gets the n-th turn).
    pub agents: BTreeMap<String, Vec<Step>>,
    /// Who the users are; none means one user who says [`SimSpec::DEFAULT_OPENING`].
    pub personas: Vec<Persona>,
    /// What must hold of the report.
    pub expectations: Vec<Expectation>,
}

impl SimSpec {
    /// What the one user says when no persona is declared.
    pub const DEFAULT_OPENING: &'static str = "Hello";
}

/// The key of [`SimSpec::models`] for agents that name no model entry.
pub const NO_MODEL: &str = "";

/// A distribution of a quantity (milliseconds for latencies, a count for tokens), with an
/// optional cap. Samples below zero are zero.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Distribution {
    /// Its shape.
    pub shape: Shape,
    /// No sample is larger than this.
    pub max: Option<f64>,
}

/// The shape of a [`Distribution`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Shape {
    /// Always this value.
    Fixed(f64),
    /// Evenly between `min` and `max`.
    Uniform {
        /// The smallest value.
        min: f64,
        /// The largest value.
        max: f64,
    },
    /// Normal with this mean and standard deviation.
    Normal {
        /// The mean.
        mean: f64,
        /// The standard deviation.
        sd: f64,
    },
    /// Log-normal: `median * exp(sigma * z)` for a standard normal `z` (a long right tail,
    /// as request latencies have).
    LogNormal {
        /// The median.
        median: f64,
        /// The standard deviation of the logarithm.
        sigma: f64,
    },
}

impl Distribution {
    /// A distribution that is always `value`.
    pub fn fixed(value: f64) -> Self {
        Distribution {
            shape: Shape::Fixed(value),
            max: None,
        }
    }

    /// A distribution of this shape.
    pub fn new(shape: Shape) -> Self {
        Distribution { shape, max: None }
    }

    /// Caps the samples at `max`.
    #[must_use]
    pub fn with_max(mut self, max: f64) -> Self {
        self.max = Some(max);
        self
    }

    /// A latency that is always `duration`.
    pub fn millis(duration: Duration) -> Self {
        Self::fixed(duration.as_secs_f64() * 1000.0)
    }
}

/// How a model entry behaves in the simulation.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ModelSim {
    /// How long each request takes, in milliseconds (default: no time).
    pub latency: Option<Distribution>,
    /// Input tokens per request (default: an estimate, 4 bytes a token).
    pub input_tokens: Option<Distribution>,
    /// Output tokens per request (default: an estimate, 4 bytes a token).
    pub output_tokens: Option<Distribution>,
    /// Faults injected, each at its rate.
    pub faults: Vec<ModelFault>,
}

/// One kind of model fault, injected into a share of the requests.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ModelFault {
    /// The share of requests (0 to 1) that get it.
    pub rate: f64,
    /// What happens to them.
    pub kind: ModelFaultKind,
}

impl ModelFault {
    /// A fault of `kind` in a share `rate` (0 to 1) of the requests.
    pub fn new(rate: f64, kind: ModelFaultKind) -> Self {
        ModelFault { rate, kind }
    }
}

/// What a model fault does.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ModelFaultKind {
    /// HTTP 429, with this `Retry-After` (the entry's retry policy waits it, in virtual time).
    RateLimit {
        /// The wait the API asks for.
        retry_after: Option<Duration>,
    },
    /// HTTP 500.
    ServerError,
    /// No answer: the request hangs until the entry's timeout.
    Timeout,
    /// The turn's first tool call gets arguments that are not JSON.
    MalformedArguments,
    /// The turn also calls a tool the agent does not have.
    UnknownTool,
    /// The turn's calls all get one call id.
    DuplicateCallIds,
}

impl ModelFaultKind {
    /// Its name in files and reports (`rate_limit`, `server_error`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            ModelFaultKind::RateLimit { .. } => "rate_limit",
            ModelFaultKind::ServerError => "server_error",
            ModelFaultKind::Timeout => "timeout",
            ModelFaultKind::MalformedArguments => "malformed_arguments",
            ModelFaultKind::UnknownTool => "unknown_tool",
            ModelFaultKind::DuplicateCallIds => "duplicate_call_ids",
        }
    }

    /// Every name, for messages.
    pub const NAMES: &'static [&'static str] = &[
        "rate_limit",
        "server_error",
        "timeout",
        "malformed_arguments",
        "unknown_tool",
        "duplicate_call_ids",
    ];
}

/// How a tool behaves in the simulation: its body is replaced by a wait, maybe a failure,
/// then the real body (pure built-ins) or a declared output.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ToolSim {
    /// How long each call takes, in milliseconds (default: no time).
    pub latency: Option<Distribution>,
    /// The share of calls (0 to 1) that fail with [`error`](Self::error).
    pub failure_rate: f64,
    /// The error text of a failed call (default `simulated failure`).
    pub error: Option<String>,
    /// The share of calls (0 to 1) that never answer, so the tool's timeout ends them.
    pub timeout_rate: f64,
    /// The output of a call that succeeds; `{{args.<name>}}` is replaced by that argument.
    /// Without it the tool's real body runs (only built-ins may go without).
    pub output: Option<String>,
}

/// One step of an agent's simulated behaviour: when it applies, and the turn(s) it plays.
///
/// At each request the agent's steps are tried in order; the first whose conditions all hold
/// plays one of its choices, drawn by weight.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Step {
    /// What must hold (all of them); none: always.
    pub when: Vec<Condition>,
    /// The turns it may play, with their weights.
    pub choices: Vec<Choice>,
}

impl Step {
    /// A step that always plays `turn`.
    pub fn always(turn: SimTurn) -> Self {
        Step {
            when: Vec::new(),
            choices: vec![Choice { weight: 1.0, turn }],
        }
    }

    /// A step that plays one of `choices` (weight, turn).
    pub fn choose(choices: impl IntoIterator<Item = (f64, SimTurn)>) -> Self {
        Step {
            when: Vec::new(),
            choices: choices
                .into_iter()
                .map(|(weight, turn)| Choice { weight, turn })
                .collect(),
        }
    }

    /// Adds a condition.
    #[must_use]
    pub fn when(mut self, condition: Condition) -> Self {
        self.when.push(condition);
        self
    }
}

/// One weighted choice of a [`Step`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Choice {
    /// Its weight (relative to the step's other choices).
    pub weight: f64,
    /// The turn it plays.
    pub turn: SimTurn,
}

/// What must hold for a [`Step`] to apply.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Condition {
    /// The agent's request in this run is its `n`-th (1-based).
    Turn(u32),
    /// The latest user message matches.
    InputMatches(regex::Regex),
    /// The latest output of a call (of `tool`, or of any tool) contains `text`.
    OutputContains {
        /// The tool whose latest output is looked at; `None`: the latest output of any.
        tool: Option<String>,
        /// What it must contain.
        text: String,
    },
    /// Negates a condition.
    Not(Box<Condition>),
}

impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Condition::Turn(a), Condition::Turn(b)) => a == b,
            (Condition::InputMatches(a), Condition::InputMatches(b)) => a.as_str() == b.as_str(),
            (
                Condition::OutputContains { tool, text },
                Condition::OutputContains {
                    tool: tool_b,
                    text: text_b,
                },
            ) => tool == tool_b && text == text_b,
            (Condition::Not(a), Condition::Not(b)) => a == b,
            _ => false,
        }
    }
}

/// A simulated model turn: optional text, then calls. A turn without calls answers.
///
/// In the text and in string arguments, `{{input}}` is the latest user message,
/// `{{output:<id>}}` the output of the call with that id, and `{{match:<regex>}}` the first
/// capture group (or the whole match) of the regex in the latest user message. A string
/// argument that is only one such reference and reads as a JSON number, `true`, `false` or
/// `null` becomes that value.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SimTurn {
    /// Assistant text.
    pub text: Option<String>,
    /// Calls, all in this turn.
    pub calls: Vec<SimCall>,
}

impl SimTurn {
    /// A final answer.
    pub fn text(text: impl Into<String>) -> Self {
        SimTurn {
            text: Some(text.into()),
            calls: Vec::new(),
        }
    }

    /// A turn that hands off to `agent`.
    pub fn handoff(agent: impl Into<String>) -> Self {
        SimTurn {
            text: None,
            calls: vec![SimCall::Handoff {
                agent: agent.into(),
            }],
        }
    }

    /// A turn with these calls.
    pub fn calls(calls: impl IntoIterator<Item = SimCall>) -> Self {
        SimTurn {
            text: None,
            calls: calls.into_iter().collect(),
        }
    }

    /// Sets the text.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }
}

/// A call of a [`SimTurn`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SimCall {
    /// A tool call.
    Tool {
        /// The tool.
        name: String,
        /// The arguments: a JSON value whose strings are templates; a top-level string is
        /// sent as written (after filling), so it may be invalid JSON.
        args: serde_json::Value,
        /// A fixed call id (for `{{output:<id>}}`); default `call_<run turn>_<index>`.
        id: Option<String>,
    },
    /// A handoff.
    Handoff {
        /// The target agent.
        agent: String,
    },
}

impl SimCall {
    /// A tool call with these arguments.
    pub fn tool(name: impl Into<String>, args: serde_json::Value) -> Self {
        SimCall::Tool {
            name: name.into(),
            args,
            id: None,
        }
    }

    /// Fixes the call id of a tool call (a handoff is left as it is).
    #[must_use]
    pub fn with_id(mut self, call_id: impl Into<String>) -> Self {
        if let SimCall::Tool { id, .. } = &mut self {
            *id = Some(call_id.into());
        }
        self
    }
}

/// A kind of user.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Persona {
    /// Its name, in reports.
    pub name: String,
    /// How often it comes, relative to the other personas.
    pub weight: f64,
    /// What it may say first (one, drawn evenly).
    pub openings: Vec<String>,
    /// What it says after each answer, in order; the conversation ends when they run out.
    pub replies: Vec<String>,
    /// A model that plays the user instead of the fixed replies.
    pub model: Option<PersonaModel>,
}

impl Persona {
    /// A persona that says `opening` and nothing more.
    pub fn new(name: impl Into<String>, opening: impl Into<String>) -> Self {
        Persona {
            name: name.into(),
            weight: 1.0,
            openings: vec![opening.into()],
            replies: Vec::new(),
            model: None,
        }
    }

    /// Sets the weight.
    #[must_use]
    pub fn with_weight(mut self, weight: f64) -> Self {
        self.weight = weight;
        self
    }

    /// Has a model play the persona after its opening.
    #[must_use]
    pub fn played_by(mut self, model: PersonaModel) -> Self {
        self.model = Some(model);
        self
    }

    /// Adds a follow-up reply.
    #[must_use]
    pub fn with_reply(mut self, reply: impl Into<String>) -> Self {
        self.replies.push(reply.into());
        self
    }
}

/// A persona played by a model: it gets the persona's description and plan as instructions,
/// the conversation with the roles turned round, and writes the user's next message, or
/// [`PersonaModel::DONE`] when the plan is done.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PersonaModel {
    /// The topology's model entry that plays the user.
    pub entry: String,
    /// Who the user is.
    pub description: String,
    /// What the user wants to get done, step by step.
    pub plan: String,
    /// The most messages the user sends after the opening (default 3).
    pub max_replies: u32,
}

impl PersonaModel {
    /// What the model answers when the user has nothing more to say.
    pub const DONE: &'static str = "DONE";

    /// Model entry `entry` plays a user described by `description` who wants `plan` done.
    pub fn new(
        entry: impl Into<String>,
        description: impl Into<String>,
        plan: impl Into<String>,
    ) -> Self {
        PersonaModel {
            entry: entry.into(),
            description: description.into(),
            plan: plan.into(),
            max_replies: 3,
        }
    }
}

/// Something every simulation run must show; `baton sim` exits 1 when one fails.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Expectation {
    /// Every conversation ends in one of these agents.
    EndsIn(Vec<String>),
    /// The share of conversations whose path holds these agents one after the other is at
    /// most `max` (0 to 1).
    PathAtMost {
        /// The agents, in order.
        path: Vec<String>,
        /// The largest share allowed.
        max: f64,
    },
    /// The share of conversations whose path holds these agents one after the other is at
    /// least `min`.
    PathAtLeast {
        /// The agents, in order.
        path: Vec<String>,
        /// The smallest share allowed.
        min: f64,
    },
    /// No conversation takes more model turns than this (across its runs).
    MaxTurns(u32),
    /// A run latency percentile is under a bound.
    LatencyUnder {
        /// Which: 50, 95, 99 or 100 (the maximum).
        percentile: u8,
        /// The bound.
        under: Duration,
    },
    /// No error output of this kind (or of any kind), of this tool (or of any tool).
    NoErrorOutput {
        /// The kind; `None`: any kind.
        kind: Option<ToolErrorKind>,
        /// The tool; `None`: any tool.
        tool: Option<String>,
    },
    /// At least this share of conversations finish (every run answers).
    FinishAtLeast(f64),
}
