//! Baton: an actor-based multi-agent orchestrator.
//!
//! Every agent is an actix actor and every tool a worker actor. A model turn sends all the tool
//! calls it asked for at once and joins the replies in call order; a handoff moves the
//! conversation into another agent's mailbox. Applications embed a [`Swarm`]; YAML files
//! describe topologies ([`topology`]); a scripted model ([`model::ScriptedModel`]) runs them
//! offline and in tests.
//!
//! # Layout
//!
//! - [`item`]: conversation items with the OpenAI Responses API's field names.
//! - [`model`]: the [`Model`](model::Model) trait, the history check, the scripted model,
//!   the HTTP models (Responses API, Chat Completions) and their retry/timeout/limit wrappers.
//! - [`mock`]: a mock model server that serves a topology's scripted turns over HTTP (feature
//!   `mock`, on by default).
//! - [`tool`]: the [`Tool`](tool::Tool) traits, tool worker actors, built-in tools.
//! - [`handoff`]: handoff styles and how handoff calls are read.
//! - [`agent`]: agent definitions, the agent actor, the turn loop, limits.
//! - [`swarm`]: the [`Swarm`] handle, its builder, its actix `System` thread.
//! - [`run`]: what a run returns: [`RunResult`], [`RunError`], the timeline.
//! - [`topology`]: YAML topologies.
//! - [`sim`]: simulation of handoff flows in virtual time, with a report and expectations.
//!
//! # Example
//!
//! ```
//! #[tokio::main]
//! async fn main() -> Result<(), baton::Error> {
//!     let topology = baton::topology::load("agents/math.yaml")?;
//!     let swarm = topology.start()?; // the scripted turns; `start_live` for real models
//!     let question = "What is (12 + 30) * 2, and the square root of 144?";
//!     let result = swarm.run(topology.entry(), question).await?;
//!     assert_eq!(result.path, ["triage", "calculator"]);
//!     swarm.shutdown().await;
//!     Ok(())
//! }
//! ```
//!
//! [`Topology::start_live`](topology::Topology::start_live) chooses each model as `baton run`
//! does (live when its key is set). The `cli` feature builds the `baton` binary and `mock`
//! the mock model server; both are on by default, and `default-features = false` leaves the
//! library alone.

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod agent;
mod clock;
mod error;
pub mod handoff;
pub mod item;
mod mailbox;
#[cfg(feature = "mock")]
pub mod mock;
pub mod model;
pub mod run;
pub mod sim;
pub mod stream;
pub mod swarm;
mod timer;
pub mod tool;
pub mod topology;

pub use agent::{Agent, AgentLimits, Limits};
pub use error::Error;
pub use item::{Image, Item, Role};
pub use run::{Event, EventKind, PartialRun, RunError, RunInput, RunResult};
pub use swarm::Swarm;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/models.md")]
struct ModelsDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/simulation.md")]
struct SimulationDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/tools.md")]
struct ToolsDoctests;

#[cfg(all(doctest, feature = "mcp"))]
#[doc = include_str!("../docs/mcp.md")]
struct McpDoctests;
