//! `McpSource`: an MCP server as a [`ToolSource`]. Starting it opens the server's session,
//! lists every tool (all pages), keeps those its filter takes, names them for the model
//! ([`names`](super::names)) and hands them to the swarm as [`McpTool`]s; stopping it ends
//! the session (and the child process, with its whole process group).

use std::sync::{Arc, Mutex, OnceLock};

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::names::exposed_names;
use super::server::{Filter, McpServer};
use super::session::Session;
use super::tool::McpTool;
use crate::tool::{SourcedTool, ToolSource, ToolSourceError};

/// An MCP server's tools, for [`SwarmBuilder::tool_source`](crate::swarm::SwarmBuilder::tool_source).
/// An agent that names the source (`files`) gets every tool it exposes.
///
/// # Examples
///
/// ```no_run
/// use std::sync::Arc;
/// use baton::{Agent, Swarm};
/// use baton::tool::mcp::{McpServer, McpSource};
///
/// let files = McpServer::stdio("npx", ["-y", "@modelcontextprotocol/server-filesystem", "."])
///     .prefix("fs_");
/// let builder = Swarm::builder()
///     .tool_source(Arc::new(McpSource::new("files", files)))
///     .agent(Agent::new("librarian").with_tools(["files"]));
/// # let _ = builder;
/// ```
pub struct McpSource {
    name: String,
    server: Arc<McpServer>,
    session: OnceLock<Arc<Session>>,
    notes: Mutex<Vec<String>>,
}

impl std::fmt::Debug for McpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpSource")
            .field("name", &self.name)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl McpSource {
    /// The source `name` (what agents name to get its tools) for `server`.
    pub fn new(name: impl Into<String>, server: McpServer) -> Self {
        McpSource {
            name: name.into(),
            server: Arc::new(server),
            session: OnceLock::new(),
            notes: Mutex::new(Vec::new()),
        }
    }

    async fn start_session(&self) -> Result<Vec<SourcedTool>, String> {
        let (session, opened) = Session::start(&self.name, Arc::clone(&self.server)).await?;
        let listed = match tokio::time::timeout(
            self.server.startup_timeout,
            opened.client.peer().list_all_tools(),
        )
        .await
        {
            Ok(Ok(tools)) => tools,
            Ok(Err(e)) => {
                return Err(
                    stop_after(session, opened, format!("could not list its tools: {e}")).await,
                );
            }
            Err(_) => {
                let why = format!(
                    "it did not list its tools within {} ms",
                    self.server.startup_timeout.as_millis()
                );
                return Err(stop_after(session, opened, why).await);
            }
        };
        if let Filter::Allow(names) = &self.server.filter {
            let missing: Vec<&str> = names
                .iter()
                .filter(|n| !listed.iter().any(|t| t.name == n.as_str()))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                let listed: Vec<&str> = listed.iter().map(|t| t.name.as_ref()).collect();
                let why = format!(
                    "`allow` names {} that the server does not list (it lists: {})",
                    quoted(&missing),
                    quoted(&listed)
                );
                return Err(stop_after(session, opened, why).await);
            }
        }
        let mut notes = Vec::new();
        let mut taken = Vec::new();
        for tool in &listed {
            if !self.server.filter.takes(&tool.name) {
                notes.push(format!("{}: left out by the filter", tool.name));
                continue;
            }
            match parameters(&tool.input_schema) {
                Ok(schema) => taken.push((tool, schema)),
                Err(why) => notes.push(format!("{}: left out, {why}", tool.name)),
            }
        }
        let names = exposed_names(
            &self.server.prefix,
            taken.iter().map(|(t, _)| t.name.as_ref()),
        );
        let mut tools = Vec::with_capacity(taken.len());
        for ((tool, schema), exposed) in taken.into_iter().zip(names) {
            notes.push(format!("{} -> {exposed}", tool.name));
            let tool = McpTool {
                exposed,
                remote: Arc::from(tool.name.as_ref()),
                description: tool.description.as_deref().unwrap_or_default().to_owned(),
                parameters: schema,
                session: Arc::clone(&session),
            };
            tools.push(SourcedTool {
                tool: Arc::new(tool),
                options: self.server.options.clone(),
            });
        }
        notes.sort();
        *self
            .notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = notes;
        session.supervise(opened);
        let _ = self.session.set(session);
        Ok(tools)
    }
}

impl ToolSource for McpSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn start(&self) -> BoxFuture<'_, Result<Vec<SourcedTool>, ToolSourceError>> {
        Box::pin(async move {
            self.start_session()
                .await
                .map_err(|message| ToolSourceError {
                    source_name: self.name.clone(),
                    message: format!("MCP server ({}): {message}", self.server.transport),
                })
        })
    }

    fn stop(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(session) = self.session.get() {
                session.stop().await;
            }
        })
    }

    fn notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Ends a session that was opened but will not be used, and returns `why`.
async fn stop_after(session: Arc<Session>, opened: super::connect::Opened, why: String) -> String {
    session.supervise(opened);
    session.stop().await;
    why
}

/// A tool's input schema as Baton sends it: an object schema (`type: object` and
/// `properties` added when missing, as the OpenAI API wants them), which must compile.
fn parameters(schema: &Map<String, Value>) -> Result<Value, String> {
    let mut schema = schema.clone();
    match schema.get("type") {
        None => {
            schema.insert("type".to_owned(), Value::from("object"));
        }
        Some(Value::String(t)) if t == "object" => {}
        Some(other) => {
            return Err(format!(
                "its input schema is of type {other}, not an object"
            ));
        }
    }
    schema
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    let schema = Value::Object(schema);
    jsonschema::validator_for(&schema)
        .map_err(|e| format!("its input schema does not compile: {e}"))?;
    Ok(schema)
}

/// `` `a`, `b` ``.
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
