//! `AgentActor`: the mailbox of one agent on one shard.
//!
//! A `Run` message brings a conversation (from a caller or from another agent's handoff); the
//! handler starts the turn loop as a task on the shard's event loop and returns, holding
//! nothing, so conversations never queue behind each other inside one agent.

use std::sync::Arc;

use actix::{Actor, Context, Handler, Message};

use super::ShardAgent;
use super::conversation::Conversation;
use crate::swarm::Core;

/// Hands a conversation to an agent.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Run {
    /// The run in motion; whoever ends it answers its caller.
    /// Boxed: it moves through mailboxes and sits in every turn-loop task, so it stays small.
    pub(crate) conversation: Box<Conversation>,
}

/// The actor of one agent on one shard.
pub(crate) struct AgentActor {
    /// What the agent is, and its tools' workers on this shard.
    pub(crate) agent: Arc<ShardAgent>,
    /// The swarm: shards, limits, shutdown signal.
    pub(crate) core: Arc<Core>,
    /// The shard this actor lives on (an index into `core.shards`).
    pub(crate) shard: usize,
}

impl Actor for AgentActor {
    type Context = Context<Self>;
}

impl Handler<Run> for AgentActor {
    type Result = ();

    fn handle(&mut self, run: Run, _: &mut Context<Self>) {
        let core = Arc::clone(&self.core);
        let agent = Arc::clone(&self.agent);
        actix::spawn(super::turn::run(core, self.shard, agent, run.conversation));
    }
}
