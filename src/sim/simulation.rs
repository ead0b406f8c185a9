//! `Simulation`: a topology, a [`SimSpec`], and how many conversations to run with which seed
//! and concurrency. It starts a swarm in virtual time whose models are [`SimModel`]s and
//! whose tools have stand-ins, drives the conversations, and tallies the [`Report`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::behaviour::Behaviour;
use super::chance::Chance;
use super::counts::Counts;
use super::driver::{self, Plan};
use super::expect;
use super::model::SimModel;
use super::outcome::Outcome;
use super::persona::Users;
use super::report::{Report, Tally};
use super::spec::{Condition, NO_MODEL, SimCall, SimSpec, SimTurn, Step};
use super::tool::SimTool;
use crate::model::build::wrap_with;
use crate::model::{
    Model, ModelError, ModelLimits, ModelRequest, ModelResponse, ScriptedCall, ScriptedTurn,
    SharedModel,
};
use crate::swarm::{Swarm, SwarmError, current_shard_index};
use crate::topology::Topology;

/// Conversations a simulation runs unless told otherwise.
pub const DEFAULT_CONVERSATIONS: u32 = 1_000;
/// Conversations in flight at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: u32 = 100;

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// An agent's behaviour cannot be prepared (a `{{match:...}}` regex that does not compile).
    #[error("simulated agent `{agent}`: {message}")]
    Behaviour {
        /// The agent.
        agent: String,
        /// What is wrong.
        message: String,
    },
    /// The simulation's swarm could not start.
    #[error("cannot start the simulation: {0}")]
    Swarm(#[from] SwarmError),
    /// A tool whose real body cannot run in virtual time has nothing to stand in for it.
    #[error("tool `{tool}` cannot be simulated: {why}")]
    NotSimulated {
        /// The tool.
        tool: String,
        /// Why, and what to do.
        why: String,
    },
    /// The swarm stopped before every conversation reported.
    #[error("the simulation's swarm stopped after {done} of {expected} conversations")]
    Stopped {
        /// Conversations that reported.
        done: u32,
        /// Conversations started.
        expected: u32,
    },
}

/// A simulation of a topology's handoff flows.
///
/// ```
/// use baton::sim::Simulation;
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let topology = baton::topology::load("agents/customer_support.yaml")?;
/// let report = Simulation::from_topology(&topology).conversations(200).seed(7).run().await?;
/// assert_eq!(report.conversations, 200);
/// assert!(report.paths[0].count > 0); // the most common handoff path first
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Simulation {
    topology: Topology,
    spec: SimSpec,
    conversations: u32,
    seed: u64,
    concurrency: u32,
    worker_threads: usize,
    persona_models: HashMap<String, SharedModel>,
}

impl Simulation {
    /// A simulation of `topology` declared by `spec` (built in code).
    pub fn new(topology: &Topology, spec: SimSpec) -> Self {
        Simulation {
            topology: topology.clone(),
            conversations: spec.conversations.unwrap_or(DEFAULT_CONVERSATIONS),
            seed: spec.seed.unwrap_or(0),
            concurrency: spec.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
            spec,
            worker_threads: 1,
            persona_models: HashMap::new(),
        }
    }

    /// The simulation a topology's `simulation:` section declares (agents without a
    /// behaviour there play their `scripted:` turns; no section: every agent does).
    pub fn from_topology(topology: &Topology) -> Self {
        Self::new(topology, topology.simulation().cloned().unwrap_or_default())
    }

    /// Sets how many conversations to run.
    #[must_use]
    pub fn conversations(mut self, n: u32) -> Self {
        self.conversations = n;
        self
    }

