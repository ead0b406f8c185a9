//! The topology format exactly as written: one type per mapping, each field documented.
//!
//! These types are the format's single description: the reader fills them from a located
//! tree (each `impl FromNode` below asks for the fields its type has, so anything else is an
//! unknown field), and `schema` derives the JSON Schema from them, doc comments included.
//! Nothing outside `topology/` sees them: `validate` turns them into a
//! [`Topology`](super::Topology) or into located problems.
//!
//! Fields the reader could not read are `None` (the problem is already reported), which is
//! why required fields are `Option`s marked `#[schemars(required)]`.

use schemars::JsonSchema;

use super::diagnostic::Place;
use super::kinds::RawTool;
use super::raw_sim::RawSimulationEntry;
use super::read::{Count, Dur, Fields, FromNode, Located, Reader, Retries, Tokens};
use super::tree::{Node, Value};
use crate::model::{Streaming, ToolCallContent, ToolChoice};

/// A Baton topology: models, tools, agents, handoffs, the entry agent and run limits.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Baton topology")]
pub(crate) struct RawTopology {
    /// The topology's name (default: the file's stem, or the folder's name).
    pub(crate) name: Option<String>,
    /// What the topology does.
    pub(crate) description: Option<String>,
    /// The agent every run starts at.
    #[schemars(required)]
    pub(crate) entry: Option<Located<String>>,
    /// How agents that do not choose offer handoffs (default `handoff`).
    pub(crate) handoff_style: Option<HandoffStyleField>,
    /// Bounds on every run.
    pub(crate) limits: Option<RawLimits>,
    /// Model endpoints agents can use, by name.
    #[serde(default)]
    pub(crate) models: Vec<RawModel>,
    /// The model of agents that do not name one (a name from `models`).
    pub(crate) model: Option<Located<String>>,
    /// Tools the agents can use: built-in functions, agents used as tools, HTTP requests and
    /// commands.
    #[serde(default)]
    pub(crate) tools: Vec<Located<RawTool>>,
    /// The agents: written here, or loaded from a file each (`- file: billing.yaml`).
    #[schemars(required)]
    pub(crate) agents: Option<Located<Vec<Located<RawAgentEntry>>>>,
    /// How `baton sim` simulates the topology's flows: scripted behaviour that branches,
    /// users, latencies and faults, and what must hold of the results; written here, or the
    /// name of a file next to this one that holds it.
    pub(crate) simulation: Option<Located<RawSimulationEntry>>,
}

/// Bounds on every run; each field has a default.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    /// Model requests per run, across all agents (default 10).
    pub(crate) max_turns: Option<Count>,
    /// Handoffs per run (default 10).
    pub(crate) max_handoffs: Option<Count>,
    /// How many times one run may enter the same agent (default 3): the handoff-loop guard.
    pub(crate) max_agent_visits: Option<Count>,
    /// The default timeout of a tool call (default `60s`).
    pub(crate) tool_timeout: Option<Dur>,
    /// Tool calls of one run in flight at once (default 32).
    pub(crate) max_tool_calls_in_flight: Option<Count>,
    /// Function calls one model turn may ask for (default 128); later calls get error outputs.
    pub(crate) max_calls_per_turn: Option<Count>,
    /// Tool calls in flight at once across all runs of the swarm (default: no cap beyond each
    /// tool's `max_concurrency`); calls past it wait, first come first served.
    pub(crate) swarm_tool_calls_in_flight: Option<Count>,
}

/// One agent's own bounds; each field left out keeps the run's.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAgentLimits {
    /// Model requests the agent may make each time a run enters it.
    pub(crate) max_turns: Option<Count>,
    /// The default timeout of the agent's tool calls (a tool's own `timeout` still wins).
    pub(crate) tool_timeout: Option<Dur>,
    /// The agent's tool calls in flight at once.
    pub(crate) max_tool_calls_in_flight: Option<Count>,
}

