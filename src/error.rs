//! `baton::Error`: one error type for applications that do not care which boundary failed.
//!
//! Convention across Baton: an error's message already includes its cause, so causes are not
//! also exposed through `source()` (which would print them twice under `{:#}`).

use crate::run::RunError;
use crate::swarm::SwarmError;
use crate::topology::{StartError, TopologyError};

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
    /// A topology's models could not be chosen or its swarm started
    /// ([`Topology::start_live`](crate::topology::Topology::start_live)).
    #[error(transparent)]
    Start(#[from] StartError),
    /// A run failed.
    #[error(transparent)]
    Run(#[from] RunError),
}
