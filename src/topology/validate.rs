//! Checks the raw topology as a whole and builds the [`Topology`], or reports every problem.
//!
//! The reader has already reported wrong types, missing and unknown fields; here come the
//! problems that need the whole picture: names (unique, and ones the OpenAI API accepts),
//! references (the entry agent, tools, handoff targets, models, with "did you mean" hints),
//! tool options (`section`), scripted turns (`script`), and the graph: agents unreachable
//! from the entry agent, agent tools that could call themselves (errors), and handoff cycles
//! (warnings: they are real flows, and the run limits bound them).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use super::diagnostic::{Place, Problems, TopologyError};
use super::graph::Graph;
use super::load::Loaded;
use super::raw::{RawAgent, RawAgentLimits, RawLimits, RawTopology, ToolChoiceField};
use super::read::Located;
use super::{ToolConfig, Topology, script, section};
use crate::agent::{Agent, AgentLimits, Limits};
use crate::handoff::{HANDOFF_FUNCTION, HandoffStyle, TRANSFER_PREFIX};
use crate::model::{ScriptedModel, ScriptedTurn, ToolChoice};
use crate::tool::def::check_name;

/// The longest agent name: handoffs call `transfer_to_<name>`, and function names stop at 64.
pub(super) const MAX_AGENT_NAME: usize = 64 - TRANSFER_PREFIX.len();

