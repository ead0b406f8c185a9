//! `McpServer`: how to reach one MCP server (a child process over stdio, or a URL over
//! streamable HTTP) and which of its tools to take, under which names.
//!
//! It is plain configuration: [`McpSource`](super::McpSource) starts it on the swarm's
//! `System` thread, and a topology's `mcp:` tool kind builds one from the file.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};

use crate::tool::ToolOptions;

/// How long connecting (spawning, the `initialize` handshake) and listing the tools may take,
/// at start and at each restart, unless the server sets its own.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// How a server is reached.
#[derive(Clone)]
#[non_exhaustive]
pub enum Transport {
    /// A child process speaking MCP on its stdin and stdout.
    Stdio {
        /// The program (looked up on `PATH` when it has no `/`).
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// The environment variables passed on from Baton's own environment; nothing else is.
        env: Vec<String>,
        /// Variables set for the server.
        set_env: Vec<(String, String)>,
        /// The folder it runs in (default: Baton's working directory).
        working_dir: Option<PathBuf>,
    },
    /// A server at a URL, over MCP's streamable HTTP transport.
    Http {
        /// The endpoint (`http://127.0.0.1:3001/mcp`).
        url: String,
        /// Headers sent with every request (their values are never shown).
        headers: Vec<(HeaderName, HeaderValue)>,
    },
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::Stdio {
                command,
                args,
                env,
                set_env,
                working_dir,
            } => f
                .debug_struct("Stdio")
                .field("command", command)
                .field("args", args)
                .field("env", env)
                .field(
                    "set_env",
                    &set_env.iter().map(|(k, _)| k).collect::<Vec<_>>(),
                )
                .field("working_dir", working_dir)
                .finish(),
            Transport::Http { url, headers } => f
                .debug_struct("Http")
                .field("url", url)
                .field(
                    "headers",
                    &headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
                )
                .finish(),
        }
    }
}

impl fmt::Display for Transport {
    /// `stdio: node server.js --flag` or `http: <url>` (no header, no variable value).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::Stdio { command, args, .. } => {
                write!(f, "stdio: {command}")?;
                for arg in args {
                    write!(f, " {arg}")?;
                }
                Ok(())
            }
            Transport::Http { url, .. } => write!(f, "http: {url}"),
        }
    }
}

/// Which of a server's tools are taken.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Filter {
    /// Every tool.
    #[default]
    All,
    /// Only these (the server's names).
    Allow(Vec<String>),
    /// All but these (the server's names).
    Deny(Vec<String>),
}

impl Filter {
    /// Whether the tool the server calls `name` is taken.
    pub fn takes(&self, name: &str) -> bool {
        match self {
            Filter::All => true,
            Filter::Allow(names) => names.iter().any(|n| n == name),
            Filter::Deny(names) => !names.iter().any(|n| n == name),
        }
    }
}

/// One MCP server: how to reach it, which tools to take, how their calls run.
///
/// # Examples
///
/// ```
/// use baton::tool::mcp::McpServer;
///
/// let files = McpServer::stdio("npx", ["-y", "@modelcontextprotocol/server-filesystem", "."])
///     .env(["PATH", "HOME"])
///     .allow(["read_text_file", "list_directory"])
///     .prefix("fs_");
/// assert_eq!(files.transport().to_string(), "stdio: npx -y @modelcontextprotocol/server-filesystem .");
/// ```
#[derive(Debug, Clone)]
pub struct McpServer {
    pub(crate) transport: Transport,
    pub(crate) filter: Filter,
    pub(crate) prefix: String,
    pub(crate) options: ToolOptions,
    pub(crate) startup_timeout: Duration,
}

impl McpServer {
    /// A server run as `command args...`, speaking MCP on stdio. It starts with an empty
    /// environment: pass variables on with [`env`](Self::env), set them with
    /// [`set_env`](Self::set_env).
    pub fn stdio<I, S>(command: impl Into<String>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        McpServer::new(Transport::Stdio {
            command: command.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            set_env: Vec::new(),
            working_dir: None,
        })
    }

    /// A server at `url`, over streamable HTTP.
    pub fn http(url: impl Into<String>) -> Self {
        McpServer::new(Transport::Http {
            url: url.into(),
            headers: Vec::new(),
        })
    }

    /// A server reached over `transport`.
    pub fn new(transport: Transport) -> Self {
        McpServer {
            transport,
            filter: Filter::All,
            prefix: String::new(),
            options: ToolOptions::default(),
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
        }
    }

    /// Passes these variables of Baton's environment on to a stdio server.
    pub fn env<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let Transport::Stdio { env, .. } = &mut self.transport {
            env.extend(names.into_iter().map(Into::into));
        }
        self
    }

    /// Sets a variable for a stdio server.
    pub fn set_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if let Transport::Stdio { set_env, .. } = &mut self.transport {
            set_env.push((name.into(), value.into()));
        }
        self
    }

    /// Runs a stdio server in `dir`.
    pub fn working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        if let Transport::Stdio { working_dir, .. } = &mut self.transport {
            *working_dir = Some(dir.into());
        }
        self
    }

    /// Sends a header with every request to an HTTP server; its value is marked sensitive
    /// and never shown.
    pub fn header(mut self, name: HeaderName, mut value: HeaderValue) -> Self {
        value.set_sensitive(true);
        if let Transport::Http { headers, .. } = &mut self.transport {
            headers.push((name, value));
        }
        self
    }

    /// Takes only these tools (the server's names).
    pub fn allow<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.filter = Filter::Allow(names.into_iter().map(Into::into).collect());
        self
    }

    /// Takes every tool but these (the server's names).
    pub fn deny<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.filter = Filter::Deny(names.into_iter().map(Into::into).collect());
        self
    }

    /// Puts `prefix` before every tool name the model sees (`fs_` + `read_file`), against
    /// clashes with other tools.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How calls to each of its tools run (cap, timeout, retries).
    pub fn tool_options(mut self, options: ToolOptions) -> Self {
        self.options = options;
        self
    }

    /// How long connecting and listing may take (default [`DEFAULT_STARTUP_TIMEOUT`]).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// How it is reached.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }
}
