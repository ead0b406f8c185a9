//! `baton run --record FILE` and `baton run --replay FILE`: starting a topology's swarm with
//! every model wrapped in a [`Recorder`](baton::model::Recorder) (models chosen as a plain `baton run` chooses them),
//! or answered by a [`Replay`](baton::model::Replay) of a cassette (no key, no server).
//!
//! Each model entry records and replays under its own name; agents that name no model use
//! the topology's scripted turns, under the name [`SCRIPTED`].

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use baton::Swarm;
use baton::model::{Cassette, ModelChoice, ModelConfig, ModelError, SharedModel};
use baton::topology::{ModelUse, StartError, Topology};

/// The model entry name of the topology's scripted turns, for agents that name no model.
pub(crate) const SCRIPTED: &str = baton::topology::SCRIPTED_MODEL;

/// Starts `topology` with each model chosen by `choose`, every one of them recording into
/// `cassette`; returns the swarm and what was chosen (as `baton run` reports it).
pub(crate) fn start_recording(
    topology: &Topology,
    choose: impl FnMut(&ModelConfig) -> Result<ModelChoice, ModelError>,
    cassette: &Cassette,
) -> Result<(Swarm, Vec<ModelUse>), StartError> {
    topology.start_choosing_wrapped(choose, |name, model| {
        Arc::new(cassette.recorder(name, model)) as SharedModel
    })
}

/// Starts `topology` with every model answered from the cassette at `path`; returns the
/// swarm and how many exchanges the cassette holds.
pub(crate) fn start_replaying(topology: &Topology, path: &Path) -> anyhow::Result<(Swarm, usize)> {
    let cassette = Cassette::load(path)?;
    let replay = cassette.replay();
    let model = |name: &str| -> SharedModel { Arc::new(replay.for_model(name)) };
    let builder = topology
        .builder_with(|config| Ok::<_, std::convert::Infallible>(model(&config.name)))
        .map_err(|never| match never {})?
        .model(model(SCRIPTED));
    let swarm = builder
        .start()
        .with_context(|| format!("--replay {}", path.display()))?;
    Ok((swarm, cassette.len()))
}

/// Writes `cassette` to `path`.
pub(crate) fn save(cassette: &Cassette, path: &Path) -> anyhow::Result<()> {
    cassette
        .save(path)
        .map_err(|e| anyhow!("--record: cannot write the cassette: {e}"))
}
