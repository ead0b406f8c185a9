//! YAML topologies: a swarm described in a file (`agents/*.yaml`).
//!
//! [`load`] reads a file, parses it (`raw`, serde-saphyr with its budgets against hostile
//! input), and checks it (`validate`): every problem is reported with file, line and column. A
//! [`Topology`] that exists is valid; [`Topology::start`] turns it into a running [`Swarm`]
//! whose agents use the file's scripted turns.
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

mod raw;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::agent::{Agent, Limits};
use crate::handoff::HandoffStyle;
use crate::model::{ModelConfig, ScriptedModel, SharedModel};
use crate::swarm::{Swarm, SwarmBuilder, SwarmError};
use crate::tool::ToolOptions;
use crate::tool::builtin::Register;

/// Topology files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A problem at a place in a topology file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is a likely fix (`did you mean ...`).
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// Why a topology could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    /// The file could not be read.
    #[error("{}: cannot read the topology: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{}: the file is {size} bytes; topologies are limited to {MAX_FILE_BYTES} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// The file is not valid YAML, or does not have the topology's shape.
    #[error("{}", .0)]
    Syntax(Diagnostic),
    /// The file parses but has problems (all of them are listed).
    #[error("{}", list(.0))]
    Invalid(Vec<Diagnostic>),
}

impl TopologyError {
    /// Returns every located problem (empty for read errors).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            TopologyError::Syntax(d) => std::slice::from_ref(d),
            TopologyError::Invalid(ds) => ds,
            TopologyError::Read { .. } | TopologyError::TooLarge { .. } => &[],
        }
    }
}

fn list(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A built-in tool a topology uses, with its options.
#[derive(Clone)]
struct ToolConfig {
    name: String,
    register: Register,
    options: ToolOptions,
}

impl fmt::Debug for ToolConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolConfig")
            .field("name", &self.name)
            .field("options", &self.options)
            .finish()
    }
}

/// A valid topology, ready to start.
#[derive(Debug, Clone)]
pub struct Topology {
    path: PathBuf,
    name: String,
    description: String,
    entry: String,
    limits: Limits,
    handoff_style: HandoffStyle,
    tools: Vec<ToolConfig>,
    agents: Vec<Agent>,
    /// The `models:` section.
    models: Vec<ModelConfig>,
    /// Per agent (same order as `agents`), the name of its model, if it has one.
    agent_models: Vec<Option<String>>,
    scripted: Option<Arc<ScriptedModel>>,
}

/// Reads and checks a topology file.
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
    let path = path.as_ref();
    let read = |error| TopologyError::Read {
        path: path.to_owned(),
        error,
    };
    let size = std::fs::metadata(path).map_err(read)?.len();
    if size > MAX_FILE_BYTES {
        return Err(TopologyError::TooLarge {
            path: path.to_owned(),
            size,
        });
    }
    let text = std::fs::read_to_string(path).map_err(read)?;
    parse(&text, path)
}

/// Checks a topology given as text; `path` names it in messages and gives its default name.
///
/// # Errors
///
/// As [`load`].
pub fn parse(text: &str, path: &Path) -> Result<Topology, TopologyError> {
    let raw: raw::RawTopology = serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let message = e.without_snippet().to_string();
        let suffix = format!(" at line {line}, column {column}");
        let message = message.strip_suffix(&suffix).unwrap_or(&message).to_owned();
        TopologyError::Syntax(Diagnostic {
            file: path.to_owned(),
            line: line as u32,
            column: column as u32,
            message,
            hint: None,
        })
    })?;
    validate::validate(raw, path)
}

impl Topology {
    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its name (the `name` field, or the file's stem).
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
        for tool in &self.tools {
            builder = (tool.register)(builder, tool.options.clone());
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

    /// Starts a swarm running the topology on its scripted model.
    ///
    /// # Errors
    ///
    /// As [`SwarmBuilder::start`]; an agent without scripted turns has no model.
    pub fn start(&self) -> Result<Swarm, SwarmError> {
        self.builder().start()
    }
}