/// One model endpoint.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModel {
    /// The name agents refer to it by.
    #[schemars(required)]
    pub(crate) name: Option<Located<String>>,
    /// The API it speaks.
    #[schemars(required)]
    pub(crate) provider: Option<ProviderField>,
    /// The provider's model name (`gpt-4.1-mini`, `llama3.1:8b`).
    pub(crate) model: Option<String>,
    /// The API's base URL (default `https://api.openai.com/v1`).
    pub(crate) base_url: Option<Located<String>>,
    /// The environment variable that holds the API key (default `OPENAI_API_KEY`).
    pub(crate) api_key_env: Option<Located<String>>,
    /// Settings sent with every request to this model.
    pub(crate) settings: Option<RawModelSettings>,
    /// Timeout, retries and in-flight cap of the endpoint.
    pub(crate) limits: Option<RawModelLimits>,
    /// When requests stream: `true` (always), `false` (never), `no_tools` (only turns that
    /// offer no tools, for servers that cannot stream tool calls), or `auto` (default: when
    /// the run is streamed).
    pub(crate) stream: Option<StreamField>,
    /// How requests meet the quirks of the server (defaults: what works on the most servers).
    pub(crate) compat: Option<RawCompat>,
    /// The model takes images: those tools return (an MCP server's) are sent to it with
    /// their outputs (default false: it reads their text, which names each by type and size).
    pub(crate) images: Option<bool>,
}

/// Compatibility settings of one model entry.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCompat {
    /// `chat` only: the `content` of an assistant message that only calls tools: `empty`
    /// (`""`, default), `omit` (no field), or `null` (the API's own shape, which some servers
    /// refuse).
    pub(crate) tool_call_content: Option<ToolCallContentField>,
    /// Send `tool_choice: auto` when tools are offered and no `tool_choice` is set (default:
    /// true for `chat`, false for `openai`).
    pub(crate) explicit_tool_choice: Option<bool>,
}

/// Request settings; an agent's override its model's.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModelSettings {
    /// Sampling temperature, 0 to 2.
    #[schemars(range(min = 0, max = 2))]
    pub(crate) temperature: Option<f64>,
    /// Nucleus sampling, 0 to 1.
    #[schemars(range(min = 0, max = 1))]
    pub(crate) top_p: Option<f64>,
    /// A cap on output tokens.
    pub(crate) max_output_tokens: Option<Tokens>,
    /// Which function the model must call: `auto`, `none`, `required`, or `{function: name}`.
    pub(crate) tool_choice: Option<ToolChoiceField>,
    /// Whether the model may ask for several calls in one turn (default true).
    pub(crate) parallel_tool_calls: Option<bool>,
    /// Reasoning effort for reasoning models (`low`, `medium`, `high`).
    pub(crate) reasoning_effort: Option<String>,
    /// Whether function tools are sent with `strict: true` (default: strict exactly for the
    /// schemas strict mode accepts).
    pub(crate) strict_tools: Option<bool>,
    /// Other request fields, sent as they are (`seed`, `user`, `metadata`, ...); not the
    /// fields Baton sets itself (`model`, `messages`, `stream`, ...).
    pub(crate) extra: Option<ExtraField>,
}

/// `extra` request fields, with where each key is written.
#[derive(Debug, Default, Clone)]
pub(crate) struct ExtraField {
    /// The fields.
    pub(crate) map: serde_json::Map<String, serde_json::Value>,
    /// Each key, where it is written.
    pub(crate) keys: Vec<Located<String>>,
}

impl JsonSchema for ExtraField {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Extra".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": true,
        })
    }
}

impl FromNode for ExtraField {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let Value::Map(entries) = &node.value else {
            r.error(node, "`extra` must be a mapping of request fields", None);
            return None;
        };
        let mut extra = ExtraField::default();
        for (key, value) in entries {
            let Value::String(name) = &key.value else {
                r.error(key, "JSON object keys must be strings", None);
                return None;
            };
            extra
                .map
                .insert(name.clone(), serde_json::Value::read(value, r)?);
            extra.keys.push(Located {
                value: name.clone(),
                at: r.place(key),
            });
        }
        Some(extra)
    }
}

/// Bounds on one model endpoint.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModelLimits {
    /// Per-request timeout.
    pub(crate) timeout: Option<Dur>,
    /// Retries after 429, 5xx and connection errors.
    pub(crate) max_retries: Option<Retries>,
    /// Requests in flight at once, across every agent and run using the model.
    pub(crate) max_in_flight: Option<Count>,
}

/// An agent, written in place or loaded from its own file.
#[derive(Debug, JsonSchema)]
#[serde(untagged)]
pub(crate) enum RawAgentEntry {
    /// An agent written in place.
    Inline(Box<RawAgent>),
    /// An agent in its own file.
    File(RawAgentFile),
}

/// An agent in its own file (folder topologies).
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAgentFile {
    /// The file, relative to this one, inside its folder: `agents/billing.yaml`.
    #[schemars(required)]
    pub(crate) file: Option<Located<String>>,
}

