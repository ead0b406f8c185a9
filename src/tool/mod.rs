//! Tools: the functions agents call, each served by a worker actor.
//!
//! Implement [`Tool`] for async (I/O) work or [`BlockingTool`] for CPU-bound or blocking work
//! (an async tool's calls share the shard thread of their conversation); both take
//! typed arguments deserialized from the model's JSON and publish a JSON Schema of them. A
//! closure does as well ([`FnTool`], [`BlockingFnTool`]: `SwarmBuilder::tool_fn`). A
//! [`DynamicTool`] takes JSON checked against a schema that is data (declared in YAML, listed
//! by a server), with the call's [`ToolContext`]; every call of any tool runs in one (call id,
//! trace id, agent, deadline, cancellation). When a swarm starts, each async tool gets a `ToolActor` and each blocking tool a
//! `SyncToolPool` on its own threads; the `ToolRegistry` maps names to their
//! mailboxes. The turn loop sends every call of a turn at once and awaits the replies in order.
//!
//! Failures are values: a [`ToolError`] becomes the call's `function_call_output`
//! (`error: ...`), never a failed run.

pub(crate) mod actor;
pub(crate) mod args;
pub(crate) mod body;
pub mod builtin;
#[cfg(unix)]
pub mod command;
mod context;
pub(crate) mod def;
mod dynamic;
mod error;
mod func;
pub mod http;
#[cfg(feature = "mcp")]
pub mod mcp;
pub(crate) mod output;
pub(crate) mod pool;
mod registry;
pub(crate) mod scope;
mod source;
pub(crate) mod stand_in;
pub(crate) mod template;

pub(crate) use context::CALL_CONTEXT;
pub use context::ToolContext;
pub use def::{ToolDef, ToolDefError, ToolOptions};
pub use dynamic::DynamicTool;
pub(crate) use error::panic_message;
pub use error::{ToolError, ToolErrorKind};
pub use func::{BlockingFnTool, FnTool};
pub use output::ToolOutput;
pub(crate) use registry::{ToolEntry, ToolRegistry};
pub use source::{SOURCE_STOP_GRACE, SourcedTool, ToolSource, ToolSourceError};

use std::future::Future;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An async tool: I/O-bound work such as HTTP calls, queries or sleeps.
///
/// Calls run concurrently, up to the tool's [`max_concurrency`](ToolOptions::max_concurrency),
/// as tasks on the thread of the shard that runs the conversation: they overlap while they
/// await, not on a multi-thread pool. A call that blocks the thread instead of awaiting
/// (`std::thread::sleep`, a synchronous HTTP client or file read, a long computation) stalls
/// every agent, turn loop and tool call on that shard until it returns. Implement
/// [`BlockingTool`] for such work: it runs on threads of its own.
///
/// # Examples
///
/// ```
/// use baton::tool::Tool;
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct WeatherArgs {
///     /// City name.
///     city: String,
/// }
///
/// struct Weather;
///
/// impl Tool for Weather {
///     type Args = WeatherArgs;
///     type Output = String;
///     type Error = std::convert::Infallible;
///
///     fn name(&self) -> &str { "weather" }
///     fn description(&self) -> &str { "Current weather for a city." }
///     async fn call(&self, args: WeatherArgs) -> Result<String, Self::Error> {
///         Ok(format!("sunny in {}", args.city))
///     }
/// }
/// ```
pub trait Tool: Send + Sync + 'static {
    /// The arguments, deserialized from the call's JSON; their schema is sent to the model.
    type Args: DeserializeOwned + JsonSchema + Send + 'static;
    /// The result; a JSON string is sent as plain text, anything else as JSON.
    type Output: Serialize + 'static;
    /// The tool's own error, sent to the model as `error: tool `name` failed: <error>`.
    type Error: std::fmt::Display;

    /// The name the model calls it by (`^[a-zA-Z0-9_-]{1,64}$`).
    fn name(&self) -> &str;
    /// What it does, for the model.
    fn description(&self) -> &str;
    /// Runs one call.
    fn call(
        &self,
        args: Self::Args,
    ) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send;
}

/// A CPU-bound or blocking tool, run on a pool of OS threads so calls of one turn use every
/// core and never stall the shards that run agents (as a blocking [`Tool`] would).
///
/// Each pool thread has its own instance, made by the factory given at registration; a thread
/// whose call panicked gets a fresh instance.
pub trait BlockingTool: Send + 'static {
    /// The arguments, deserialized from the call's JSON; their schema is sent to the model.
    type Args: DeserializeOwned + JsonSchema + Send + 'static;
    /// The result; a JSON string is sent as plain text, anything else as JSON.
    type Output: Serialize + 'static;
    /// The tool's own error.
    type Error: std::fmt::Display;

    /// The name the model calls it by.
    fn name(&self) -> &str;
    /// What it does, for the model.
    fn description(&self) -> &str;
    /// Runs one call on a pool thread.
    fn call(&mut self, args: Self::Args) -> Result<Self::Output, Self::Error>;
}

/// Turns a tool's result into the text of its `function_call_output`: a string as it is,
/// anything else as JSON.
pub(crate) fn output_text<T: Serialize + 'static>(output: T) -> Result<String, serde_json::Error> {
    // A `String` result is moved, not copied through a JSON value.
    let mut slot = Some(output);
    if let Some(text) = (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<String>>() {
        return Ok(text.take().unwrap_or_default());
    }
    Ok(match serde_json::to_value(&slot)? {
        serde_json::Value::String(text) => text,
        other => other.to_string(),
    })
}

/// Turns how a call ended (its output text or error, or the panic `catch_unwind` caught) into
/// its result for the turn loop, every failure a [`ToolError`] naming `tool`.
pub(crate) fn result_of(
    tool: &str,
    ended: std::thread::Result<Result<output::Output, ToolError>>,
) -> Result<output::Output, Box<ToolError>> {
    match ended {
        Ok(result) => result.map_err(Box::new),
        Err(payload) => Err(Box::new(ToolError::Panicked {
            tool: tool.to_owned(),
            message: error::panic_message(&*payload),
        })),
    }
}

/// A call sent to a tool's worker actor; the reply comes back on `reply`.
///
/// Carrying the reply channel in the message lets the worker answer from wherever the call
/// runs (a runtime task or a pool thread) without holding its mailbox.
#[derive(actix::Message)]
#[rtype(result = "()")]
pub(crate) struct ToolCall {
    /// The caller's `tool_call` span (agent, turn, tool, call id), so the worker's side of the
    /// call is traced under it (actix does not carry spans across mailboxes).
    pub(crate) span: tracing::Span,
    /// The arguments, already checked (and for Rust tools, parsed) by the turn loop.
    pub(crate) arguments: args::Arguments,
    /// Where the output goes. A dropped receiver means the caller gave up (timeout, shutdown).
    pub(crate) reply: tokio::sync::oneshot::Sender<ToolReply>,
    /// The call's id, run, deadline and cancellation signal; the worker runs the call in it.
    pub(crate) context: ToolContext,
}

/// What a worker answers.
#[derive(Debug)]
pub(crate) struct ToolReply {
    /// The output, or why there is none (boxed: errors are rare, and the channel that carries
    /// the reply is allocated for every call).
    pub(crate) result: Result<output::Output, Box<ToolError>>,
    /// How often the tool's workers had been restarted (a fresh instance after a panic) when
    /// the call ended, across every shard.
    pub(crate) restarts: u32,
}
