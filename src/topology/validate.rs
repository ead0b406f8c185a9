//! Checks the raw topology as a whole and builds the [`Topology`], or reports every problem.
//!
//! The reader has already reported wrong types, missing and unknown fields; here come the
//! problems that need the whole picture: names (unique, and ones the OpenAI API accepts),
//! references (the entry agent, tools, handoff targets, models, with "did you mean" hints),
//! tool options, scripted turns, and the graph: agents unreachable from the entry agent,
//! agent tools that could call themselves (errors), and handoff cycles (warnings: they are
//! real flows, and the run limits bound them).

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use super::diagnostic::{Place, Problems, TopologyError};
use super::graph::Graph;
use super::load::Loaded;
use super::raw::{RawAgent, RawCall, RawLimits, RawModel, RawModelSettings, RawTool, RawTurn};
use super::read::{Located, did_you_mean};
use super::{ToolConfig, ToolKind, Topology};
use crate::agent::{Agent, Limits};
use crate::handoff::{HANDOFF_FUNCTION, TRANSFER_PREFIX};
use crate::model::{
    DEFAULT_API_KEY_ENV, ModelConfig, ModelLimits, ModelSettings, ScriptedCall, ScriptedModel,
    ScriptedTurn,
};
use crate::tool::ToolOptions;
use crate::tool::builtin;
use crate::tool::def::check_name;

/// The longest agent name: handoffs call `transfer_to_<name>`, and function names stop at 64.
pub(super) const MAX_AGENT_NAME: usize = 64 - TRANSFER_PREFIX.len();

/// Threads a blocking tool's pool may have.
const MAX_POOL_THREADS: u32 = 256;