pub(super) fn validate(loaded: Loaded) -> Result<Topology, TopologyError> {
    let Loaded {
        main,
        folder,
        files,
        raw,
        agents: raw_agents,
        agents_at,
        simulation,
        mut problems,
    } = loaded;
    let p = &mut problems;

    // ----- agents: names -----
    let mut agents: Vec<(&Located<String>, &RawAgent)> = Vec::new();
    // Each agent's position in `agents`, by name.
    let mut positions: HashMap<&str, usize> = HashMap::with_capacity(raw_agents.len());
    for agent in &raw_agents {
        let Some(name) = &agent.value.name else {
            continue;
        };
        if let Some(&first) = positions.get(name.value.as_str()) {
            let first = &agents[first].0.at;
            p.error(
                &name.at,
                format!("agent `{}` is defined twice", name.value),
                Some(format!("the first is at {}", first_at(first, &name.at))),
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
        positions.insert(&name.value, agents.len());
        agents.push((name, &agent.value));
    }
    let names: Vec<&str> = agents.iter().map(|(n, _)| n.value.as_str()).collect();
    let index_of = |name: &str| positions.get(name).copied();
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
        let hint = p
            .did_you_mean(&entry.value, names.iter().copied())
            .or_else(|| list_hint("agents", &names));
        p.error(
            &entry.at,
            format!("entry agent `{}` is not defined", entry.value),
            hint,
        );
    }

    // ----- models -----
    let models = section::models(p, &raw.models);
    let model_ref = |p: &mut Problems, name: &Located<String>| -> Option<String> {
        if models.iter().any(|m| m.name == name.value) {
            Some(name.value.clone())
        } else {
            let hint = p
                .did_you_mean(&name.value, models.iter().map(|m| m.name.as_str()))
                .or_else(|| Some("define it under `models:`".to_owned()));
            p.error(&name.at, format!("unknown model `{}`", name.value), hint);
            None
        }
    };
    let default_model = raw.model.as_ref().and_then(|m| model_ref(p, m));

    // ----- tools -----
    let (tools, broken_tools) = section::tools(p, &raw.tools, &agents, &positions);
    let tool_names: Vec<&str> = tools.iter().map(|(t, _)| t.name.as_str()).collect();
    // Each tool's agent (`None` for tools that run no agent), by name.
    let tool_agents: HashMap<&str, Option<&str>> = tools
        .iter()
        .map(|(t, _)| (t.name.as_str(), t.kind.agent()))
        .collect();
    // The tools that are sources of tools (MCP servers).
    let sources: HashSet<&str> = tools
        .iter()
        .filter(|(t, _)| t.kind.is_source())
        .map(|(t, _)| t.name.as_str())
        .collect();

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
    // Not recording: a topology's model may serve a long-lived swarm (tests turn it on).
    let mut scripted = ScriptedModel::new().with_recording(false);
    // The agents that list each tool, in order.
    let mut users: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut graph = Graph::new(agents.len());
    let mut handoff_graph = Graph::new(agents.len());
    // A reference to an agent that does not exist leaves the graph incomplete: reachability
    // would then blame agents that a fixed typo would reach.
    let mut dangling = raw.tools.iter().any(|t| {
        t.value
            .0
            .agent()
            .is_some_and(|n| index_of(&n.value).is_none())
    });
    for (i, (name, agent)) in agents.iter().enumerate() {
        let name = &name.value;
        let may_call = check_list(p, &agent.tools, "tool", name);
        for tool in &may_call {
            users.entry(tool).or_default().push(i);
        }
        for tool in &agent.tools {
            match tool_agents.get(tool.value.as_str()) {
                Some(Some(target)) => {
                    if let Some(j) = index_of(target) {
                        graph.add(i, j);
                    }
                }
                Some(_) => {}
                // Defined, with problems of its own, already reported.
                None if broken_tools.contains(tool.value.as_str()) => {}
                None => {
                    let hint = p
                        .did_you_mean(&tool.value, tool_names.iter().copied())
                        .or_else(|| Some("add it under `tools:` at the top level".to_owned()));
                    p.error(
                        &tool.at,
                        format!("unknown tool `{}` in agent `{name}`", tool.value),
                        hint,
                    );
                }
            }
        }
        let may_hand_off = check_list(p, &agent.handoffs, "handoff target", name);
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
                let hint =
                    p.did_you_mean(&target.value, names.iter().copied().filter(|a| a != name));
                p.error(
                    &target.at,
                    format!(
                        "unknown handoff target `{}` in agent `{name}`",
                        target.value
                    ),
                    hint,
                );
            }
        }
        tool_choice(p, name, agent, &raw, &sources);
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
            // A tool source's tools are known once it has started: any name may be one.
            let sourced = may_call.iter().any(|t| sources.contains(t));
            let known_tools = (!sourced).then_some(&may_call);
            let turns: Vec<ScriptedTurn> = turns
                .iter()
                .map(|t| script::turn(p, t, known_tools, &may_hand_off, name, &call_ids))
                .collect();
            scripted = scripted.with_agent(name.clone(), turns);
        }
        let provider = model
            .as_deref()
            .and_then(|m| models.iter().find(|c| c.name == m))
            .map(|c| c.provider);
        section::check_extra(p, agent.model_settings.as_ref(), provider);
        agent_models.push(model);
        let mut built_agent = Agent::new(name.clone())
            .with_model_settings(
                agent
                    .model_settings
                    .as_ref()
                    .map(section::settings)
                    .unwrap_or_default(),
            )
            .with_description(agent.description.clone().unwrap_or_default())
            .with_instructions(agent.instructions.clone().unwrap_or_default())
            .with_tools(agent.tools.iter().map(|t| t.value.clone()))
            .with_handoffs(agent.handoffs.iter().map(|t| t.value.clone()))
            .with_limits(agent_limits(agent.limits.as_ref()));
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
        if let Some(target) = tool.kind.agent()
            && let Some(start) = index_of(target)
        {
            let users = users.get(tool.name.as_str()).map_or(&[][..], Vec::as_slice);
            recursive_tool(p, &graph, tool, start, users, at, &agents);
        }
    }

    let simulation = simulation.map(|raw| {
        let cx = super::simulation::Context {
            agents: &agents,
            positions: &positions,
            models: &models,
            tools: &tools,
            broken_tools: &broken_tools,
        };
        super::simulation::build(p, &raw, &cx)
    });

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
        swarm_tool_calls: raw
            .limits
            .as_ref()
            .and_then(|l| l.swarm_tool_calls_in_flight)
            .map(|n| n.0 as usize),
        tools: tools.into_iter().map(|(t, _)| t).collect(),
        agents: built,
        models,
        agent_models,
        scripted: any_script.then(|| Arc::new(scripted)),
        simulation,
        warnings: problems.into_sorted(&files),
    })
}

