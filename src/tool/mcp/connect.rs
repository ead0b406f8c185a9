//! Opening one session with an MCP server: spawning the child process (in a process group of
//! its own, so its children end with it) or reaching the URL, then MCP's `initialize`
//! handshake, through `rmcp`.

use std::collections::{HashMap, VecDeque};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use rmcp::model::{ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::server::{McpServer, Transport};

/// A running client session.
pub(crate) type Client = RunningService<RoleClient, ClientConfig>;

/// The variables every stdio server gets from Baton's environment, as the official SDKs
/// pass them (TypeScript's `getDefaultEnvironment`, Python's `get_default_environment`).
pub const INHERITED_ENV: &[&str] = &["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"];

/// How many of a server's last stderr lines are kept for messages.
const STDERR_TAIL: usize = 8;
/// The most of one stderr line kept.
const STDERR_LINE: usize = 400;
/// How long a failed start waits for the rest of the server's stderr.
const STDERR_GRACE: std::time::Duration = std::time::Duration::from_millis(500);
/// The longest stderr line read; longer ones are skipped.
const STDERR_LINE_MAX: usize = 64 << 10;

/// An open session.
pub(crate) struct Opened {
    /// The session.
    pub(crate) client: Client,
    /// The child's process group (stdio servers on Unix).
    pub(crate) group: Option<u32>,
}

/// The last lines a server wrote on stderr (they explain why it would not start).
#[derive(Debug, Clone, Default)]
pub(crate) struct StderrTail(Arc<Mutex<VecDeque<String>>>);

impl StderrTail {
    fn push(&self, line: String) {
        let mut lines = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if lines.len() == STDERR_TAIL {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// `; its stderr ended with: ...`, or nothing when it wrote nothing.
    pub(crate) fn describe(&self) -> String {
        let lines = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if lines.is_empty() {
            return String::new();
        }
        let text: Vec<&str> = lines.iter().map(String::as_str).collect();
        format!("; its stderr ended with: {}", text.join(" | "))
    }
}

/// Opens a session with `server` (spawn or connect, then `initialize`). The error says why,
/// with the end of the server's stderr.
pub(crate) async fn open(
    name: &str,
    server: &McpServer,
    tail: &StderrTail,
) -> Result<Opened, String> {
    let config = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("baton", env!("CARGO_PKG_VERSION")),
    );
    match &server.transport {
        Transport::Stdio {
            command,
            args,
            env,
            set_env,
            working_dir,
        } => {
            let mut cmd = tokio::process::Command::new(command);
            cmd.args(args).env_clear();
            for var in INHERITED_ENV
                .iter()
                .copied()
                .chain(env.iter().map(String::as_str))
            {
                if let Some(value) = std::env::var_os(var) {
                    cmd.env(var, value);
                }
            }
            cmd.envs(set_env.iter().map(|(k, v)| (k, v)));
            if let Some(dir) = working_dir {
                cmd.current_dir(dir);
            }
            #[cfg_attr(not(unix), allow(unused_mut))]
            let mut wrapped = process_wrap::tokio::CommandWrap::from(cmd);
            #[cfg(unix)]
            wrapped.wrap(process_wrap::tokio::ProcessGroup::leader());
            let (child, stderr) = TokioChildProcess::builder(wrapped)
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("could not run `{command}`: {e}"))?;
            let group = if cfg!(unix) { child.id() } else { None };
            let reader = stderr
                .map(|stderr| tokio::spawn(forward_stderr(name.to_owned(), stderr, tail.clone())));
            match config.serve(child).await {
                Ok(client) => Ok(Opened { client, group }),
                Err(e) => {
                    // Let the reader take in what the server said before it went (it ends at
                    // end-of-file, once the server has exited).
                    if let Some(reader) = reader {
                        let _ = tokio::time::timeout(STDERR_GRACE, reader).await;
                    }
                    Err(format!(
                        "`{command}` did not complete MCP's handshake: {e}{}",
                        tail.describe()
                    ))
                }
            }
        }
        Transport::Http { url, headers } => {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| format!("could not build an HTTP client: {e}"))?;
            let headers: HashMap<_, _> = headers.iter().cloned().collect();
            let transport = StreamableHttpClientTransport::with_client(
                client,
                StreamableHttpClientTransportConfig::with_uri(url.as_str()).custom_headers(headers),
            );
            match config.serve(transport).await {
                Ok(client) => Ok(Opened {
                    client,
                    group: None,
                }),
                Err(e) => Err(format!("{url} did not complete MCP's handshake: {e}")),
            }
        }
    }
}

/// Logs each line the server writes on stderr (at debug level) and keeps the last ones. A
/// line longer than [`STDERR_LINE_MAX`] is skipped, so a server that writes without newlines
/// cannot grow Baton's memory.
async fn forward_stderr(name: String, stderr: tokio::process::ChildStderr, tail: StderrTail) {
    let mut reader = BufReader::new(stderr);
    let mut line: Vec<u8> = Vec::new();
    let mut skipping = false;
    loop {
        let chunk = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(chunk) => chunk,
        };
        let (piece, ends_line) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], true),
            None => (chunk, false),
        };
        if !skipping {
            if line.len() + piece.len() > STDERR_LINE_MAX {
                skipping = true;
                line.clear();
            } else {
                line.extend_from_slice(piece);
            }
        }
        let used = piece.len() + usize::from(ends_line);
        reader.consume(used);
        if ends_line {
            if skipping {
                tail.push(format!("(a line longer than {STDERR_LINE_MAX} bytes)"));
            } else {
                let text = String::from_utf8_lossy(&line);
                tracing::debug!(server = %name, "{text}");
                tail.push(text.chars().take(STDERR_LINE).collect());
            }
            line.clear();
            skipping = false;
        }
    }
}
