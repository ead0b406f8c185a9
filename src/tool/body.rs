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
use super::{DynamicTool, Tool, ToolContext, ToolError, output_text};

/// One tool as its worker runs it.
pub(crate) trait Body: Send + Sync + 'static {
    /// The arguments as the body takes them.
    type Args: Send + 'static;

    /// Turns checked arguments into [`Self::Args`] (a message if they are another tool's).
    fn parse(arguments: Arguments) -> Result<Self::Args, String>;

    /// Runs one call of the tool named `name`, inside its context (`ToolContext::current`).
    fn run(
        &self,
        name: &str,
        args: Self::Args,
    ) -> impl Future<Output = Result<String, ToolError>> + Send;
}

impl<T: Tool> Body for T {
    type Args = T::Args;

    fn parse(arguments: Arguments) -> Result<T::Args, String> {
        into_typed::<T::Args>(arguments)
    }

    async fn run(&self, name: &str, args: T::Args) -> Result<String, ToolError> {
        // The context reaches a typed tool through `ToolContext::current`.
        match self.call(args).await {
            Ok(output) => output_text(output).map_err(|e| {
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

    fn parse(arguments: Arguments) -> Result<Value, String> {
        match arguments {
            Arguments::Json(text) => serde_json::from_str(&text).map_err(|e| e.to_string()),
            Arguments::Typed(_) => Err("arguments of another tool's type".to_owned()),
        }
    }

    async fn run(&self, name: &str, args: Value) -> Result<String, ToolError> {
        // Workers run every call in its context; a call outside one gets a detached context.
        let context = ToolContext::current()
            .unwrap_or_else(|| ToolContext::detached(name, std::time::Duration::MAX));
        self.0
            .call(args, context)
            .await
            .map(super::ToolOutput::into_text)
    }
}
