//! `Body`: what a tool's worker actor runs for each call, so one worker serves typed
//! [`Tool`](super::Tool)s and [`DynamicTool`](super::DynamicTool)s alike.
//!
//! A body parses the arguments the turn loop checked into its own type and runs the call in
//! its [`ToolContext`], turning whatever it returns into the output text or a [`ToolError`].
//! The worker around it (`actor`) adds the rest: caps, cancellation, panics, restarts.

use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use super::args::{Arguments, into_typed};
use super::output::Output;
use super::{DynamicTool, Tool, ToolContext, ToolError, ToolOutput, output_text};

/// One tool as its worker runs it.
pub(crate) trait Body: Send + Sync + 'static {
    /// The arguments as the body takes them.
    type Args: Send + 'static;
    /// What a call returns before it becomes output text.
    type Done;

    /// Turns checked arguments into [`Self::Args`] (a message if they are another tool's).
    fn parse(arguments: Arguments) -> Result<Self::Args, String>;

    /// Runs one call, inside its context (`ToolContext::current`). The tool's own future,
    /// with nothing around it: every call's task carries it.
    fn run(&self, args: Self::Args) -> impl Future<Output = Self::Done> + Send;

    /// Turns what a call of the tool named `name` returned into its output or error.
    fn finish(name: &str, done: Self::Done) -> Result<Output, ToolError>;
}

impl<T: Tool> Body for T {
    type Args = T::Args;
    type Done = Result<T::Output, T::Error>;

    fn parse(arguments: Arguments) -> Result<T::Args, String> {
        into_typed::<T::Args>(arguments)
    }

    fn run(&self, args: T::Args) -> impl Future<Output = Self::Done> + Send {
        // The context reaches a typed tool through `ToolContext::current`.
        self.call(args)
    }

    fn finish(name: &str, done: Self::Done) -> Result<Output, ToolError> {
        match done {
            Ok(output) => output_text(output).map(Output::from).map_err(|e| {
                ToolError::failed(name, format!("its output is not serializable: {e}"))
            }),
            Err(e) => Err(ToolError::failed(name, e.to_string())),
        }
    }
}

/// A [`DynamicTool`] as a worker body (shared: every shard's worker holds the same tool).
#[derive(Clone)]
pub(crate) struct Dynamic(pub(crate) Arc<dyn DynamicTool>);

impl Body for Dynamic {
    type Args = Value;
    type Done = Result<ToolOutput, ToolError>;

    fn parse(arguments: Arguments) -> Result<Value, String> {
        match arguments {
            Arguments::Json(text) => serde_json::from_str(&text).map_err(|e| e.to_string()),
            Arguments::Typed(_) => Err("arguments of another tool's type".to_owned()),
        }
    }

    fn run(&self, args: Value) -> impl Future<Output = Self::Done> + Send {
        // Workers run every call in its context; a call outside one gets a detached context.
        let context = ToolContext::current()
            .unwrap_or_else(|| ToolContext::detached(self.0.name(), std::time::Duration::MAX));
        self.0.call(args, context)
    }

    fn finish(_: &str, done: Self::Done) -> Result<Output, ToolError> {
        done.map(Output::from)
    }
}
