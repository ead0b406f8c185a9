//! `SwarmBuilder`: collects agents, tools, a model and limits, checks that they fit together,
//! and starts the actors.
//!
//! Every problem is reported at once ([`SwarmError::Invalid`]), before any thread starts.

use std::collections::HashSet;
use std::sync::Arc;

use actix::Recipient;

use super::system::{Inside, SystemThread};
use super::{AgentSlot, Core, Swarm};
use crate::agent::{Agent, AgentActor, AgentSpec, Limits, ShardAgent};
use crate::clock::Chance;
use crate::handoff::{self, HandoffStyle};
use crate::model::SharedModel;
use crate::tool::body::{Body, Dynamic};
use crate::tool::def::check_name;
use crate::tool::stand_in::{Simulated, StandIn};
use crate::tool::{
    BlockingFnTool, BlockingTool, DynamicTool, FnTool, SOURCE_STOP_GRACE, Tool, ToolCall, ToolDef,
    ToolDefError, ToolEntry, ToolOptions, ToolSource, ToolSourceError, actor, pool,
};

/// Why a swarm could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SwarmError {
    /// The definition has problems; all of them are listed.
    #[error("invalid swarm:{}", list(.0))]
    Invalid(Vec<Problem>),
    /// The runtime threads could not be started.
    #[error("cannot start the swarm's runtime: {0}")]
    Runtime(std::io::Error),
    /// A tool source could not start.
    #[error(transparent)]
    Source(#[from] ToolSourceError),
}

impl From<std::io::Error> for SwarmError {
    fn from(error: std::io::Error) -> Self {
        SwarmError::Runtime(error)
    }
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

/// One problem in a swarm definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// No agents at all.
    #[error("the swarm has no agents")]
    NoAgents,
    /// Two agents with one name.
    #[error("agent `{name}` is defined twice")]
    DuplicateAgent {
        /// The name.
        name: String,
    },
    /// An agent name the handoff functions cannot carry.
    #[error("agent name `{name}` is invalid: use 1 to 52 letters, digits, `_` or `-`")]
    InvalidAgentName {
        /// The name.
        name: String,
    },
    /// Two tools with one name.
    #[error(
        "tool `{name}` is registered twice (for a tool source's tools, give the source a prefix)"
    )]
    DuplicateTool {
        /// The name.
        name: String,
    },
    /// A tool could not be registered.
    #[error(transparent)]
    InvalidTool(#[from] ToolDefError),
    /// A tool name the handoff functions use.
    #[error("tool name `{name}` is reserved for handoffs")]
    ReservedToolName {
        /// The name.
        name: String,
    },
    /// An agent lists a tool that is not registered.
    #[error("agent `{agent}` uses unknown tool `{tool}`")]
    UnknownTool {
        /// The agent.
        agent: String,
        /// The tool.
        tool: String,
    },
    /// An agent lists a handoff target that is not an agent.
    #[error("agent `{agent}` hands off to unknown agent `{target}`")]
    UnknownHandoffTarget {
        /// The agent.
        agent: String,
        /// The target.
        target: String,
    },
    /// An agent lists itself as a handoff target.
    #[error("agent `{agent}` hands off to itself")]
    HandoffToSelf {
        /// The agent.
        agent: String,
    },
    /// An agent has no model and the swarm has no default model.
    #[error("agent `{agent}` has no model, and the swarm has no default model")]
    NoModel {
        /// The agent.
        agent: String,
    },
    /// Part of a swarm in virtual time that would run in real time.
    #[error("virtual time: {what} {why}")]
    NotVirtual {
        /// What it is (``blocking tool `crunch` ``).
        what: String,
        /// Why it cannot be virtual.
        why: String,
    },
}

/// Starts a tool's workers inside the swarm's `System` (with a simulation's stand-in in
/// front of its body, if it has one) and returns the mailbox each shard sends to, in shard
/// order.
type StartWorker =
    Box<dyn FnOnce(&Inside, Option<Arc<dyn StandIn>>) -> Vec<Recipient<ToolCall>> + Send>;

/// A tool waiting for the swarm to start: its definition and how to start its worker.
struct PendingTool {
    def: Arc<ToolDef>,
    start: StartWorker,
}

