//! YAML topologies: a swarm described in a file (`agents/*.yaml`), or in a folder with one
//! file per agent. `docs/topology.md` is the format's reference.
//!
//! [`load`] reads the files (`load`), parses each under budgets against hostile input
//! (`tree`), reads the located tree into the format's types reporting every problem at once
//! (`read`, `raw`), and checks the whole (`validate`): references, names, limits,
//! reachability and cycles. A `simulation:` section (`raw_sim`, `simulation`) is read and
//! checked the same way into a [`SimSpec`] ([`Topology::simulation`]). Every problem has a
//! file, line and column. A [`Topology`] that exists is valid; [`Topology::start`] turns it
//! into a running [`Swarm`] whose agents use the file's scripted turns, and [`Topology::start_live`] into one whose models are chosen as
//! `baton run` chooses them (live when their key is set). [`Topology::to_mermaid`] and [`Topology::to_dot`] draw it, and
//! [`schema`] describes the format as a JSON Schema for editors.
//!
//! ```yaml
//! entry: triage
//! tools:
//!   - builtin: add
//! agents:
//!   - name: triage
//!     handoffs: [calculator]
//!     scripted:
//!       - handoff: calculator
//!   - name: calculator
//!     tools: [add]
//!     scripted:
//!       - calls:
//!           - { tool: add, args: { a: 2, b: 3 }, id: sum }
//!       - text: "2 + 3 = {{output:sum}}"
//! ```

mod agent_tool;
mod diagnostic;
mod distribution;
mod env;
mod graph;
mod kinds;
mod load;
mod quantity;
mod raw;
mod raw_sim;
mod read;
mod schema;
mod script;
mod section;
mod simulation;
mod start;
mod tree;
mod validate;

pub use diagnostic::{Diagnostic, Severity, TopologyError};
pub use load::{FOLDER_FILE, MAX_AGENT_FILES};
pub use schema::{agent_schema, schema, simulation_schema};
pub use start::{ModelUse, SCRIPTED_MODEL, StartError};

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::agent::{Agent, Limits};
use crate::handoff::HandoffStyle;
use crate::model::{ModelChoice, ModelConfig, ModelError, ScriptedModel, SharedModel};
use crate::sim::SimSpec;
use crate::swarm::{Swarm, SwarmBuilder, SwarmError};
use crate::tool::{ToolOptions, ToolSource};

/// Topology files larger than this are refused before parsing (each file of a folder
/// topology is held to it).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A tool a topology defines, with its options.
#[derive(Debug, Clone)]
struct ToolConfig {
    name: String,
    /// What registers it (its kind's, see `kinds`).
    kind: Arc<dyn kinds::Start>,
    options: ToolOptions,
}

/// A valid topology, ready to start.
#[derive(Debug, Clone)]
pub struct Topology {
    /// The topology file (for a folder, its `topology.yaml`).
    path: PathBuf,
    /// Every file read: the topology file, then agent files.
    files: Vec<PathBuf>,
    name: String,
    description: String,
    entry: String,
    limits: Limits,
    handoff_style: HandoffStyle,
    /// `limits.swarm_tool_calls_in_flight`.
    swarm_tool_calls: Option<usize>,
    tools: Vec<ToolConfig>,
    agents: Vec<Agent>,
    /// The `models:` section.
    models: Vec<ModelConfig>,
    /// Per agent (same order as `agents`), the name of its model, if it has one.
    agent_models: Vec<Option<String>>,
    scripted: Option<Arc<ScriptedModel>>,
    /// The `simulation:` section, if it has one.
    simulation: Option<SimSpec>,
    /// Problems that do not stop the topology (handoff cycles, say).
    warnings: Vec<diagnostic::Diagnostic>,
}

/// Reads and checks a topology: a file, or a folder holding a [`FOLDER_FILE`] that lists
/// agent files. `${VAR}` references take their values from the process environment.
///
/// # Errors
///
/// [`TopologyError`] with the file, line and column of every problem found.
///
/// # Examples
///
/// ```
/// let topology = baton::topology::load("agents/math.yaml")?;
/// assert_eq!(topology.entry(), "triage");
/// # Ok::<(), baton::topology::TopologyError>(())
/// ```
pub fn load(path: impl AsRef<Path>) -> Result<Topology, TopologyError> {
    let (file, folder, text) = load::read_path(path.as_ref())?;
    check(&text, &file, folder, &|name| std::env::var(name).ok())
}

