//! `baton::Error`: one error type for applications that do not care which boundary failed.

use crate::run::RunError;
use crate::swarm::SwarmError;
use crate::topology::TopologyError;

/// Any Baton error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A topology file could not be loaded.
    #[error(transparent)]
    Topology(#[from] TopologyError),
    /// A swarm could not start.
    #[error(transparent)]
    Swarm(#[from] SwarmError),
    /// A run failed.
    #[error(transparent)]
    Run(#[from] RunError),
}
