//! Command tools: a program run from an argv template, without a shell, as a
//! [`DynamicTool`].
//!
//! A [`CommandToolSpec`] declares the tool (a YAML `command` tool fills one; Rust code may
//! too); [`CommandTool::new`] checks it, reporting every problem at once with the field it is
//! about, and resolves the program on `PATH`. Each call then:
//!
//! - fills each argv element from the call's arguments: one element stays **one argument**,
//!   whatever the value holds (`; rm -rf /`, `$(...)` and backticks are plain text to the
//!   program: no shell ever reads them);
//! - runs the program with a clean environment (only the allowed and the fixed variables), in
//!   the working directory, in a process group of its own, stdin filled from its template or
//!   `/dev/null`;
//! - reads stdout and stderr together, keeping at most their caps (the rest is read and
//!   counted, so the program never blocks and memory stays bounded);
//! - ends the whole group: when the leader exits (what it left in the background is killed),
//!   at the call's deadline, when the call is cancelled, and when the call is dropped.
//!
//! The model reads how it ended, then the output (see [`CommandTool`] for the exact text). A
//! non-zero exit is an ordinary output; a program that cannot start or a call past its
//! timeout is a [`ToolError`].
//!
//! Unix only: process groups and signals are what make "kill the whole command" work.

mod capture;
mod check;
mod error;
mod kill;
mod report;
mod spawn;
mod template;

pub use error::{CommandField, CommandSpecError};

use std::path::PathBuf;

use futures::future::BoxFuture;
use serde_json::Value;

use super::{DynamicTool, ToolContext, ToolError, ToolOutput};
use template::Template;

/// The default cap on the bytes of stdout kept for the model (1 MiB).
const DEFAULT_MAX_STDOUT_BYTES: usize = 1024 * 1024;

/// The default cap on the bytes of stderr kept for the model (64 KiB).
const DEFAULT_MAX_STDERR_BYTES: usize = 64 * 1024;

/// A command tool as declared (YAML fills this; Rust users may too).
///
/// [`Default`] gives an empty tool with no arguments (`{"type": "object", "properties": {}}`)
/// and the default caps (1 MiB of stdout, 64 KiB of stderr); fill in at least `name` and
/// `argv`.
#[derive(Debug, Clone)]
pub struct CommandToolSpec {
    /// The name the model calls it by (`^[a-zA-Z0-9_-]{1,64}$`, checked at registration).
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema (an object schema) of the arguments.
    pub parameters: Value,
    /// argv templates: `["grep", "-n", "{pattern}", "{file}"]`. `argv[0]` is the program, fixed
    /// by the file (no placeholder in it). Each element is ONE argument after substitution (no
    /// shell, no splitting); an element that is exactly `{arg}` whose argument is absent is
    /// dropped; one whose value is an array becomes one argument per item. `{{`/`}}` are
    /// literal braces.
    ///
    /// Values: strings as they are; numbers, booleans and objects as compact JSON. Any other
    /// element naming an absent (or null) argument is dropped too (`--limit={n}` goes with
    /// `n`); an array inside such an element is compact JSON.
    pub argv: Vec<String>,
    /// The directory the program runs in (Baton's own when None). A relative path is taken
    /// from Baton's current directory.
    pub working_dir: Option<PathBuf>,
    /// Environment variable NAMES passed through from Baton's environment; nothing else is
    /// inherited. The values are read once, when the tool is built; an unset one is not passed.
    pub env: Vec<String>,
    /// Fixed variables set for the child (name, value); they win over an allowed one of the
    /// same name.
    pub set_env: Vec<(String, String)>,
    /// stdin template (e.g. `"{text}"`, an absent argument giving nothing); None = stdin is
    /// /dev/null.
    pub stdin: Option<String>,
    /// Cap on the bytes of stdout kept (the rest is read and counted, and the output says
    /// where it was cut).
    pub max_stdout_bytes: usize,
    /// Cap on the bytes of stderr kept.
    pub max_stderr_bytes: usize,
}

