//! `McpTool`: one tool of an MCP server, as a [`DynamicTool`]. The swarm serves it with a
//! worker actor like any other tool (caps, timeouts, retries, errors as outputs); a call
//! goes over the server's one session ([`Session`]) as a `tools/call` request.
//!
//! When the call's caller stops waiting (its timeout passed, its run ended), the worker drops
//! the call, and rmcp's drop guard tells the server with a `notifications/cancelled` for its
//! request id, so the server stops working on it too.

use std::borrow::Cow;
use std::sync::Arc;

use futures::future::BoxFuture;
use rmcp::ServiceError;
use rmcp::model::CallToolRequestParams;
use serde_json::Value;

use super::result;
use super::session::Session;
use crate::tool::{DynamicTool, ToolContext, ToolError, ToolOutput};

/// One tool of an MCP server.
pub(crate) struct McpTool {
    /// The name the model calls it by.
    pub(crate) exposed: String,
    /// The name the server calls it by.
    pub(crate) remote: Arc<str>,
    pub(crate) description: String,
    pub(crate) parameters: Value,
    pub(crate) session: Arc<Session>,
}

impl DynamicTool for McpTool {
    fn name(&self) -> &str {
        &self.exposed
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn parameters(&self) -> Value {
        self.parameters.clone()
    }

    fn call(
        &self,
        arguments: Value,
        _: ToolContext,
    ) -> BoxFuture<'_, Result<ToolOutput, ToolError>> {
        Box::pin(async move {
            let fail = |message: String| ToolError::failed(&self.exposed, message);
            let peer = self.session.peer().await.map_err(fail)?;
            let mut params = CallToolRequestParams::new(Cow::Owned(self.remote.to_string()));
            if let Value::Object(arguments) = arguments {
                params = params.with_arguments(arguments);
            }
            match peer.call_tool(params).await {
                Ok(answer) => result::read(answer).map_err(fail),
                Err(error) => Err(fail(self.describe(&error))),
            }
        })
    }
}

impl McpTool {
    /// What the model reads when a call got no result.
    fn describe(&self, error: &ServiceError) -> String {
        let server = self.session.name();
        match error {
            ServiceError::TransportClosed => format!(
                "MCP server `{server}` closed its session during the call (it is being restarted; the call may have run)"
            ),
            ServiceError::McpError(error) => format!(
                "MCP server `{server}` refused the call: {} (JSON-RPC error {})",
                error.message, error.code.0
            ),
            other => format!("MCP server `{server}`: {other}"),
        }
    }
}