/// Checks a topology given as text; `path` names it in messages, gives its default name, and
/// is where agent files are looked for.
///
/// # Errors
///
/// As [`load`].
pub fn parse(text: &str, path: &Path) -> Result<Topology, TopologyError> {
    check(text, path, None, &|name| std::env::var(name).ok())
}

/// Parses, reads and validates, with `${VAR}` values from `env`.
fn check(
    text: &str,
    path: &Path,
    folder: Option<PathBuf>,
    env: env::Lookup<'_>,
) -> Result<Topology, TopologyError> {
    let loaded = load::load_text(text, path, folder, env)?;
    validate::validate(loaded)
}

impl Topology {
    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every file read: the topology file, then agent files (folder topologies).
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Problems that do not stop the topology: handoff cycles (the loop guard bounds them),
    /// scripted calls to tools an agent does not have, and the like.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Its name (the `name` field, or the file's stem, or the folder's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The agent runs start at.
    pub fn entry(&self) -> &str {
        &self.entry
    }

    /// Its run limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Its agents.
    pub fn agents(&self) -> &[Agent] {
        &self.agents
    }

    /// The `models:` section.
    pub fn models(&self) -> &[ModelConfig] {
        &self.models
    }

    /// The model `agent` uses (its own `model:`, else the topology's `model:`), if any.
    pub fn model_of(&self, agent: &str) -> Option<&ModelConfig> {
        let index = self.agents.iter().position(|a| a.name() == agent)?;
        let name = self.agent_models[index].as_deref()?;
        self.models.iter().find(|m| m.name == name)
    }

    /// The model built from the agents' `scripted:` turns, if any agent has some.
    pub fn scripted_model(&self) -> Option<&Arc<ScriptedModel>> {
        self.scripted.as_ref()
    }

    /// The `simulation:` section, read and checked, if the topology has one (`None`
    /// otherwise): what `baton sim` runs. Every agent with behaviour is in
    /// [`SimSpec::agents`]: those the section lists, and those with `scripted:` turns, whose
    /// n-th turn is a step that applies at their n-th request
    /// ([`Condition::Turn`](crate::sim::Condition::Turn)).
    ///
    /// ```
    /// let topology = baton::topology::parse(
    ///     "entry: a\nagents:\n  - name: a\n    scripted: [{ text: hi }]\nsimulation:\n  seed: 7\n",
    ///     std::path::Path::new("t.yaml"),
    /// )?;
    /// let spec = topology.simulation().expect("it has a section");
    /// assert_eq!(spec.seed, Some(7));
    /// assert_eq!(spec.agents["a"].len(), 1);
    /// # Ok::<(), baton::topology::TopologyError>(())
    /// ```
    pub fn simulation(&self) -> Option<&SimSpec> {
        self.simulation.as_ref()
    }

    /// The sources of tools it declares (`mcp:` servers), not started: start one to see
    /// which tools it exposes, as `baton check --connect` does.
    pub fn tool_sources(&self) -> Vec<Arc<dyn ToolSource>> {
        self.tools
            .iter()
            .filter_map(|t| t.kind.source(&t.name, t.options.clone()))
            .collect()
    }

    /// The tools whose real bodies cannot run in a simulation (HTTP, command, MCP servers),
    /// each with whether it is a source of tools (an MCP server).
    pub(crate) fn tools_outside_simulation(&self) -> impl Iterator<Item = (&str, bool)> {
        self.tools
            .iter()
            .filter(|t| !t.kind.runs_in_simulation())
            .map(|t| (t.name.as_str(), t.kind.is_source()))
    }

    /// A swarm builder with the topology's tools, agents and limits, and the scripted model
    /// as the default model. Call [`SwarmBuilder::model`] to use another model.
    pub fn builder(&self) -> SwarmBuilder {
        let mut builder = self.base_builder();
        for agent in &self.agents {
            builder = builder.agent(agent.clone());
        }
        builder
    }

