//! What a run gives back: [`RunResult`] on success, [`RunError`] (with the partial run) on
//! failure, and the [`Event`] timeline of both.

use std::sync::Arc;
use std::time::Duration;

use crate::item::Item;
use crate::model::{HistoryError, ModelError, Usage};

/// The input of a run: a user message, or a whole conversation to continue.
#[derive(Debug, Clone, PartialEq)]
pub enum RunInput {
    /// One user message.
    Text(String),
    /// Items to start from (a previous transcript plus a new user message, say).
    Items(Vec<Item>),
}

impl From<&str> for RunInput {
    fn from(text: &str) -> Self {
        RunInput::Text(text.to_owned())
    }
}

impl From<String> for RunInput {
    fn from(text: String) -> Self {
        RunInput::Text(text)
    }
}

impl From<Vec<Item>> for RunInput {
    fn from(items: Vec<Item>) -> Self {
        RunInput::Items(items)
    }
}

impl RunInput {
    pub(crate) fn into_items(self) -> Vec<Item> {
        match self {
            RunInput::Text(text) => vec![Item::user(text)],
            RunInput::Items(items) => items,
        }
    }
}

/// One step of a run, with its start and end offsets from the start of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The agent that took the step.
    pub agent: Arc<str>,
    /// The run's model turn (1-based) the step belongs to.
    pub turn: u32,
    /// When it started, from the start of the run.
    pub start: Duration,
    /// When it ended.
    pub end: Duration,
    /// What it was.
    pub kind: EventKind,
}

/// What an [`Event`] was.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// A model request.
    Model,
    /// A tool call.
    Tool {
        /// The tool's name, as the model wrote it.
        name: Arc<str>,
        /// The call id.
        call_id: String,
        /// Whether it produced a result rather than an error output.
        ok: bool,
        /// The kind of its error output, when it got one.
        error: Option<crate::tool::ToolErrorKind>,
        /// How often the tool's workers had been restarted (a fresh instance after a panic)
        /// when the call ended, across the swarm.
        restarts: u32,
    },
    /// The conversation moved to another agent.
    Handoff {
        /// The agent it went to.
        to: Arc<str>,
    },
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The final answer: the text of the last model turn.
    pub final_output: String,
    /// The agent that produced it.
    pub last_agent: String,
    /// Every item of the conversation: the input, model outputs, tool outputs.
    pub transcript: Vec<Item>,
    /// The agents the run went through, in order, the entry agent first.
    pub path: Vec<String>,
    /// Tokens used, summed over every model request.
    pub usage: Usage,
    /// The run's trace id (32 hex digits), also on its tracing spans.
    pub trace_id: String,
    /// Model requests, tool calls and handoffs, with their timing.
    pub timeline: Vec<Event>,
}

/// What a failed run had done before it stopped: nothing is lost.
#[derive(Debug, Clone, Default)]
pub struct PartialRun {
    /// The conversation up to the failure.
    pub transcript: Vec<Item>,
    /// The agents visited.
    pub path: Vec<String>,
    /// Tokens used so far.
    pub usage: Usage,
    /// The run's trace id.
    pub trace_id: String,
    /// The steps taken.
    pub timeline: Vec<Event>,
}

/// Why a run failed. Tool failures are not here: they are outputs the model sees.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The agent asked for does not exist.
    #[error("unknown agent `{agent}`; the swarm has: {available}")]
    UnknownAgent {
        /// The name asked for.
        agent: String,
        /// The swarm's agents, comma separated.
        available: String,
    },
    /// The items a caller gave to continue from ([`RunInput::Items`]) break the API's rules: a
    /// call without exactly one output after it, or an output without its call. Nothing ran.
    #[error("invalid input items: {error}")]
    InvalidInput {
        /// What is wrong, naming the call id.
        error: HistoryError,
    },
    /// The swarm is shut down (or shutting down) and takes no new runs.
    #[error("the swarm is shut down")]
    ShutDown,
    /// A model request failed.
    #[error("agent `{agent}`, turn {turn}: model request failed: {error}")]
    Model {
        /// The agent whose request failed.
        agent: String,
        /// The run turn (1-based).
        turn: u32,
        /// The model's error.
        error: ModelError,
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// The run used all its model turns.
    #[error("agent `{agent}`: max_turns ({max_turns}) exceeded; path {}", partial.path.join(" -> "))]
    MaxTurnsExceeded {
        /// The agent that wanted another turn.
        agent: String,
        /// The limit.
        max_turns: u32,
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// An agent used up the model turns it may take each time a run enters it.
    #[error("agent `{agent}`: its own max_turns ({max_turns}) exceeded; path {}", partial.path.join(" -> "))]
    AgentTurnsExceeded {
        /// The agent that wanted another turn.
        agent: String,
        /// The agent's limit.
        max_turns: u32,
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// The handoff-loop guard stopped the run.
    #[error("handoff loop: {reason}; path {}", partial.path.join(" -> "))]
    HandoffLoop {
        /// Which limit tripped, with the numbers.
        reason: String,
        /// The run so far: its path ends with the agent whose handoff was refused (the refused
        /// target is not entered), and its transcript with that handoff call and its error output.
        partial: Box<PartialRun>,
    },
    /// The swarm shut down while the run was in flight.
    #[error("agent `{agent}`: the swarm shut down while the run was in flight")]
    Cancelled {
        /// The agent running at the time.
        agent: String,
        /// The run so far.
        partial: Box<PartialRun>,
    },
    /// An agent's mailbox was closed (only during shutdown).
    #[error("agent `{agent}` is not running (the swarm is stopping)")]
    AgentStopped {
        /// The agent.
        agent: String,
        /// The run so far.
        partial: Box<PartialRun>,
    },
}

impl RunError {
    /// Returns what the run had done before it failed, if it had started.
    pub fn partial(&self) -> Option<&PartialRun> {
        match self {
            RunError::Model { partial, .. }
            | RunError::MaxTurnsExceeded { partial, .. }
            | RunError::AgentTurnsExceeded { partial, .. }
            | RunError::HandoffLoop { partial, .. }
            | RunError::Cancelled { partial, .. }
            | RunError::AgentStopped { partial, .. } => Some(partial),
            RunError::UnknownAgent { .. } | RunError::InvalidInput { .. } | RunError::ShutDown => {
                None
            }
        }
    }
}