pub(super) fn validate(loaded: Loaded) -> Result<Topology, TopologyError> {
    let Loaded {
        main,
        folder,
        files,
        raw,
        agents: raw_agents,
        agents_at,
        mut problems,
    } = loaded;
    let p = &mut problems;

    // ----- agents: names -----
    let mut agents: Vec<(&Located<String>, &RawAgent)> = Vec::new();
    for agent in &raw_agents {
        let Some(name) = &agent.value.name else {
            continue;
        };
        if let Some((first, _)) = agents.iter().find(|(n, _)| n.value == name.value) {
            p.error(
                &name.at,
                format!("agent `{}` is defined twice", name.value),
                Some(format!("the first is at {}", first_at(&first.at, &name.at))),
            );
            continue;
        }
        if name.value.len() > MAX_AGENT_NAME || check_name(&name.value).is_err() {
            p.error(
                &name.at,
                format!("agent name `{}` is invalid", name.value),
                Some(format!(
                    "use 1 to {MAX_AGENT_NAME} letters, digits, `_` or `-`: handoffs to it are functions named `transfer_to_<name>`"
                )),
            );
        }
        agents.push((name, &agent.value));
    }
    let names: Vec<&str> = agents.iter().map(|(n, _)| n.value.as_str()).collect();
    let index_of = |name: &str| names.iter().position(|n| *n == name);
    if raw_agents.is_empty()
        && let Some(at) = &agents_at
    {
        p.error(at, "a topology needs at least one agent", None);
    }

    // ----- entry -----
    let entry = raw.entry.as_ref();
    if let Some(entry) = entry
        && index_of(&entry.value).is_none()
    {
        p.error(
            &entry.at,
            format!("entry agent `{}` is not defined", entry.value),
            did_you_mean(&entry.value, names.iter().copied())
                .or_else(|| list_hint("agents", &names)),
        );
    }

    // ----- models -----
    let models = models(p, &raw.models);
    let model_ref = |p: &mut Problems, name: &Located<String>| -> Option<String> {
        if models.iter().any(|m| m.name == name.value) {
            Some(name.value.clone())
        } else {
            p.error(
                &name.at,
                format!("unknown model `{}`", name.value),
                did_you_mean(&name.value, models.iter().map(|m| m.name.as_str()))
                    .or_else(|| Some("define it under `models:`".to_owned())),
            );
            None
        }
    };
    let default_model = raw.model.as_ref().and_then(|m| model_ref(p, m));

    // ----- tools -----
    let tools = tools(p, &raw.tools, &agents);
    let tool_names: Vec<&str> = tools.iter().map(|(t, _)| t.name.as_str()).collect();

    // ----- agents: references, models, scripts -----
    let call_ids: HashSet<&str> = agents
        .iter()
        .flat_map(|(_, a)| a.scripted.iter().flatten())
        .flat_map(|turn| &turn.calls)
        .filter_map(|call| call.value.id.as_deref())
        .collect();
    let any_script = agents.iter().any(|(_, a)| a.scripted.is_some());
    let mut built = Vec::with_capacity(agents.len());
    let mut agent_models = Vec::with_capacity(agents.len());
    let mut scripted = ScriptedModel::new();
    let mut graph = Graph::new(agents.len());
    let mut handoff_graph = Graph::new(agents.len());
    // A reference to an agent that does not exist leaves the graph incomplete: reachability
    // would then blame agents that a fixed typo would reach.
    let mut dangling = raw.tools.iter().any(|t| {
        matches!(&t.value, RawTool::Agent(a)
            if a.agent.as_ref().is_some_and(|n| index_of(&n.value).is_none()))
    });
    for (i, (name, agent)) in agents.iter().enumerate() {
        let name = &name.value;
        check_list(p, &agent.tools, "tool", name);
        for tool in &agent.tools {
            match tools.iter().find(|(t, _)| t.name == tool.value) {
                Some((
                    ToolConfig {
                        kind: ToolKind::Agent { agent: target, .. },
                        ..
                    },
                    _,
                )) => {
                    if let Some(j) = index_of(target) {
                        graph.add(i, j);
                    }
                }
                Some(_) => {}
                None => p.error(
                    &tool.at,
                    format!("unknown tool `{}` in agent `{name}`", tool.value),
                    did_you_mean(&tool.value, tool_names.iter().copied())
                        .or_else(|| Some("add it under `tools:` at the top level".to_owned())),
                ),
            }
        }
        check_list(p, &agent.handoffs, "handoff target", name);
        for target in &agent.handoffs {
            if target.value == *name {
                p.error(
                    &target.at,
                    format!("agent `{name}` hands off to itself"),
                    Some(
                        "an agent keeps the conversation by answering; remove this handoff"
                            .to_owned(),
                    ),
                );
            } else if let Some(j) = index_of(&target.value) {
                graph.add(i, j);
                handoff_graph.add(i, j);
            } else {
                dangling = true;
                p.error(
                    &target.at,
                    format!(
                        "unknown handoff target `{}` in agent `{name}`",
                        target.value
                    ),
                    did_you_mean(&target.value, names.iter().copied().filter(|a| a != name)),
                );
            }
        }
        let model = match &agent.model {
            Some(m) => model_ref(p, m),
            None => default_model.clone(),
        };
        let agent_at = agents[i].0.at.clone();
        if model.is_none() && agent.model.is_none() && agent.scripted.is_none() {
            let hint = if any_script {
                "offline runs that reach it fail; give it `scripted:` turns or a `model:`"
            } else {
                "name one with `model:` (defined under `models:`), set a top-level `model:`, give it `scripted:` turns, or pass one to `SwarmBuilder::model` in Rust"
            };
            p.warning(
                &agent_at,
                format!("agent `{name}` has no model and no scripted turns"),
                Some(hint.to_owned()),
            );
        }
        if let Some(turns) = &agent.scripted {
            let turns: Vec<ScriptedTurn> = turns
                .iter()
                .map(|t| turn(p, t, agent, name, &call_ids))
                .collect();
            scripted = scripted.with_agent(name.clone(), turns);
        }
        agent_models.push(model);
        let mut built_agent = Agent::new(name.clone())
            .with_model_settings(
                agent
                    .model_settings
                    .as_ref()
                    .map(settings)
                    .unwrap_or_default(),
            )
            .with_description(agent.description.clone().unwrap_or_default())
            .with_instructions(agent.instructions.clone().unwrap_or_default())
            .with_tools(agent.tools.iter().map(|t| t.value.clone()))
            .with_handoffs(agent.handoffs.iter().map(|t| t.value.clone()));
        if let Some(style) = agent.handoff_style {
            built_agent = built_agent.with_handoff_style(style.0);
        }
        built.push(built_agent);
    }

    // ----- the graph -----
    let limits = limits(raw.limits.as_ref());
    if let Some(start) = entry.and_then(|e| index_of(&e.value))
        && !dangling
    {
        let reached = graph.search(start);
        for (i, (name, _)) in agents.iter().enumerate() {
            if reached[i].is_none() {
                p.error(
                    &name.at,
                    format!(
                        "agent `{}` is unreachable from the entry agent `{}`",
                        name.value, names[start]
                    ),
                    Some(format!(
                        "hand off to it from another agent, use it as a tool (`- agent: {}` under `tools:`), or remove it",
                        name.value
                    )),
                );
            }
        }
    }
    for component in handoff_graph.cyclic_components() {
        handoff_cycle(p, &handoff_graph, &component, &agents, &limits);
    }
    for (tool, at) in &tools {
        if let ToolKind::Agent { agent: target, .. } = &tool.kind {
            recursive_tool(p, &graph, tool, target, at, &agents);
        }
    }

    if p.has_errors() {
        return Err(TopologyError::Invalid(problems.into_sorted(&files)));
    }
    let name = raw
        .name
        .clone()
        .unwrap_or_else(|| default_name(&main, folder.as_deref()));
    Ok(Topology {
        path: main.to_path_buf(),
        files: files.iter().map(|f| f.to_path_buf()).collect(),
        name,
        description: raw.description.clone().unwrap_or_default(),
        entry: entry.map(|e| e.value.clone()).unwrap_or_default(),
        limits,
        handoff_style: raw.handoff_style.map(|s| s.0).unwrap_or_default(),
        tools: tools.into_iter().map(|(t, _)| t).collect(),
        agents: built,
        models,
        agent_models,
        scripted: any_script.then(|| Arc::new(scripted)),
        warnings: problems.into_sorted(&files),
    })
}

