//! `ToolOutput`: what a [`DynamicTool`](super::DynamicTool) call returns, text or JSON, and how
//! it becomes the text of the call's `function_call_output`.

use crate::item::Image;

/// The result of a tool call.
///
/// # Examples
///
/// ```
/// use baton::tool::ToolOutput;
/// use serde_json::json;
///
/// assert_eq!(ToolOutput::text("sunny").into_text(), "sunny");
/// assert_eq!(ToolOutput::Json(json!({"temp": 21})).into_text(), r#"{"temp":21}"#);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ToolOutput {
    /// Plain text, sent as it is.
    Text(String),
    /// A JSON value, sent as compact JSON (a JSON string as its text).
    Json(serde_json::Value),
    /// Text with images. The images reach the model only when its model entry says it takes
    /// images; the text should name each (type and size), as it is all other models read.
    WithImages {
        /// The text.
        text: String,
        /// The images.
        images: Vec<Image>,
    },
}

/// A call's output as the turn loop gets it from a worker: its text, and any images.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pub(crate) text: String,
    pub(crate) images: Vec<Image>,
}

impl From<String> for Output {
    fn from(text: String) -> Self {
        Output {
            text,
            images: Vec::new(),
        }
    }
}

impl From<ToolOutput> for Output {
    fn from(output: ToolOutput) -> Self {
        match output {
            ToolOutput::WithImages { text, images } => Output { text, images },
            other => Output::from(other.into_text()),
        }
    }
}

impl ToolOutput {
    /// A text output.
    pub fn text(text: impl Into<String>) -> Self {
        ToolOutput::Text(text.into())
    }

    /// The text the model reads.
    pub fn into_text(self) -> String {
        match self {
            ToolOutput::Text(text) | ToolOutput::Json(serde_json::Value::String(text)) => text,
            ToolOutput::Json(value) => value.to_string(),
            ToolOutput::WithImages { text, .. } => text,
        }
    }
}

impl From<String> for ToolOutput {
    fn from(text: String) -> Self {
        ToolOutput::Text(text)
    }
}

impl From<&str> for ToolOutput {
    fn from(text: &str) -> Self {
        ToolOutput::Text(text.to_owned())
    }
}

impl From<serde_json::Value> for ToolOutput {
    fn from(value: serde_json::Value) -> Self {
        ToolOutput::Json(value)
    }
}
