//! `ToolOutput`: what a [`DynamicTool`](super::DynamicTool) call returns, text or JSON, and how
//! it becomes the text of the call's `function_call_output`.

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
