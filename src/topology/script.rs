//! Scripted turns: checked against the agent that plays them (calls it may not make and
//! quoted outputs no call has are warnings), then built into the scripted model's turns or a
//! simulation's ([`SimTurn`]).
//!
//! `tools` and `handoffs` below are the names the agent lists.

use std::collections::HashSet;

use super::diagnostic::Problems;
use super::raw::{RawCall, RawTurn};
use super::read::Located;
use crate::model::{ScriptedCall, ScriptedTurn};
use crate::sim::{SimCall, SimTurn};

/// Checks and builds one scripted turn.
pub(super) fn turn(
    p: &mut Problems,
    raw: &RawTurn,
    tools: Option<&HashSet<&str>>,
    handoffs: &HashSet<&str>,
    name: &str,
    ids: &HashSet<&str>,
) -> ScriptedTurn {
    check(p, raw, tools, handoffs, name, ids);
    let calls = shapes(raw)
        .map(|call| match call {
            Shape::Tool { name, args, id } => {
                let arguments = match args {
                    None => "{}".to_owned(),
                    Some(serde_json::Value::String(text)) => text.clone(),
                    Some(value) => value.to_string(),
                };
                let made = ScriptedCall::tool_raw(name.to_owned(), arguments);
                match id {
                    Some(id) => made.with_id(id.to_owned()),
                    None => made,
                }
            }
            Shape::Handoff { agent, id } => {
                let made = ScriptedCall::handoff(agent.to_owned());
                match id {
                    Some(id) => made.with_id(id.to_owned()),
                    None => made,
                }
            }
        })
        .collect();
    ScriptedTurn {
        text: raw.text.as_ref().map(|t| t.value.clone()),
        calls,
    }
}

/// Builds a turn already checked with [`check`] as a simulation plays it: the arguments as
/// written (a string stays a string, sent as it is; none: `{}`).
pub(super) fn sim_turn(raw: &RawTurn) -> SimTurn {
    let calls: Vec<SimCall> = shapes(raw)
        .map(|call| match call {
            Shape::Tool { name, args, id } => {
                let args = args
                    .cloned()
                    .unwrap_or_else(|| serde_json::Value::Object(serde_json::Map::new()));
                let made = SimCall::tool(name, args);
                match id {
                    Some(id) => made.with_id(id),
                    None => made,
                }
            }
            Shape::Handoff { agent, .. } => SimCall::Handoff {
                agent: agent.to_owned(),
            },
        })
        .collect();
    let mut turn = SimTurn::calls(calls);
    turn.text = raw.text.as_ref().map(|t| t.value.clone());
    turn
}

/// Checks one scripted turn: its calls' shapes (errors), and calls the agent cannot make and
/// quoted outputs no call has (warnings).
pub(super) fn check(
    p: &mut Problems,
    raw: &RawTurn,
    tools: Option<&HashSet<&str>>,
    handoffs: &HashSet<&str>,
    name: &str,
    ids: &HashSet<&str>,
) {
    if let Some(text) = &raw.text {
        for id in output_refs(&text.value) {
            if !ids.contains(id) {
                p.warning(
                    &text.at,
                    format!("this text quotes `{{{{output:{id}}}}}`, but no scripted call has the id `{id}`"),
                    Some(format!("add `id: {id}` to the scripted call whose output it means")),
                );
            }
        }
    }
    for call in &raw.calls {
        check_call(p, call, tools, handoffs, name);
    }
    if let Some(target) = &raw.handoff {
        check_scripted_handoff(p, target, handoffs, name);
    }
}

/// The ids quoted as `{{output:<id>}}` in a scripted text.
fn output_refs(text: &str) -> impl Iterator<Item = &str> {
    text.split("{{output:")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}").map(|(id, _)| id))
}

/// A well-formed scripted call.
enum Shape<'r> {
    Tool {
        name: &'r str,
        args: Option<&'r serde_json::Value>,
        id: Option<&'r str>,
    },
    Handoff {
        agent: &'r str,
        id: Option<&'r str>,
    },
}

/// The shape of `call`, if it is well formed (`check_call` reports it otherwise).
fn shape(call: &RawCall) -> Option<Shape<'_>> {
    let id = call.id.as_deref();
    match (&call.tool, &call.handoff) {
        (Some(tool), None) => Some(Shape::Tool {
            name: &tool.value,
            args: call.args.as_ref(),
            id,
        }),
        (None, Some(target)) if call.args.is_none() => Some(Shape::Handoff {
            agent: &target.value,
            id,
        }),
        _ => None,
    }
}

/// The well-formed calls of a turn, its `handoff:` shorthand last.
fn shapes(raw: &RawTurn) -> impl Iterator<Item = Shape<'_>> {
    let handoff = raw.handoff.as_ref().map(|target| Shape::Handoff {
        agent: &target.value,
        id: None,
    });
    raw.calls
        .iter()
        .filter_map(|c| shape(&c.value))
        .chain(handoff)
}

fn check_call(
    p: &mut Problems,
    raw: &Located<RawCall>,
    tools: Option<&HashSet<&str>>,
    handoffs: &HashSet<&str>,
    name: &str,
) {
    let call = &raw.value;
    match (&call.tool, &call.handoff) {
        (Some(tool), None) => {
            if tools.is_some_and(|tools| !tools.contains(tool.value.as_str())) {
                p.warning(
                    &tool.at,
                    format!("scripted call to `{}`, which agent `{name}` cannot call", tool.value),
                    Some("the call will get an error output; add the tool to the agent's `tools` if that is not the point".to_owned()),
                );
            }
        }
        (None, Some(target)) if call.args.is_none() => {
            check_scripted_handoff(p, target, handoffs, name);
        }
        (None, Some(_)) => p.error(&raw.at, "a scripted handoff takes no `args`", None),
        _ => p.error(
            &raw.at,
            "a scripted call needs exactly one of `tool` or `handoff`",
            None,
        ),
    }
}

fn check_scripted_handoff(
    p: &mut Problems,
    target: &Located<String>,
    handoffs: &HashSet<&str>,
    name: &str,
) {
    if !handoffs.contains(target.value.as_str()) {
        p.warning(
            &target.at,
            format!(
                "scripted handoff to `{}`, which is not among agent `{name}`'s handoffs",
                target.value
            ),
            Some("the handoff will get an error output; add it to the agent's `handoffs` if that is not the point".to_owned()),
        );
    }
}