/// `name:`, else the folder's name, else the file's stem.
fn default_name(main: &Path, folder: Option<&Path>) -> String {
    folder
        .and_then(Path::file_name)
        .or_else(|| main.file_stem())
        .map_or_else(
            || "topology".to_owned(),
            |s| s.to_string_lossy().into_owned(),
        )
}

/// Where the first of two definitions is: `line 4`, or `agents/x.yaml:4` in another file.
fn first_at(first: &Place, here: &Place) -> String {
    if first.file == here.file {
        format!("line {}", first.line)
    } else {
        format!("{}:{}", first.file.display(), first.line)
    }
}

/// `agents: a, b, c` (at most ten names), or nothing if there are none.
fn list_hint(what: &str, names: &[&str]) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    let more = if names.len() > 10 { ", ..." } else { "" };
    Some(format!(
        "{what}: {}{more}",
        names[..names.len().min(10)].join(", ")
    ))
}

/// Warns about a name listed twice in an agent's `tools` or `handoffs`.
fn check_list(p: &mut Problems, list: &[Located<String>], what: &str, agent: &str) {
    for (i, item) in list.iter().enumerate() {
        if list[..i].iter().any(|earlier| earlier.value == item.value) {
            p.warning(
                &item.at,
                format!("{what} `{}` is listed twice in agent `{agent}`", item.value),
                None,
            );
        }
    }
}