/// Checks that a `tool_choice: {function: ...}` in the agent's `model_settings`, or else in its
/// model's `settings`, names a function the agent offers (one of its tools or handoff
/// functions): the API refuses the request otherwise.
fn tool_choice(
    p: &mut Problems,
    name: &str,
    agent: &RawAgent,
    raw: &RawTopology,
    sources: &HashSet<&str>,
) {
    let own = agent
        .model_settings
        .as_ref()
        .and_then(|s| s.tool_choice.as_ref());
    let choice = own.or_else(|| {
        let model = agent.model.as_ref().or(raw.model.as_ref())?;
        raw.models
            .iter()
            .find(|m| m.name.as_ref().is_some_and(|n| n.value == model.value))?
            .settings
            .as_ref()?
            .tool_choice
            .as_ref()
    });
    let Some(ToolChoiceField(ToolChoice::Function(function), Some(at))) = choice else {
        return;
    };
    let mut offered: Vec<String> = agent.tools.iter().map(|t| t.value.clone()).collect();
    if !agent.handoffs.is_empty() {
        let style = agent.handoff_style.or(raw.handoff_style).map(|s| s.0);
        match style.unwrap_or_default() {
            HandoffStyle::Handoff => offered.push(HANDOFF_FUNCTION.to_owned()),
            HandoffStyle::Transfer => offered.extend(
                agent
                    .handoffs
                    .iter()
                    .map(|t| format!("{TRANSFER_PREFIX}{}", t.value)),
            ),
        }
    }
    // A tool source's tools are known once it has started: any name may be one of them.
    if offered
        .iter()
        .any(|f| f == function || sources.contains(f.as_str()))
    {
        return;
    }
    let hint = p
        .did_you_mean(function, offered.iter().map(String::as_str))
        .unwrap_or_else(|| {
            if offered.is_empty() {
                format!("agent `{name}` offers no functions")
            } else {
                format!("agent `{name}` offers: {}", offered.join(", "))
            }
        });
    p.error(
        at,
        format!("`tool_choice` names function `{function}`, which agent `{name}` does not offer"),
        Some(hint),
    );
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
pub(super) fn first_at(first: &Place, here: &Place) -> String {
    if first.file == here.file {
        format!("line {}", first.line)
    } else {
        format!("{}:{}", first.file.display(), first.line)
    }
}

/// `agents: a, b, c` (at most ten names), or nothing if there are none.
pub(super) fn list_hint(what: &str, names: &[&str]) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    let more = if names.len() > 10 { ", ..." } else { "" };
    Some(format!(
        "{what}: {}{more}",
        names[..names.len().min(10)].join(", ")
    ))
}

/// Warns about a name listed twice in an agent's `tools` or `handoffs`; returns the names
/// listed.
fn check_list<'l>(
    p: &mut Problems,
    list: &'l [Located<String>],
    what: &str,
    agent: &str,
) -> HashSet<&'l str> {
    let mut listed = HashSet::with_capacity(list.len());
    for item in list {
        if !listed.insert(item.value.as_str()) {
            p.warning(
                &item.at,
                format!("{what} `{}` is listed twice in agent `{agent}`", item.value),
                None,
            );
        }
    }
    listed
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
        max_calls_per_turn: raw
            .max_calls_per_turn
            .map_or(defaults.max_calls_per_turn, |n| n.0 as usize),
    }
}

fn agent_limits(raw: Option<&RawAgentLimits>) -> AgentLimits {
    let Some(raw) = raw else {
        return AgentLimits::default();
    };
    AgentLimits {
        max_turns: raw.max_turns.map(|n| n.0),
        tool_timeout: raw.tool_timeout.map(|d| d.0),
        max_tool_calls_in_flight: raw.max_tool_calls_in_flight.map(|n| n.0 as usize),
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

/// Reports an agent tool whose agent (`agents[start]`) can reach (by handoffs and agent tools)
/// one of its `users` (the agents that list it, in order): each call could start another
/// nested run, without end.
fn recursive_tool(
    p: &mut Problems,
    graph: &Graph,
    tool: &ToolConfig,
    start: usize,
    users: &[usize],
    at: &Place,
    agents: &[(&Located<String>, &RawAgent)],
) {
    let reached = graph.search(start);
    let path = users
        .iter()
        .filter_map(|&user| Graph::path_in(&reached, start, user))
        .min_by_key(Vec::len);
    if let Some(path) = path {
        let names: Vec<&str> = path.iter().map(|&i| agents[i].0.value.as_str()).collect();
        let user = names.last().copied().unwrap_or(&agents[start].0.value);
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