impl Default for CommandToolSpec {
    fn default() -> Self {
        CommandToolSpec {
            name: String::new(),
            description: String::new(),
            parameters: serde_json::json!({"type": "object", "properties": {}}),
            argv: Vec::new(),
            working_dir: None,
            env: Vec::new(),
            set_env: Vec::new(),
            stdin: None,
            max_stdout_bytes: DEFAULT_MAX_STDOUT_BYTES,
            max_stderr_bytes: DEFAULT_MAX_STDERR_BYTES,
        }
    }
}

/// A checked command tool, ready to register with
/// [`SwarmBuilder::dynamic_tool`](crate::swarm::SwarmBuilder::dynamic_tool).
///
/// A call's output is this text (stderr's section only when it wrote something; each
/// section ends with a newline; a cut section is followed by its note):
///
/// ```text
/// exit code: 0
/// --- stdout ---
/// ...
/// [stdout cut at 1048576 bytes of 52428800]
/// --- stderr ---
/// ...
/// ```
///
/// The first line is `exit code: N`, or `killed by signal N` when a signal ended the
/// program. A call still running at its deadline ends with
/// [`ToolError::TimedOut`], one whose program cannot
/// start with [`ToolError::Failed`].
///
/// # Examples
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// use baton::tool::ToolOptions;
/// use baton::tool::command::{CommandTool, CommandToolSpec};
/// use baton::{Agent, Swarm};
/// use serde_json::json;
///
/// let spec = CommandToolSpec {
///     name: "grep".into(),
///     description: "Finds the lines of a file that match a pattern.".into(),
///     parameters: json!({
///         "type": "object",
///         "properties": {"pattern": {"type": "string"}, "file": {"type": "string"}},
///         "required": ["pattern", "file"],
///     }),
///     argv: ["grep", "-n", "--", "{pattern}", "{file}"].map(String::from).to_vec(),
///     env: vec!["PATH".into()],
///     ..CommandToolSpec::default()
/// };
/// let tool = CommandTool::new(spec, &|name| std::env::var(name).ok())
///     .map_err(|problems| format!("{problems:?}"))?;
/// let options = ToolOptions { timeout: Some(Duration::from_secs(10)), ..ToolOptions::default() };
/// let builder = Swarm::builder()
///     .dynamic_tool(Arc::new(tool), options)
///     .agent(Agent::new("searcher").with_tools(["grep"]));
/// # let _ = builder;
/// # Ok::<(), String>(())
/// ```
pub struct CommandTool {
    /// The tool's name.
    name: String,
    /// Its description.
    description: String,
    /// The JSON Schema of its arguments.
    parameters: Value,
    /// `argv[0]` as declared (the child's `argv[0]`).
    arg0: String,
    /// The program's absolute path.
    program: PathBuf,
    /// The templates of `argv[1..]`.
    argv: Vec<Template>,
    /// Where it runs.
    working_dir: Option<PathBuf>,
    /// Its whole environment (allowed variables that were set, then the fixed ones).
    env: Vec<(String, String)>,
    /// The stdin template.
    stdin: Option<Template>,
    /// Cap on stdout bytes kept.
    max_stdout_bytes: usize,
    /// Cap on stderr bytes kept.
    max_stderr_bytes: usize,
}

impl std::fmt::Debug for CommandTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: the values of passed-through variables may be secrets.
        let env: Vec<&str> = self.env.iter().map(|(name, _)| name.as_str()).collect();
        let argv: Vec<&str> = self.argv.iter().map(Template::source).collect();
        f.debug_struct("CommandTool")
            .field("name", &self.name)
            .field("program", &self.program)
            .field("argv", &argv)
            .field("working_dir", &self.working_dir)
            .field("env", &env)
            .field("stdin", &self.stdin.as_ref().map(Template::source))
            .field("max_stdout_bytes", &self.max_stdout_bytes)
            .field("max_stderr_bytes", &self.max_stderr_bytes)
            .finish_non_exhaustive()
    }
}

impl DynamicTool for CommandTool {
    fn name(&self) -> &str {
        &self.name
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
        context: ToolContext,
    ) -> BoxFuture<'_, Result<ToolOutput, ToolError>> {
        Box::pin(self.run(arguments, context))
    }
}