fn models(p: &mut Problems, raw: &[RawModel]) -> Vec<ModelConfig> {
    let mut models: Vec<ModelConfig> = Vec::with_capacity(raw.len());
    let mut places: Vec<&Place> = Vec::new();
    for model in raw {
        let (Some(name), Some(provider)) = (&model.name, model.provider) else {
            continue;
        };
        if let Some(i) = models.iter().position(|m| m.name == name.value) {
            p.error(
                &name.at,
                format!("model `{}` is defined twice", name.value),
                Some(format!("the first is at {}", first_at(places[i], &name.at))),
            );
            continue;
        }
        if let Some(url) = &model.base_url
            && !(url.value.starts_with("http://") || url.value.starts_with("https://"))
        {
            p.error(
                &url.at,
                format!(
                    "`base_url` must be an http:// or https:// URL, not `{}`",
                    url.value
                ),
                Some("for example `http://localhost:11434/v1`".to_owned()),
            );
        }
        if let Some(var) = &model.api_key_env
            && !is_env_name(&var.value)
        {
            p.error(
                &var.at,
                format!(
                    "`api_key_env` names an environment variable, not `{}`",
                    var.value
                ),
                Some(
                    "write the variable's name (`OPENAI_API_KEY`), never the key itself".to_owned(),
                ),
            );
        }
        let mut limits = ModelLimits::default();
        if let Some(l) = &model.limits {
            limits.timeout = l.timeout.map(|d| d.0);
            limits.max_retries = l.max_retries.map(|r| r.0);
            limits.max_in_flight = l.max_in_flight.map(|n| n.0 as usize);
        }
        places.push(&name.at);
        models.push(ModelConfig {
            name: name.value.clone(),
            provider: provider.0,
            model: model.model.clone(),
            base_url: model.base_url.as_ref().map(|u| u.value.clone()),
            api_key_env: model
                .api_key_env
                .as_ref()
                .map_or_else(|| DEFAULT_API_KEY_ENV.to_owned(), |v| v.value.clone()),
            settings: model.settings.as_ref().map(settings).unwrap_or_default(),
            limits,
        });
    }
    models
}

/// `[A-Za-z_][A-Za-z0-9_]*`
fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn settings(raw: &RawModelSettings) -> ModelSettings {
    // A full literal: a field added to `ModelSettings` fails to compile here, and the unit test
    // `model_settings_mirror_every_field` checks that `RawModelSettings` reads it.
    ModelSettings {
        temperature: raw.temperature,
        top_p: raw.top_p,
        max_output_tokens: raw.max_output_tokens.map(|t| t.0),
        tool_choice: raw.tool_choice.clone().map(|c| c.0),
        parallel_tool_calls: raw.parallel_tool_calls,
        reasoning_effort: raw.reasoning_effort.clone(),
        strict_tools: raw.strict_tools,
        extra: raw.extra.clone().unwrap_or_default(),
    }
}

