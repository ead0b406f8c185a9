//! `Core`: the state a running swarm shares between its handle, its agent actors and their
//! turn loops: the shards, the limits, and the shutdown signal.
//!
//! A shard is one arbiter thread hosting an instance of every agent actor and every async tool
//! actor, with registries of their mailboxes. A new run is given to a shard round-robin and
//! stays there: its turn loop, its tool calls, its handoffs and its timers all run on that
//! thread, so a conversation never pays for a cross-thread hop until it answers its caller.
//! Blocking tools are the exception: their thread pool is shared by all shards.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix::{Addr, ArbiterHandle};
use dashmap::DashMap;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::agent::{AgentActor, AgentSpec, Limits};
use crate::tool::ToolRegistry;

/// A running agent on one shard: its definition and its mailbox there.
#[derive(Debug)]
pub(crate) struct AgentSlot {
    pub(crate) spec: Arc<AgentSpec>,
    pub(crate) addr: Addr<AgentActor>,
}

/// One arbiter thread's registries.
#[derive(Debug, Default)]
pub(crate) struct Shard {
    /// Agent name -> its actor on this shard. Never guarded across an `.await`.
    pub(crate) agents: DashMap<String, Arc<AgentSlot>>,
    /// Tool name -> definition and its worker reachable from this shard.
    pub(crate) tools: ToolRegistry,
}

impl Shard {
    /// Looks up an agent on this shard.
    pub(crate) fn agent(&self, name: &str) -> Option<Arc<AgentSlot>> {
        self.agents.get(name).map(|slot| Arc::clone(&slot))
    }
}

/// What every part of a running swarm shares.
pub(crate) struct Core {
    /// The shards, one per arbiter thread.
    pub(crate) shards: Vec<Shard>,
    /// Round-robin counter for placing new runs.
    next_shard: AtomicUsize,
    /// Default limits of every run.
    pub(crate) limits: Limits,
    /// The `System` thread's arbiter, where shutdown runs its timer.
    pub(crate) system: ArbiterHandle,
    /// Cancelled when shutdown stops waiting: in-flight runs then fail with their partial run.
    pub(crate) cancel: CancellationToken,
    /// Counts runs in flight (each conversation holds a token), so shutdown can wait for them.
    pub(crate) tracker: TaskTracker,
    /// The cap on tool calls in flight across all runs, if set: one permit per call.
    pub(crate) tool_permits: Option<Arc<tokio::sync::Semaphore>>,
    /// The tool sources started with the swarm, stopped at shutdown.
    pub(crate) sources: Vec<Arc<dyn crate::tool::ToolSource>>,
    /// The shards' arbiters, in shard order (to spawn work on a given shard).
    pub(crate) arbiters: Vec<ArbiterHandle>,
}

thread_local! {
    /// On a shard's thread: which core it belongs to (its address) and its index there.
    static HERE: std::cell::Cell<Option<(usize, usize)>> = const { std::cell::Cell::new(None) };
}

impl Core {
    /// A core with `shards` empty shards.
    pub(crate) fn new(
        shards: usize,
        limits: Limits,
        system: ArbiterHandle,
        tool_calls_in_flight: Option<usize>,
    ) -> Self {
        Core {
            shards: (0..shards.max(1)).map(|_| Shard::default()).collect(),
            next_shard: AtomicUsize::new(0),
            limits,
            system,
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            tool_permits: tool_calls_in_flight
                .map(|n| Arc::new(tokio::sync::Semaphore::new(n.max(1)))),
            sources: Vec::new(),
            arbiters: Vec::new(),
        }
    }

    /// Tells each shard's thread which shard of this core it is (see [`Core::current_shard`]).
    /// Called once the core has its final address, before any run starts.
    pub(crate) fn mark_shards(self: &Arc<Self>) {
        let id = Arc::as_ptr(self) as usize;
        for (index, arbiter) in self.arbiters.iter().enumerate() {
            arbiter.spawn_fn(move || HERE.with(|here| here.set(Some((id, index)))));
        }
    }

    /// The index of the shard whose thread this is, if it is one of this core's.
    pub(crate) fn current_shard(&self) -> Option<usize> {
        let id = std::ptr::from_ref(self) as usize;
        HERE.with(|here| here.get())
            .and_then(|(core, index)| (core == id).then_some(index))
    }

    /// The shard a new run goes to: the caller's own, when it runs on one of this swarm's
    /// shards (a nested run, a simulation's driver: the run then shares the caller's thread
    /// and clock), else the next one round-robin.
    pub(crate) fn next_shard(&self) -> &Shard {
        if let Some(index) = self.current_shard() {
            return &self.shards[index];
        }
        let n = self.next_shard.fetch_add(1, Ordering::Relaxed);
        &self.shards[n % self.shards.len()]
    }

    /// The agents' names, sorted, for error messages.
    pub(crate) fn agent_list(&self) -> String {
        let mut names: Vec<String> = self.shards[0]
            .agents
            .iter()
            .map(|e| e.key().clone())
            .collect();
        names.sort();
        names.join(", ")
    }
}

/// The index of the shard whose thread this is, if it is a shard of some swarm.
pub(crate) fn current_shard_index() -> Option<usize> {
    HERE.with(|here| here.get()).map(|(_, index)| index)
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("shards", &self.shards.len())
            .field("limits", &self.limits)
            .field(
                "sources",
                &self.sources.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for AgentActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentActor")
            .field("agent", &self.agent.spec.name)
            .field("shard", &self.shard)
            .finish()
    }
}
