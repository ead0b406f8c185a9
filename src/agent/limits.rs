//! `Limits`: the bounds every run is held to (DESIGN point 7).
//!
//! A run carries its limits with it as it moves between agent actors, so a handoff never
//! resets a count.

use std::time::Duration;

/// Bounds on one run.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use baton::Limits;
///
/// let limits = Limits { max_turns: 20, tool_timeout: Duration::from_secs(5), ..Limits::default() };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Model requests per run, counted across all agents (default 10, as in the OpenAI Agents
    /// SDK). The next request past it fails the run with the partial transcript.
    pub max_turns: u32,
    /// Handoffs per run (default 10).
    pub max_handoffs: u32,
    /// How many times one run may enter the same agent (default 3): the handoff-loop guard that
    /// stops a ping-pong between agents long before `max_turns`.
    pub max_agent_visits: u32,
    /// The default per-call tool timeout (default 60 s); a tool's own timeout overrides it.
    pub tool_timeout: Duration,
    /// Tool calls of one run in flight at once (default 32): a turn asking for more runs them
    /// in waves, in call order.
    pub max_tool_calls_in_flight: usize,
    /// Function calls one model turn may ask for (default 128), the same for every provider
    /// and for streamed and plain answers. Calls past it are not run: each gets an error
    /// output saying so, and the run goes on, so the model can ask again for fewer.
    pub max_calls_per_turn: usize,
}

/// Bounds on one agent, over the run's [`Limits`]; each field left `None` keeps the run's.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use baton::{Agent, agent::AgentLimits};
///
/// let researcher = Agent::new("researcher").with_limits(AgentLimits {
///     max_turns: Some(4),
///     tool_timeout: Some(Duration::from_secs(10)),
///     ..AgentLimits::default()
/// });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentLimits {
    /// Model requests the agent may make each time a run enters it. The next one fails the run
    /// with [`RunError::AgentTurnsExceeded`](crate::RunError::AgentTurnsExceeded).
    pub max_turns: Option<u32>,
    /// The default per-call timeout of the agent's tool calls (a tool's own timeout still wins).
    pub tool_timeout: Option<Duration>,
    /// The agent's tool calls in flight at once.
    pub max_tool_calls_in_flight: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_turns: 10,
            max_handoffs: 10,
            max_agent_visits: 3,
            tool_timeout: Duration::from_secs(60),
            max_tool_calls_in_flight: 32,
            max_calls_per_turn: 128,
        }
    }
}
