//! The turn loop: DESIGN.md "The turn loop", points 1 to 8, as one async function.
//!
//! It runs as a task on its shard's event loop, owns the [`Conversation`], and borrows
//! nothing from the agent actor. Each turn: ask the model; no function call ends the run;
//! otherwise send every tool call at once ([`Fanout`]), join the replies in call order, append
//! one output per call, and either go round again or move the conversation to the handoff
//! target's mailbox. Every call of every turn gets exactly one output, on every path.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::SendError;
use futures::FutureExt as _;
use tracing::Instrument as _;

use super::call::{Call, Plan};
use super::call_ids;
use super::conversation::Conversation;
use super::fanout::Fanout;
use super::{AgentSpec, Run};
use crate::handoff::{self, HandoffError, Recognized};
use crate::item::Item;
use crate::model::{ModelError, ModelRequest, RequestContext, check_history};
use crate::run::{Event, EventKind, PartialRun, RunError};
use crate::stream::StreamEvent;
use crate::swarm::{AgentSlot, Core, Shard};
use crate::tool::args;
use crate::tool::scope::{CallSlot, RunScope};
use crate::tool::{ToolEntry, ToolError, ToolErrorKind, panic_message};

/// An agent as its turn loops on one shard see it: its definition and its tools' workers there.
#[derive(Debug)]
pub(crate) struct ShardAgent {
    pub(crate) spec: Arc<AgentSpec>,
    /// The agent's tools on this shard, in the order of `spec.tools`.
    pub(crate) tools: Vec<Arc<ToolEntry>>,
}

impl ShardAgent {
    /// Finds a tool the agent may call.
    fn tool(&self, name: &str) -> Option<&Arc<ToolEntry>> {
        let pos = self.spec.tools.iter().position(|t| t == name)?;
        self.tools.get(pos)
    }
}

/// Runs `conversation` at `agent` until the run ends or moves to another agent.
pub(crate) async fn run(
    core: Arc<Core>,
    shard: usize,
    agent: Arc<ShardAgent>,
    conversation: Box<Conversation>,
) {
    let span = tracing::info_span!(
        "agent",
        agent = %agent.spec.name,
        trace_id = %conversation.trace_id
    );
    drive(&core, &core.shards[shard], &agent, conversation)
        .instrument(span)
        .await;
}

