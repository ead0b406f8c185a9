//! `Call`: one function call of a turn, what the turn loop decided to do with it, and what
//! became of it. The turn loop plans the calls ([`Plan`]); the fan-out fills in the outputs and
//! timings of the tool calls; the turn loop then writes one output per call, in call order.

use std::sync::Arc;
use std::time::Duration;

use crate::swarm::AgentSlot;
use crate::tool::ToolEntry;
use crate::tool::args::Arguments;

/// What to do with one function call of a turn.
pub(crate) enum Plan {
    /// Its output is already decided (an error, or a refused handoff).
    Decided,
    /// Send it to this tool with these checked arguments (taken when first sent).
    Tool(Arc<ToolEntry>, Option<Arguments>),
    /// The turn's handoff, to this agent.
    Handoff(Arc<AgentSlot>),
}

/// One function call of a turn and what became of it.
pub(crate) struct Call {
    /// Its index in the conversation.
    pub(crate) item: usize,
    pub(crate) plan: Plan,
    /// Its output, once known.
    pub(crate) output: Option<String>,
    /// The images its tool returned.
    pub(crate) images: Vec<crate::Image>,
    /// For tool calls that ran: start, end, and whether it produced a result.
    pub(crate) timing: Option<(Duration, Duration, bool)>,
    /// The kind of its error output, if it got one.
    pub(crate) error: Option<crate::tool::ToolErrorKind>,
    /// How often the tool's workers had been restarted when the call ended.
    pub(crate) restarts: u32,
}
