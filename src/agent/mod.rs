//! Agents: what one is ([`Agent`]), the actor that serves it, and its turn loop.
//!
//! Each agent of a running swarm is one `AgentActor`. Its mailbox takes `Run` messages, each
//! carrying a whole `Conversation`. The handler starts the turn loop
//! (`turn`) as a task on the swarm's multi-thread runtime and returns at once, so one agent
//! serves any number of conversations concurrently and none waits behind another. A handoff
//! sends the conversation on to the target agent's mailbox.

mod actor;
mod call;
mod call_ids;
pub(crate) mod conversation;
mod fanout;
mod limits;
mod spec;
pub(crate) mod turn;

pub(crate) use actor::{AgentActor, Run};
pub use limits::{AgentLimits, Limits};
pub(crate) use spec::AgentSpec;
pub(crate) use turn::ShardAgent;

use crate::handoff::HandoffStyle;
use crate::model::{ModelSettings, SharedModel};

/// An agent's definition: instructions, tools, handoff targets, model.
///
/// # Examples
///
/// ```
/// use baton::Agent;
///
/// let triage = Agent::new("triage")
///     .with_instructions("Send math questions to the calculator.")
///     .with_handoffs(["calculator"]);
/// let calculator = Agent::new("calculator")
///     .with_description("Does arithmetic with tools.")
///     .with_tools(["add", "sqrt"]);
/// ```
#[derive(Debug, Clone)]
pub struct Agent {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) instructions: String,
    pub(crate) tools: Vec<String>,
    pub(crate) handoffs: Vec<String>,
    pub(crate) handoff_style: Option<HandoffStyle>,
    pub(crate) model: Option<SharedModel>,
    pub(crate) model_settings: ModelSettings,
    pub(crate) limits: AgentLimits,
}

impl Agent {
    /// Creates an agent with no instructions, tools or handoffs.
    pub fn new(name: impl Into<String>) -> Self {
        Agent {
            name: name.into(),
            description: String::new(),
            instructions: String::new(),
            tools: Vec::new(),
            handoffs: Vec::new(),
            handoff_style: None,
            model: None,
            model_settings: ModelSettings::default(),
            limits: AgentLimits::default(),
        }
    }

    /// Sets the instructions sent with every request.
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = instructions.into();
        self
    }

    /// Sets what the agent does, shown to agents that can hand off to it.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets the tools the agent may call, by name.
    pub fn with_tools<S: Into<String>>(mut self, tools: impl IntoIterator<Item = S>) -> Self {
        self.tools = tools.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the agents this one may hand the conversation to.
    pub fn with_handoffs<S: Into<String>>(mut self, agents: impl IntoIterator<Item = S>) -> Self {
        self.handoffs = agents.into_iter().map(Into::into).collect();
        self
    }

    /// Sets how handoffs are offered (default: the swarm's style).
    pub fn with_handoff_style(mut self, style: HandoffStyle) -> Self {
        self.handoff_style = Some(style);
        self
    }

    /// Sets the model (default: the swarm's model).
    pub fn with_model(mut self, model: SharedModel) -> Self {
        self.model = Some(model);
        self
    }

    /// Sets the settings sent with the agent's requests (temperature, tool choice, ...).
    pub fn with_model_settings(mut self, settings: ModelSettings) -> Self {
        self.model_settings = settings;
        self
    }

    /// Sets the agent's own bounds, over the run's limits.
    pub fn with_limits(mut self, limits: AgentLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The agent's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}
