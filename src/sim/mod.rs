//! Simulation of handoff flows: thousands of conversations through a topology in virtual
//! time, with scripted models that branch, personas for the users, declared latencies and
//! faults, and a report checked against expectations.
//!
//! Only models, tool bodies and the clock are replaced: the swarm's real actors, turn loop,
//! tool workers, caps, retries and timeouts run as they do in production, on shards whose
//! clocks are paused ([`SwarmBuilder::virtual_time`](crate::swarm::SwarmBuilder::virtual_time)).

mod behaviour;
mod chance;
mod counts;
mod driver;
mod expect;
mod model;
mod outcome;
mod persona;
mod report;
mod sample;
mod simulation;
mod spec;
mod tool;

pub use expect::Checked;
pub use outcome::{Outcome, Stop};
pub use report::{
    AgentCount, ErrorCount, Failure, Faults, LISTED_FAILURES, PathCount, PerConversation,
    Percentiles, Report, ToolCount,
};
pub use simulation::{DEFAULT_CONCURRENCY, DEFAULT_CONVERSATIONS, SimError, Simulation};
pub use spec::{
    Choice, Condition, Distribution, Expectation, ModelFault, ModelFaultKind, ModelSim, NO_MODEL,
    Persona, PersonaModel, Shape, SimCall, SimSpec, SimTurn, Step, ToolSim,
};
