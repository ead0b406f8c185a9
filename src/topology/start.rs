//! Starting a topology with the models `baton run` would use: each model of the `models:`
//! section live when its key variable is set, the scripted turns otherwise
//! ([`Topology::start_live`]), and what was chosen, so the application can say so.

use std::fmt;
use std::sync::Arc;

use super::Topology;
use crate::model::{ModelChoice, ModelConfig, ModelError, SharedModel};
use crate::swarm::{Swarm, SwarmError};

/// The name [`Topology::start_choosing_wrapped`] gives the scripted turns that agents naming
/// no model entry play.
pub const SCRIPTED_MODEL: &str = "scripted";

/// How a started topology answers: one entry per live model, and one per reason the
/// scripted turns answer instead ([`Topology::start_live`]).
///
/// Its `Display` is one line for the user, never with a key:
/// ``live: model `default`: responses `gpt-4.1-mini` at https://api.openai.com/v1`` (the line
/// `baton run` prints, after `baton: `), or `offline: scripted turns (OPENAI_API_KEY is not
/// set)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelUse {
    /// A model of the `models:` section runs live over HTTP.
    Live {
        /// Its name in the topology.
        model: String,
        /// Provider, model name and base URL (never the key).
        description: String,
    },
    /// The topology's scripted turns answer, for this reason (`OPENAI_API_KEY is not set`,
    /// `--offline`, `its agents name no model`).
    Scripted {
        /// Why no live model is used.
        reason: String,
    },
}

impl ModelUse {
    /// Whether this is a live model.
    pub fn is_live(&self) -> bool {
        matches!(self, ModelUse::Live { .. })
    }
}

impl fmt::Display for ModelUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelUse::Live { model, description } => {
                write!(f, "live: model `{model}`: {description}")
            }
            ModelUse::Scripted { reason } => write!(f, "offline: scripted turns ({reason})"),
        }
    }
}

/// Why [`Topology::start_live`] could not start a swarm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A live model could not be built (no model name, a bad base URL).
    #[error(transparent)]
    Model(ModelError),
    /// A model cannot run live and there are no scripted turns to use instead.
    #[error("{file}: model `{model}` cannot run ({reason}) and no agent has `scripted:` turns")]
    NoScriptedTurns {
        /// The topology file.
        file: String,
        /// The model's name in the topology.
        model: String,
        /// Why it cannot run live.
        reason: String,
    },
    /// Some agents name no model, and there are no scripted turns for them.
    #[error("{file}: some agents name no model and no agent has `scripted:` turns")]
    NoModel {
        /// The topology file.
        file: String,
    },
    /// The swarm itself could not start.
    #[error(transparent)]
    Swarm(#[from] SwarmError),
}

/// Starts `topology` with each model chosen by `choose` (as [`choose_model`] does for
/// `baton run`), and reports the choices: live models first, then each distinct reason for
/// the scripted turns.
///
/// [`choose_model`]: crate::model::choose_model
pub(super) fn start_choosing(
    topology: &Topology,
    mut choose: impl FnMut(&ModelConfig) -> Result<ModelChoice, ModelError>,
    mut wrap: impl FnMut(&str, SharedModel) -> SharedModel,
) -> Result<(Swarm, Vec<ModelUse>), StartError> {
    let mut live = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    let scripted = topology.scripted_model().cloned();
    let file = topology.path().display().to_string();
    let builder = topology.builder_with(|config| -> Result<SharedModel, StartError> {
        match choose(config).map_err(StartError::Model)? {
            ModelChoice::Http { model, description } => {
                live.push(ModelUse::Live {
                    model: config.name.clone(),
                    description,
                });
                Ok(wrap(&config.name, model))
            }
            ModelChoice::Scripted { reason } => {
                let Some(scripted) = &scripted else {
                    return Err(StartError::NoScriptedTurns {
                        file: file.clone(),
                        model: config.name.clone(),
                        reason,
                    });
                };
                if !reasons.contains(&reason) {
                    reasons.push(reason);
                }
                Ok(wrap(&config.name, scripted.clone() as SharedModel))
            }
        }
    })?;
    let every_agent_named_a_model = topology
        .agents()
        .iter()
        .all(|a| topology.model_of(a.name()).is_some());
    if !every_agent_named_a_model {
        if scripted.is_none() {
            return Err(StartError::NoModel { file });
        }
        if live.is_empty() && reasons.is_empty() {
            // No agent names a model, so no key would change that.
            reasons.push("its agents name no model".to_owned());
        }
    }
    // Agents that name no model play the scripted turns.
    let builder = match &scripted {
        Some(scripted) => builder.model(wrap(SCRIPTED_MODEL, Arc::clone(scripted) as SharedModel)),
        None => builder,
    };
    let swarm = builder.start()?;
    let uses = live
        .into_iter()
        .chain(
            reasons
                .into_iter()
                .map(|reason| ModelUse::Scripted { reason }),
        )
        .collect();
    Ok((swarm, uses))
}
