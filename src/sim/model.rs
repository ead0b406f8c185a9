//! `SimModel`: the model of a simulation, one per model entry. It waits the entry's declared
//! latency on the shard's virtual clock, injects the declared faults, and answers with the
//! turn the agent's behaviour chooses for the request.
//!
//! The topology's wrappers stay around it (timeout per attempt, in-flight cap, retries with
//! backoff), so queueing, retries and timeouts happen as in production, in virtual time.
//! Every draw is keyed by the conversation's trace id, the agent, its turn, the length of
//! the conversation and the attempt (see `chance`).

use std::collections::HashMap;
use std::sync::Arc;

use dashmap::DashMap;
use futures::future::BoxFuture;

use super::behaviour::Behaviour;
use super::chance::Chance;
use super::counts::Counts;
use super::spec::{ModelFaultKind, ModelSim};
use crate::clock::key;
use crate::item::Item;
use crate::model::scripted::estimate_usage;
use crate::model::{Model, ModelError, ModelRequest, ModelResponse};

/// A simulated model entry.
pub(crate) struct SimModel {
    /// The entry's name, in error messages.
    entry: String,
    sim: ModelSim,
    /// Every agent's behaviour (shared by the simulation's models).
    agents: Arc<HashMap<String, Behaviour>>,
    chance: Chance,
    /// Attempts made so far per request key, so a retry draws again; removed once answered.
    attempts: DashMap<u64, u32>,
    counts: Arc<Counts>,
}

impl std::fmt::Debug for SimModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimModel")
            .field("entry", &self.entry)
            .finish_non_exhaustive()
    }
}

impl SimModel {
    pub(crate) fn new(
        entry: &str,
        sim: ModelSim,
        agents: Arc<HashMap<String, Behaviour>>,
        chance: Chance,
        counts: Arc<Counts>,
    ) -> Self {
        SimModel {
            entry: entry.to_owned(),
            sim,
            agents,
            chance,
            attempts: DashMap::new(),
            counts,
        }
    }

    fn endpoint(&self) -> String {
        if self.entry.is_empty() {
            "simulated model".to_owned()
        } else {
            format!("simulated model `{}`", self.entry)
        }
    }

    async fn answer(&self, request: ModelRequest<'_>) -> Result<ModelResponse, ModelError> {
        let ctx = request.context;
        let request_key = key(&[
            ctx.trace_id.as_bytes(),
            ctx.agent.as_bytes(),
            &ctx.agent_turn.to_le_bytes(),
            &(request.input.len() as u64).to_le_bytes(),
        ])
        .to_le_bytes();
        // Only faults make a request be tried again; without them every request is a first.
        let faulty = !self.sim.faults.is_empty();
        let attempt = if faulty {
            let mut entry = self
                .attempts
                .entry(u64::from_le_bytes(request_key))
                .or_insert(0);
            *entry += 1;
            *entry
        } else {
            1
        }
        .to_le_bytes();
        let draw = |what: &[u8]| self.chance.unit(&[&request_key, what, &attempt]);
        if let Some(latency) = &self.sim.latency {
            tokio::time::sleep(latency.sample_millis(draw(b"latency"), draw(b"latency-2"))).await;
        }
        let fault = self.fault(draw(b"fault"));
        match fault {
            Some(ModelFaultKind::RateLimit { retry_after }) => {
                self.counts.model_fault(fault_index(fault));
                return Err(ModelError::Api {
                    endpoint: self.endpoint(),
                    status: 429,
                    code: Some("rate_limit_exceeded".to_owned()),
                    message: "simulated rate limit".to_owned(),
                    retry_after: *retry_after,
                });
            }
            Some(ModelFaultKind::ServerError) => {
                self.counts.model_fault(fault_index(fault));
                return Err(ModelError::Api {
                    endpoint: self.endpoint(),
                    status: 500,
                    code: Some("server_error".to_owned()),
                    message: "simulated server error".to_owned(),
                    retry_after: None,
                });
            }
            Some(ModelFaultKind::Timeout) => {
                self.counts.model_fault(fault_index(fault));
                // The entry's timeout ends the attempt.
                std::future::pending::<()>().await;
            }
            _ => {}
        }
        if faulty {
            self.attempts.remove(&u64::from_le_bytes(request_key));
        }
        let behaviour = self
            .agents
            .get(ctx.agent)
            .ok_or_else(|| ModelError::NoScript {
                agent: ctx.agent.to_owned(),
            })?;
        let choice = self.chance.unit(&[&request_key, b"choice"]);
        let turn = behaviour.choose(&request, choice).ok_or_else(|| {
            ModelError::Other(format!(
                "simulated agent `{}`: none of its {} steps applies to its turn {}",
                ctx.agent,
                behaviour.len(),
                ctx.agent_turn + 1
            ))
        })?;
        let mut output = turn.play(&request)?;
        if let Some(kind) = fault
            && turn.has_tool_calls()
            && mutate(kind, &mut output)
        {
            self.counts.model_fault(fault_index(fault));
        }
        let mut usage = estimate_usage(&request, &output);
        if let Some(tokens) = &self.sim.input_tokens {
            usage.input_tokens = tokens.sample_count(draw(b"in"), draw(b"in-2"));
        }
        if let Some(tokens) = &self.sim.output_tokens {
            usage.output_tokens = tokens.sample_count(draw(b"out"), draw(b"out-2"));
        }
        usage.total_tokens = usage.input_tokens + usage.output_tokens;
        Ok(ModelResponse { output, usage })
    }

