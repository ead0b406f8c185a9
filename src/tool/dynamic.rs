//! `DynamicTool`: a tool whose argument schema is known only at run time (declared in YAML,
//! listed by an MCP server, offered by a remote worker), as a first-class public tool.
//!
//! Its arguments arrive as a `serde_json::Value` already checked against the schema it
//! publishes (errors name the failing field, exactly as for typed tools), with the call's
//! [`ToolContext`]. The swarm serves it with the same worker actor as a typed async
//! [`Tool`](super::Tool): concurrency caps, timeouts, retries, panics and errors-as-outputs
//! all behave the same. Register one with
//! [`SwarmBuilder::dynamic_tool`](crate::swarm::SwarmBuilder::dynamic_tool).

use futures::future::BoxFuture;
use serde_json::Value;

use super::{ToolContext, ToolError, ToolOutput};

/// A tool whose JSON Schema is data.
///
/// # Examples
///
/// ```
/// use baton::tool::{DynamicTool, ToolContext, ToolError, ToolOutput};
/// use futures::future::BoxFuture;
/// use serde_json::{Value, json};
///
/// struct Echo {
///     schema: Value,
/// }
///
/// impl DynamicTool for Echo {
///     fn name(&self) -> &str { "echo" }
///     fn description(&self) -> &str { "Says the text back." }
///     fn parameters(&self) -> Value { self.schema.clone() }
///     fn call(&self, args: Value, _context: ToolContext)
///         -> BoxFuture<'_, Result<ToolOutput, ToolError>>
///     {
///         Box::pin(async move { Ok(ToolOutput::Json(args["text"].clone())) })
///     }
/// }
///
/// let echo = Echo {
///     schema: json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
/// };
/// # let _ = echo;
/// ```
pub trait DynamicTool: Send + Sync + 'static {
    /// The name the model calls it by (`^[a-zA-Z0-9_-]{1,64}$`).
    fn name(&self) -> &str;
    /// What it does, for the model.
    fn description(&self) -> &str;
    /// The JSON Schema of its arguments (an object schema); read once, at registration.
    fn parameters(&self) -> Value;
    /// Runs one call. `arguments` fit [`parameters`](Self::parameters). An error becomes the
    /// call's error output (`error: ...`); build one with [`ToolError::failed`].
    fn call(
        &self,
        arguments: Value,
        context: ToolContext,
    ) -> BoxFuture<'_, Result<ToolOutput, ToolError>>;
}
