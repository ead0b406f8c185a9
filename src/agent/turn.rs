//! The turn loop: DESIGN.md "The turn loop", points 1 to 8, as one async function.
//!
//! It runs as a task on the multi-thread runtime, owns the [`Conversation`], and borrows
//! nothing from the agent actor. Each turn: ask the model; no function call ends the run;
//! otherwise send every tool call at once, join the replies in call order, append one output
//! per call, and either go round again or move the conversation to the handoff target's
//! mailbox. Every call of every turn gets exactly one output, on every path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::SendError;
use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::conversation::Conversation;
use super::{AgentSpec, Limits, Run, dispatch};
use crate::handoff::{self, HandoffError, Recognized};
use crate::item::Item;
use crate::model::{ModelRequest, RequestContext};
use crate::run::{Event, EventKind, RunError};
use crate::swarm::{AgentSlot, Core};
use crate::tool::{ToolEntry, ToolError, args};

/// Runs `conversation` at the agent `spec` until the run ends or moves to another agent.
pub(crate) async fn run(core: Arc<Core>, spec: Arc<AgentSpec>, conversation: Conversation) {
    let span = tracing::info_span!(
        "agent",
        agent = %spec.name,
        trace_id = %conversation.trace_id
    );
    drive(&core, &spec, conversation).instrument(span).await;
}

async fn drive(core: &Core, spec: &AgentSpec, mut conv: Conversation) {
    loop {
        if conv.caller_gone() {
            return; // nobody is waiting for this run any more
        }
        if core.cancel.is_cancelled() {
            return conv.fail(cancelled(spec));
        }
        if conv.turns >= conv.limits.max_turns {
            let max_turns = conv.limits.max_turns;
            return conv.fail(|partial| RunError::MaxTurnsExceeded {
                agent: spec.name.to_string(),
                max_turns,
                partial,
            });
        }

        // 1. Ask the model.
        let agent_turn = conv.take_agent_turn(&spec.name);
        let run_turn = conv.turns;
        conv.turns += 1;
        let turn = conv.turns;
        let start = conv.elapsed();
        let response = {
            let request = ModelRequest {
                instructions: &spec.instructions,
                input: &conv.items,
                tools: &spec.functions,
                parallel_tool_calls: true,
                context: RequestContext {
                    agent: &spec.name,
                    agent_turn,
                    run_turn,
                    trace_id: &conv.trace_id,
                },
            };
            let respond = spec
                .model
                .respond(request)
                .instrument(tracing::info_span!("model", turn));
            tokio::select! {
                biased;
                () = core.cancel.cancelled() => None,
                response = respond => Some(response),
            }
        };
        let Some(response) = response else {
            return conv.fail(cancelled(spec));
        };
        conv.timeline.push(Event {
            agent: Arc::clone(&spec.name),
            turn,
            start,
            end: conv.elapsed(),
            kind: EventKind::Model,
        });
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                return conv.fail(|partial| RunError::Model {
                    agent: spec.name.to_string(),
                    turn,
                    error,
                    partial,
                });
            }
        };
        conv.usage.add(&response.usage);
        let first_new = conv.items.len();
        conv.items.extend(response.output);

        // 2. No function call: the run ends with the output text.
        let calls: Vec<usize> = (first_new..conv.items.len())
            .filter(|&i| matches!(conv.items[i], Item::FunctionCall { .. }))
            .collect();
        if calls.is_empty() {
            return conv.finish(&spec.name, first_new);
        }

        // 3-4. Sort the calls into tool jobs, immediate outputs, and at most one handoff.
        let mut plan = plan_turn(core, spec, &conv.items, &calls);
        let mut refused = None;
        if let Some((pos, target)) = &plan.handoff
            && let Some(reason) = loop_guard(&conv, &target.spec.name)
        {
            plan.outputs[*pos] = Some(
                HandoffError::Refused {
                    target: target.spec.name.to_string(),
                    reason: reason.clone(),
                }
                .to_output(),
            );
            refused = Some(reason);
        }

        // Every regular call at once; replies joined in call order.
        let jobs = std::mem::take(&mut plan.jobs);
        let job_positions: Vec<usize> = jobs.iter().map(|job| job.pos).collect();
        let (replies, cancelled_now) =
            run_jobs(jobs, &conv.limits, conv.started(), turn, &core.cancel).await;
        let mut timings = vec![None; calls.len()];
        for (pos, reply) in job_positions.into_iter().zip(replies) {
            // A call still running at shutdown keeps no reply; it gets an error output below.
            let Some((result, start, end)) = reply else {
                continue;
            };
            timings[pos] = Some((start, end, result.is_ok()));
            plan.outputs[pos] = Some(result.unwrap_or_else(|e| e.to_output()));
        }

        // 5. One output per call, in call order, whatever happened.
        let now = conv.elapsed();
        for (pos, &index) in calls.iter().enumerate() {
            let Item::FunctionCall { call_id, name, .. } = &conv.items[index] else {
                continue; // `calls` only holds function calls
            };
            let output = plan.outputs[pos].take().unwrap_or_else(|| {
                ToolError::Unavailable {
                    tool: name.clone(),
                    reason: "the swarm shut down during the call".to_owned(),
                }
                .to_output()
            });
            let is_handoff = plan.handoff.as_ref().is_some_and(|(p, _)| *p == pos);
            if !is_handoff {
                let (start, end, ok) = timings[pos].unwrap_or((now, now, false));
                conv.timeline.push(Event {
                    agent: Arc::clone(&spec.name),
                    turn,
                    start,
                    end,
                    kind: EventKind::Tool {
                        name: name.clone(),
                        call_id: call_id.clone(),
                        ok,
                    },
                });
            }
            let call_id = call_id.clone();
            conv.items.push(Item::function_call_output(call_id, output));
        }
        if cancelled_now {
            return conv.fail(cancelled(spec));
        }
        if let Some(reason) = refused {
            return conv.fail(|partial| RunError::HandoffLoop { reason, partial });
        }

        // 4. A valid handoff moves the conversation; this agent takes no more turns.
        if let Some((_, target)) = plan.handoff {
            let at = conv.elapsed();
            conv.path.push(Arc::clone(&target.spec.name));
            conv.timeline.push(Event {
                agent: Arc::clone(&spec.name),
                turn,
                start: at,
                end: at,
                kind: EventKind::Handoff {
                    to: Arc::clone(&target.spec.name),
                },
            });
            tracing::debug!(to = %target.spec.name, "handoff");
            if let Err(SendError::Closed(run) | SendError::Full(run)) =
                target.addr.try_send(Run { conversation: conv })
            {
                let agent = target.spec.name.to_string();
                run.conversation
                    .fail(|partial| RunError::AgentStopped { agent, partial });
            }
            return;
        }
    }
}

