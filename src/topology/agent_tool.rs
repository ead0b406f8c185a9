//! An agent used as a tool (`tools: - agent: summarizer`): a call runs the agent on the call's
//! `input` as a nested run of the same swarm, and the nested run's final answer is the call's
//! output.
//!
//! The tool is registered before the swarm exists, so it holds an empty slot that the swarm
//! builder's start hook fills with a weak handle (a strong one, held by a tool actor inside
//! the swarm, would keep the swarm alive forever). Failures are error outputs, never a failed
//! outer run: an unknown agent, a nested run that fails, a swarm shutting down.
//!
//! Recursion (an agent tool whose agent can reach the same tool again) is refused when the
//! topology is loaded (`validate`), so nesting is as deep as the topology's tool graph and no
//! deeper.
//!
//! A nested run is part of its outer run (`tool::scope`): it carries the outer run's trace id,
//! may take only the model turns the outer run has left, and its turns and tokens are added to
//! the outer run's, so a run cannot exceed `max_turns` across all the agents it reaches.

use std::sync::{Arc, OnceLock};

use schemars::JsonSchema;
use serde::Deserialize;

use crate::run::RunInput;
use crate::swarm::WeakSwarm;
use crate::tool::{Tool, ToolContext};

/// The arguments of an agent tool.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgentToolArgs {
    /// What to ask the agent: everything it needs, since it sees nothing else of this
    /// conversation.
    input: String,
}

/// Runs an agent of the swarm as a tool.
#[derive(Debug, Clone)]
pub(crate) struct AgentTool {
    /// The function name.
    name: String,
    /// What the model is told the tool does.
    description: String,
    /// The agent that answers.
    agent: String,
    /// The swarm, once started.
    swarm: Arc<OnceLock<WeakSwarm>>,
}

/// Why an agent tool's call failed (sent to the model as the call's error output).
#[derive(Debug, thiserror::Error)]
pub(crate) enum AgentToolError {
    /// The swarm is not running (not started yet, or dropped).
    #[error("agent `{0}` is not running")]
    NotRunning(String),
    /// The nested run failed.
    #[error("agent `{agent}` could not answer: {error}")]
    Run {
        agent: String,
        error: crate::run::RunError,
    },
}

impl AgentTool {
    /// A tool named `name` that runs `agent`; `slot` is filled when the swarm starts.
    pub(crate) fn new(
        name: String,
        description: String,
        agent: String,
        slot: Arc<OnceLock<WeakSwarm>>,
    ) -> Self {
        AgentTool {
            name,
            description,
            agent,
            swarm: slot,
        }
    }
}

impl Tool for AgentTool {
    type Args = AgentToolArgs;
    type Output = String;
    type Error = AgentToolError;

    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    async fn call(&self, args: AgentToolArgs) -> Result<String, AgentToolError> {
        let swarm = self
            .swarm
            .get()
            .and_then(WeakSwarm::upgrade)
            .ok_or_else(|| AgentToolError::NotRunning(self.agent.clone()))?;
        let input = RunInput::Text(args.input);
        let result = match ToolContext::current() {
            // Inside a run's tool call: a nested run on its trace and turn budget, whose
            // turns and tokens count as the outer run's.
            Some(context) => {
                let outer = context.run();
                let result = swarm.run_nested(&self.agent, input, outer).await;
                let used = match &result {
                    Ok(done) => done.usage,
                    Err(error) => error.partial().map(|p| p.usage).unwrap_or_default(),
                };
                outer.add(&used);
                result
            }
            None => swarm.run(&self.agent, input).await,
        };
        let result = result.map_err(|error| AgentToolError::Run {
            agent: self.agent.clone(),
            error,
        })?;
        Ok(result.final_output)
    }
}
