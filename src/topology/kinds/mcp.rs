//! The `mcp` kind: a tool source, every tool of one Model Context Protocol server
//! (`baton::tool::mcp`). Agents name the entry (`files`) to get all the tools it exposes;
//! which those are is known once the server has started and listed them (`baton check
//! --connect` shows them).
//!
//! ```yaml
//! - name: files
//!   mcp:
//!     command: npx
//!     args: [-y, "@modelcontextprotocol/server-filesystem", "."]
//!     allow: [read_text_file, list_directory]
//!     prefix: fs_
//!   timeout: 20s
//! ```
//!
//! or, over streamable HTTP:
//!
//! ```yaml
//! - name: search
//!   mcp:
//!     url: http://127.0.0.1:3001/mcp
//!     headers: { Authorization: "Bearer {env:SEARCH_TOKEN}" }
//! ```

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use reqwest::header::{HeaderName, HeaderValue};
use schemars::JsonSchema;

use super::parameters::{StringMap, interpolated_headers};
use super::{Agents, Declared, Kind, RawToolOptions, Start};
use crate::swarm::{SwarmBuilder, WeakSwarm};
use crate::tool::mcp::{McpServer, McpSource};
use crate::tool::template::{Piece, Template};
use crate::tool::{ToolOptions, ToolSource};
use crate::topology::diagnostic::Problems;
use crate::topology::read::{Dur, Fields, FromNode, Located, Reader};
use crate::topology::tree::Node;

pub(super) const KIND: Kind = Kind {
    key: "mcp",
    read,
    schema: |generator| generator.subschema_for::<RawMcpTool>(),
};

/// Every tool of an MCP server.
#[derive(Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMcpTool {
    /// The source's name: an agent that lists it gets every tool the server exposes.
    #[schemars(required)]
    name: Option<Located<String>>,
    /// The server.
    #[schemars(required)]
    mcp: Option<RawServer>,
    /// How calls to each of its tools run.
    #[serde(flatten)]
    options: RawToolOptions,
    /// The checked server (`None` if the file has a problem, already reported).
    #[serde(skip)]
    server: Option<McpServer>,
}

/// An MCP server: `command` (stdio) or `url` (streamable HTTP).
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    /// The program that serves MCP on stdio (looked up on `PATH` when it has no `/`).
    command: Option<Located<String>>,
    /// Its arguments.
    #[serde(default)]
    args: Vec<Located<String>>,
    /// Variables passed on from Baton's environment, besides `HOME`, `LOGNAME`, `PATH`,
    /// `SHELL`, `TERM` and `USER` (nothing else is).
    #[serde(default)]
    env: Vec<Located<String>>,
    /// Variables set for the server.
    set_env: Option<StringMap>,
    /// The folder it runs in, relative to this file (default: Baton's working directory).
    working_dir: Option<Located<String>>,
    /// The endpoint of a server reached over streamable HTTP.
    url: Option<Located<String>>,
    /// Headers sent to an HTTP server. `{env:VAR}` is the value of an environment variable,
    /// read when the topology loads and never shown.
    headers: Option<StringMap>,
    /// Only these of its tools (the server's names).
    allow: Option<Vec<Located<String>>>,
    /// All of its tools but these (the server's names).
    deny: Option<Vec<Located<String>>>,
    /// Put before every tool name the model sees, against clashes (`fs_`).
    prefix: Option<Located<String>>,
    /// How long starting the server and listing its tools may take (default `30s`).
    startup_timeout: Option<Dur>,
}

fn read(mut f: Fields<'_, '_, '_>) -> Option<Box<dyn Declared>> {
    let name = f.required("name");
    let mcp = match f.node("mcp") {
        Some(node) => RawServer::read(node, f.reader),
        None => {
            let _ = f.required::<RawServer>("mcp");
            None
        }
    };
    let options = RawToolOptions::read(&mut f);
    let mut tool = RawMcpTool {
        name,
        mcp,
        options,
        server: None,
    };
    tool.server = tool.mcp.as_ref().and_then(|raw| build(raw, f.reader));
    f.finish();
    Some(Box::new(tool))
}

