//! `ToolSource`: tools that come from something that must be started first and stopped last:
//! a server to spawn, a connection to open (MCP servers, remote tool workers).
//!
//! A swarm starts its sources on its `System` thread before any agent starts, inside the
//! swarm's runtime, so the tasks a source spawns (a session reading a child's stdout, say) live
//! as long as the swarm. The tools a source lists are [`DynamicTool`]s, served by worker
//! actors like any other tool; agents name them as usual, and an agent naming a tool no source
//! listed fails the start with the usual problem. On [`Swarm::shutdown`](crate::Swarm::shutdown)
//! each source is stopped once every run has ended, within [`SOURCE_STOP_GRACE`].

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{DynamicTool, ToolOptions};

/// How long shutdown waits for one source to stop.
pub const SOURCE_STOP_GRACE: Duration = Duration::from_secs(5);

/// A tool a source listed, with how its calls run.
#[derive(Clone)]
pub struct SourcedTool {
    /// The tool.
    pub tool: Arc<dyn DynamicTool>,
    /// Its limits.
    pub options: ToolOptions,
}

impl std::fmt::Debug for SourcedTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourcedTool")
            .field("name", &self.tool.name())
            .field("options", &self.options)
            .finish()
    }
}

/// Why a tool source could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tool source `{source_name}` could not start: {message}")]
pub struct ToolSourceError {
    /// The source's name.
    pub source_name: String,
    /// What went wrong.
    pub message: String,
}

/// Something that provides tools once started.
///
/// # Examples
///
/// ```
/// use baton::tool::{SourcedTool, ToolSource, ToolSourceError};
/// use futures::future::BoxFuture;
///
/// /// A source with no tools, which says when it starts and stops.
/// struct Quiet;
///
/// impl ToolSource for Quiet {
///     fn name(&self) -> &str { "quiet" }
///     fn start(&self) -> BoxFuture<'_, Result<Vec<SourcedTool>, ToolSourceError>> {
///         Box::pin(async { Ok(Vec::new()) })
///     }
///     fn stop(&self) -> BoxFuture<'_, ()> {
///         Box::pin(async {})
///     }
/// }
/// ```
pub trait ToolSource: Send + Sync + 'static {
    /// Its name, for messages.
    fn name(&self) -> &str;
    /// Starts it and returns its tools. Runs once, on the swarm's `System` thread.
    fn start(&self) -> BoxFuture<'_, Result<Vec<SourcedTool>, ToolSourceError>>;
    /// Stops it: closes connections, ends child processes. Runs once, at shutdown, after
    /// every run has ended (or when the swarm fails to start after this source started).
    fn stop(&self) -> BoxFuture<'_, ()>;
    /// Remarks on the last start, one per line, for `baton check --connect`: which tool is
    /// exposed under which name, which were left out and why.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}