    /// Tools, limits, handoff style, and the scripted model as the default model.
    fn base_builder(&self) -> SwarmBuilder {
        let mut builder = Swarm::builder()
            .limits(self.limits)
            .handoff_style(self.handoff_style);
        if let Some(calls) = self.swarm_tool_calls {
            builder = builder.swarm_tool_calls_in_flight(calls);
        }
        // Agent tools run their agents on the swarm being built, once it has started.
        let swarm = Arc::new(OnceLock::new());
        for tool in &self.tools {
            builder = tool
                .kind
                .register(builder, &tool.name, tool.options.clone(), &swarm);
        }
        if self.tools.iter().any(|t| t.kind.agent().is_some()) {
            builder = builder.on_start(move |started| {
                let _ = swarm.set(started.downgrade());
            });
        }
        if let Some(model) = &self.scripted {
            builder = builder.model(Arc::clone(model) as _);
        }
        builder
    }

    /// A swarm builder like [`Topology::builder`], where every agent that names a model gets
    /// the one `resolve` makes from its [`ModelConfig`] (each config is resolved once, and
    /// only if some agent uses it). Agents that name no model keep the scripted model.
    ///
    /// # Errors
    ///
    /// The first error `resolve` returns.
    pub fn builder_with<E>(
        &self,
        mut resolve: impl FnMut(&ModelConfig) -> Result<SharedModel, E>,
    ) -> Result<SwarmBuilder, E> {
        let mut resolved: Vec<(&str, SharedModel)> = Vec::new();
        let mut builder = self.base_builder();
        for (agent, model) in self.agents.iter().zip(&self.agent_models) {
            let mut agent = agent.clone();
            if let Some(config) = model
                .as_deref()
                .and_then(|name| self.models.iter().find(|m| m.name == name))
            {
                let model = match resolved.iter().find(|(name, _)| *name == config.name) {
                    Some((_, model)) => Arc::clone(model),
                    None => {
                        let model = resolve(config)?;
                        resolved.push((&config.name, Arc::clone(&model)));
                        model
                    }
                };
                agent = agent.with_model(model);
            }
            builder = builder.agent(agent);
        }
        Ok(builder)
    }

    /// Starts a swarm running the topology on its scripted turns only, whatever the
    /// environment holds: offline and deterministic, for tests and simulations. To use the
    /// live models of the `models:` section as `baton run` does, call
    /// [`Topology::start_live`].
    ///
    /// # Errors
    ///
    /// As [`SwarmBuilder::start`]; an agent without scripted turns has no model.
    pub fn start(&self) -> Result<Swarm, SwarmError> {
        self.builder().start()
    }