/// A regular call ready to send to its worker.
struct Job {
    /// Its position among the turn's calls.
    pos: usize,
    entry: Arc<ToolEntry>,
    call_id: String,
    arguments: Value,
}

/// What to do with each call of a turn.
struct Plan {
    /// Per call position: an output already decided (errors, the handoff's), or `None` for jobs.
    outputs: Vec<Option<String>>,
    /// The calls to send to tool workers.
    jobs: Vec<Job>,
    /// The handoff taken: its call position and its target.
    handoff: Option<(usize, Arc<AgentSlot>)>,
}

/// Sorts a turn's calls. The first valid handoff wins; a later one gets an "ignored" output;
/// unknown or disallowed targets, unknown tools and bad arguments get error outputs.
fn plan_turn(core: &Core, spec: &AgentSpec, items: &[Item], calls: &[usize]) -> Plan {
    let mut plan = Plan {
        outputs: vec![None; calls.len()],
        jobs: Vec::with_capacity(calls.len()),
        handoff: None,
    };
    for (pos, &index) in calls.iter().enumerate() {
        let Item::FunctionCall {
            call_id,
            name,
            arguments,
        } = &items[index]
        else {
            continue; // `calls` only holds function calls
        };
        let decided: Result<(), String> =
            match handoff::recognize(spec.handoff_style, name, arguments) {
                Recognized::To(target) => match &plan.handoff {
                    Some((_, taken)) => Err(HandoffError::Ignored {
                        taken: taken.spec.name.to_string(),
                    }
                    .to_output()),
                    None => match choose_target(core, spec, &target) {
                        Ok(slot) => {
                            plan.outputs[pos] = Some(handoff::done_output(&slot.spec.name));
                            plan.handoff = Some((pos, slot));
                            Ok(())
                        }
                        Err(e) => Err(e.to_output()),
                    },
                },
                Recognized::Malformed(message) => Err(HandoffError::Malformed(message).to_output()),
                Recognized::NotHandoff => match tool_for(core, spec, name) {
                    Err(e) => Err(e.to_output()),
                    Ok(entry) => match args::parse(&entry.def, arguments) {
                        Err(e) => Err(e.to_output()),
                        Ok(arguments) => {
                            plan.jobs.push(Job {
                                pos,
                                entry,
                                call_id: call_id.clone(),
                                arguments,
                            });
                            Ok(())
                        }
                    },
                },
            };
        if let Err(output) = decided {
            plan.outputs[pos] = Some(output);
        }
    }
    plan
}

