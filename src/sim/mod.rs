//! Simulation of handoff flows: thousands of conversations through a topology in virtual
//! time, with scripted models that branch, personas for the users, declared latencies and
//! faults, and a report checked against expectations.
//!
//! Only models, tool bodies and the clock are replaced: the swarm's real actors, turn loop,
//! tool workers, caps, retries and timeouts run as they do in production, on shards whose
//! clocks are paused ([`SwarmBuilder::virtual_time`](crate::swarm::SwarmBuilder::virtual_time)).

mod spec;

pub use spec::{
    Choice, Condition, Distribution, Expectation, ModelFault, ModelFaultKind, ModelSim, NO_MODEL,
    Persona, PersonaModel, Shape, SimCall, SimSpec, SimTurn, Step, ToolSim,
};