/// Checks the `tools:` section; returns each tool with where it is defined.
fn tools(
    p: &mut Problems,
    raw: &[Located<RawTool>],
    agents: &[(&Located<String>, &RawAgent)],
) -> Vec<(ToolConfig, Place)> {
    let mut tools: Vec<(ToolConfig, Place)> = Vec::with_capacity(raw.len());
    for tool in raw {
        let (name, kind, options, at) = match &tool.value {
            RawTool::Builtin(b) => {
                let Some(name) = &b.builtin else { continue };
                let Some(register) = builtin::find(&name.value) else {
                    p.error(
                        &name.at,
                        format!("unknown builtin tool `{}`", name.value),
                        did_you_mean(&name.value, builtin::NAMES.iter().copied())
                            .or_else(|| list_hint("builtins", builtin::NAMES)),
                    );
                    continue;
                };
                if name.value == "burn_ms"
                    && let Some(n) = &b.options.max_concurrency
                    && n.value.0 > MAX_POOL_THREADS
                {
                    p.error(
                        &n.at,
                        format!("`max_concurrency` of `burn_ms` is its thread count: at most {MAX_POOL_THREADS}"),
                        None,
                    );
                }
                (
                    name.value.clone(),
                    ToolKind::Builtin(register),
                    &b.options,
                    name.at.clone(),
                )
            }
            RawTool::Agent(a) => {
                let Some(agent) = &a.agent else { continue };
                let (name, at) = match &a.name {
                    Some(name) => (name.value.clone(), name.at.clone()),
                    None => (agent.value.clone(), agent.at.clone()),
                };
                let Some((_, target)) = agents.iter().find(|(n, _)| n.value == agent.value) else {
                    p.error(
                        &agent.at,
                        format!("unknown agent `{}` for an agent tool", agent.value),
                        did_you_mean(&agent.value, agents.iter().map(|(n, _)| n.value.as_str())),
                    );
                    check_tool_name(p, &name, &at);
                    continue;
                };
                let description = a
                    .description
                    .clone()
                    .or_else(|| target.description.clone())
                    .unwrap_or_else(|| {
                        format!("Asks the {} agent and returns its answer.", agent.value)
                    });
                let kind = ToolKind::Agent {
                    agent: agent.value.clone(),
                    description,
                };
                (name, kind, &a.options, at)
            }
        };
        check_tool_name(p, &name, &at);
        if let Some((_, first)) = tools.iter().find(|(t, _)| t.name == name) {
            p.error(
                &at,
                format!("tool `{name}` is defined twice"),
                Some(format!("the first is at {}", first_at(first, &at))),
            );
            continue;
        }
        if let Some(retries) = &options.retries
            && retries.value.0 > 0
            && options.idempotent != Some(true)
        {
            p.warning(
                &retries.at,
                format!("`retries` has no effect: tool `{name}` is not marked `idempotent: true`"),
                Some("only idempotent tools are retried".to_owned()),
            );
        }
        let options = ToolOptions {
            max_concurrency: options.max_concurrency.as_ref().map(|n| n.value.0 as usize),
            timeout: options.timeout.map(|d| d.0),
            idempotent: options.idempotent.unwrap_or(false),
            retries: options.retries.as_ref().map_or(0, |r| r.value.0),
        };
        tools.push((
            ToolConfig {
                name,
                kind,
                options,
            },
            at,
        ));
    }
    tools
}

/// A tool name must be one the OpenAI API accepts, and not a handoff function's.
fn check_tool_name(p: &mut Problems, name: &str, at: &Place) {
    if check_name(name).is_err() {
        p.error(
            at,
            format!("tool name `{name}` would be rejected by the OpenAI API"),
            Some("use 1 to 64 letters, digits, `_` or `-`".to_owned()),
        );
    } else if name == HANDOFF_FUNCTION || name.starts_with(TRANSFER_PREFIX) {
        p.error(
            at,
            format!("tool name `{name}` is reserved for handoffs"),
            Some("choose another `name:`".to_owned()),
        );
    }
}

fn limits(raw: Option<&RawLimits>) -> Limits {
    let defaults = Limits::default();
    let Some(raw) = raw else { return defaults };
    Limits {
        max_turns: raw.max_turns.map_or(defaults.max_turns, |n| n.0),
        max_handoffs: raw.max_handoffs.map_or(defaults.max_handoffs, |n| n.0),
        max_agent_visits: raw
            .max_agent_visits
            .map_or(defaults.max_agent_visits, |n| n.0),
        tool_timeout: raw.tool_timeout.map_or(defaults.tool_timeout, |d| d.0),
        max_tool_calls_in_flight: raw
            .max_tool_calls_in_flight
            .map_or(defaults.max_tool_calls_in_flight, |n| n.0 as usize),
    }
}