    /// Sets the seed: the same seed gives the same report.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets how many conversations are in flight at once (the simulated concurrent users).
    #[must_use]
    pub fn concurrency(mut self, n: u32) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sets the worker threads (shards; default 1). Conversation `k` runs on shard
    /// `k % threads` with that shard's clock; each model entry's in-flight cap is split
    /// evenly between the shards, so queueing is exact on one thread and an even split on
    /// more. Whatever the number, a conversation's path, turns and tool calls are the same.
    #[must_use]
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n.max(1);
        self
    }

    /// Gives the model that plays the personas naming model entry `entry` (a live model, so
    /// that an LLM plays the user).
    #[must_use]
    pub fn persona_model(mut self, entry: &str, model: SharedModel) -> Self {
        self.persona_models.insert(entry.to_owned(), model);
        self
    }

    /// The declared simulation.
    pub fn spec(&self) -> &SimSpec {
        &self.spec
    }

    /// The configured number of conversations.
    pub fn conversation_count(&self) -> u32 {
        self.conversations
    }

    /// Runs every conversation and returns the report, its expectations checked.
    ///
    /// # Errors
    ///
    /// [`SimError`] if the simulation cannot start.
    pub async fn run(&self) -> Result<Report, SimError> {
        self.run_with_progress(|_, _| {})
            .await
            .map(|(report, _)| report)
    }

    /// As [`run`](Self::run), calling `progress(done, total)` as conversations end, and
    /// returning also the virtual time the whole run took (the last conversation's end; it
    /// depends on the concurrency, so it is not in the report).
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    pub async fn run_with_progress(
        &self,
        mut progress: impl FnMut(u32, u32),
    ) -> Result<(Report, Duration), SimError> {
        let (swarm, counts, plan) = self.start(false)?;
        let total = self.conversations;
        let mut outcomes = driver::start(plan, (0..total).collect(), self.concurrency);
        let mut tally = Tally::default();
        let mut simulated = Duration::ZERO;
        while let Some(batch) = outcomes.recv().await {
            for outcome in &batch {
                simulated = simulated.max(outcome.ended_at);
                tally.add(outcome);
            }
            progress(tally.len(), total);
        }
        swarm.shutdown().await;
        if tally.len() < total {
            return Err(SimError::Stopped {
                done: tally.len(),
                expected: total,
            });
        }
        let mut report = tally.report(self.topology.name(), self.seed, &counts);
        report.expectations = self
            .spec
            .expectations
            .iter()
            .map(|e| expect::check(e, &report))
            .collect();
        Ok((report, simulated))
    }

    /// Reruns conversation `index` alone, with its transcript and timeline: it takes the
    /// path it took among all the others (with the same seed, and unless a model's
    /// in-flight cap made it queue).
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    pub async fn conversation(&self, index: u32) -> Result<Outcome, SimError> {
        let mut outcomes = self.outcomes_of(vec![index]).await?;
        outcomes.pop().ok_or(SimError::Stopped {
            done: 0,
            expected: 1,
        })
    }

    /// Runs every conversation and returns each outcome with its transcript and timeline,
    /// in index order (for tests: it keeps every transcript in memory).
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    pub async fn outcomes(&self) -> Result<Vec<Outcome>, SimError> {
        self.outcomes_of((0..self.conversations).collect()).await
    }

    async fn outcomes_of(&self, indices: Vec<u32>) -> Result<Vec<Outcome>, SimError> {
        let expected = u32::try_from(indices.len()).unwrap_or(u32::MAX);
        let (swarm, _, plan) = self.start(true)?;
        let mut rx = driver::start(plan, indices, self.concurrency);
        let mut outcomes = Vec::new();
        while let Some(batch) = rx.recv().await {
            outcomes.extend(batch);
        }
        swarm.shutdown().await;
        if outcomes.len() < expected as usize {
            return Err(SimError::Stopped {
                done: u32::try_from(outcomes.len()).unwrap_or(u32::MAX),
                expected,
            });
        }
        outcomes.sort_by_key(|o| o.index);
        Ok(outcomes)
    }

    /// Starts the simulation's swarm: virtual time, seeded, its models simulated, its tools
    /// stood in for.
    fn start(&self, keep: bool) -> Result<(Swarm, Arc<Counts>, Plan), SimError> {
        self.check_tools()?;
        let chance = Chance::new(self.seed);
        let counts = Arc::new(Counts::default());
        let behaviours = Arc::new(self.behaviours()?);
        let threads = self.worker_threads;
        let make = |entry: &str, limits: ModelLimits| -> SharedModel {
            let sim = self.spec.models.get(entry).cloned().unwrap_or_default();
            let label = if entry.is_empty() {
                "the simulated model".to_owned()
            } else {
                format!("simulated model `{entry}`")
            };
            let mut limits = limits;
            let cap = limits
                .max_in_flight
                .unwrap_or(crate::model::DEFAULT_MAX_IN_FLIGHT);
            limits.max_in_flight = Some(cap.div_ceil(threads).max(1));
            let mut shards: Vec<SharedModel> = (0..threads)
                .map(|_| {
                    let model = SimModel::new(
                        entry,
                        sim.clone(),
                        Arc::clone(&behaviours),
                        chance,
                        Arc::clone(&counts),
                    );
                    wrap_with(model, limits, label.clone())
                })
                .collect();
            if threads == 1 {
                shards.remove(0)
            } else {
                Arc::new(PerShard(shards))
            }
        };
        let mut builder = self
            .topology
            .builder_with(|config| {
                Ok::<_, std::convert::Infallible>(make(&config.name, config.limits))
            })
            .unwrap_or_else(|never| match never {});
        builder = builder
            .model(make(NO_MODEL, ModelLimits::default()))
            .virtual_time()
            .worker_threads(threads)
            .seed(self.seed);
        for (tool, sim) in &self.spec.tools {
            let stand_in = SimTool::new(tool, sim.clone(), chance, Arc::clone(&counts));
            builder = builder.stand_in(tool, Arc::new(stand_in));
        }
        let swarm = builder.start()?;
        let plan = Plan {
            swarm: swarm.clone(),
            entry: self.topology.entry().to_owned(),
            users: Users::new(self.spec.personas.clone(), self.persona_models.clone()),
            chance,
            keep,
        };
        Ok((swarm, counts, plan))
    }

    /// Refuses tools that would do real I/O in virtual time (their calls would be cut short by
    /// the first deadline on the shard): MCP servers, and HTTP or command tools without a
    /// declared `output`.
    fn check_tools(&self) -> Result<(), SimError> {
        for (tool, is_source) in self.topology.tools_outside_simulation() {
            let declared = self
                .spec
                .tools
                .get(tool)
                .is_some_and(|t| t.output.is_some());
            if is_source {
                return Err(SimError::NotSimulated {
                    tool: tool.to_owned(),
                    why: "it is an MCP server, and MCP tools cannot be simulated yet".to_owned(),
                });
            }
            if !declared {
                return Err(SimError::NotSimulated {
                    tool: tool.to_owned(),
                    why: format!(
                        "its real body would wait on real I/O in virtual time; give it \
                         `simulation.tools.{tool}.output`"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Every agent's prepared behaviour: declared steps, else its scripted turns.
    fn behaviours(&self) -> Result<HashMap<String, Behaviour>, SimError> {
        let mut agents: BTreeMap<String, Vec<Step>> = self.spec.agents.clone();
        if let Some(scripted) = self.topology.scripted_model() {
            for agent in self.topology.agents() {
                if !agents.contains_key(agent.name())
                    && let Some(turns) = scripted.turns(agent.name())
                {
                    agents.insert(agent.name().to_owned(), steps_of(turns));
                }
            }
        }
        agents
            .into_iter()
            .map(|(agent, steps)| match Behaviour::new(&steps) {
                Ok(behaviour) => Ok((agent, behaviour)),
                Err(message) => Err(SimError::Behaviour { agent, message }),
            })
            .collect()
    }
}

/// Scripted turns as steps: the n-th turn on the agent's n-th request.
pub(crate) fn steps_of(turns: &[ScriptedTurn]) -> Vec<Step> {
    turns
        .iter()
        .enumerate()
        .map(|(index, turn)| {
            let calls = turn.calls.iter().map(|call| match call {
                ScriptedCall::Tool {
                    name,
                    arguments,
                    call_id,
                } => SimCall::Tool {
                    name: name.clone(),
                    args: serde_json::Value::String(arguments.clone()),
                    id: call_id.clone(),
                },
                ScriptedCall::Handoff { agent, .. } => SimCall::Handoff {
                    agent: agent.clone(),
                },
                // A call kind a newer scripted model added: nothing to simulate.
                #[allow(unreachable_patterns)]
                _ => SimCall::Handoff {
                    agent: String::new(),
                },
            });
            let turn = SimTurn {
                text: turn.text.clone(),
                calls: calls.collect(),
            };
            let n = u32::try_from(index + 1).unwrap_or(u32::MAX);
            Step::always(turn).when(Condition::Turn(n))
        })
        .collect()
}

/// One model stack per shard: a request uses its shard's (its own cap and retries).
struct PerShard(Vec<SharedModel>);

impl std::fmt::Debug for PerShard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PerShard").field(&self.0.len()).finish()
    }
}

impl Model for PerShard {
    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        let index = current_shard_index().unwrap_or(0) % self.0.len().max(1);
        self.0[index].respond(request)
    }
}
