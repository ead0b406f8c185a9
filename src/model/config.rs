//! Model configuration as data: what a topology's `models:` section says, and the per-request
//! settings an agent sends.
//!
//! A topology names models ([`ModelConfig`]); agents pick one and may add their own
//! [`ModelSettings`]. Turning a config into a live model (an HTTP client, the scripted model)
//! happens outside this module, through [`Topology::builder_with`](crate::topology::Topology::builder_with).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which API a model speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Provider {
    /// The OpenAI Responses API (`POST {base_url}/responses`).
    Openai,
    /// An OpenAI-compatible Chat Completions API (`POST {base_url}/chat/completions`): vLLM,
    /// Ollama, llama.cpp servers.
    Chat,
    /// The topology's scripted turns.
    Scripted,
}

/// Which function the model must call, if any (the APIs' `tool_choice`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// No function calls.
    None,
    /// At least one function call.
    Required,
    /// This function.
    Function(String),
}

/// Settings sent with a request. Every field is optional; an agent's settings override its
/// model's.
///
/// # Examples
///
/// ```
/// use baton::model::ModelSettings;
///
/// let model = ModelSettings { temperature: Some(0.7), max_output_tokens: Some(500), ..Default::default() };
/// let agent = ModelSettings { temperature: Some(0.0), ..Default::default() };
/// let sent = agent.over(&model);
/// assert_eq!(sent.temperature, Some(0.0));
/// assert_eq!(sent.max_output_tokens, Some(500));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// A cap on output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// Which function the model must call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Whether the model may ask for several calls in one turn (Baton's default: yes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Reasoning effort for reasoning models (`low`, `medium`, `high`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// Whether function tools are sent with `strict: true` (the API then holds the model's
    /// arguments to the schema). Unset: strict exactly for the schemas strict mode accepts
    /// (every object closed with `additionalProperties: false`, every property required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict_tools: Option<bool>,
    /// Other request fields, sent as they are (`seed`, `user`, `metadata`, ...).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ModelSettings {
    /// These settings, with `base`'s filling the fields left unset.
    pub fn over(&self, base: &ModelSettings) -> ModelSettings {
        let mut extra = base.extra.clone();
        extra.extend(self.extra.clone());
        ModelSettings {
            temperature: self.temperature.or(base.temperature),
            top_p: self.top_p.or(base.top_p),
            max_output_tokens: self.max_output_tokens.or(base.max_output_tokens),
            tool_choice: self
                .tool_choice
                .clone()
                .or_else(|| base.tool_choice.clone()),
            parallel_tool_calls: self.parallel_tool_calls.or(base.parallel_tool_calls),
            reasoning_effort: self
                .reasoning_effort
                .clone()
                .or_else(|| base.reasoning_effort.clone()),
            strict_tools: self.strict_tools.or(base.strict_tools),
            extra,
        }
    }
}

/// How requests to one model endpoint are bounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelLimits {
    /// Per-request timeout.
    pub timeout: Option<Duration>,
    /// Retries after 429, 5xx and connection errors.
    pub max_retries: Option<u32>,
    /// Requests in flight at once, shared by every agent and conversation using the model.
    pub max_in_flight: Option<usize>,
}

/// One entry of a topology's `models:` section.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// The name agents refer to it by.
    pub name: String,
    /// The API it speaks.
    pub provider: Provider,
    /// The provider's model name (`gpt-4.1-mini`, `llama3.1:8b`).
    pub model: Option<String>,
    /// The API's base URL (`https://api.openai.com/v1`); `OPENAI_BASE_URL` may override it.
    pub base_url: Option<String>,
    /// The environment variable that holds the API key (default `OPENAI_API_KEY`). Only the
    /// variable's name is stored here, never the key.
    pub api_key_env: String,
    /// Settings sent with every request (agents' own settings take precedence).
    pub settings: ModelSettings,
    /// Timeout, retries, in-flight cap.
    pub limits: ModelLimits,
}

/// The variable a model's API key is read from unless the topology names another.
pub const DEFAULT_API_KEY_ENV: &str = "OPENAI_API_KEY";