/// One agent.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Baton agent")]
pub(crate) struct RawAgent {
    /// Its name: 1 to 52 letters, digits, `_` or `-` (handoffs become `transfer_to_<name>`).
    #[schemars(required, regex(pattern = r"^[a-zA-Z0-9_-]{1,52}$"))]
    pub(crate) name: Option<Located<String>>,
    /// What it does: shown to agents that hand off to it, or call it as a tool.
    pub(crate) description: Option<String>,
    /// Its instructions (the system prompt).
    pub(crate) instructions: Option<String>,
    /// The model it uses (a name from `models`; default: the topology's `model`).
    pub(crate) model: Option<Located<String>>,
    /// Settings sent with its requests, over its model's.
    pub(crate) model_settings: Option<RawModelSettings>,
    /// The tools it may call, by name.
    #[serde(default)]
    pub(crate) tools: Vec<Located<String>>,
    /// The agents it may hand the conversation to.
    #[serde(default)]
    pub(crate) handoffs: Vec<Located<String>>,
    /// How it offers handoffs: one `handoff` function, or one `transfer_to_<agent>` each.
    pub(crate) handoff_style: Option<HandoffStyleField>,
    /// Its own bounds, over the run's `limits`.
    pub(crate) limits: Option<RawAgentLimits>,
    /// Its turns for the scripted model (offline runs and tests): the n-th request of the
    /// agent in a run gets the n-th turn.
    pub(crate) scripted: Option<Vec<RawTurn>>,
}

/// One scripted model turn: text, calls, or both. A turn without calls ends the run.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTurn {
    /// Assistant text. `{{output:<id>}}` is replaced by that call's output, `{{input}}` by
    /// the latest user message.
    pub(crate) text: Option<Located<String>>,
    /// Function calls, all in this one turn.
    #[serde(default)]
    pub(crate) calls: Vec<Located<RawCall>>,
    /// Shorthand for a last call that hands off to this agent.
    pub(crate) handoff: Option<Located<String>>,
}

/// One scripted call: a `tool` (with `args`) or a `handoff`.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCall {
    /// The tool to call.
    pub(crate) tool: Option<Located<String>>,
    /// Its arguments: a mapping (sent as JSON) or a string (sent exactly as written).
    pub(crate) args: Option<serde_json::Value>,
    /// The agent to hand off to.
    pub(crate) handoff: Option<Located<String>>,
    /// A fixed call id, so a later turn can quote the output with `{{output:<id>}}`.
    pub(crate) id: Option<String>,
}

// ===== enums =====

/// `handoff` (one `handoff` function with an `agent` argument) or `transfer` (one
/// `transfer_to_<agent>` function per target).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HandoffStyleField(pub(crate) crate::handoff::HandoffStyle);

impl HandoffStyleField {
    const NAMES: &[&str] = &["handoff", "transfer"];
}

impl JsonSchema for HandoffStyleField {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HandoffStyle".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`handoff`: one `handoff` function whose `agent` argument names the target; `transfer`: one `transfer_to_<agent>` function per target.",
            "enum": Self::NAMES,
        })
    }
}

impl FromNode for HandoffStyleField {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        use crate::handoff::HandoffStyle;
        Some(HandoffStyleField(match r.choice(node, Self::NAMES)? {
            0 => HandoffStyle::Handoff,
            _ => HandoffStyle::Transfer,
        }))
    }
}

/// The API a model speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProviderField(pub(crate) crate::model::Provider);

impl ProviderField {
    const NAMES: &[&str] = &["openai", "chat", "scripted"];
}

impl JsonSchema for ProviderField {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Provider".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`openai`: the OpenAI Responses API; `chat`: an OpenAI-compatible Chat Completions API (vLLM, Ollama, llama.cpp); `scripted`: the agents' scripted turns.",
            "enum": Self::NAMES,
        })
    }
}

impl FromNode for ProviderField {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        use crate::model::Provider;
        Some(ProviderField(match r.choice(node, Self::NAMES)? {
            0 => Provider::Openai,
            1 => Provider::Chat,
            _ => Provider::Scripted,
        }))
    }
}

/// `true`, `false`, `auto` or `no_tools`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamField(pub(crate) Streaming);

impl StreamField {
    const NAMES: &[&str] = &["auto", "no_tools"];
}

