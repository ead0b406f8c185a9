//! `baton check | graph | schema`: look at a topology without running it.
//!
//! Being written (issue 5); until then each command says so and exits 2.

use std::path::PathBuf;

use anyhow::anyhow;

use super::Failure;

/// Arguments of `baton check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// The topology file or folder.
    path: PathBuf,
}

/// Arguments of `baton graph`.
#[derive(Debug, clap::Args)]
pub(crate) struct GraphArgs {
    /// The topology file or folder.
    path: PathBuf,
}

/// Arguments of `baton schema`.
#[derive(Debug, clap::Args)]
pub(crate) struct SchemaArgs {}

pub(crate) fn check(args: CheckArgs) -> Result<(), Failure> {
    Err(Failure::Input(anyhow!(
        "`baton check {}` is not available yet",
        args.path.display()
    )))
}

pub(crate) fn graph(args: GraphArgs) -> Result<(), Failure> {
    Err(Failure::Input(anyhow!(
        "`baton graph {}` is not available yet",
        args.path.display()
    )))
}

pub(crate) fn schema(_: SchemaArgs) -> Result<(), Failure> {
    Err(Failure::Input(anyhow!(
        "`baton schema` is not available yet"
    )))
}