/// Resolves a handoff target named by the model.
fn choose_target(
    core: &Core,
    spec: &AgentSpec,
    target: &str,
) -> Result<Arc<AgentSlot>, HandoffError> {
    let slot = core.agent(target);
    if spec.can_hand_off_to(target)
        && let Some(slot) = slot
    {
        return Ok(slot);
    }
    let from = spec.name.to_string();
    let allowed = spec.handoff_list();
    Err(if core.agent(target).is_some() {
        HandoffError::NotAllowed {
            target: target.to_owned(),
            from,
            allowed,
        }
    } else {
        HandoffError::UnknownAgent {
            target: target.to_owned(),
            from,
            allowed,
        }
    })
}

/// Finds a tool the agent may call.
fn tool_for(core: &Core, spec: &AgentSpec, name: &str) -> Result<Arc<ToolEntry>, ToolError> {
    spec.has_tool(name)
        .then(|| core.tools.get(name))
        .flatten()
        .ok_or_else(|| ToolError::UnknownTool {
            tool: name.to_owned(),
            agent: spec.name.to_string(),
            available: spec.tool_list(),
        })
}

/// The handoff-loop guard: why moving to `target` would break a limit, if it would.
fn loop_guard(conv: &Conversation, target: &str) -> Option<String> {
    let limits = &conv.limits;
    let handoffs = conv.path.len() as u32 - 1;
    if handoffs >= limits.max_handoffs {
        return Some(format!(
            "the run has already handed off {handoffs} times (max_handoffs {})",
            limits.max_handoffs
        ));
    }
    let visits = conv.visits(target);
    if visits >= limits.max_agent_visits {
        return Some(format!(
            "agent `{target}` would be entered {} times (max_agent_visits {})",
            visits + 1,
            limits.max_agent_visits
        ));
    }
    None
}

/// One call's result with its start and end offsets from the start of the run.
type Reply = (Result<String, ToolError>, Duration, Duration);

/// Sends every job at once (at most `max_tool_calls_in_flight` in flight) and returns each
/// result with its start and end offsets, in job order.
///
/// If `cancel` fires first, it returns at once with `true`, keeping the replies that had
/// already come back (`None` for the calls still running), so a cancelled run's partial
/// transcript loses no finished call.
async fn run_jobs(
    jobs: Vec<Job>,
    limits: &Limits,
    started: Instant,
    turn: u32,
    cancel: &CancellationToken,
) -> (Vec<Option<Reply>>, bool) {
    let cap = limits.max_tool_calls_in_flight.max(1);
    let gate = (jobs.len() > cap).then(|| Semaphore::new(cap));
    let gate = gate.as_ref();
    let mut replies: Vec<Option<Reply>> = (0..jobs.len()).map(|_| None).collect();
    // Polled first in push order, so the gate's permits go out in call order.
    let mut pending: FuturesUnordered<_> = jobs
        .into_iter()
        .enumerate()
        .map(|(index, job)| async move {
            let _permit = match gate {
                Some(gate) => gate.acquire().await.ok(),
                None => None,
            };
            let span = tracing::info_span!(
                "tool_call",
                turn,
                tool = job.entry.def.name(),
                call_id = %job.call_id
            );
            let start = started.elapsed();
            let result =
                dispatch::call_tool(&job.entry, &job.call_id, job.arguments, limits.tool_timeout)
                    .instrument(span)
                    .await;
            (index, (result, start, started.elapsed()))
        })
        .collect();
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => return (replies, true),
            next = pending.next() => match next {
                Some((index, reply)) => replies[index] = Some(reply),
                None => return (replies, false),
            },
        }
    }
}

/// The error of a run stopped by shutdown.
fn cancelled(spec: &AgentSpec) -> impl FnOnce(Box<crate::run::PartialRun>) -> RunError + '_ {
    move |partial| RunError::Cancelled {
        agent: spec.name.to_string(),
        partial,
    }
}