impl JsonSchema for StreamField {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Streaming".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`true`: always stream; `false`: never; `no_tools`: stream only the turns that offer no tools; `auto`: stream when the run is streamed.",
            "anyOf": [{ "type": "boolean" }, { "enum": Self::NAMES }],
        })
    }
}

impl FromNode for StreamField {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        match &node.value {
            Value::Bool(on) => Some(StreamField(Streaming::from(Some(*on)))),
            Value::String(text) if text == "auto" => Some(StreamField(Streaming::Auto)),
            Value::String(text) if text == "no_tools" => Some(StreamField(Streaming::NoTools)),
            _ => {
                let hint = match &node.value {
                    Value::String(text) => {
                        r.problems.did_you_mean(text, Self::NAMES.iter().copied())
                    }
                    _ => None,
                };
                r.error(
                    node,
                    "`stream` must be true, false, `auto` or `no_tools`",
                    hint,
                );
                None
            }
        }
    }
}

/// `empty`, `omit` or `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ToolCallContentField(pub(crate) ToolCallContent);

impl ToolCallContentField {
    const NAMES: &[&str] = &["empty", "omit", "null"];
}

impl JsonSchema for ToolCallContentField {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ToolCallContent".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`empty`: `\"content\": \"\"`; `omit`: no `content` field; `null`: `\"content\": null`.",
            "enum": ["empty", "omit", "null", null],
        })
    }
}

impl FromNode for ToolCallContentField {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        Some(ToolCallContentField(match r.choice(node, Self::NAMES)? {
            0 => ToolCallContent::Empty,
            1 => ToolCallContent::Omit,
            _ => ToolCallContent::Null,
        }))
    }
}

/// `auto`, `none`, `required`, or `{function: <name>}` (with where the name is written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolChoiceField(pub(crate) ToolChoice, pub(super) Option<Place>);

impl ToolChoiceField {
    const NAMES: &[&str] = &["auto", "none", "required"];
}

impl JsonSchema for ToolChoiceField {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ToolChoice".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "anyOf": [
                { "enum": Self::NAMES },
                {
                    "type": "object",
                    "properties": { "function": { "type": "string" } },
                    "required": ["function"],
                    "additionalProperties": false,
                },
            ],
        })
    }
}

impl FromNode for ToolChoiceField {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        if let Value::Map(_) = node.value {
            let mut fields = Fields::new(r, node, "a tool choice")?;
            let function = fields.required::<Located<String>>("function");
            fields.finish();
            return function.map(|f| ToolChoiceField(ToolChoice::Function(f.value), Some(f.at)));
        }
        let choice = match r.choice(node, Self::NAMES)? {
            0 => ToolChoice::Auto,
            1 => ToolChoice::None,
            _ => ToolChoice::Required,
        };
        Some(ToolChoiceField(choice, None))
    }
}

// ===== reading =====

impl FromNode for RawTopology {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a topology")?;
        let topology = RawTopology {
            name: f.get("name"),
            description: f.get("description"),
            entry: f.required("entry"),
            handoff_style: f.get("handoff_style"),
            limits: f.get("limits"),
            models: f.get("models").unwrap_or_default(),
            model: f.get("model"),
            tools: f.get("tools").unwrap_or_default(),
            agents: f.required("agents"),
            simulation: f.get("simulation"),
        };
        f.finish();
        Some(topology)
    }
}

impl FromNode for RawLimits {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "limits")?;
        let limits = RawLimits {
            max_turns: f.get("max_turns"),
            max_handoffs: f.get("max_handoffs"),
            max_agent_visits: f.get("max_agent_visits"),
            tool_timeout: f.get("tool_timeout"),
            max_tool_calls_in_flight: f.get("max_tool_calls_in_flight"),
            max_calls_per_turn: f.get("max_calls_per_turn"),
            swarm_tool_calls_in_flight: f.get("swarm_tool_calls_in_flight"),
        };
        f.finish();
        Some(limits)
    }
}

impl FromNode for RawAgentLimits {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "an agent's limits")?;
        let limits = RawAgentLimits {
            max_turns: f.get("max_turns"),
            tool_timeout: f.get("tool_timeout"),
            max_tool_calls_in_flight: f.get("max_tool_calls_in_flight"),
        };
        f.finish();
        Some(limits)
    }
}

