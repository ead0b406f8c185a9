//! Which agent is asking, and which of its scripted turns is due, from the request alone.
//!
//! Over HTTP there is no [`RequestContext`](crate::model::RequestContext): the mock reads
//! everything from what a real API gets.
//!
//! **The agent.** An `x-baton-agent` header names it outright. Otherwise the request's
//! `instructions` (the first system message on Chat Completions) are compared with every
//! agent's: one agent with those instructions is the one. When several agents share them, or
//! none has them, the offered functions decide: the agent whose tools are exactly the
//! request's non-handoff functions and whose handoff targets are exactly those the request
//! offers (`transfer_to_<agent>` functions, or the `agent` enum of `handoff`). No single match
//! is an error that lists the agents.
//!
//! **The turn.** An agent's n-th request in a run gets its n-th scripted turn, as with the
//! in-process [`ScriptedModel`]. The run is the part of the input after the last user
//! message. Every earlier turn of a run produced at least one function call (a turn without
//! one ends the run), so the agent's earlier turns are found from the calls in the input:
//! a call whose id the script fixes (`id: sum`) belongs to the turn that declares it, and the
//! mock names every other call `call_<agent>_<turn>_<k>` (1-based turn and index), so its
//! id says whose turn made it. A `__<n>` suffix (a later user turn of the same conversation
//! repeats ids that way) is ignored, and a call whose id the mock did not give (a client
//! named a call the mock sent without one) is found by its name and arguments. The due turn is one past the agent's latest turn found (0 if
//! none). Call ids are unique within a run as long as an agent's scripted ids are, which is
//! what the API requires anyway.

use std::collections::HashMap;
use std::sync::Arc;

use crate::handoff::{HANDOFF_FUNCTION, TRANSFER_PREFIX};
use crate::item::{Item, Role};
use crate::model::{FunctionTool, ScriptedCall, ScriptedModel};
use crate::topology::Topology;

/// One agent as the mock knows it.
#[derive(Debug)]
struct AgentInfo {
    name: String,
    instructions: String,
    /// Its tools, sorted.
    tools: Vec<String>,
    /// Its handoff targets, sorted.
    handoffs: Vec<String>,
}

/// The topology's agents and scripted turns, indexed for requests.
#[derive(Debug)]
pub(crate) struct Script {
    agents: Vec<AgentInfo>,
    /// Scripted call ids -> (agent index, 0-based turn).
    fixed_ids: HashMap<String, (usize, u32)>,
    /// Scripted tool calls (name, arguments) -> (agent index, 0-based turn), for calls that
    /// came back with ids the mock did not give them (a client that renamed them); `None`
    /// where two turns script the same call.
    calls: HashMap<(String, String), Option<(usize, u32)>>,
    pub(crate) model: Arc<ScriptedModel>,
}

