//! One call of a [`CommandTool`]: fill the templates, spawn the program (no shell, a clean
//! environment, its own process group), feed stdin, read stdout and stderr under their caps,
//! and end the whole group however the call ends.
//!
//! It runs on the tokio runtime of the shard that serves the call (tokio's process support:
//! the child is awaited, never waited for on the thread). The call ends when the leader has
//! exited and both pipes are closed; the group is killed as the leader exits, so background
//! children neither outlive the call nor hold its pipes open. At the call's deadline or when
//! its signal fires, the group is killed and the leader reaped; a dropped call kills it too.
//! A process that leaves the group (`setsid`) is out of reach: if it keeps the pipes open,
//! the call runs until its deadline.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt as _;
use tokio::signal::unix::{SignalKind, signal};

use super::capture::{Captured, read_capped};
use super::kill::{Group, leader_exited};
use super::{CommandTool, report};
use crate::tool::{ToolContext, ToolError, ToolOutput};

/// How a call's command line looks once its templates are filled.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Plan {
    /// The arguments after the program.
    pub(super) args: Vec<String>,
    /// What stdin carries, if the tool declares it.
    pub(super) stdin: Option<String>,
}

impl CommandTool {
    /// Fills the argv and stdin templates from `arguments` (an object; anything else counts
    /// as no arguments). An error if an argument holds a NUL byte, which no argv can carry.
    pub(super) fn plan(&self, arguments: &Value) -> Result<Plan, ToolError> {
        let empty = Map::new();
        let args = arguments.as_object().unwrap_or(&empty);
        let mut argv = Vec::new();
        for template in &self.argv {
            template.render_argv(args, &mut argv);
        }
        if let Some(at) = argv.iter().position(|arg| arg.contains('\0')) {
            return Err(ToolError::failed(
                &self.name,
                format!(
                    "argument {} of the command holds a NUL byte, which a command line cannot carry",
                    at + 1
                ),
            ));
        }
        let stdin = self.stdin.as_ref().map(|t| t.render_text(args));
        Ok(Plan { args: argv, stdin })
    }

    /// Runs one call.
    pub(super) async fn run(
        &self,
        arguments: Value,
        context: ToolContext,
    ) -> Result<ToolOutput, ToolError> {
        let plan = self.plan(&arguments)?;
        let timeout = context.remaining();
        let timed_out = || ToolError::TimedOut {
            tool: self.name.clone(),
            after: timeout,
        };
        if context.is_cancelled() {
            return Err(self.cancelled());
        }
        if timeout.is_zero() {
            return Err(timed_out());
        }
        let failed = |what: &str, e: std::io::Error| {
            ToolError::failed(&self.name, format!("{what} `{}`: {e}", self.arg0))
        };
        // Listen for SIGCHLD before the child exists, so its exit cannot be missed.
        let mut sigchld =
            signal(SignalKind::child()).map_err(|e| failed("cannot watch the exit of", e))?;
        let mut child = self
            .command(&plan)
            .spawn()
            .map_err(|e| failed("cannot start", e))?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let stdin = child.stdin.take();
        let Some(mut group) = Group::new(child) else {
            return Err(ToolError::failed(
                &self.name,
                format!("`{}` ended before it could be watched", self.arg0),
            ));
        };

        let feed = async move {
            if let (Some(mut pipe), Some(text)) = (stdin, plan.stdin) {
                // A command that stops reading (or never reads) closes the pipe: not an error.
                let _ = pipe.write_all(text.as_bytes()).await;
                let _ = pipe.shutdown().await;
            }
        };
        let capture = async {
            tokio::try_join!(
                read_capped(stdout, self.max_stdout_bytes),
                read_capped(stderr, self.max_stderr_bytes)
            )
        };
        let pid = group.pid();
        let exited = leader_exited(pid, &mut sigchld);
        let deadline = tokio::time::sleep_until(context.deadline());
        tokio::pin!(feed, capture, exited, deadline);

        let mut status = None;
        let mut captured: Option<(Captured, Captured)> = None;
        let mut fed = false;
        loop {
            if let (Some(status), Some((out, err))) = (status, &captured) {
                return Ok(ToolOutput::Text(report::render(
                    status,
                    out,
                    self.max_stdout_bytes,
                    err,
                    self.max_stderr_bytes,
                )));
            }
            tokio::select! {
                biased;
                () = context.cancelled() => {
                    end(&mut group).await;
                    return Err(self.cancelled());
                }
                () = &mut deadline => {
                    end(&mut group).await;
                    return Err(timed_out());
                }
                ended = &mut exited, if status.is_none() => {
                    if let Err(e) = ended {
                        group.forget();
                        return Err(failed("cannot watch the exit of", e));
                    }
                    // Whatever it left running goes with it, while its pid still names the group.
                    group.kill();
                    status = Some(group.reap().await.map_err(|e| failed("cannot reap", e))?);
                }
                read = &mut capture, if captured.is_none() => {
                    captured = Some(read.map_err(|e| failed("cannot read the output of", e))?);
                }
                () = &mut feed, if !fed => fed = true,
            }
        }
    }

    /// The process to spawn for `plan`.
    fn command(&self, plan: &Plan) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .arg0(&self.arg0)
            .args(&plan.args)
            .env_clear()
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .stdin(if plan.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(dir) = &self.working_dir {
            command.current_dir(dir);
        }
        command
    }

    /// The error of a call whose caller stopped waiting.
    fn cancelled(&self) -> ToolError {
        ToolError::failed(&self.name, "cancelled: the caller stopped waiting")
    }
}

/// How long a killed group's leader is waited for before giving up on reaping it (a process
/// stuck in the kernel; tokio reaps it later).
const REAP_GRACE: Duration = Duration::from_secs(1);

/// Kills the group and reaps its leader, giving up on the reaping after [`REAP_GRACE`].
async fn end(group: &mut Group) {
    group.kill();
    let _ = tokio::time::timeout(REAP_GRACE, group.reap()).await;
}
