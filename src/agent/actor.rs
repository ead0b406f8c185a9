//! `AgentActor`: the mailbox of one agent.
//!
//! A `Run` message brings a conversation (from a caller or from another agent's handoff); the
//! handler starts the turn loop on the multi-thread runtime and returns, holding nothing, so
//! conversations never queue behind each other inside one agent.

use std::sync::Arc;

use actix::{Actor, Context, Handler, Message};

use super::AgentSpec;
use super::conversation::Conversation;
use crate::swarm::Core;

/// Hands a conversation to an agent.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Run {
    /// The run in motion; whoever ends it answers its caller.
    pub(crate) conversation: Conversation,
}

/// The actor of one agent.
pub(crate) struct AgentActor {
    /// What the agent is.
    pub(crate) spec: Arc<AgentSpec>,
    /// The swarm: registries, runtime, shutdown signal.
    pub(crate) core: Arc<Core>,
}

impl Actor for AgentActor {
    type Context = Context<Self>;
}

impl Handler<Run> for AgentActor {
    type Result = ();

    fn handle(&mut self, run: Run, _: &mut Context<Self>) {
        let core = Arc::clone(&self.core);
        let spec = Arc::clone(&self.spec);
        self.core
            .runtime
            .spawn(super::turn::run(core, spec, run.conversation));
    }
}