impl FromNode for RawModel {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a model")?;
        let model = RawModel {
            name: f.required("name"),
            provider: f.required("provider"),
            model: f.get("model"),
            base_url: f.get("base_url"),
            api_key_env: f.get("api_key_env"),
            settings: f.get("settings"),
            limits: f.get("limits"),
            stream: f.get("stream"),
            compat: f.get("compat"),
            images: f.get("images"),
        };
        f.finish();
        Some(model)
    }
}

impl FromNode for RawModelSettings {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "model settings")?;
        let temperature = in_range(&mut f, "temperature", 2.0);
        let top_p = in_range(&mut f, "top_p", 1.0);
        let settings = RawModelSettings {
            temperature,
            top_p,
            max_output_tokens: f.get("max_output_tokens"),
            tool_choice: f.get("tool_choice"),
            parallel_tool_calls: f.get("parallel_tool_calls"),
            reasoning_effort: f.get("reasoning_effort"),
            strict_tools: f.get("strict_tools"),
            extra: f.get("extra"),
        };
        f.finish();
        Some(settings)
    }
}

/// Reads a number field that must be in `0..=max`.
fn in_range(f: &mut Fields<'_, '_, '_>, key: &'static str, max: f64) -> Option<f64> {
    let value = f.get::<Located<f64>>(key)?;
    if (0.0..=max).contains(&value.value) {
        Some(value.value)
    } else {
        f.reader
            .problems
            .error(&value.at, format!("`{key}` must be from 0 to {max}"), None);
        None
    }
}

impl FromNode for RawCompat {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "compat settings")?;
        const CONTENT: &str = "tool_call_content";
        // `tool_call_content: null` is written as YAML's null, which reads as "not given".
        let tool_call_content = if f.has(CONTENT) && f.node(CONTENT).is_none() {
            Some(ToolCallContentField(ToolCallContent::Null))
        } else {
            f.get(CONTENT)
        };
        let compat = RawCompat {
            tool_call_content,
            explicit_tool_choice: f.get("explicit_tool_choice"),
        };
        f.finish();
        Some(compat)
    }
}

impl FromNode for RawModelLimits {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "model limits")?;
        let limits = RawModelLimits {
            timeout: f.get("timeout"),
            max_retries: f.get("max_retries"),
            max_in_flight: f.get("max_in_flight"),
        };
        f.finish();
        Some(limits)
    }
}

impl FromNode for RawAgentEntry {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let is_file = matches!(&node.value, Value::Map(entries)
            if entries.iter().any(|(k, _)| k.value == Value::String("file".into())));
        if is_file {
            let mut f = Fields::new(r, node, "an agent file entry")?;
            let file = RawAgentFile {
                file: f.required("file"),
            };
            f.finish();
            Some(RawAgentEntry::File(file))
        } else {
            RawAgent::read(node, r).map(|agent| RawAgentEntry::Inline(Box::new(agent)))
        }
    }
}

impl FromNode for RawAgent {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "an agent")?;
        let agent = RawAgent {
            name: f.required("name"),
            description: f.get("description"),
            instructions: f.get("instructions"),
            model: f.get("model"),
            model_settings: f.get("model_settings"),
            tools: f.get("tools").unwrap_or_default(),
            handoffs: f.get("handoffs").unwrap_or_default(),
            handoff_style: f.get("handoff_style"),
            limits: f.get("limits"),
            scripted: f.get("scripted"),
        };
        f.finish();
        Some(agent)
    }
}

impl FromNode for RawTurn {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a scripted turn")?;
        let turn = RawTurn::read_fields(&mut f);
        f.finish();
        Some(turn)
    }
}

impl RawTurn {
    /// The fields of a turn written inline in a mapping (a scripted turn, a simulation's step).
    pub(super) const FIELDS: [&str; 3] = ["text", "calls", "handoff"];

    /// Reads a turn's fields from a mapping that may hold others.
    pub(super) fn read_fields(f: &mut Fields<'_, '_, '_>) -> Self {
        RawTurn {
            text: f.get("text"),
            calls: f.get("calls").unwrap_or_default(),
            handoff: f.get("handoff"),
        }
    }

    /// Whether it plays nothing: no text and no calls.
    pub(super) fn is_empty(&self) -> bool {
        self.text.is_none() && self.calls.is_empty() && self.handoff.is_none()
    }
}

impl FromNode for RawCall {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "a scripted call")?;
        let call = RawCall {
            tool: f.get("tool"),
            args: f.get("args"),
            handoff: f.get("handoff"),
            id: f.get("id"),
        };
        f.finish();
        Some(call)
    }
}