impl Script {
    /// Indexes `topology`; `None` when no agent has scripted turns.
    pub(crate) fn new(topology: &Topology) -> Option<Self> {
        let model = Arc::clone(topology.scripted_model()?);
        model.set_recording(false);
        let mut agents = Vec::new();
        let mut fixed_ids = HashMap::new();
        let mut calls = HashMap::new();
        for (index, agent) in topology.agents().iter().enumerate() {
            let mut tools = agent.tools.clone();
            tools.sort();
            let mut handoffs = agent.handoffs.clone();
            handoffs.sort();
            agents.push(AgentInfo {
                name: agent.name.clone(),
                instructions: agent.instructions.trim().to_owned(),
                tools,
                handoffs,
            });
            for (turn, scripted) in model
                .turns(&agent.name)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                for call in &scripted.calls {
                    if let ScriptedCall::Tool {
                        name, arguments, ..
                    } = call
                    {
                        let owner = Some((index, turn as u32));
                        calls
                            .entry((name.clone(), arguments.clone()))
                            .and_modify(|known: &mut Option<_>| {
                                if *known != owner {
                                    *known = None;
                                }
                            })
                            .or_insert(owner);
                    }
                    let (ScriptedCall::Tool {
                        call_id: Some(id), ..
                    }
                    | ScriptedCall::Handoff {
                        call_id: Some(id), ..
                    }) = call
                    else {
                        continue;
                    };
                    fixed_ids.insert(id.clone(), (index, turn as u32));
                }
            }
        }
        Some(Script {
            agents,
            fixed_ids,
            calls,
            model,
        })
    }

    /// The agents' names, for messages.
    pub(crate) fn agent_names(&self) -> String {
        self.agents
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The asking agent's name.
    pub(crate) fn agent(
        &self,
        header: Option<&str>,
        instructions: &str,
        tools: &[FunctionTool],
    ) -> Result<&str, String> {
        if let Some(name) = header {
            return self
                .agents
                .iter()
                .find(|a| a.name == name)
                .map(|a| a.name.as_str())
                .ok_or_else(|| {
                    format!(
                        "x-baton-agent names `{name}`, which is not an agent of this topology (agents: {})",
                        self.agent_names()
                    )
                });
        }
        let instructions = instructions.trim();
        let (offered_tools, offered_handoffs) = offered(tools);
        let fits = |a: &&AgentInfo| a.tools == offered_tools && a.handoffs == offered_handoffs;
        let same: Vec<&AgentInfo> = self
            .agents
            .iter()
            .filter(|a| a.instructions == instructions)
            .collect();
        let chosen: Vec<&AgentInfo> = match same.len() {
            1 => same,
            0 => self.agents.iter().filter(fits).collect(),
            _ => same.into_iter().filter(fits).collect(),
        };
        match chosen.as_slice() {
            [one] => Ok(&one.name),
            [] => Err(format!(
                "no agent of this topology has these instructions and functions (agents: {}); \
                 send the agent's own instructions, or name it in an `x-baton-agent` header",
                self.agent_names()
            )),
            several => Err(format!(
                "agents {} have the same instructions and functions; name one in an `x-baton-agent` header",
                several
                    .iter()
                    .map(|a| format!("`{}`", a.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// `agent`'s due turn (0-based) and the number of turns already taken in the run.
    pub(crate) fn turn(&self, agent: &str, input: &[Item]) -> (u32, u32) {
        let run_start = input
            .iter()
            .rposition(|item| {
                matches!(
                    item,
                    Item::Message {
                        role: Role::User,
                        ..
                    }
                )
            })
            .map_or(0, |i| i + 1);
        let mut next = 0;
        let mut turns_seen: Vec<(&str, u32)> = Vec::new();
        for item in &input[run_start..] {
            let Some((owner, turn)) = self.owner(item) else {
                continue;
            };
            if !turns_seen.contains(&(owner, turn)) {
                turns_seen.push((owner, turn));
            }
            if owner == agent {
                next = next.max(turn + 1);
            }
        }
        (next, turns_seen.len() as u32)
    }

    /// Checks that reasoning items came back as a reasoning model needs them, with the API's
    /// wording: each one followed by an item from the API (one with an item id), and each
    /// function call the API made (one with an item id) after its turn's reasoning item.
    pub(crate) fn check_reasoning(&self, input: &[Item]) -> Result<(), String> {
        for (i, item) in input.iter().enumerate() {
            match item {
                Item::Reasoning { .. } => {
                    let followed = input.get(i + 1).is_some_and(|next| {
                        !matches!(next, Item::Reasoning { .. }) && next.id().is_some()
                    });
                    if !followed {
                        return Err(format!(
                            "Item '{}' of type 'reasoning' was provided without its required following item.",
                            item.id().unwrap_or("?")
                        ));
                    }
                }
                Item::FunctionCall { id: Some(id), .. } => {
                    let Some((agent, turn)) = self.owner(item) else {
                        continue;
                    };
                    let wanted = reasoning_id(agent, turn);
                    if !input[..i].iter().any(|e| {
                        matches!(e, Item::Reasoning { .. }) && e.id() == Some(wanted.as_str())
                    }) {
                        return Err(format!(
                            "Item '{id}' of type 'function_call' was provided without its required 'reasoning' item: '{wanted}'."
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Which agent's turn made the function call `item`: from its id, or, for an id the mock
    /// did not give (a client renamed a call that came without one), from its name and
    /// arguments when a single scripted turn has that call.
    fn owner(&self, item: &Item) -> Option<(&str, u32)> {
        let Item::FunctionCall {
            call_id,
            name,
            arguments,
            ..
        } = item
        else {
            return None;
        };
        self.owner_by_id(call_id).or_else(|| {
            let (index, turn) = (*self.calls.get(&(name.clone(), arguments.clone()))?)?;
            Some((self.agents[index].name.as_str(), turn))
        })
    }

    /// Which agent's turn made the call `call_id`, read from the id alone.
    fn owner_by_id(&self, call_id: &str) -> Option<(&str, u32)> {
        // A later user turn's calls carry a `__<n>` suffix (`item::unique_call_id`).
        let call_id = crate::item::base_call_id(call_id);
        if let Some(&(index, turn)) = self.fixed_ids.get(call_id) {
            return Some((&self.agents[index].name, turn));
        }
        let rest = call_id.strip_prefix("call_")?;
        let (rest, _k) = rest.rsplit_once('_')?;
        let (agent, turn) = rest.rsplit_once('_')?;
        let turn: u32 = turn.parse().ok()?;
        let agent = self.agents.iter().find(|a| a.name == agent)?;
        Some((&agent.name, turn.checked_sub(1)?))
    }
}

/// The reasoning item the mock (as a reasoning model) puts before `agent`'s turn `turn`.
pub(crate) fn reasoning_item(agent: &str, turn: u32) -> Item {
    let mut fields = serde_json::Map::new();
    fields.insert("id".into(), reasoning_id(agent, turn).into());
    fields.insert("summary".into(), serde_json::Value::Array(Vec::new()));
    fields.insert(
        "encrypted_content".into(),
        format!("mock-reasoning:{agent}:{}", turn + 1).into(),
    );
    Item::Reasoning { fields }
}

fn reasoning_id(agent: &str, turn: u32) -> String {
    format!("rs_{agent}_{}", turn + 1)
}

/// The id the mock gives call `index` (0-based) of `agent`'s turn `turn` (0-based).
pub(crate) fn call_id(agent: &str, turn: u32, index: usize) -> String {
    format!("call_{agent}_{}_{}", turn + 1, index + 1)
}

/// The request's regular tools and handoff targets, each sorted.
fn offered(tools: &[FunctionTool]) -> (Vec<String>, Vec<String>) {
    let mut regular = Vec::new();
    let mut targets = Vec::new();
    for tool in tools {
        if let Some(target) = tool.name.strip_prefix(TRANSFER_PREFIX) {
            targets.push(target.to_owned());
        } else if tool.name == HANDOFF_FUNCTION {
            let names = tool
                .parameters
                .pointer("/properties/agent/enum")
                .and_then(|e| e.as_array())
                .map(|e| {
                    e.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_else(Vec::new);
            targets.extend(names);
        } else {
            regular.push(tool.name.clone());
        }
    }
    regular.sort();
    targets.sort();
    (regular, targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const YAML: &str = "\
entry: a
tools:
  - builtin: add
agents:
  - name: a
    instructions: Route.
    handoffs: [b, c]
    scripted:
      - handoff: b
  - name: b
    instructions: Same.
    tools: [add]
    scripted:
      - calls:
          - { tool: add, args: { a: 1, b: 2 }, id: sum }
      - calls:
          - { tool: add, args: { a: 3, b: 3 } }
      - text: done
  - name: c
    instructions: Same.
    scripted:
      - text: c
";

    fn script() -> Script {
        let topology = crate::topology::parse(YAML, Path::new("t.yaml")).unwrap();
        Script::new(&topology).unwrap()
    }

    fn tool(name: &str) -> FunctionTool {
        FunctionTool {
            name: name.into(),
            description: String::new(),
            parameters: serde_json::json!({"type": "object"}),
        }
    }

    #[test]
    fn instructions_pick_the_agent_and_functions_break_ties() {
        let script = script();
        assert_eq!(script.agent(None, " Route.\n", &[]), Ok("a"));
        assert_eq!(script.agent(None, "Same.", &[tool("add")]), Ok("b"));
        assert_eq!(script.agent(None, "Same.", &[]), Ok("c"));
        assert_eq!(script.agent(Some("c"), "Route.", &[]), Ok("c"));
        assert!(script.agent(None, "Other.", &[tool("sqrt")]).is_err());
        assert!(script.agent(Some("zz"), "", &[]).is_err());
    }

    #[test]
    fn the_due_turn_follows_the_agents_calls_in_the_current_run() {
        let script = script();
        let mut input = vec![Item::user("q")];
        assert_eq!(script.turn("b", &input), (0, 0));
        input.push(Item::function_call(call_id("a", 0, 0), "handoff", "{}"));
        input.push(Item::function_call_output(call_id("a", 0, 0), "ok"));
        assert_eq!(script.turn("b", &input), (0, 1));
        input.push(Item::function_call("sum", "add", "{}"));
        input.push(Item::function_call_output("sum", "3"));
        assert_eq!(script.turn("b", &input), (1, 2));
        input.push(Item::function_call(call_id("b", 1, 0), "add", "{}"));
        input.push(Item::function_call_output(call_id("b", 1, 0), "6"));
        assert_eq!(script.turn("b", &input), (2, 3));
        // A new user message starts a new run.
        input.push(Item::assistant("done"));
        input.push(Item::user("again"));
        assert_eq!(script.turn("b", &input), (0, 0));
    }
}