/// Builds a [`Swarm`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use baton::{Agent, Swarm, model::{ScriptedModel, ScriptedTurn}, tool::builtin::Add};
///
/// let model = ScriptedModel::new().with_agent("calc", [ScriptedTurn::text("hi")]);
/// let swarm = Swarm::builder()
///     .tool(Add)
///     .agent(Agent::new("calc").with_tools(["add"]))
///     .model(Arc::new(model))
///     .start()?;
/// # Ok::<(), baton::swarm::SwarmError>(())
/// ```
#[must_use]
#[derive(Default)]
pub struct SwarmBuilder {
    agents: Vec<Agent>,
    tools: Vec<PendingTool>,
    problems: Vec<Problem>,
    model: Option<SharedModel>,
    limits: Limits,
    handoff_style: HandoffStyle,
    worker_threads: Option<usize>,
    /// The cap on tool calls in flight across all runs.
    tool_calls_in_flight: Option<usize>,
    /// Sources of tools, started with the swarm.
    sources: Vec<Arc<dyn ToolSource>>,
    /// Run with the new swarm once it has started (agents used as tools keep a handle).
    on_start: Vec<OnStart>,
    /// Whether the shard runs on a paused clock ([`virtual_time`](Self::virtual_time)).
    virtual_time: bool,
    /// The seed of the swarm's randomness (`None`: a random one).
    seed: Option<u64>,
    /// The blocking tools' names (they run in real time).
    blocking: Vec<String>,
    /// A simulation's stand-ins for tool bodies, by tool name.
    stand_ins: Vec<(String, Arc<dyn StandIn>)>,
}

/// Something to do with a swarm as soon as it has started.
type OnStart = Box<dyn FnOnce(&Swarm) + Send>;