    /// The fault the draw `u` falls on, if any: each takes a slice of `[0, 1)` as wide as its
    /// rate.
    fn fault(&self, u: f64) -> Option<&ModelFaultKind> {
        let mut edge = 0.0;
        for fault in &self.sim.faults {
            edge += fault.rate;
            if u < edge {
                return Some(&fault.kind);
            }
        }
        None
    }
}

/// The index of a fault kind in [`ModelFaultKind::NAMES`].
fn fault_index(kind: Option<&ModelFaultKind>) -> usize {
    kind.and_then(|k| ModelFaultKind::NAMES.iter().position(|n| *n == k.name()))
        .unwrap_or(0)
}

/// Applies a fault that changes a turn's calls; returns whether it changed anything.
fn mutate(kind: &ModelFaultKind, output: &mut Vec<Item>) -> bool {
    match kind {
        ModelFaultKind::MalformedArguments => {
            let Some(Item::FunctionCall { arguments, .. }) = output
                .iter_mut()
                .find(|i| matches!(i, Item::FunctionCall { name, .. } if !is_handoff(name)))
            else {
                return false;
            };
            // Cut short, as a model that ran out of tokens mid-call writes it.
            let cut = arguments.len() / 2;
            let cut = (0..=cut)
                .rev()
                .find(|&i| arguments.is_char_boundary(i))
                .unwrap_or(0);
            arguments.truncate(cut);
            arguments.insert(0, '{');
            true
        }
        ModelFaultKind::UnknownTool => {
            let Some(position) = output
                .iter()
                .position(|i| matches!(i, Item::FunctionCall { name, .. } if !is_handoff(name)))
            else {
                return false;
            };
            let Item::FunctionCall { call_id, name, .. } = &output[position] else {
                return false;
            };
            let item = Item::function_call(format!("{call_id}_x"), format!("{name}_v2"), "{}");
            output.insert(position, item);
            true
        }
        ModelFaultKind::DuplicateCallIds => {
            let mut ids = output.iter_mut().filter_map(|i| match i {
                Item::FunctionCall { call_id, .. } => Some(call_id),
                _ => None,
            });
            let Some(first) = ids.next().cloned() else {
                return false;
            };
            let mut changed = false;
            for id in ids {
                first.clone_into(id);
                changed = true;
            }
            changed
        }
        _ => false,
    }
}

fn is_handoff(name: &str) -> bool {
    name == crate::handoff::HANDOFF_FUNCTION || name.starts_with(crate::handoff::TRANSFER_PREFIX)
}

impl Model for SimModel {
    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(self.answer(request))
    }
}
