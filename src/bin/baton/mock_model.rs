//! `baton mock-model <topology.yaml> --port P`: an OpenAI-compatible HTTP server on loopback
//! that serves a topology's scripted turns.
//!
//! Being written (issue 4); until then the command says so and exits 2.

use std::path::PathBuf;

use anyhow::anyhow;

use super::Failure;

/// Arguments of `baton mock-model`.
#[derive(Debug, clap::Args)]
pub(crate) struct MockModelArgs {
    /// The topology whose scripted turns are served.
    topology: PathBuf,
    /// The loopback port to listen on.
    #[arg(long, default_value_t = 0)]
    port: u16,
}

pub(crate) fn run(args: MockModelArgs) -> Result<(), Failure> {
    Err(Failure::Input(anyhow!(
        "`baton mock-model {} --port {}` is not available yet",
        args.topology.display(),
        args.port
    )))
}
