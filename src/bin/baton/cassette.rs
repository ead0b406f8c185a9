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
use baton::topology::Topology;

/// The model entry name of the topology's scripted turns, for agents that name no model.
pub(crate) const SCRIPTED: &str = "scripted";

/// What was chosen for a recorded run: one line per live model, and the reasons the
/// scripted turns answer (as `baton run` prints them).
pub(crate) struct Chosen {
    pub(crate) live: Vec<String>,
    pub(crate) reasons: Vec<String>,
}

/// Starts `topology` with each model chosen by `choose`, every one of them recording into
/// `cassette`.
pub(crate) fn start_recording(
    topology: &Topology,
    mut choose: impl FnMut(&ModelConfig) -> Result<ModelChoice, ModelError>,
    cassette: &Cassette,
) -> anyhow::Result<(Swarm, Chosen)> {
    let file = topology.path().display().to_string();
    let scripted = topology.scripted_model().cloned();
    let mut chosen = Chosen {
        live: Vec::new(),
        reasons: Vec::new(),
    };
    let builder = topology.builder_with(|config| -> anyhow::Result<SharedModel> {
        let model: SharedModel = match choose(config)? {
            ModelChoice::Http { model, description } => {
                chosen
                    .live
                    .push(format!("live: model `{}`: {description}", config.name));
                model
            }
            ModelChoice::Scripted { reason } => {
                let scripted = scripted.clone().ok_or_else(|| {
                    anyhow!(
                        "{file}: model `{}` cannot run ({reason}) and no agent has `scripted:` turns",
                        config.name
                    )
                })?;
                if !chosen.reasons.contains(&reason) {
                    chosen.reasons.push(reason);
                }
                scripted
            }
            other => return Err(anyhow!("model `{}`: unexpected choice {other:?}", config.name)),
        };
        Ok(Arc::new(cassette.recorder(&config.name, model)))
    })?;
    let builder = match scripted {
        Some(scripted) => {
            let every_agent_named_a_model = topology
                .agents()
                .iter()
                .all(|a| topology.model_of(a.name()).is_some());
            if !every_agent_named_a_model && chosen.live.is_empty() && chosen.reasons.is_empty() {
                chosen.reasons.push("its agents name no model".to_owned());
            }
            builder.model(Arc::new(cassette.recorder(SCRIPTED, scripted)))
        }
        None => builder,
    };
    Ok((builder.start()?, chosen))
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