impl FromNode for RawServer {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let mut f = Fields::new(r, node, "an MCP server")?;
        let interpolated = interpolated_headers(&mut f);
        let server = RawServer {
            command: f.get("command"),
            args: f.get("args").unwrap_or_default(),
            env: f.get("env").unwrap_or_default(),
            set_env: f.get("set_env"),
            working_dir: f.get("working_dir"),
            url: f.get("url"),
            headers: if interpolated { None } else { f.get("headers") },
            allow: f.get("allow"),
            deny: f.get("deny"),
            prefix: f.get("prefix"),
            startup_timeout: f.get("startup_timeout"),
        };
        let stdio_only = [
            ("args", !server.args.is_empty()),
            ("env", !server.env.is_empty()),
            ("set_env", server.set_env.is_some()),
            ("working_dir", server.working_dir.is_some()),
        ];
        match (&server.command, &server.url) {
            (Some(_), Some(url)) => f.reader.problems.error(
                &url.at,
                "an MCP server has a `command` (stdio) or a `url` (HTTP), not both",
                None,
            ),
            (None, None) => f.reader.error(
                node,
                "an MCP server needs a `command` (a program serving MCP on stdio) or a `url` (streamable HTTP)",
                Some("for example `command: npx` with `args: [-y, \"@modelcontextprotocol/server-filesystem\", \".\"]`".to_owned()),
            ),
            (None, Some(_)) => {
                for (key, set) in stdio_only {
                    if set {
                        let at = f.node(key_static(key)).map(|n| f.reader.place(n));
                        if let Some(at) = at {
                            f.reader.problems.error(
                                &at,
                                format!("`{key}` is for a server run as a `command`, not one at a `url`"),
                                None,
                            );
                        }
                    }
                }
            }
            (Some(_), None) => {
                if let Some(headers) = &server.headers
                    && let Some((first, _)) = headers.entries.first()
                {
                    f.reader.problems.error(
                        &first.at,
                        "`headers` are for a server at a `url`; pass a stdio server what it needs with `env` or `set_env`",
                        None,
                    );
                }
            }
        }
        if let (Some(_), Some(deny)) = (&server.allow, &server.deny) {
            let at = deny.first().map(|d| d.at.clone());
            if let Some(at) = at {
                f.reader.problems.error(
                    &at,
                    "an MCP server has an `allow` list or a `deny` list, not both",
                    None,
                );
            }
        }
        if let Some(prefix) = &server.prefix
            && !prefix
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            f.reader.problems.error(
                &prefix.at,
                format!(
                    "prefix `{}` holds characters a function name cannot",
                    prefix.value
                ),
                Some("use letters, digits, `_` and `-`".to_owned()),
            );
        }
        f.finish();
        Some(server)
    }
}

/// `key` as the `'static` key [`Fields::node`] takes.
fn key_static(key: &str) -> &'static str {
    ["args", "env", "set_env", "working_dir"]
        .into_iter()
        .find(|k| *k == key)
        .unwrap_or("args")
}

