//! `Swarm`: the handle an application holds.
//!
//! A swarm owns an actix `System` on threads of its own (see `system`), its agent actors and
//! tool workers, spread over shards (see `core`). The handle is `Clone + Send + Sync`; [`Swarm::run`] works from any task of any
//! async runtime, because all it does is put a conversation in an agent's mailbox and await a
//! oneshot channel. [`Swarm::shutdown`] stops taking runs, lets in-flight runs finish for a grace
//! period, fails the rest with their partial run, then stops the threads.

mod builder;
mod core;
mod system;

pub use builder::{Problem, SwarmBuilder, SwarmError};
pub(crate) use core::{AgentSlot, Core, Shard, current_shard_index};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use actix::prelude::SendError;
use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared};
use tokio::sync::oneshot;

use crate::agent::Run;
use crate::agent::conversation::Conversation;
use crate::model::check_history;
use crate::run::{RunError, RunInput, RunResult};
use crate::stream::{EventSink, RunStream};
use crate::tool::scope::RunScope;
use system::SystemThread;

/// How long [`Swarm::shutdown`] lets in-flight runs finish before failing them.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A running swarm of agents.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use baton::{Agent, Swarm, model::{ScriptedCall, ScriptedModel, ScriptedTurn}, tool::builtin::Add};
/// use serde_json::json;
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = ScriptedModel::new().with_agent("calc", [
///     ScriptedTurn::calls([ScriptedCall::tool("add", json!({"a": 2, "b": 3})).with_id("sum")]),
///     ScriptedTurn::text("2 + 3 = {{output:sum}}"),
/// ]);
/// let swarm = Swarm::builder()
///     .tool(Add)
///     .agent(Agent::new("calc").with_tools(["add"]))
///     .model(Arc::new(model))
///     .start()?;
/// let result = swarm.run("calc", "what is 2 + 3?").await?;
/// assert_eq!(result.final_output, "2 + 3 = 5");
/// swarm.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Swarm {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    core: Arc<Core>,
    system: SystemThread,
    /// Set once shutdown starts: no new runs.
    closed: AtomicBool,
    /// The shutdown in progress, shared by every caller of `shutdown`.
    shutdown: Mutex<Option<Shared<BoxFuture<'static, ()>>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone without `shutdown`: stop everything, wait for nothing.
        self.core.cancel.cancel();
        self.system.stop();
    }
}

impl Swarm {
    /// Starts building a swarm.
    pub fn builder() -> SwarmBuilder {
        SwarmBuilder::default()
    }

    fn new(core: Arc<Core>, system: SystemThread) -> Self {
        Swarm {
            inner: Arc::new(Inner {
                core,
                system,
                closed: AtomicBool::new(false),
                shutdown: Mutex::new(None),
            }),
        }
    }

    /// Runs a conversation starting at `agent` and returns its result.
    ///
    /// `input` is a user message (`&str`, `String`) or items to continue from
    /// (`Vec<Item>`). Dropping the returned future abandons the run at its next turn.
    ///
    /// # Errors
    ///
    /// [`RunError`] says why the run failed and, once it started, carries the partial run.
    pub async fn run(
        &self,
        agent: &str,
        input: impl Into<RunInput>,
    ) -> Result<RunResult, RunError> {
        let (reply, outcome) = oneshot::channel();
        self.start_run(agent, input.into(), reply, None, None, None);
        // A dropped reply means the system stopped under the run (a swarm dropped unshut).
        outcome.await.unwrap_or(Err(RunError::ShutDown))
    }

    /// Runs a conversation like [`Swarm::run`], under `trace_id` instead of a fresh one (a
    /// simulation names each conversation's runs, so that what they draw depends on the
    /// conversation alone).
    pub(crate) async fn run_traced(
        &self,
        agent: &str,
        input: RunInput,
        trace_id: String,
    ) -> Result<RunResult, RunError> {
        let (reply, outcome) = oneshot::channel();
        self.start_run(agent, input, reply, None, None, Some(trace_id));
        outcome.await.unwrap_or(Err(RunError::ShutDown))
    }

    /// How many shards (worker threads) the swarm has.
    pub(crate) fn shards(&self) -> usize {
        self.inner.core.shards.len()
    }

