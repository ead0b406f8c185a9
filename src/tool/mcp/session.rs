//! `Session`: one MCP server's worker. It owns the server's session (one child process or
//! HTTP connection), over which every call of every run is multiplexed (rmcp matches replies
//! to requests by id), and supervises it: when the server exits or disconnects, calls in
//! flight get error outputs, and the session is reopened with backoff (100 ms doubling to
//! 10 s; reset after a session that lived a minute) while later calls wait for it.
//!
//! Its state is a `watch` channel that calls read without locking: `Up` with the session's
//! peer handle, `Restarting` (with the last reason a restart failed, so calls then fail at
//! once instead of waiting), or `Stopped`. It runs as a task on the swarm's `System` thread
//! from start to shutdown.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::RoleClient;
use rmcp::service::Peer;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::connect::{self, Opened, StderrTail};
use super::server::McpServer;

/// The first wait before reopening a session.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A session that lived this long resets the backoff.
const HEALTHY: Duration = Duration::from_secs(60);
/// How long stopping waits for the session to close before the process group is killed.
const CLOSE_GRACE: Duration = Duration::from_secs(3);

/// Where a server's session is.
#[derive(Clone)]
pub(crate) enum State {
    /// Open: calls go to this peer.
    Up(Peer<RoleClient>),
    /// Being reopened; `Some` once an attempt failed, with why.
    Restarting(Option<Arc<str>>),
    /// Shut down.
    Stopped,
}

/// One server's worker (see the module docs).
pub(crate) struct Session {
    name: Arc<str>,
    server: Arc<McpServer>,
    state: watch::Sender<State>,
    stop: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
    tail: StderrTail,
}

impl Session {
    /// Opens the first session (within the server's startup timeout) and starts supervising
    /// it. Must run inside a Tokio runtime that lives as long as the session.
    pub(crate) async fn start(
        name: &str,
        server: Arc<McpServer>,
    ) -> Result<(Arc<Session>, Opened), String> {
        let tail = StderrTail::default();
        let opened = open_within(name, &server, &tail).await?;
        let (state, _) = watch::channel(State::Up(opened.client.peer().clone()));
        let session = Arc::new(Session {
            name: Arc::from(name),
            server,
            state,
            stop: CancellationToken::new(),
            task: Mutex::new(None),
            tail,
        });
        Ok((session, opened))
    }

    /// Supervises `opened` (from [`start`](Self::start)) until [`stop`](Self::stop).
    pub(crate) fn supervise(self: &Arc<Self>, opened: Opened) {
        let task = tokio::spawn(Arc::clone(self).run(opened));
        *self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task);
    }

    /// The server's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The open session's peer, waiting while it is being reopened; an error when the last
    /// attempt to reopen it failed or the server was stopped. The caller bounds the wait
    /// (a call's deadline).
    pub(crate) async fn peer(&self) -> Result<Peer<RoleClient>, String> {
        let mut state = self.state.subscribe();
        loop {
            match &*state.borrow_and_update() {
                State::Up(peer) => return Ok(peer.clone()),
                State::Restarting(Some(why)) => {
                    return Err(format!(
                        "MCP server `{}` is down and being restarted: {why}",
                        self.name
                    ));
                }
                State::Restarting(None) => {}
                State::Stopped => return Err(format!("MCP server `{}` was stopped", self.name)),
            }
            if state.changed().await.is_err() {
                return Err(format!("MCP server `{}` was stopped", self.name));
            }
        }
    }

    /// Stops supervising and ends the session: closes it (a stdio server gets end-of-file,
    /// then SIGTERM, then SIGKILL), then kills what is left of its process group.
    pub(crate) async fn stop(&self) {
        self.stop.cancel();
        let task = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
        self.state.send_replace(State::Stopped);
    }

    async fn run(self: Arc<Self>, mut opened: Opened) {
        let mut failures: u32 = 0;
        loop {
            let opened_at = Instant::now();
            let group = opened.group;
            let token = opened.client.cancellation_token();
            let ended = opened.client.waiting();
            tokio::pin!(ended);
            tokio::select! {
                _ = &mut ended => {}
                () = self.stop.cancelled() => {
                    token.cancel();
                    let _ = tokio::time::timeout(CLOSE_GRACE, ended).await;
                    kill_group(group);
                    return;
                }
            }
            kill_group(group);
            tracing::warn!(server = %self.name, "MCP server exited or disconnected{}; restarting", self.tail.describe());
            self.state.send_replace(State::Restarting(None));
            if opened_at.elapsed() >= HEALTHY {
                failures = 0;
            }
            opened = loop {
                let wait = FIRST_BACKOFF
                    .saturating_mul(1 << failures.min(8))
                    .min(MAX_BACKOFF);
                // Every attempt counts until a session lives a minute: a server that crashes
                // right after each start backs off as one that fails to start does.
                failures = failures.saturating_add(1);
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = self.stop.cancelled() => return,
                }
                let attempt = tokio::select! {
                    attempt = open_within(&self.name, &self.server, &self.tail) => attempt,
                    () = self.stop.cancelled() => return,
                };
                match attempt {
                    Ok(opened) => break opened,
                    Err(why) => {
                        tracing::warn!(server = %self.name, "MCP server did not restart: {why}");
                        self.state
                            .send_replace(State::Restarting(Some(Arc::from(why))));
                    }
                }
            };
            tracing::info!(server = %self.name, "MCP server restarted");
            self.state
                .send_replace(State::Up(opened.client.peer().clone()));
        }
    }
}

/// [`connect::open`] within the server's startup timeout.
async fn open_within(name: &str, server: &McpServer, tail: &StderrTail) -> Result<Opened, String> {
    match tokio::time::timeout(server.startup_timeout, connect::open(name, server, tail)).await {
        Ok(opened) => opened,
        Err(_) => Err(format!(
            "it did not complete MCP's handshake within {} ms{}",
            server.startup_timeout.as_millis(),
            tail.describe()
        )),
    }
}

/// Kills what is left of a stdio server's process group (children it started that outlived
/// it). The group's leader has been reaped by then; its group id is free for reuse only once
/// every member is gone, and then the kill finds nothing.
fn kill_group(group: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = group
        .and_then(|g| i32::try_from(g).ok())
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    #[cfg(not(unix))]
    let _ = group;
}
