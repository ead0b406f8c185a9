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
    /// When requests stream (default: when the run is streamed).
    pub stream: Streaming,
    /// How requests meet the server's quirks (default: what works on the most servers).
    pub compat: Compat,
    /// Whether it takes images: those tools return (an MCP server's, say) are then sent to
    /// it with their outputs; otherwise it reads the text, which names each by type and size.
    pub images: bool,
}

/// The variable a model's API key is read from unless the topology names another.
pub const DEFAULT_API_KEY_ENV: &str = "OPENAI_API_KEY";

/// When a model's requests stream.
///
/// In YAML, a model entry's `stream:`: `true`, `false`, `no_tools`, or left out (`auto`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Streaming {
    /// When the run is streamed (someone listens to text deltas).
    #[default]
    Auto,
    /// Always, even when nobody listens.
    Always,
    /// Never: every answer arrives whole.
    Never,
    /// When the run is streamed, but only the turns that offer no tools (for servers that
    /// cannot stream tool calls).
    NoTools,
}

impl Streaming {
    /// Whether a request streams, given whether someone listens and whether it offers tools.
    pub fn streams(self, listening: bool, offers_tools: bool) -> bool {
        match self {
            Streaming::Auto => listening,
            Streaming::Always => true,
            Streaming::Never => false,
            Streaming::NoTools => listening && !offers_tools,
        }
    }
}

/// `Some(true)`: always; `Some(false)`: never; `None`: when the run is streamed.
impl From<Option<bool>> for Streaming {
    fn from(stream: Option<bool>) -> Self {
        match stream {
            Some(true) => Streaming::Always,
            Some(false) => Streaming::Never,
            None => Streaming::Auto,
        }
    }
}

/// What an assistant message that only calls tools carries as `content` (Chat Completions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolCallContent {
    /// `"content": null`, the API's own shape (some servers refuse it).
    Null,
    /// `"content": ""`: accepted by every server known.
    Empty,
    /// No `content` field.
    Omit,
}

/// How a model entry's requests meet the quirks of the server behind it. Each field left
/// `None` takes the provider's default ([`Compat::resolve`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compat {
    /// Chat Completions: the `content` of an assistant message that only calls tools
    /// (default [`ToolCallContent::Empty`]; llama-cpp-python's server refuses `null`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_content: Option<ToolCallContent>,
    /// Send `tool_choice: "auto"` when tools are offered and no `tool_choice` is set
    /// (default: yes for `chat`, where some servers offer the model no tools without it; no
    /// for `openai`, whose API means `auto` when it is left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explicit_tool_choice: Option<bool>,
}

/// A [`Compat`] with every default filled in for one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedCompat {
    /// See [`Compat::tool_call_content`].
    pub tool_call_content: ToolCallContent,
    /// See [`Compat::explicit_tool_choice`].
    pub explicit_tool_choice: bool,
}

impl Compat {
    /// These settings with `provider`'s defaults for the fields left unset: the `openai`
    /// provider keeps the API's exact shapes, `chat` what works on the most servers.
    pub fn resolve(&self, provider: Provider) -> ResolvedCompat {
        let chat = provider == Provider::Chat;
        ResolvedCompat {
            tool_call_content: self.tool_call_content.unwrap_or(if chat {
                ToolCallContent::Empty
            } else {
                ToolCallContent::Null
            }),
            explicit_tool_choice: self.explicit_tool_choice.unwrap_or(chat),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compat_defaults_follow_the_provider_and_settings_win() {
        let chat = Compat::default().resolve(Provider::Chat);
        assert_eq!(chat.tool_call_content, ToolCallContent::Empty);
        assert!(chat.explicit_tool_choice);
        let openai = Compat::default().resolve(Provider::Openai);
        assert!(!openai.explicit_tool_choice);
        let set = Compat {
            tool_call_content: Some(ToolCallContent::Omit),
            explicit_tool_choice: Some(false),
        }
        .resolve(Provider::Chat);
        assert_eq!(set.tool_call_content, ToolCallContent::Omit);
        assert!(!set.explicit_tool_choice);
    }

    #[test]
    fn no_tools_streams_only_listened_turns_without_tools() {
        assert!(Streaming::NoTools.streams(true, false));
        assert!(!Streaming::NoTools.streams(true, true));
        assert!(!Streaming::NoTools.streams(false, false));
        assert!(Streaming::Auto.streams(true, true));
        assert!(!Streaming::Auto.streams(false, true));
        assert!(Streaming::Always.streams(false, true));
        assert!(!Streaming::Never.streams(true, false));
        assert_eq!(Streaming::from(Some(true)), Streaming::Always);
    }
}
