//! `AgentSpec`: an [`Agent`](super::Agent) resolved against its swarm, immutable, behind an
//! `Arc` shared by the agent's actor and every turn loop it runs.

use std::sync::Arc;

use super::AgentLimits;
use crate::handoff::HandoffStyle;
use crate::model::{FunctionTool, ModelSettings, SharedModel};

/// An agent ready to run: names checked, function tools built.
#[derive(Debug)]
pub(crate) struct AgentSpec {
    /// The agent's name (shared with timeline events and paths).
    pub(crate) name: Arc<str>,
    /// Sent with every request.
    pub(crate) instructions: String,
    /// Tools it may call.
    pub(crate) tools: Vec<String>,
    /// Agents it may hand off to.
    pub(crate) handoffs: Vec<String>,
    /// How handoffs are offered.
    pub(crate) handoff_style: HandoffStyle,
    /// What the model is offered: the tools' schemas, then the handoff functions.
    pub(crate) functions: Vec<FunctionTool>,
    /// Who answers its requests.
    pub(crate) model: SharedModel,
    /// Sent with every request.
    pub(crate) settings: ModelSettings,
    /// Its own bounds, over the run's.
    pub(crate) limits: AgentLimits,
}

impl AgentSpec {
    /// Whether the agent may hand off to `agent`.
    pub(crate) fn can_hand_off_to(&self, agent: &str) -> bool {
        self.handoffs.iter().any(|a| a == agent)
    }

    /// The tool names, for error messages.
    pub(crate) fn tool_list(&self) -> String {
        list_or(&self.tools, "no tools")
    }

    /// The handoff targets, for error messages.
    pub(crate) fn handoff_list(&self) -> String {
        list_or(&self.handoffs, "none")
    }
}

fn list_or(names: &[String], empty: &str) -> String {
    if names.is_empty() {
        empty.to_owned()
    } else {
        names.join(", ")
    }
}
