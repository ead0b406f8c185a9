//! The JSON Schema of the topology format, derived from the raw types (their doc comments
//! become the descriptions editors show).
//!
//! With the YAML language server, a first line `# yaml-language-server: $schema=<file>` makes
//! an editor complete and check a topology; `docs/topology.md` says how.

use super::raw::{RawAgent, RawTopology};
use super::raw_sim::RawSimulation;

/// The JSON Schema (draft 2020-12) of a topology file.
///
/// # Examples
///
/// ```
/// let schema = baton::topology::schema();
/// assert_eq!(schema["title"], "Baton topology");
/// ```
pub fn schema() -> serde_json::Value {
    serde_json::Value::from(schemars::schema_for!(RawTopology))
}

/// The JSON Schema of one agent's file in a folder topology (`agents/billing.yaml`).
pub fn agent_schema() -> serde_json::Value {
    serde_json::Value::from(schemars::schema_for!(RawAgent))
}

/// The JSON Schema of a simulation file: what `simulation: simulation.yaml` names, the
/// `simulation:` section on its own.
///
/// # Examples
///
/// ```
/// let schema = baton::topology::simulation_schema();
/// assert_eq!(schema["title"], "Baton simulation");
/// ```
pub fn simulation_schema() -> serde_json::Value {
    serde_json::Value::from(schemars::schema_for!(RawSimulation))
}