/// Builds the server config, reporting each problem at the field it comes from.
fn build(raw: &RawServer, r: &mut Reader<'_>) -> Option<McpServer> {
    let mut server = match (&raw.command, &raw.url) {
        (Some(command), None) => {
            // A relative folder is the topology file's neighbour, wherever Baton runs.
            let folder = r.file.parent().map(PathBuf::from).unwrap_or_default();
            let mut server = McpServer::stdio(
                command.value.clone(),
                raw.args.iter().map(|a| a.value.clone()),
            )
            .env(raw.env.iter().map(|e| e.value.clone()));
            for (k, v) in raw.set_env.iter().flat_map(|m| &m.entries) {
                server = server.set_env(k.value.clone(), v.value.clone());
            }
            if let Some(dir) = &raw.working_dir {
                server = server.working_dir(folder.join(&dir.value));
            }
            server
        }
        (None, Some(url)) => {
            if !(url.value.starts_with("http://") || url.value.starts_with("https://")) {
                r.problems.error(
                    &url.at,
                    format!(
                        "an MCP server's `url` must be http:// or https://, not `{}`",
                        url.value
                    ),
                    None,
                );
                return None;
            }
            let mut server = McpServer::http(url.value.clone());
            let mut broken = false;
            for (name, value) in raw.headers.iter().flat_map(|m| &m.entries) {
                match header(&name.value, &value.value, r) {
                    Ok((name, value)) => server = server.header(name, value),
                    Err((message, hint)) => {
                        broken = true;
                        r.problems.error(&value.at, message, hint);
                    }
                }
            }
            if broken {
                return None;
            }
            server
        }
        _ => return None,
    };
    if let Some(allow) = &raw.allow {
        server = server.allow(allow.iter().map(|a| a.value.clone()));
    } else if let Some(deny) = &raw.deny {
        server = server.deny(deny.iter().map(|d| d.value.clone()));
    }
    if let Some(prefix) = &raw.prefix {
        server = server.prefix(prefix.value.clone());
    }
    if let Some(timeout) = raw.startup_timeout {
        server = server.startup_timeout(timeout.0);
    }
    Some(server)
}

/// A header of an HTTP server, its `{env:VAR}` pieces filled in.
fn header(
    name: &str,
    value: &str,
    r: &Reader<'_>,
) -> Result<(HeaderName, HeaderValue), (String, Option<String>)> {
    let what = format!("header `{name}`");
    let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        (
            format!("`{name}` is not a valid header name"),
            Some("use letters, digits and `-`".to_owned()),
        )
    })?;
    let template = Template::parse(value).map_err(|e| (format!("{what}: {e}"), None))?;
    let env = r.env();
    let mut text = String::new();
    for piece in template.pieces() {
        match piece {
            Piece::Text(t) => text.push_str(t),
            Piece::Env(var) => match env.secret(var).filter(|v| !v.trim().is_empty()) {
                Some(secret) => text.push_str(secret.trim()),
                None => {
                    return Err((
                        format!("{what}: environment variable `{var}` is unset or empty"),
                        Some(format!("set `{var}` in the environment Baton runs in")),
                    ));
                }
            },
            Piece::Arg(arg) => {
                return Err((
                    format!(
                        "{what}: `{{{arg}}}` has no value here: a server's headers are fixed when it connects"
                    ),
                    Some("use `{env:VAR}` for a value from the environment".to_owned()),
                ));
            }
        }
    }
    let value = HeaderValue::from_str(&text).map_err(|_| {
        (
            format!("{what}: the value holds characters a header cannot hold (only visible ASCII, spaces and tabs)"),
            None,
        )
    })?;
    Ok((header_name, value))
}

impl Declared for RawMcpTool {
    fn name(&self) -> Option<&Located<String>> {
        self.name.as_ref()
    }

    fn options(&self) -> &RawToolOptions {
        &self.options
    }

    fn resolve(&self, _: &mut Problems, _: &Agents<'_>) -> Option<Arc<dyn Start>> {
        let server = self.server.clone()?;
        Some(Arc::new(McpStart(server)))
    }
}

/// A checked MCP server, registered as a tool source.
#[derive(Debug)]
struct McpStart(McpServer);

impl Start for McpStart {
    fn is_source(&self) -> bool {
        true
    }

    fn source(&self, name: &str, options: ToolOptions) -> Option<Arc<dyn ToolSource>> {
        Some(Arc::new(McpSource::new(
            name,
            self.0.clone().tool_options(options),
        )))
    }

    fn register(
        &self,
        builder: SwarmBuilder,
        name: &str,
        options: ToolOptions,
        _: &Arc<OnceLock<WeakSwarm>>,
    ) -> SwarmBuilder {
        match self.source(name, options) {
            Some(source) => builder.tool_source(source),
            None => builder,
        }
    }
}
