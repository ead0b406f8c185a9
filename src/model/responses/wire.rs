//! The Responses API's JSON, as serde types and nothing else.
//!
//! Requests borrow from the turn loop's items (nothing is copied to serialize them). Responses
//! are read leniently: every field has a default, and output items stay JSON values until
//! [`convert`](super::convert) reads the types it knows, so a compatible server that adds or
//! omits fields still works.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The fields of [`Request`] that Baton sets itself: `extra` may not set them.
pub(crate) const SET_FIELDS: &[&str] = &[
    "model",
    "instructions",
    "input",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "temperature",
    "top_p",
    "max_output_tokens",
    "reasoning",
    "stream",
];

/// `POST /responses` body.
#[derive(Debug, Serialize)]
pub(crate) struct Request<'a> {
    pub(crate) model: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub(crate) instructions: &'a str,
    pub(crate) input: Vec<InputItem<'a>>,
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
    pub(crate) max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reasoning: Option<Reasoning<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) stream: bool,
    /// `seed`, `user`, `metadata`, `store`, ... as configured.
    #[serde(flatten)]
    pub(crate) extra: &'a Map<String, Value>,
}

/// `reasoning: {"effort": ...}`.
#[derive(Debug, Serialize)]
pub(crate) struct Reasoning<'a> {
    pub(crate) effort: &'a str,
}

/// A function tool.
#[derive(Debug, Serialize)]
pub(crate) struct Tool<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub(crate) description: &'a str,
    pub(crate) parameters: &'a Value,
    pub(crate) strict: bool,
}

/// One item of `input`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum InputItem<'a> {
    Message {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a str>,
        role: &'a str,
        content: Content<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<&'static str>,
    },
    FunctionCall {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a str>,
        call_id: &'a str,
        name: &'a str,
        arguments: &'a str,
    },
    FunctionCallOutput {
        call_id: &'a str,
        output: CallOutput<'a>,
    },
    Reasoning {
        #[serde(flatten)]
        fields: &'a Map<String, Value>,
    },
}

/// A message's content: plain text, or (for an assistant message sent back with its id) the
/// output item's one `output_text` part.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Content<'a> {
    Text(&'a str),
    Output([OutputText<'a>; 1]),
}

/// A `function_call_output`'s `output`: its text, or its text and images as input parts.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum CallOutput<'a> {
    Text(&'a str),
    Parts(Vec<InputPart<'a>>),
}

/// `{"type": "input_text", "text": ...}` or `{"type": "input_image", "image_url": ...}`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum InputPart<'a> {
    InputText { text: &'a str },
    InputImage { image_url: String },
}

/// `{"type": "output_text", "text": ..., "annotations": []}`.
#[derive(Debug, Serialize)]
pub(crate) struct OutputText<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) text: &'a str,
    pub(crate) annotations: [(); 0],
}

/// A response body (also the `response` of stream events).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Response {
    #[serde(default)]
    pub(crate) status: Option<String>,
    #[serde(default)]
    pub(crate) output: Vec<Value>,
    #[serde(default)]
    pub(crate) usage: Option<WireUsage>,
    #[serde(default)]
    pub(crate) error: Option<Value>,
    #[serde(default)]
    pub(crate) incomplete_details: Option<Value>,
}

/// Token counts.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub(crate) input_tokens: u64,
    #[serde(default)]
    pub(crate) output_tokens: u64,
    #[serde(default)]
    pub(crate) total_tokens: u64,
}

/// A stream event's data (`type` says which fields are set).
#[derive(Debug, Deserialize)]
pub(crate) struct StreamEvent {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) output_index: Option<usize>,
    #[serde(default)]
    pub(crate) item: Option<Value>,
    #[serde(default)]
    pub(crate) delta: Option<String>,
    #[serde(default)]
    pub(crate) arguments: Option<String>,
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) response: Option<Response>,
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) code: Option<String>,
}
