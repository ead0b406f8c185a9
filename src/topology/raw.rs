//! The serde mirror of a topology file, exactly as written, with source locations.
//!
//! Nothing outside `topology/` sees these types: [`validate`](super::validate) turns them into
//! a [`Topology`](super::Topology) or a list of located problems. Every struct denies unknown
//! fields, so a typo is an error with its line and column, never silently ignored.

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::handoff::HandoffStyle;
use crate::model::{ModelSettings, Provider};

/// A whole topology file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTopology {
    /// Defaults to the file's stem.
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) description: String,
    /// The agent runs start at.
    pub(crate) entry: Spanned<String>,
    /// Default handoff style of the agents.
    #[serde(default)]
    pub(crate) handoff_style: Option<HandoffStyle>,
    #[serde(default)]
    pub(crate) limits: Option<RawLimits>,
    /// Models agents can use.
    #[serde(default)]
    pub(crate) models: Vec<RawModel>,
    /// The model of agents that do not name one.
    #[serde(default)]
    pub(crate) model: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) tools: Vec<RawTool>,
    pub(crate) agents: Vec<RawAgent>,
}

/// One model endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModel {
    pub(crate) name: Spanned<String>,
    pub(crate) provider: Provider,
    /// The provider's model name.
    #[serde(default)]
    pub(crate) model: Option<String>,
    #[serde(default)]
    pub(crate) base_url: Option<String>,
    /// The environment variable holding the API key (default `OPENAI_API_KEY`).
    #[serde(default)]
    pub(crate) api_key_env: Option<String>,
    #[serde(default)]
    pub(crate) settings: ModelSettings,
    #[serde(default)]
    pub(crate) limits: Option<RawModelLimits>,
}

/// Timeout, retries, in-flight cap of a model endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModelLimits {
    /// A duration such as `60s`.
    #[serde(default)]
    pub(crate) timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) max_retries: Option<u32>,
    #[serde(default)]
    pub(crate) max_in_flight: Option<Spanned<usize>>,
}

/// Run limits; each field defaults to [`Limits::default`](crate::Limits).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    #[serde(default)]
    pub(crate) max_turns: Option<u32>,
    #[serde(default)]
    pub(crate) max_handoffs: Option<u32>,
    #[serde(default)]
    pub(crate) max_agent_visits: Option<u32>,
    /// A duration such as `30s` or `500ms`.
    #[serde(default)]
    pub(crate) tool_timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) max_tool_calls_in_flight: Option<Spanned<usize>>,
}

/// A tool made available to the agents.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTool {
    /// The built-in tool's name (`add`, `sleep_ms`, ...).
    pub(crate) builtin: Spanned<String>,
    #[serde(default)]
    pub(crate) max_concurrency: Option<Spanned<usize>>,
    /// A duration such as `5s`.
    #[serde(default)]
    pub(crate) timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) idempotent: bool,
    #[serde(default)]
    pub(crate) retries: u32,
}

/// One agent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAgent {
    pub(crate) name: Spanned<String>,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) instructions: String,
    #[serde(default)]
    pub(crate) tools: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) handoffs: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) handoff_style: Option<HandoffStyle>,
    /// The model the agent uses (a name from `models:`).
    #[serde(default)]
    pub(crate) model: Option<Spanned<String>>,
    /// Settings sent with the agent's requests, over its model's.
    #[serde(default)]
    pub(crate) model_settings: ModelSettings,
    /// The agent's turns for the scripted model (offline runs, tests).
    #[serde(default)]
    pub(crate) scripted: Option<Vec<RawTurn>>,
}

/// One scripted model turn.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTurn {
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) calls: Vec<Spanned<RawCall>>,
    /// Shorthand for a turn whose only call is this handoff.
    #[serde(default)]
    pub(crate) handoff: Option<Spanned<String>>,
}

/// One scripted function call: `tool` (with `args`) or `handoff`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCall {
    #[serde(default)]
    pub(crate) tool: Option<Spanned<String>>,
    /// A mapping (sent as JSON) or a string (sent exactly as written, even if not JSON).
    #[serde(default)]
    pub(crate) args: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) handoff: Option<Spanned<String>>,
    /// A fixed call id, so later text can quote the output with `{{output:<id>}}`.
    #[serde(default)]
    pub(crate) id: Option<String>,
}
