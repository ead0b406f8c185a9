//! The Chat Completions API's JSON, as serde types and nothing else.
//!
//! Read leniently, for the many compatible servers (vLLM, Ollama, llama.cpp): every field has
//! a default, `content` may be missing or null, a tool call's `arguments` may be an object
//! instead of its JSON text, `finish_reason` may be an empty string.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The fields of [`Request`] that Baton sets itself: `extra` may not set them.
pub(crate) const SET_FIELDS: &[&str] = &[
    "model",
    "messages",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "temperature",
    "top_p",
    "max_tokens",
    "reasoning_effort",
    "stream",
    "stream_options",
];

/// `POST /chat/completions` body.
#[derive(Debug, Serialize)]
pub(crate) struct Request<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: Vec<Message<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reasoning_effort: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream_options: Option<StreamOptions>,
    #[serde(flatten)]
    pub(crate) extra: &'a Map<String, Value>,
}

/// `stream_options: {"include_usage": true}`: the last chunk carries the usage.
#[derive(Debug, Serialize)]
pub(crate) struct StreamOptions {
    pub(crate) include_usage: bool,
}

/// One message.
#[derive(Debug, Serialize)]
pub(crate) struct Message<'a> {
    pub(crate) role: &'a str,
    /// For an assistant message that only calls tools: `null` (`Some(None)`), `""`, or left
    /// out (`None`), as the model's [`ToolCallContent`](crate::model::ToolCallContent) says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) content: Option<Option<Content<'a>>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tool_calls: Vec<ToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_call_id: Option<&'a str>,
}

/// A message's content: text, or parts (for the images tools returned).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Content<'a> {
    Text(&'a str),
    Parts(Vec<Part<'a>>),
}

/// `{"type": "text", "text": ...}` or `{"type": "image_url", "image_url": {"url": ...}}`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Part<'a> {
    Text { text: std::borrow::Cow<'a, str> },
    ImageUrl { image_url: ImageUrl },
}

/// `{"url": "data:image/png;base64,..."}`.
#[derive(Debug, Serialize)]
pub(crate) struct ImageUrl {
    pub(crate) url: String,
}

/// An assistant message's tool call.
#[derive(Debug, Serialize)]
pub(crate) struct ToolCall<'a> {
    pub(crate) id: &'a str,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) function: FunctionCall<'a>,
}

/// `{"name", "arguments"}`.
#[derive(Debug, Serialize)]
pub(crate) struct FunctionCall<'a> {
    pub(crate) name: &'a str,
    pub(crate) arguments: &'a str,
}

/// A function tool.
#[derive(Debug, Serialize)]
pub(crate) struct Tool<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) function: Function<'a>,
}

/// A function tool's definition.
#[derive(Debug, Serialize)]
pub(crate) struct Function<'a> {
    pub(crate) name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub(crate) description: &'a str,
    pub(crate) parameters: &'a Value,
    pub(crate) strict: bool,
}

/// A response body, or a stream chunk (whose choices carry `delta` instead of `message`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Response {
    #[serde(default)]
    pub(crate) choices: Vec<Choice>,
    #[serde(default)]
    pub(crate) usage: Option<WireUsage>,
    #[serde(default)]
    pub(crate) error: Option<Value>,
}

/// One choice (Baton asks for one).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    pub(crate) message: Option<ReplyMessage>,
    #[serde(default)]
    pub(crate) delta: Option<ReplyMessage>,
    #[serde(default)]
    pub(crate) finish_reason: Option<String>,
}

/// An answer message or a stream delta.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReplyMessage {
    #[serde(default)]
    pub(crate) content: Option<String>,
    #[serde(default)]
    pub(crate) refusal: Option<String>,
    #[serde(default)]
    pub(crate) tool_calls: Vec<ReplyToolCall>,
}

/// A tool call in an answer (complete) or a delta (pieces, by `index`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReplyToolCall {
    #[serde(default)]
    pub(crate) index: Option<usize>,
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) function: ReplyFunction,
}

/// A tool call's function, or pieces of it.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReplyFunction {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) arguments: Option<Value>,
}

/// Token counts.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub(crate) prompt_tokens: u64,
    #[serde(default)]
    pub(crate) completion_tokens: u64,
    #[serde(default)]
    pub(crate) total_tokens: u64,
}
