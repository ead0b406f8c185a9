//! Scripted turns: built into the scripted model, and checked against the agent that plays
//! them (calls it may not make and quoted outputs no call has are warnings).
//!
//! `tools` and `handoffs` below are the names the agent lists.

use std::collections::HashSet;

use super::diagnostic::Problems;
use super::raw::{RawCall, RawTurn};
use super::read::Located;
use crate::model::{ScriptedCall, ScriptedTurn};

/// Builds one scripted turn, checking its calls.
pub(super) fn turn(
    p: &mut Problems,
    raw: &RawTurn,
    tools: Option<&HashSet<&str>>,
    handoffs: &HashSet<&str>,
    name: &str,
    ids: &HashSet<&str>,
) -> ScriptedTurn {
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
    let mut calls: Vec<ScriptedCall> = raw
        .calls
        .iter()
        .filter_map(|c| call(p, c, tools, handoffs, name))
        .collect();
    if let Some(target) = &raw.handoff {
        check_scripted_handoff(p, target, handoffs, name);
        calls.push(ScriptedCall::handoff(target.value.clone()));
    }
    ScriptedTurn {
        text: raw.text.as_ref().map(|t| t.value.clone()),
        calls,
    }
}

/// The ids quoted as `{{output:<id>}}` in a scripted text.
fn output_refs(text: &str) -> impl Iterator<Item = &str> {
    text.split("{{output:")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}").map(|(id, _)| id))
}

fn call(
    p: &mut Problems,
    raw: &Located<RawCall>,
    tools: Option<&HashSet<&str>>,
    handoffs: &HashSet<&str>,
    name: &str,
) -> Option<ScriptedCall> {
    let call = &raw.value;
    let made = match (&call.tool, &call.handoff) {
        (Some(tool), None) => {
            if tools.is_some_and(|tools| !tools.contains(tool.value.as_str())) {
                p.warning(
                    &tool.at,
                    format!("scripted call to `{}`, which agent `{name}` cannot call", tool.value),
                    Some("the call will get an error output; add the tool to the agent's `tools` if that is not the point".to_owned()),
                );
            }
            let arguments = match &call.args {
                None => "{}".to_owned(),
                Some(serde_json::Value::String(text)) => text.clone(),
                Some(value) => value.to_string(),
            };
            ScriptedCall::tool_raw(tool.value.clone(), arguments)
        }
        (None, Some(target)) if call.args.is_none() => {
            check_scripted_handoff(p, target, handoffs, name);
            ScriptedCall::handoff(target.value.clone())
        }
        (None, Some(_)) => {
            p.error(&raw.at, "a scripted handoff takes no `args`", None);
            return None;
        }
        _ => {
            p.error(
                &raw.at,
                "a scripted call needs exactly one of `tool` or `handoff`",
                None,
            );
            return None;
        }
    };
    Some(match &call.id {
        Some(id) => made.with_id(id.clone()),
        None => made,
    })
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
