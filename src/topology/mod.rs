//! YAML topologies (placeholder while the loader is written).
#[derive(Debug, thiserror::Error)]
#[error("topology")]
/// x
pub struct TopologyError;