/// Warns about one group of agents that can hand a run round in a circle.
fn handoff_cycle(
    p: &mut Problems,
    graph: &Graph,
    component: &[usize],
    agents: &[(&Located<String>, &RawAgent)],
    limits: &Limits,
) {
    // The shortest cycle through the component's first agent.
    let first = component[0];
    let Some(cycle) = graph.edges[first]
        .iter()
        .filter(|next| component.contains(next))
        .filter_map(|&next| graph.path(next, first))
        .min_by_key(Vec::len)
    else {
        return;
    };
    // The path runs from a successor of `first` back to it: its second-to-last agent
    // closes the cycle.
    let last = cycle.len().checked_sub(2).map_or(first, |i| cycle[i]);
    let mut names = vec![agents[first].0.value.as_str()];
    names.extend(cycle.iter().map(|&i| agents[i].0.value.as_str()));
    // Point at the handoff that closes the cycle.
    let closing = agents[last]
        .1
        .handoffs
        .iter()
        .find(|h| h.value == agents[first].0.value)
        .map_or(&agents[last].0.at, |h| &h.at);
    let others = if component.len() > names.len() - 1 {
        format!(" ({} agents take part in cycles here)", component.len())
    } else {
        String::new()
    };
    p.warning(
        closing,
        format!("handoff cycle: {}{others}", names.join(" -> ")),
        Some(format!(
            "allowed: each run is still bounded by `max_agent_visits` ({}) and `max_handoffs` ({})",
            limits.max_agent_visits, limits.max_handoffs
        )),
    );
}

/// Reports an agent tool whose agent can reach (by handoffs and agent tools) an agent that
/// uses the same tool: each call could start another nested run, without end.
fn recursive_tool(
    p: &mut Problems,
    graph: &Graph,
    tool: &ToolConfig,
    target: &str,
    at: &Place,
    agents: &[(&Located<String>, &RawAgent)],
) {
    let Some(start) = agents.iter().position(|(n, _)| n.value == target) else {
        return;
    };
    let path = agents
        .iter()
        .enumerate()
        .filter(|(_, (_, a))| a.tools.iter().any(|t| t.value == tool.name))
        .filter_map(|(user, _)| graph.path(start, user))
        .min_by_key(Vec::len);
    if let Some(path) = path {
        let names: Vec<&str> = path.iter().map(|&i| agents[i].0.value.as_str()).collect();
        let user = names.last().copied().unwrap_or(target);
        p.error(
            at,
            format!(
                "agent tool `{}` can call itself: it runs {}, and {} uses `{}`",
                tool.name,
                names.join(" -> "),
                user,
                tool.name
            ),
            Some("a nested run must not reach the tool that started it; remove the tool from that agent or break the chain".to_owned()),
        );
    }
}

/// Builds one scripted turn, checking its calls.
fn turn(
    p: &mut Problems,
    raw: &RawTurn,
    agent: &RawAgent,
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
        .filter_map(|c| call(p, c, agent, name))
        .collect();
    if let Some(target) = &raw.handoff {
        check_scripted_handoff(p, target, agent, name);
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
    agent: &RawAgent,
    name: &str,
) -> Option<ScriptedCall> {
    let call = &raw.value;
    let made = match (&call.tool, &call.handoff) {
        (Some(tool), None) => {
            if !agent.tools.iter().any(|t| t.value == tool.value) {
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
            check_scripted_handoff(p, target, agent, name);
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
    agent: &RawAgent,
    name: &str,
) {
    if !agent.handoffs.iter().any(|h| h.value == target.value) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The field names serde knows for `ModelSettings`, read from its unknown-field error.
    fn model_settings_fields() -> Vec<String> {
        let error = serde_json::from_value::<ModelSettings>(serde_json::json!({"?": 0}))
            .unwrap_err()
            .to_string();
        let list = error.split("expected one of ").nth(1).unwrap();
        let list = list.split(" at line").next().unwrap();
        list.split(", ")
            .map(|f| f.trim_matches('`').to_owned())
            .collect()
    }

    #[test]
    fn model_settings_mirror_every_field() {
        let schema = serde_json::Value::from(schemars::schema_for!(RawModelSettings));
        let mut mirrored: Vec<String> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let mut fields = model_settings_fields();
        mirrored.sort();
        fields.sort();
        assert_eq!(mirrored, fields, "update RawModelSettings and `settings`");
    }
}
