//! Driving conversations through a swarm in virtual time.
//!
//! A driver task runs on each shard of the simulation's swarm and starts that shard's share
//! of the conversations (conversation `k` on shard `k % shards`), at most its share of the
//! concurrency at once. Started on the shard, each run stays there and reads the shard's
//! clock, so its latencies are virtual and do not depend on what other shards do. Each
//! conversation's outcome is sent back as soon as it ends; the caller tallies them.

use std::sync::Arc;

use futures::StreamExt as _;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::chance::Chance;
use super::outcome::Outcome;
use super::persona::Users;
use crate::item::Item;
use crate::run::RunInput;
use crate::swarm::Swarm;

/// What every driver task shares.
pub(crate) struct Plan {
    pub(crate) swarm: Swarm,
    pub(crate) entry: String,
    pub(crate) users: Users,
    pub(crate) chance: Chance,
    /// Whether outcomes keep transcripts and timelines.
    pub(crate) keep: bool,
}

/// Outcomes a shard sends at once: waking the caller's thread for each would cost more than
/// simulating the conversation.
const BATCH: usize = 256;

/// Starts the conversations `indices` spread over the swarm's shards, `concurrency` in
/// flight at once in all; their outcomes arrive on the returned channel in batches as they
/// end (the channel closes after the last).
pub(crate) fn start(
    plan: Plan,
    indices: Vec<u32>,
    concurrency: u32,
) -> mpsc::UnboundedReceiver<Vec<Outcome>> {
    let (tx, rx) = mpsc::unbounded_channel();
    let plan = Arc::new(plan);
    let shards = plan.swarm.shards().max(1);
    let per_shard = (concurrency as usize).div_ceil(shards).max(1);
    for shard in 0..shards {
        let mine: Vec<u32> = indices
            .iter()
            .copied()
            .filter(|k| *k as usize % shards == shard)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let started = {
            let (plan, tx, mine) = (Arc::clone(&plan), tx.clone(), mine.clone());
            let swarm = plan.swarm.clone();
            swarm.spawn_on(shard, move || async move {
                let origin = Instant::now();
                let mut batch = Vec::with_capacity(BATCH);
                let mut outcomes = futures::stream::iter(mine)
                    .map(|index| converse(&plan, index, origin))
                    .buffer_unordered(per_shard);
                while let Some(outcome) = outcomes.next().await {
                    batch.push(outcome);
                    if batch.len() == BATCH {
                        let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                    }
                }
                if !batch.is_empty() {
                    let _ = tx.send(batch);
                }
            })
        };
        if !started {
            // The shard has stopped (the swarm is shutting down): say so for each.
            let failed = mine.into_iter().map(|index| {
                let mut outcome = Outcome {
                    index,
                    trace_id: plan.chance.trace_id(index),
                    ..Outcome::default()
                };
                let error = crate::run::RunError::ShutDown;
                outcome.fail(std::time::Duration::ZERO, error, false);
                outcome
            });
            let _ = tx.send(failed.collect());
        }
    }
    rx
}

/// Runs conversation `index`: the persona's opening at the entry agent, then each of its
/// replies where the last run ended, until it has nothing more to say or a run fails.
async fn converse(plan: &Plan, index: u32, origin: Instant) -> Outcome {
    let trace_id = plan.chance.trace_id(index);
    let (persona, opening) = plan.users.opening(&plan.chance, index);
    let mut outcome = Outcome {
        index,
        trace_id: trace_id.clone(),
        persona: persona.map(|p| p.name.clone()),
        ..Outcome::default()
    };
    let mut agent = plan.entry.clone();
    let mut input = RunInput::Text(opening);
    for replied in 0_u32.. {
        let started = Instant::now();
        let result = plan.swarm.run_traced(&agent, input, trace_id.clone()).await;
        let latency = started.elapsed();
        let result = match result {
            Ok(result) => result,
            Err(error) => {
                outcome.fail(latency, error, plan.keep);
                break;
            }
        };
        outcome.add_run(
            latency,
            &result.path,
            &result.usage,
            &result.timeline,
            plan.keep,
        );
        let reply = plan
            .users
            .reply(persona, replied, &result.transcript, &trace_id)
            .await;
        match reply {
            Ok(Some(text)) => {
                let mut items = result.transcript;
                items.push(Item::user(text));
                input = RunInput::Items(items);
                agent = result.last_agent;
            }
            Ok(None) => {
                if plan.keep {
                    outcome.transcript = result.transcript;
                }
                break;
            }
            Err(message) => {
                if plan.keep {
                    outcome.transcript = result.transcript;
                }
                outcome.stop = Some(super::outcome::Stop {
                    kind: "persona_error",
                    message,
                });
                break;
            }
        }
    }
    outcome.ended_at = origin.elapsed();
    outcome
}