    /// Starts the future `make` builds as a task on shard `shard` (built there, so it need
    /// not be `Send`); runs it starts go to that shard and share its clock. Returns `false`
    /// if the shard has stopped.
    pub(crate) fn spawn_on<F, Fut>(&self, shard: usize, make: F) -> bool
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        self.inner.core.arbiters.get(shard).is_some_and(|arbiter| {
            arbiter.spawn_fn(move || {
                actix::spawn(make());
            })
        })
    }

    /// Runs a conversation nested in another run's tool call (an agent used as a tool): under
    /// the outer run's trace id, with at most the model turns the outer run has left.
    pub(crate) async fn run_nested(
        &self,
        agent: &str,
        input: RunInput,
        outer: &RunScope,
    ) -> Result<RunResult, RunError> {
        let (reply, outcome) = oneshot::channel();
        self.start_run(agent, input, reply, None, Some(outer), None);
        outcome.await.unwrap_or(Err(RunError::ShutDown))
    }

    /// Runs a conversation like [`Swarm::run`], reporting what happens as it happens: text
    /// deltas from streaming models, tool calls, handoffs. Read the events from the returned
    /// [`RunStream`], then its [`result`](RunStream::result).
    pub fn run_streamed(&self, agent: &str, input: impl Into<RunInput>) -> RunStream {
        let (stream, events, reply) = RunStream::channel();
        self.start_run(agent, input.into(), reply, Some(events), None, None);
        stream
    }

    /// Puts a new conversation in `agent`'s mailbox; every outcome, even a refusal, goes to
    /// `reply`. A run nested in an `outer` one shares its trace id and turn budget; other
    /// runs get `trace_id`, or a fresh one.
    fn start_run(
        &self,
        agent: &str,
        input: RunInput,
        reply: crate::agent::conversation::Reply,
        events: Option<EventSink>,
        outer: Option<&RunScope>,
        trace_id: Option<String>,
    ) {
        let core = &self.inner.core;
        if self.inner.closed.load(Ordering::Acquire) {
            let _ = reply.send(Err(RunError::ShutDown));
            return;
        }
        if let RunInput::Items(items) = &input
            && let Err(error) = check_history(items)
        {
            let _ = reply.send(Err(RunError::InvalidInput { error }));
            return;
        }
        let Some(slot) = core.next_shard().agent(agent) else {
            let _ = reply.send(Err(RunError::UnknownAgent {
                agent: agent.to_owned(),
                available: core.agent_list(),
            }));
            return;
        };
        let (limits, trace_id) = match outer {
            None => (
                core.limits,
                trace_id.unwrap_or_else(|| self.inner.system.chance().trace_id()),
            ),
            Some(outer) => {
                let mut limits = core.limits;
                limits.max_turns = limits.max_turns.min(outer.turns_left);
                (limits, outer.trace_id.clone())
            }
        };
        let conversation = Box::new(Conversation::new(
            input.into_items(),
            Arc::clone(&slot.spec.name),
            limits,
            trace_id,
            reply,
            events,
            core.tracker.token(),
        ));
        // Mailboxes are unbounded (see `mailbox`), so only a stopped agent refuses.
        if let Err(SendError::Closed(run) | SendError::Full(run)) =
            slot.addr.try_send(Run { conversation })
        {
            let agent = agent.to_owned();
            run.conversation
                .fail(|partial| RunError::AgentStopped { agent, partial });
        }
    }

    /// Returns the names of the swarm's agents, sorted.
    pub fn agents(&self) -> Vec<String> {
        let mut names: Vec<String> = self.inner.core.shards[0]
            .agents
            .iter()
            .map(|e| e.key().clone())
            .collect();
        names.sort();
        names
    }

    /// Returns how many runs are in flight.
    pub fn runs_in_flight(&self) -> usize {
        self.inner.core.tracker.len()
    }

    /// Shuts down with [`DEFAULT_SHUTDOWN_GRACE`].
    pub async fn shutdown(&self) {
        self.shutdown_within(DEFAULT_SHUTDOWN_GRACE).await;
    }

    /// Stops taking runs, lets in-flight runs finish for up to `grace`, fails the rest with
    /// [`RunError::Cancelled`] (carrying their partial run), then stops the swarm's threads.
    ///
    /// Works from any async runtime; calling it again waits for the same shutdown.
    pub async fn shutdown_within(&self, grace: Duration) {
        let shutdown = {
            let mut slot = self
                .inner
                .shutdown
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            self.inner.closed.store(true, Ordering::Release);
            slot.get_or_insert_with(|| {
                drain_then_stop(
                    Arc::clone(&self.inner.core),
                    self.inner.system.clone(),
                    grace,
                )
                .boxed()
                .shared()
            })
            .clone()
        };
        shutdown.await;
    }
}

/// A handle to a swarm that does not keep it alive: a tool that runs agents holds one, so the
/// swarm's tools do not keep its threads running after the application drops its handles.
#[derive(Debug, Clone)]
pub(crate) struct WeakSwarm(Weak<Inner>);

impl WeakSwarm {
    /// The swarm, if some handle still holds it.
    pub(crate) fn upgrade(&self) -> Option<Swarm> {
        self.0.upgrade().map(|inner| Swarm { inner })
    }
}

impl Swarm {
    /// A handle that does not keep the swarm alive.
    pub(crate) fn downgrade(&self) -> WeakSwarm {
        WeakSwarm(Arc::downgrade(&self.inner))
    }
}

/// Waits up to `grace` for in-flight runs, cancels the rest, waits for them to report, then
/// stops the `System` thread.
async fn drain_then_stop(core: Arc<Core>, system: SystemThread, grace: Duration) {
    // The timer runs on the swarm's `System` thread, so the caller's runtime needs none.
    let (drained, wait) = oneshot::channel::<()>();
    let spawned = core.system.clone().spawn(async move {
        core.tracker.close();
        if tokio::time::timeout(grace, core.tracker.wait())
            .await
            .is_err()
        {
            core.cancel.cancel();
            core.tracker.wait().await;
        }
        core.cancel.cancel();
        builder::stop_sources(&core.sources).await;
        let _ = drained.send(());
    });
    if spawned {
        let _ = wait.await;
    }
    system.stop_and_wait().await;
}