    /// Starts a swarm whose models are chosen as `baton run` chooses them: each model of the
    /// `models:` section is live when its key variable (`api_key_env`, default
    /// `OPENAI_API_KEY`) is set and not empty, at `OPENAI_BASE_URL` when that is set; the
    /// scripted turns answer otherwise. Returns the swarm and what was chosen
    /// ([`ModelUse`], one line each when displayed), so the application can say whether it
    /// runs live.
    ///
    /// ```no_run
    /// #[tokio::main]
    /// async fn main() -> Result<(), baton::Error> {
    ///     let topology = baton::topology::load("agents/math.yaml")?;
    ///     let (swarm, models) = topology.start_live()?;
    ///     for model in &models {
    ///         eprintln!("{model}"); // live: model `default`: responses `gpt-4.1-mini` at ...
    ///     }
    ///     let result = swarm.run(topology.entry(), "What is 12 + 30?").await?;
    ///     println!("{}", result.final_output);
    ///     swarm.shutdown().await;
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`StartError`]: a live model cannot be built (no model name, a bad base URL), a model
    /// cannot run live and no agent has scripted turns, or the swarm cannot start.
    pub fn start_live(&self) -> Result<(Swarm, Vec<ModelUse>), StartError> {
        start::start_choosing(
            self,
            |config| crate::model::choose_model(config, false),
            |_, model| model,
        )
    }

    /// As [`Topology::start_live`], with each model of the `models:` section chosen by
    /// `choose` instead of [`choose_model`](crate::model::choose_model): the scripted turns
    /// whatever the key (`|config| choose_model(config, true)`, `baton run --offline`), or a
    /// config changed first (`baton run --model`).
    ///
    /// # Errors
    ///
    /// As [`Topology::start_live`], and the first error `choose` returns.
    pub fn start_choosing(
        &self,
        choose: impl FnMut(&ModelConfig) -> Result<ModelChoice, ModelError>,
    ) -> Result<(Swarm, Vec<ModelUse>), StartError> {
        start::start_choosing(self, choose, |_, model| model)
    }

    /// As [`Topology::start_choosing`], with every model passed through `wrap` first: each
    /// entry's chosen model with the entry's name, and the scripted turns that agents naming
    /// no entry play with [`SCRIPTED_MODEL`] (`baton run --record` wraps each in a recorder).
    ///
    /// # Errors
    ///
    /// As [`Topology::start_choosing`].
    pub fn start_choosing_wrapped(
        &self,
        choose: impl FnMut(&ModelConfig) -> Result<ModelChoice, ModelError>,
        wrap: impl FnMut(&str, SharedModel) -> SharedModel,
    ) -> Result<(Swarm, Vec<ModelUse>), StartError> {
        start::start_choosing(self, choose, wrap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The errors (not warnings) checking `yaml` as `t.yaml` reports, one line each.
    fn error_lines(yaml: &str) -> Vec<String> {
        let err = check(yaml, Path::new("t.yaml"), None, &env).unwrap_err();
        err.diagnostics()
            .iter()
            .filter(|d| d.is_error())
            .map(ToString::to_string)
            .collect()
    }

    fn env(name: &str) -> Option<String> {
        (name == "LLM_URL").then(|| "http://localhost:8000/v1".to_owned())
    }

    #[test]
    fn variables_are_interpolated_in_string_values_only() {
        let yaml = "\
entry: a
models:
  - name: m
    provider: chat
    base_url: ${LLM_URL}
    model: ${LLM_MODEL:-llama3.1}
agents:
  - name: a
    model: m
    instructions: Refunds over $500 need a manager.
";
        let topology = check(yaml, Path::new("t.yaml"), None, &env).unwrap();
        let model = topology.model_of("a").unwrap();
        assert_eq!(model.base_url.as_deref(), Some("http://localhost:8000/v1"));
        assert_eq!(model.model.as_deref(), Some("llama3.1"));
        assert_eq!(
            topology.agents()[0].instructions,
            "Refunds over $500 need a manager."
        );
    }

    #[test]
    fn an_agents_own_limits_are_read_and_checked() {
        let yaml = "\
entry: a
agents:
  - name: a
    limits: { max_turns: 4, tool_timeout: 10s, max_tool_calls_in_flight: 8 }
";
        let topology = check(yaml, Path::new("t.yaml"), None, &env).unwrap();
        let limits = topology.agents()[0].limits;
        assert_eq!(limits.max_turns, Some(4));
        assert_eq!(
            limits.tool_timeout,
            Some(std::time::Duration::from_secs(10))
        );
        assert_eq!(limits.max_tool_calls_in_flight, Some(8));

        let bad = "entry: a\nagents:\n  - name: a\n    limits: { max_turns: 0, max_turn: 2 }\n";
        assert_eq!(
            error_lines(bad),
            [
                "t.yaml:4:26: `max_turns` must be at least 1",
                "t.yaml:4:29: unknown field `max_turn` in an agent's limits (did you mean `max_turns`?)",
            ]
        );
    }

    #[test]
    fn every_problem_of_a_file_is_reported_at_once_in_position_order() {
        let yaml = "\
entry: triag
tools:
  - builtin: add
  - builtin: sqroot
agents:
  - name: triage
    handoffs: [calculater, triage]
    toolz: [add]
  - name: calculator
    tools: [add, ad]
";
        assert_eq!(
            error_lines(yaml),
            [
                "t.yaml:1:8: entry agent `triag` is not defined (did you mean `triage`?)",
                "t.yaml:4:14: unknown builtin tool `sqroot` (did you mean `sqrt`?)",
                "t.yaml:7:16: unknown handoff target `calculater` in agent `triage` (did you mean `calculator`?)",
                "t.yaml:7:28: agent `triage` hands off to itself (an agent keeps the conversation by answering; remove this handoff)",
                "t.yaml:8:5: unknown field `toolz` in an agent (did you mean `tools`?)",
                "t.yaml:10:18: unknown tool `ad` in agent `calculator` (did you mean `add`?)",
            ]
        );
    }
}
