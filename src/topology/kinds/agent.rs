//! The `agent` kind: an agent of the same topology used as a tool (`- agent: summarizer`):
//! a call runs the agent on the call's `input` as a nested run (see `topology::agent_tool`).

use std::sync::{Arc, OnceLock};

use schemars::JsonSchema;

use super::{Agents, Declared, Kind, RawToolOptions, Start};
use crate::swarm::{SwarmBuilder, WeakSwarm};
use crate::tool::ToolOptions;
use crate::topology::agent_tool::AgentTool;
use crate::topology::diagnostic::Problems;
use crate::topology::read::{Fields, Located};

pub(super) const KIND: Kind = Kind {
    key: "agent",
    read,
    schema: |generator| generator.subschema_for::<RawAgentTool>(),
};

/// An agent used as a tool: a call runs the agent on the call's `input` as a nested run and
/// returns its final answer.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAgentTool {
    /// The agent that answers the calls.
    #[schemars(required)]
    agent: Option<Located<String>>,
    /// The function name the model calls (default: the agent's name).
    name: Option<Located<String>>,
    /// What the tool does, for the model (default: the agent's description).
    description: Option<String>,
    #[serde(flatten)]
    options: RawToolOptions,
}

fn read(mut f: Fields<'_, '_, '_>) -> Option<Box<dyn Declared>> {
    let tool = RawAgentTool {
        agent: f.get("agent"),
        name: f.get("name"),
        description: f.get("description"),
        options: RawToolOptions::read(&mut f),
    };
    f.finish();
    Some(Box::new(tool))
}

impl Declared for RawAgentTool {
    fn name(&self) -> Option<&Located<String>> {
        self.name.as_ref().or(self.agent.as_ref())
    }

    fn options(&self) -> &RawToolOptions {
        &self.options
    }

    fn agent(&self) -> Option<&Located<String>> {
        self.agent.as_ref()
    }

    fn resolve(&self, p: &mut Problems, agents: &Agents<'_>) -> Option<Arc<dyn Start>> {
        let agent = self.agent.as_ref()?;
        let Some(target) = agents.get(&agent.value) else {
            let hint = p.did_you_mean(&agent.value, agents.names());
            p.error(
                &agent.at,
                format!("unknown agent `{}` for an agent tool", agent.value),
                hint,
            );
            return None;
        };
        let description = self
            .description
            .clone()
            .or_else(|| target.description.clone())
            .unwrap_or_else(|| format!("Asks the {} agent and returns its answer.", agent.value));
        Some(Arc::new(AgentStart {
            agent: agent.value.clone(),
            description,
        }))
    }
}

/// A checked agent tool.
#[derive(Debug)]
struct AgentStart {
    agent: String,
    description: String,
}

impl Start for AgentStart {
    fn agent(&self) -> Option<&str> {
        Some(&self.agent)
    }

    fn runs_in_simulation(&self) -> bool {
        true
    }

    fn register(
        &self,
        builder: SwarmBuilder,
        name: &str,
        options: ToolOptions,
        swarm: &Arc<OnceLock<WeakSwarm>>,
    ) -> SwarmBuilder {
        let tool = AgentTool::new(
            name.to_owned(),
            self.description.clone(),
            self.agent.clone(),
            Arc::clone(swarm),
        );
        builder.tool_with(tool, options)
    }
}