impl std::fmt::Debug for SwarmBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwarmBuilder")
            .field(
                "agents",
                &self.agents.iter().map(Agent::name).collect::<Vec<_>>(),
            )
            .field(
                "tools",
                &self.tools.iter().map(|t| t.def.name()).collect::<Vec<_>>(),
            )
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl SwarmBuilder {
    /// Adds an agent.
    pub fn agent(mut self, agent: Agent) -> Self {
        self.agents.push(agent);
        self
    }

    /// Sets the model of agents that do not name their own.
    pub fn model(mut self, model: SharedModel) -> Self {
        self.model = Some(model);
        self
    }

    /// Sets the default limits of every run.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets how handoffs are offered by agents that do not choose (default: `handoff`).
    pub fn handoff_style(mut self, style: HandoffStyle) -> Self {
        self.handoff_style = style;
        self
    }

    /// Sets the number of worker threads (shards; default: one per core). Each hosts an
    /// instance of every agent and async tool actor, and a run stays on one thread from start
    /// to end. With one thread, each agent is exactly one actor.
    pub fn worker_threads(mut self, threads: usize) -> Self {
        self.worker_threads = Some(threads);
        self
    }

    /// Caps the tool calls in flight at once across all runs of the swarm (default: no cap
    /// beyond each tool's `max_concurrency` and each run's `max_tool_calls_in_flight`). Calls
    /// past it wait, and are served in the order they began to wait.
    pub fn swarm_tool_calls_in_flight(mut self, calls: usize) -> Self {
        self.tool_calls_in_flight = Some(calls);
        self
    }

    /// Seeds the swarm's randomness (trace ids, retry jitter; default: a random seed). The
    /// same seed gives the same trace ids in the same order for the same sequence of runs,
    /// and the same retry waits for the same retries.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Runs the swarm in virtual time: each shard's tokio clock starts paused, so time
    /// stands still while the shard has work and jumps to the next timer when it has none.
    /// Tool deadlines, tool and model retry backoffs, `sleep_ms` and `tokio::time` waits in
    /// tools and models, and the timeline's offsets then take no real time: a run whose tool
    /// sleeps 30 s ends at once, and its timeline says 30 s. With [`seed`](Self::seed), such a
    /// swarm is a deterministic simulation of the real runtime (the same actors and turn loop).
    ///
    /// Virtual time is one clock per tokio runtime, so each shard has a clock of its own
    /// (one shard unless [`worker_threads`](Self::worker_threads) says more). A run stays on
    /// its shard with its tool calls, its handoffs and the runs nested in it, so its timeline
    /// is coherent; what runs on different shards shares no clock, so a cap that several
    /// shards' runs wait on (a model's in-flight cap, the swarm's tool-call cap) gives exact
    /// queueing only with one shard. What runs on other threads runs in real time, and
    /// the shard's clock does not wait for it: [`start`](Self::start) refuses blocking tools
    /// (their calls would time out at once); HTTP models (their own runtime), tool sources and
    /// tools that wait on real I/O (a process, a server) work, but their calls take no
    /// virtual time and are cut short if a deadline on the shard falls first, so give them
    /// only to runs that have no other timer running (or replace them, as a simulation does).
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use baton::{Agent, Swarm, model::{ScriptedCall, ScriptedModel, ScriptedTurn}, tool::builtin::Sleep};
    /// use serde_json::json;
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let model = ScriptedModel::new().with_agent("waiter", [
    ///     ScriptedTurn::calls([ScriptedCall::tool("sleep_ms", json!({"ms": 30_000}))]),
    ///     ScriptedTurn::text("rested"),
    /// ]);
    /// let swarm = Swarm::builder()
    ///     .virtual_time()
    ///     .seed(7)
    ///     .tool(Sleep)
    ///     .agent(Agent::new("waiter").with_tools(["sleep_ms"]))
    ///     .model(Arc::new(model))
    ///     .start()?;
    /// let result = swarm.run("waiter", "rest").await?; // at once
    /// let last = result.timeline.last().expect("a model turn");
    /// assert!(last.end >= Duration::from_secs(30)); // in virtual time
    /// swarm.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn virtual_time(mut self) -> Self {
        self.virtual_time = true;
        self
    }

    /// Puts `stand_in` in front of the body of the tool named `tool` (a simulation's
    /// latencies, failures and outputs); its worker stays as it is.
    pub(crate) fn stand_in(mut self, tool: &str, stand_in: Arc<dyn StandIn>) -> Self {
        self.stand_ins.push((tool.to_owned(), stand_in));
        self
    }

    /// Calls `hook` with the swarm once [`start`](Self::start) has started it.
    pub(crate) fn on_start(mut self, hook: impl FnOnce(&Swarm) + Send + 'static) -> Self {
        self.on_start.push(Box::new(hook));
        self
    }

    /// Adds an async tool with default options.
    pub fn tool<T: Tool + Clone>(self, tool: T) -> Self {
        self.tool_with(tool, ToolOptions::default())
    }

    /// Adds an async tool. After a panic its worker continues with a fresh clone of `tool`.
    pub fn tool_with<T: Tool + Clone>(self, tool: T, options: ToolOptions) -> Self {
        let def = ToolDef::new::<T::Args>(tool.name(), tool.description(), options);
        self.pending(def, move |def, inside, stand_in| {
            start_async(Arc::new(move || tool.clone()), def, inside, stand_in)
        })
    }

    /// Adds an async tool made of a closure over its argument struct, with default options.
    ///
    /// ```
    /// use baton::Swarm;
    /// use schemars::JsonSchema;
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize, JsonSchema)]
    /// struct City {
    ///     /// City name.
    ///     city: String,
    /// }
    ///
    /// let builder = Swarm::builder().tool_fn("weather", "Current weather for a city.", |a: City| async move {
    ///     Ok::<_, std::convert::Infallible>(format!("sunny in {}", a.city))
    /// });
    /// # let _ = builder;
    /// ```
    pub fn tool_fn<A, F>(self, name: &str, description: &str, function: F) -> Self
    where
        FnTool<A, F>: Tool,
    {
        self.tool_with(
            FnTool::new(name, description, function),
            ToolOptions::default(),
        )
    }

    /// As [`tool_fn`](Self::tool_fn), with options.
    pub fn tool_fn_with<A, F>(
        self,
        name: &str,
        description: &str,
        options: ToolOptions,
        function: F,
    ) -> Self
    where
        FnTool<A, F>: Tool,
    {
        self.tool_with(FnTool::new(name, description, function), options)
    }

    /// Adds a CPU-bound or blocking tool made of a closure over its argument struct, run on a
    /// thread pool of its own (`options.max_concurrency` threads, default one per core).
    pub fn blocking_fn<A, F>(
        self,
        name: &str,
        description: &str,
        options: ToolOptions,
        function: F,
    ) -> Self
    where
        BlockingFnTool<A, F>: BlockingTool,
        F: Send + Sync + 'static,
    {
        let tool = BlockingFnTool::new(name, description, function);
        self.blocking_tool(move || tool.clone(), options)
    }

    /// Adds a tool whose argument schema is data ([`DynamicTool`]): declared in a file,
    /// listed by a server. It runs on the same worker actors as a typed async [`Tool`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use baton::{Swarm, tool::{DynamicTool, ToolOptions}};
    /// # fn register(tool: Arc<dyn DynamicTool>) -> baton::swarm::SwarmBuilder {
    /// Swarm::builder().dynamic_tool(tool, ToolOptions::default())
    /// # }
    /// ```
    pub fn dynamic_tool(self, tool: Arc<dyn DynamicTool>, options: ToolOptions) -> Self {
        let def = ToolDef::from_schema(tool.name(), tool.description(), tool.parameters(), options);
        self.pending(def, move |def, inside, stand_in| {
            let body = Dynamic(tool);
            start_async(Arc::new(move || body.clone()), def, inside, stand_in)
        })
    }

    /// Adds a CPU-bound tool on its own thread pool: `options.max_concurrency` threads
    /// (default: one per core), each with an instance from `factory`.
    pub fn blocking_tool<T, F>(mut self, factory: F, options: ToolOptions) -> Self
    where
        T: BlockingTool,
        F: Fn() -> T + Send + Sync + 'static,
    {
        let sample = factory();
        self.blocking.push(sample.name().to_owned());
        let def = ToolDef::new::<T::Args>(sample.name(), sample.description(), options);
        let threads = def.as_ref().ok().and_then(|d| d.options().max_concurrency);
        let threads = threads.unwrap_or_else(default_threads);
        // A simulation runs in virtual time, which refuses blocking tools: no stand-in here.
        self.pending(def, move |def, inside, _| {
            // One pool, shared by every shard.
            let pool = pool::start(Arc::new(factory), def, threads);
            vec![pool; inside.shards.len()]
        })
    }

    fn pending(
        mut self,
        def: Result<ToolDef, ToolDefError>,
        start: impl FnOnce(Arc<ToolDef>, &Inside, Option<Arc<dyn StandIn>>) -> Vec<Recipient<ToolCall>>
        + Send
        + 'static,
    ) -> Self {
        match def {
            Ok(def) => {
                let def = Arc::new(def);
                let for_start = Arc::clone(&def);
                self.tools.push(PendingTool {
                    def,
                    start: Box::new(move |inside, stand_in| start(for_start, inside, stand_in)),
                });
            }
            Err(e) => self.problems.push(e.into()),
        }
        self
    }

    /// Adds a source of tools that must be started first (a server to spawn, a connection to
    /// open): the swarm starts it on its `System` thread before any agent, registers the
    /// tools it lists, and stops it at shutdown. An agent that names the source (its
    /// [`name`](ToolSource::name)) gets every tool it lists.
    pub fn tool_source(mut self, source: Arc<dyn ToolSource>) -> Self {
        self.sources.push(source);
        self
    }

    /// Checks the definition and starts the swarm's actors on a `System` thread of its own:
    /// first its tool sources, then the tool workers, then the agents.
    ///
    /// Blocks briefly while the threads (and tool sources) start; safe to call from inside an
    /// async runtime.
    ///
    /// # Errors
    ///
    /// [`SwarmError::Invalid`] lists every problem found (before any thread starts, unless
    /// the swarm has tool sources, whose tools are known only once they started);
    /// [`SwarmError::Source`] if a tool source could not start (those started are stopped
    /// again); [`SwarmError::Runtime`] if threads could not be started.
    pub fn start(self) -> Result<Swarm, SwarmError> {
        if self.sources.is_empty() {
            self.check()?;
        }
        let threads = if self.virtual_time {
            self.check_virtual()?;
            self.worker_threads.unwrap_or(1)
        } else {
            self.worker_threads.unwrap_or_else(default_threads)
        };
        let (virtual_time, chance) = (self.virtual_time, Chance::new(self.seed));
        let (system, built) = SystemThread::start(threads, virtual_time, chance, move |inside| {
            self.build(inside)
        })?;
        match built {
            Ok((core, on_start)) => {
                let swarm = Swarm::new(core, system);
                for hook in on_start {
                    hook(&swarm);
                }
                Ok(swarm)
            }
            Err(error) => {
                system.stop();
                Err(error)
            }
        }
    }

    /// Inside the `System`: starts the tool sources, checks the whole, then starts the tool
    /// workers and the agents on every shard. Returns the core and the start hooks.
    async fn build(mut self, inside: Inside) -> Result<(Arc<Core>, Vec<OnStart>), SwarmError> {
        let mut started: Vec<Arc<dyn ToolSource>> = Vec::new();
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        // All at once: servers that take seconds to start do not add up.
        let sources = std::mem::take(&mut self.sources);
        let outcomes = futures::future::join_all(sources.iter().map(|s| s.start())).await;
        let mut failed = None;
        for (source, outcome) in sources.into_iter().zip(outcomes) {
            match outcome {
                Ok(tools) => {
                    let names = tools.iter().map(|t| t.tool.name().to_owned()).collect();
                    groups.push((source.name().to_owned(), names));
                    for listed in tools {
                        self = self.dynamic_tool(listed.tool, listed.options);
                    }
                    started.push(source);
                }
                Err(error) => {
                    failed.get_or_insert(error);
                }
            }
        }
        if let Some(error) = failed {
            stop_sources(&started).await;
            return Err(SwarmError::Source(error));
        }
        self.name_sources(&groups);
        let specs = match self.check() {
            Ok(specs) => specs,
            Err(error) => {
                stop_sources(&started).await;
                return Err(error);
            }
        };
        let SwarmBuilder {
            tools,
            limits,
            tool_calls_in_flight,
            on_start,
            stand_ins,
            ..
        } = self;
        let mut core = Core::new(
            inside.shards.len(),
            limits,
            inside.system.clone(),
            tool_calls_in_flight,
        );
        core.sources = started;
        core.arbiters.clone_from(&inside.shards);
        let core = Arc::new(core);
        core.mark_shards();
        for tool in tools {
            let stand_in = stand_ins
                .iter()
                .find(|(name, _)| name == tool.def.name())
                .map(|(_, s)| Arc::clone(s));
            let workers = (tool.start)(&inside, stand_in);
            for (shard, worker) in core.shards.iter().zip(workers) {
                shard.tools.insert(ToolEntry {
                    def: Arc::clone(&tool.def),
                    worker,
                });
            }
        }
        let specs: Vec<Arc<AgentSpec>> = specs.into_iter().map(Arc::new).collect();
        for (index, (shard, arbiter)) in core.shards.iter().zip(&inside.shards).enumerate() {
            for spec in &specs {
                let tools = spec
                    .tools
                    .iter()
                    .filter_map(|name| shard.tools.get(name))
                    .collect();
                let actor = AgentActor {
                    agent: Arc::new(ShardAgent {
                        spec: Arc::clone(spec),
                        tools,
                    }),
                    core: Arc::clone(&core),
                    shard: index,
                };
                let addr = crate::mailbox::start_unbounded(arbiter, move || actor);
                shard.agents.insert(
                    spec.name.to_string(),
                    Arc::new(AgentSlot {
                        spec: Arc::clone(spec),
                        addr,
                    }),
                );
            }
        }
        Ok((core, on_start))
    }

    /// Gives every agent that names a tool source (and no tool of that name) every tool the
    /// source listed, where it named the source.
    fn name_sources(&mut self, groups: &[(String, Vec<String>)]) {
        let tools: HashSet<&str> = self.tools.iter().map(|t| t.def.name()).collect();
        for agent in &mut self.agents {
            let named = |name: &String| {
                groups
                    .iter()
                    .find(|(g, _)| g == name && !tools.contains(g.as_str()))
            };
            if !agent.tools.iter().any(|name| named(name).is_some()) {
                continue;
            }
            let mut expanded: Vec<String> = Vec::new();
            for name in &agent.tools {
                let names = match named(name) {
                    Some((_, names)) => names.as_slice(),
                    None => std::slice::from_ref(name),
                };
                for name in names {
                    if !expanded.contains(name) {
                        expanded.push(name.clone());
                    }
                }
            }
            agent.tools = expanded;
        }
    }

    /// In virtual time: refuses what would run in real time, warns of what may.
    fn check_virtual(&self) -> Result<(), SwarmError> {
        let mut problems = Vec::new();
        for name in &self.blocking {
            problems.push(Problem::NotVirtual {
                what: format!("blocking tool `{name}`"),
                why: "runs on threads of its own, in real time, and would time out at once; \
                      make it an async tool"
                    .to_owned(),
            });
        }
        for source in &self.sources {
            tracing::warn!(
                source = source.name(),
                "a tool source in a swarm in virtual time: if its tools wait on real I/O, their \
                 calls take no virtual time and are cut short by any deadline on the shard"
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SwarmError::Invalid(problems))
        }
    }

    /// Checks names and references; returns the agents resolved, or every problem.
    fn check(&self) -> Result<Vec<AgentSpec>, SwarmError> {
        let mut problems = self.problems.clone();
        if self.agents.is_empty() {
            problems.push(Problem::NoAgents);
        }
        let mut tool_names = HashSet::new();
        for tool in &self.tools {
            let name = tool.def.name();
            if !tool_names.insert(name) {
                problems.push(Problem::DuplicateTool {
                    name: name.to_owned(),
                });
            }
            if name == handoff::HANDOFF_FUNCTION || name.starts_with(handoff::TRANSFER_PREFIX) {
                problems.push(Problem::ReservedToolName {
                    name: name.to_owned(),
                });
            }
        }
        let mut agent_names = HashSet::new();
        for agent in &self.agents {
            if !agent_names.insert(agent.name.as_str()) {
                problems.push(Problem::DuplicateAgent {
                    name: agent.name.clone(),
                });
            }
            // `transfer_to_<name>` must itself be a valid function name.
            if agent.name.len() > 64 - handoff::TRANSFER_PREFIX.len()
                || check_name(&agent.name).is_err()
            {
                problems.push(Problem::InvalidAgentName {
                    name: agent.name.clone(),
                });
            }
        }
        let mut specs = Vec::with_capacity(self.agents.len());
        for agent in &self.agents {
            for tool in &agent.tools {
                if !tool_names.contains(tool.as_str()) {
                    problems.push(Problem::UnknownTool {
                        agent: agent.name.clone(),
                        tool: tool.clone(),
                    });
                }
            }
            for target in &agent.handoffs {
                if *target == agent.name {
                    problems.push(Problem::HandoffToSelf {
                        agent: agent.name.clone(),
                    });
                } else if !agent_names.contains(target.as_str()) {
                    problems.push(Problem::UnknownHandoffTarget {
                        agent: agent.name.clone(),
                        target: target.clone(),
                    });
                }
            }
            let Some(model) = agent.model.clone().or_else(|| self.model.clone()) else {
                problems.push(Problem::NoModel {
                    agent: agent.name.clone(),
                });
                continue;
            };
            specs.push(self.resolve(agent, model));
        }
        if problems.is_empty() {
            Ok(specs)
        } else {
            Err(SwarmError::Invalid(problems))
        }
    }

    /// Builds an agent's spec: its tools' schemas, then its handoff functions.
    fn resolve(&self, agent: &Agent, model: SharedModel) -> AgentSpec {
        let style = agent.handoff_style.unwrap_or(self.handoff_style);
        let mut functions: Vec<_> = agent
            .tools
            .iter()
            .filter_map(|name| self.tools.iter().find(|t| t.def.name() == name))
            .map(|t| t.def.function().clone())
            .collect();
        let targets: Vec<handoff::Target<'_>> = agent
            .handoffs
            .iter()
            .map(|name| handoff::Target {
                name,
                description: self
                    .agents
                    .iter()
                    .find(|a| a.name == *name)
                    .map_or("", |a| a.description.as_str()),
            })
            .collect();
        functions.extend(handoff::functions(style, &targets));
        AgentSpec {
            name: Arc::from(agent.name.as_str()),
            instructions: agent.instructions.clone(),
            tools: agent.tools.clone(),
            handoffs: agent.handoffs.clone(),
            handoff_style: style,
            functions,
            model,
            settings: agent.model_settings.clone(),
            limits: agent.limits,
        }
    }
}

/// Starts an async tool's workers, with `stand_in` in front of each instance's body if given.
fn start_async<B: Body>(
    factory: actor::Factory<B>,
    def: Arc<ToolDef>,
    inside: &Inside,
    stand_in: Option<Arc<dyn StandIn>>,
) -> Vec<Recipient<ToolCall>> {
    match stand_in {
        None => actor::start(factory, def, &inside.shards),
        Some(stand_in) => {
            let factory: actor::Factory<Simulated<B>> = Arc::new(move || Simulated {
                body: factory(),
                stand_in: Arc::clone(&stand_in),
            });
            actor::start(factory, def, &inside.shards)
        }
    }
}

/// Stops `sources`, each within [`SOURCE_STOP_GRACE`].
pub(crate) async fn stop_sources(sources: &[Arc<dyn ToolSource>]) {
    for source in sources {
        if tokio::time::timeout(SOURCE_STOP_GRACE, source.stop())
            .await
            .is_err()
        {
            tracing::warn!(source = source.name(), "tool source did not stop in time");
        }
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}
