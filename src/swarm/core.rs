//! `Core`: the state a running swarm shares between its handle, its agent actors and their
//! turn loops: the registries, the runtime, the limits, and the shutdown signal.

use std::sync::Arc;

use actix::Addr;
use dashmap::DashMap;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::agent::{AgentActor, AgentSpec, Limits};
use crate::tool::ToolRegistry;

/// A running agent: its definition and its mailbox.
#[derive(Debug)]
pub(crate) struct AgentSlot {
    pub(crate) spec: Arc<AgentSpec>,
    pub(crate) addr: Addr<AgentActor>,
}

/// What every part of a running swarm shares.
#[derive(Debug)]
pub(crate) struct Core {
    /// Agent name -> slot. Read on every handoff; never guarded across an `.await`.
    pub(crate) agents: DashMap<String, Arc<AgentSlot>>,
    /// Tool name -> definition and worker.
    pub(crate) tools: ToolRegistry,
    /// Default limits of every run.
    pub(crate) limits: Limits,
    /// The multi-thread runtime turn loops and tool calls run on.
    pub(crate) runtime: tokio::runtime::Handle,
    /// Cancelled when shutdown stops waiting: in-flight runs then fail with their partial run.
    pub(crate) cancel: CancellationToken,
    /// Counts runs in flight (each conversation holds a token), so shutdown can wait for them.
    pub(crate) tracker: TaskTracker,
}

impl Core {
    /// Looks up a running agent.
    pub(crate) fn agent(&self, name: &str) -> Option<Arc<AgentSlot>> {
        self.agents.get(name).map(|slot| Arc::clone(&slot))
    }

    /// The agents' names, sorted, for error messages.
    pub(crate) fn agent_list(&self) -> String {
        let mut names: Vec<String> = self.agents.iter().map(|e| e.key().clone()).collect();
        names.sort();
        names.join(", ")
    }
}

impl std::fmt::Debug for AgentActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentActor")
            .field("agent", &self.spec.name)
            .finish()
    }
}