async fn drive(core: &Core, shard: &Shard, agent: &ShardAgent, mut conv: Box<Conversation>) {
    let spec = &*agent.spec;
    // Model turns taken since the run entered this agent (its own `max_turns` counts these).
    let mut turns_here = 0_u32;
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

        if let Some(max_turns) = spec.limits.max_turns
            && turns_here >= max_turns
        {
            return conv.fail(|partial| RunError::AgentTurnsExceeded {
                agent: spec.name.to_string(),
                max_turns,
                partial,
            });
        }
        turns_here += 1;

        // 5. The invariant, checked before every request: every call answered once, in order.
        if let Err(error) = check_history(&conv.items) {
            let turn = conv.turns + 1;
            return conv.fail(|partial| RunError::Model {
                agent: spec.name.to_string(),
                turn,
                error: ModelError::InvalidHistory(error),
                partial,
            });
        }

        // 1. Ask the model.
        let agent_turn = conv.agent_turns(&spec.name);
        let run_turn = conv.turns;
        conv.turns += 1;
        let turn = conv.turns;
        let start = conv.elapsed();
        let response = {
            let request = ModelRequest {
                instructions: &spec.instructions,
                input: &conv.items,
                tools: &spec.functions,
                parallel_tool_calls: spec.settings.parallel_tool_calls.unwrap_or(true),
                settings: &spec.settings,
                context: RequestContext {
                    agent: &spec.name,
                    agent_turn,
                    run_turn,
                    trace_id: &conv.trace_id,
                    events: conv.events.as_ref(),
                },
            };
            // A model that panics fails this run with the panic's message; the swarm goes on.
            let respond = AssertUnwindSafe(spec.model.respond(request))
                .catch_unwind()
                .instrument(tracing::info_span!("model", turn));
            tokio::select! {
                biased;
                () = core.cancel.cancelled() => None,
                response = respond => Some(response.unwrap_or_else(|payload| {
                    Err(ModelError::Panicked {
                        message: panic_message(&*payload),
                    })
                })),
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
        // Whatever ids the model wrote, each call gets one no other call in the run has.
        let renamed = call_ids::make_unique(&mut conv.items, first_new, turn);
        if renamed > 0 {
            tracing::debug!(
                renamed,
                "gave calls with missing or repeated ids fresh ones"
            );
        }

        // 2. No function call: the run ends with the output text.
        let cap = conv.limits.max_calls_per_turn;
        let mut calls = plan_turn(shard, agent, &conv.items[first_new..], first_new, cap);
        if calls.is_empty() {
            return conv.finish(&spec.name, first_new);
        }
        // Calls refused before they run show in the timeline now, not when the turn ends.
        report_decided(&mut conv, spec, turn, &mut calls);

        // The handoff-loop guard, before anything runs.
        let handoff = calls
            .iter()
            .position(|c| matches!(c.plan, Plan::Handoff(_)));
        let mut refused = None;
        if let Some(pos) = handoff
            && let Plan::Handoff(target) = &calls[pos].plan
            && let Some(reason) = loop_guard(&conv, &target.spec.name)
        {
            refuse(&mut calls[pos], reason.clone());
            refused = Some(reason);
        }

        // 3. Every regular call at once; replies joined in call order. Nested runs the calls
        // start (agents used as tools) take their turns from this run's and report them.
        let slots = calls
            .iter()
            .filter(|call| matches!(call.plan, Plan::Tool(..)))
            .map(|call| match &conv.items[call.item] {
                Item::FunctionCall { call_id, .. } => CallSlot::new(call_id),
                _ => CallSlot::new(""),
            })
            .collect();
        let scope = RunScope::new(
            conv.trace_id.clone(),
            Arc::clone(&spec.name),
            conv.limits.max_turns.saturating_sub(conv.turns),
            slots,
        );
        let cancelled_now = fan_out(core, spec, &conv, &mut calls, &scope).await;
        let nested = scope.used();
        conv.usage.add(&nested);
        conv.turns = conv
            .turns
            .saturating_add(u32::try_from(nested.requests).unwrap_or(u32::MAX));
        if cancelled_now && let Some(pos) = handoff {
            // The conversation will not move after all: say so in the handoff's output.
            let reason = "the swarm shut down before the conversation moved";
            refuse(&mut calls[pos], reason.to_owned());
        }

        // 5. One output per call, in call order, whatever happened.
        let now = conv.elapsed();
        let mut target = None;
        // A model that takes no images reads the references the outputs' text holds.
        let takes_images = spec.model.takes_images();
        for call in calls {
            let Item::FunctionCall { call_id, name, .. } = &conv.items[call.item] else {
                continue; // `calls` only holds function calls
            };
            let call_id = call_id.clone();
            let output = call.output.unwrap_or_else(|| {
                ToolError::Unavailable {
                    tool: name.clone(),
                    reason: "the swarm shut down during the call".to_owned(),
                }
                .to_output()
            });
            match call.plan {
                Plan::Handoff(slot) => target = Some(slot),
                Plan::Decided => {} // reported when it was decided (`report_decided`)
                Plan::Tool(entry, _) => {
                    let (timing, error) = match call.timing {
                        Some(timing) => (timing, call.error),
                        None => ((now, now, false), Some(ToolErrorKind::Unavailable)),
                    };
                    let name = Arc::clone(entry.def.shared_name());
                    let done = Ended {
                        timing,
                        error,
                        restarts: call.restarts,
                    };
                    report_call(&mut conv, spec, turn, name, &call_id, done);
                }
            }
            let images = if takes_images {
                call.images
            } else {
                Vec::new()
            };
            conv.items.push(Item::FunctionCallOutput {
                call_id,
                output,
                images,
            });
        }
        if cancelled_now {
            return conv.fail(cancelled(spec));
        }
        if let Some(reason) = refused {
            return conv.fail(|partial| RunError::HandoffLoop { reason, partial });
        }

        // 4. A valid handoff moves the conversation; this agent takes no more turns.
        if let Some(target) = target {
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
            if let Some(events) = &conv.events {
                events.send(StreamEvent::Handoff {
                    from: Arc::clone(&spec.name),
                    to: Arc::clone(&target.spec.name),
                });
            }
            // Mailboxes are unbounded (see `mailbox`), so only a stopped agent refuses.
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

/// How a tool call ended: start, end, whether it produced a result, and its tool's restart
/// count then.
struct Ended {
    timing: (Duration, Duration, bool),
    /// The kind of its error output, if it got one.
    error: Option<ToolErrorKind>,
    restarts: u32,
}

/// Reports a call that ended (or was refused) in the timeline and to a streamed run's listener.
fn report_call(
    conv: &mut Conversation,
    spec: &AgentSpec,
    turn: u32,
    name: Arc<str>,
    call_id: &str,
    ended: Ended,
) {
    let Ended {
        timing: (start, end, ok),
        error,
        restarts,
    } = ended;
    if let Some(events) = &conv.events {
        events.send(StreamEvent::ToolCall {
            agent: Arc::clone(&spec.name),
            name: Arc::clone(&name),
            call_id: call_id.to_owned(),
            ok,
            restarts,
        });
    }
    conv.timeline.push(Event {
        agent: Arc::clone(&spec.name),
        turn,
        start,
        end,
        kind: EventKind::Tool {
            name,
            call_id: call_id.to_owned(),
            ok,
            error,
            restarts,
        },
    });
}

/// Reports the calls whose outputs were decided without running them (unknown tools, bad
/// arguments, refused handoffs, calls past the per-turn cap), at the moment they were refused.
fn report_decided(conv: &mut Conversation, spec: &AgentSpec, turn: u32, calls: &mut [Call]) {
    let at = conv.elapsed();
    for call in calls.iter_mut() {
        if !matches!(call.plan, Plan::Decided) {
            continue;
        }
        let Item::FunctionCall { call_id, name, .. } = &conv.items[call.item] else {
            continue; // `calls` only holds function calls
        };
        let (name, call_id) = (Arc::<str>::from(name.as_str()), call_id.clone());
        call.timing = Some((at, at, false));
        let ended = Ended {
            timing: (at, at, false),
            error: call.error,
            restarts: 0,
        };
        report_call(conv, spec, turn, name, &call_id, ended);
    }
}

/// Sorts the calls among `new_items` (which start at index `first` of the conversation). The
/// first valid handoff wins; a later one gets an "ignored" output; unknown or disallowed
/// targets, unknown tools and bad arguments get error outputs, and so does every call past
/// the first `cap` of the turn.
fn plan_turn(
    shard: &Shard,
    agent: &ShardAgent,
    new_items: &[Item],
    first: usize,
    cap: usize,
) -> Vec<Call> {
    let spec = &*agent.spec;
    let mut calls = Vec::new();
    let mut taken: Option<Arc<str>> = None;
    for (offset, item) in new_items.iter().enumerate() {
        let Item::FunctionCall {
            name, arguments, ..
        } = item
        else {
            continue;
        };
        if calls.len() >= cap {
            let output = ToolError::PastTurnCap {
                tool: name.clone(),
                position: calls.len() + 1,
                cap,
            }
            .to_output();
            calls.push(Call {
                item: first + offset,
                plan: Plan::Decided,
                output: Some(output),
                timing: None,
                error: Some(ToolErrorKind::PastTurnCap),
                restarts: 0,
                images: Vec::new(),
            });
            continue;
        }
        let (plan, output, error) = match handoff::recognize(spec.handoff_style, name, arguments) {
            Recognized::To(target) => match &taken {
                Some(taken) => (
                    Plan::Decided,
                    Some(
                        HandoffError::Ignored {
                            taken: taken.to_string(),
                        }
                        .to_output(),
                    ),
                    Some(ToolErrorKind::Handoff),
                ),
                None => match choose_target(shard, spec, &target) {
                    Ok(slot) => {
                        taken = Some(Arc::clone(&slot.spec.name));
                        let output = handoff::done_output(&slot.spec.name);
                        (Plan::Handoff(slot), Some(output), None)
                    }
                    Err(e) => (
                        Plan::Decided,
                        Some(e.to_output()),
                        Some(ToolErrorKind::Handoff),
                    ),
                },
            },
            Recognized::Malformed(message) => (
                Plan::Decided,
                Some(HandoffError::Malformed(message).to_output()),
                Some(ToolErrorKind::Handoff),
            ),
            Recognized::NotHandoff => match agent.tool(name) {
                None => (
                    Plan::Decided,
                    Some(
                        ToolError::UnknownTool {
                            tool: name.clone(),
                            agent: spec.name.to_string(),
                            available: spec.tool_list(),
                        }
                        .to_output(),
                    ),
                    Some(ToolErrorKind::UnknownTool),
                ),
                Some(entry) => match args::check(&entry.def, arguments) {
                    Ok(arguments) => (Plan::Tool(Arc::clone(entry), Some(arguments)), None, None),
                    Err(e) => (Plan::Decided, Some(e.to_output()), Some(e.kind())),
                },
            },
        };
        calls.push(Call {
            item: first + offset,
            plan,
            output,
            timing: None,
            error,
            restarts: 0,
            images: Vec::new(),
        });
    }
    calls
}

/// Sends the turn's tool calls and records their outputs in `calls`; returns whether shutdown
/// cut the turn short (calls still running then have no output yet).
async fn fan_out(
    core: &Core,
    spec: &AgentSpec,
    conv: &Conversation,
    calls: &mut [Call],
    scope: &Arc<RunScope>,
) -> bool {
    let (run, own) = (&conv.limits, &spec.limits);
    let mut fanout = Fanout::new(
        &conv.items,
        calls,
        conv.started(),
        own.max_tool_calls_in_flight
            .unwrap_or(run.max_tool_calls_in_flight),
        own.tool_timeout.unwrap_or(run.tool_timeout),
        Arc::clone(scope),
        core.tool_permits.clone(),
    );
    if fanout.is_empty() {
        return false;
    }
    // Calls that finished keep their outputs even when shutdown cuts the turn short.
    tokio::select! {
        biased;
        () = core.cancel.cancelled() => true,
        () = &mut fanout => false,
    }
}

/// Resolves a handoff target named by the model.
fn choose_target(
    shard: &Shard,
    spec: &AgentSpec,
    target: &str,
) -> Result<Arc<AgentSlot>, HandoffError> {
    let slot = shard.agent(target);
    if spec.can_hand_off_to(target)
        && let Some(slot) = slot
    {
        return Ok(slot);
    }
    let from = spec.name.to_string();
    let allowed = spec.handoff_list();
    Err(if shard.agent(target).is_some() {
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

/// Gives the turn's handoff call the output that says it did not happen, and why.
fn refuse(call: &mut Call, reason: String) {
    if let Plan::Handoff(target) = &call.plan {
        let target = target.spec.name.to_string();
        call.output = Some(HandoffError::Refused { target, reason }.to_output());
    }
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

/// The error of a run stopped by shutdown.
fn cancelled(spec: &AgentSpec) -> impl FnOnce(Box<PartialRun>) -> RunError + '_ {
    move |partial| RunError::Cancelled {
        agent: spec.name.to_string(),
        partial,
    }
}
