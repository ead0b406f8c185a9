//! The `simulation:` section checked against the rest of the topology (model entries, tools,
//! agents, their tools and handoffs) and built into a [`SimSpec`].
//!
//! Agents with `scripted:` turns and no entry under `simulation.agents` play those turns:
//! their n-th turn becomes a step that applies at their n-th request. A simulation replaces
//! every tool body that cannot run in virtual time, so tools that are not built-ins or agent
//! tools need a declared `output`, and MCP servers (whose tools are known only once started)
//! cannot be simulated yet.

use std::collections::{HashMap, HashSet};

use super::ToolConfig;
use super::diagnostic::{Place, Problems};
use super::raw::RawAgent;
use super::raw_sim::{
    RawErrorOutput, RawExpectation, RawOutputContains, RawPersona, RawSimulation, RawWhen,
};
use super::read::Located;
use super::script;
use super::validate::first_at;
use crate::model::ModelConfig;
use crate::sim::{
    Choice, Condition, Expectation, ModelFault, ModelSim, NO_MODEL, Persona, PersonaModel, SimSpec,
    Step, ToolSim,
};

/// The key of `simulation.models` for the agents that name no model entry (unless an entry
/// has this name).
pub(super) const SCRIPTED_KEY: &str = "scripted";

/// What the section is checked against.
pub(super) struct Context<'a> {
    /// Each agent's name and definition, in file order.
    pub(super) agents: &'a [(&'a Located<String>, &'a RawAgent)],
    /// Each agent's position in `agents`, by name.
    pub(super) positions: &'a HashMap<&'a str, usize>,
    /// The `models:` section.
    pub(super) models: &'a [ModelConfig],
    /// The tools, with where each is defined.
    pub(super) tools: &'a [(ToolConfig, Place)],
    /// Tools defined with problems (already reported): naming them is no further error.
    pub(super) broken_tools: &'a HashSet<&'a str>,
}

impl Context<'_> {
    fn agent(&self, name: &str) -> Option<&RawAgent> {
        self.positions.get(name).map(|&i| self.agents[i].1)
    }

    fn agent_names(&self) -> impl Iterator<Item = &str> {
        self.agents.iter().map(|(n, _)| n.value.as_str())
    }

    fn tool(&self, name: &str) -> Option<&ToolConfig> {
        self.tools.iter().map(|(t, _)| t).find(|t| t.name == name)
    }

    /// Reports `name` if it is not an agent; returns whether it is one.
    fn check_agent(&self, p: &mut Problems, name: &Located<String>, what: &str) -> bool {
        if self.positions.contains_key(name.value.as_str()) {
            return true;
        }
        let hint = p.did_you_mean(&name.value, self.agent_names()).or_else(|| {
            super::validate::list_hint("agents", &self.agent_names().collect::<Vec<_>>())
        });
        p.error(
            &name.at,
            format!("unknown agent `{}` {what}", name.value),
            hint,
        );
        false
    }

    /// Reports `name` if it is not a tool; returns whether it is one.
    fn check_tool(&self, p: &mut Problems, name: &Located<String>, what: &str) -> bool {
        if self.tool(&name.value).is_some() {
            return true;
        }
        if self.broken_tools.contains(name.value.as_str()) {
            return false;
        }
        let names = self.tools.iter().map(|(t, _)| t.name.as_str());
        let hint = p
            .did_you_mean(&name.value, names)
            .or_else(|| Some("define it under `tools:`".to_owned()));
        p.error(
            &name.at,
            format!("unknown tool `{}` {what}", name.value),
            hint,
        );
        false
    }

    /// Reports `name` if it is not a model entry; returns whether it is one.
    fn check_model(&self, p: &mut Problems, name: &Located<String>, what: &str) -> bool {
        if self.models.iter().any(|m| m.name == name.value) {
            return true;
        }
        let hint = p
            .did_you_mean(&name.value, self.models.iter().map(|m| m.name.as_str()))
            .or_else(|| Some("define it under `models:`".to_owned()));
        p.error(
            &name.at,
            format!("unknown model entry `{}` {what}", name.value),
            hint,
        );
        false
    }
}

/// Checks the section and builds the spec (complete when no error was reported).
pub(super) fn build(p: &mut Problems, raw: &RawSimulation, cx: &Context<'_>) -> SimSpec {
    let mut spec = SimSpec {
        conversations: raw.conversations.map(|n| n.0),
        seed: raw.seed.map(|s| s.0),
        concurrency: raw.concurrency.map(|n| n.0),
        ..SimSpec::default()
    };
    models(p, raw, cx, &mut spec);
    tools(p, raw, cx, &mut spec);
    agents(p, raw, cx, &mut spec);
    spec.personas = personas(p, &raw.personas, cx);
    spec.expectations = raw
        .expect
        .iter()
        .filter_map(|e| expectations(p, &e.value, cx))
        .flatten()
        .collect();
    spec
}

fn models(p: &mut Problems, raw: &RawSimulation, cx: &Context<'_>, spec: &mut SimSpec) {
    for (name, model) in &raw.models.0 {
        let key = if cx.models.iter().any(|m| m.name == name.value) {
            name.value.clone()
        } else if name.value == SCRIPTED_KEY {
            NO_MODEL.to_owned()
        } else {
            let names = cx
                .models
                .iter()
                .map(|m| m.name.as_str())
                .chain([SCRIPTED_KEY]);
            let hint = p.did_you_mean(&name.value, names).or_else(|| {
                Some("define it under `models:`, or write `scripted` for the agents that name no model".to_owned())
            });
            p.error(
                &name.at,
                format!(
                    "unknown model entry `{}` in `simulation.models`",
                    name.value
                ),
                hint,
            );
            continue;
        };
        let faults = model
            .faults
            .iter()
            .filter_map(|f| {
                Some(ModelFault {
                    rate: f.rate?.0,
                    kind: f.kind()?,
                })
            })
            .collect();
        let tokens = model.tokens.as_ref();
        spec.models.insert(
            key,
            ModelSim {
                latency: model.latency.map(|d| d.0),
                input_tokens: tokens.and_then(|t| t.input).map(|d| d.0),
                output_tokens: tokens.and_then(|t| t.output).map(|d| d.0),
                faults,
            },
        );
    }
}

fn tools(p: &mut Problems, raw: &RawSimulation, cx: &Context<'_>, spec: &mut SimSpec) {
    for (name, tool) in &raw.tools.0 {
        if !cx.check_tool(p, name, "in `simulation.tools`") {
            continue;
        }
        let fail = tool.fail.as_ref();
        spec.tools.insert(
            name.value.clone(),
            ToolSim {
                latency: tool.latency.map(|d| d.0),
                failure_rate: fail.and_then(|f| f.rate).map_or(0.0, |r| r.0),
                error: fail.and_then(|f| f.error.clone()),
                timeout_rate: tool.timeout_rate.map_or(0.0, |r| r.0),
                output: tool.output.clone(),
            },
        );
    }
    // Bodies that cannot run in virtual time need a declared output.
    for (tool, at) in cx.tools {
        if tool.kind.is_source() {
            p.error(
                at,
                format!("MCP tools cannot be simulated yet: `{}` is an MCP server", tool.name),
                Some("its tools are known only once it starts; simulate a copy of the topology without it".to_owned()),
            );
        } else if !tool.kind.runs_in_simulation()
            && spec
                .tools
                .get(&tool.name)
                .is_none_or(|t| t.output.is_none())
        {
            p.error(
                at,
                format!(
                    "tool `{}` needs a simulated `output`: its real body cannot run in a simulation",
                    tool.name
                ),
                Some(format!(
                    "add `{}: {{ output: \"...\" }}` under `simulation.tools`",
                    tool.name
                )),
            );
        }
    }
}

fn agents(p: &mut Problems, raw: &RawSimulation, cx: &Context<'_>, spec: &mut SimSpec) {
    // Ids a text may quote: those of scripted calls and of simulated ones.
    let scripted = cx
        .agents
        .iter()
        .flat_map(|(_, a)| a.scripted.iter().flatten());
    let simulated = raw
        .agents
        .0
        .iter()
        .flat_map(|(_, steps)| steps)
        .flat_map(|step| {
            let choices = step.value.choose.iter().flatten().map(|c| &c.value.turn);
            std::iter::once(&step.value.turn).chain(choices)
        });
    let ids: HashSet<&str> = scripted
        .chain(simulated)
        .flat_map(|turn| &turn.calls)
        .filter_map(|call| call.value.id.as_deref())
        .collect();
    let sources: HashSet<&str> = cx
        .tools
        .iter()
        .filter(|(t, _)| t.kind.is_source())
        .map(|(t, _)| t.name.as_str())
        .collect();
    for (name, steps) in &raw.agents.0 {
        if !cx.check_agent(p, name, "in `simulation.agents`") {
            continue;
        }
        let Some(agent) = cx.agent(&name.value) else {
            continue;
        };
        let tools: HashSet<&str> = agent.tools.iter().map(|t| t.value.as_str()).collect();
        let handoffs: HashSet<&str> = agent.handoffs.iter().map(|t| t.value.as_str()).collect();
        // A tool source's tools are known once it has started: any name may be one.
        let known = (!tools.iter().any(|t| sources.contains(t))).then_some(&tools);
        let built = steps
            .iter()
            .map(|step| {
                let step = &step.value;
                let mut check = |turn| script::check(p, turn, known, &handoffs, &name.value, &ids);
                let choices = match &step.choose {
                    Some(choices) => choices
                        .iter()
                        .map(|c| {
                            check(&c.value.turn);
                            Choice {
                                weight: c.value.weight.map_or(1.0, |w| w.0),
                                turn: script::sim_turn(&c.value.turn),
                            }
                        })
                        .collect(),
                    None => {
                        check(&step.turn);
                        vec![Choice {
                            weight: 1.0,
                            turn: script::sim_turn(&step.turn),
                        }]
                    }
                };
                let mut when = Vec::new();
                if let Some(raw) = &step.when {
                    conditions(p, raw, cx, &mut when);
                }
                Step { when, choices }
            })
            .collect();
        spec.agents.insert(name.value.clone(), built);
    }
    // Agents not listed play their scripted turns, the n-th at their n-th request.
    for (name, agent) in cx.agents {
        let Some(turns) = &agent.scripted else {
            continue;
        };
        if spec.agents.contains_key(&name.value) {
            continue;
        }
        let steps = (1..)
            .zip(turns)
            .map(|(n, turn)| Step::always(script::sim_turn(turn)).when(Condition::Turn(n)))
            .collect();
        spec.agents.insert(name.value.clone(), steps);
    }
}

/// The conditions of one `when` (or `not`) mapping, in field order.
fn conditions(p: &mut Problems, raw: &RawWhen, cx: &Context<'_>, out: &mut Vec<Condition>) {
    if let Some(n) = raw.turn {
        out.push(Condition::Turn(n.0));
    }
    if let Some(regex) = &raw.input_matches {
        out.push(Condition::InputMatches(regex.0.clone()));
    }
    match &raw.output_contains {
        Some(RawOutputContains::Any(text)) => out.push(Condition::OutputContains {
            tool: None,
            text: text.clone(),
        }),
        Some(RawOutputContains::Of { tool, text })
            if cx.check_tool(p, tool, "in `output_contains`") =>
        {
            out.push(Condition::OutputContains {
                tool: Some(tool.value.clone()),
                text: text.clone(),
            });
        }
        _ => {}
    }
    if let Some(not) = &raw.not {
        let mut inner = Vec::new();
        conditions(p, not, cx, &mut inner);
        // The reader reports a `not` with other than one condition.
        if let [condition] = inner.as_slice() {
            out.push(Condition::Not(Box::new(condition.clone())));
        }
    }
}

fn personas(p: &mut Problems, raw: &[Located<RawPersona>], cx: &Context<'_>) -> Vec<Persona> {
    let mut defined: HashMap<&str, &Place> = HashMap::with_capacity(raw.len());
    let mut personas = Vec::with_capacity(raw.len());
    for persona in raw {
        let persona = &persona.value;
        let (Some(name), Some(says)) = (&persona.name, &persona.says) else {
            continue;
        };
        if let Some(first) = defined.get(name.value.as_str()) {
            p.error(
                &name.at,
                format!("persona `{}` is defined twice", name.value),
                Some(format!("the first is at {}", first_at(first, &name.at))),
            );
            continue;
        }
        defined.insert(&name.value, &name.at);
        let model = persona.model.as_ref().and_then(|entry| {
            let what = format!("for persona `{}`", name.value);
            cx.check_model(p, entry, &what).then(|| PersonaModel {
                entry: entry.value.clone(),
                description: persona.description.clone().unwrap_or_default(),
                plan: persona.plan.clone().unwrap_or_default(),
                max_replies: persona.max_replies.map_or(3, |n| n.0),
            })
        });
        let built = Persona {
            name: name.value.clone(),
            weight: persona.weight.map_or(1.0, |w| w.0),
            openings: says.0.clone(),
            replies: persona
                .replies
                .as_ref()
                .map(|r| r.0.clone())
                .unwrap_or_default(),
            model,
        };
        personas.push(built);
    }
    personas
}

/// The expectations one list item states (`latency` may bound several percentiles).
fn expectations(
    p: &mut Problems,
    raw: &RawExpectation,
    cx: &Context<'_>,
) -> Option<Vec<Expectation>> {
    let agents = |p: &mut Problems, list: &[Located<String>], what: &str| -> Option<Vec<String>> {
        let known = list.iter().filter(|a| cx.check_agent(p, a, what)).count();
        (known == list.len()).then(|| list.iter().map(|a| a.value.clone()).collect())
    };
    Some(match raw {
        RawExpectation::EndsIn { ends_in } => {
            vec![Expectation::EndsIn(agents(p, ends_in, "in `ends_in`")?)]
        }
        RawExpectation::Path {
            path,
            at_most,
            at_least,
        } => {
            let path = agents(p, path, "in `path`")?;
            match (at_most, at_least) {
                (Some(max), None) => vec![Expectation::PathAtMost { path, max: max.0 }],
                (None, Some(min)) => vec![Expectation::PathAtLeast { path, min: min.0 }],
                _ => return None,
            }
        }
        RawExpectation::MaxTurns { max_turns } => vec![Expectation::MaxTurns(max_turns.0)],
        RawExpectation::Latency { latency } => latency
            .bounds()
            .map(|(percentile, under)| Expectation::LatencyUnder { percentile, under })
            .collect(),
        RawExpectation::NoErrorOutput { no_error_output } => {
            let (kind, tool) = match no_error_output {
                RawErrorOutput::Kind(kind) => (kind.0, None),
                RawErrorOutput::Of { kind, tool } => {
                    if let Some(tool) = tool
                        && !cx.check_tool(p, tool, "in `no_error_output`")
                    {
                        return None;
                    }
                    (
                        kind.and_then(|k| k.0),
                        tool.as_ref().map(|t| t.value.clone()),
                    )
                }
            };
            vec![Expectation::NoErrorOutput { kind, tool }]
        }
        RawExpectation::Finished { finished } => {
            vec![Expectation::FinishAtLeast(finished.at_least?.0)]
        }
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::sim::{SimCall, SimTurn};

    fn load(yaml: &str) -> Result<crate::topology::Topology, Vec<String>> {
        crate::topology::parse(yaml, Path::new("t.yaml")).map_err(|e| {
            e.diagnostics()
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
                .collect()
        })
    }

    fn spec(yaml: &str) -> SimSpec {
        load(yaml)
            .unwrap_or_else(|e| panic!("{e:#?}"))
            .simulation()
            .unwrap()
            .clone()
    }

    #[test]
    fn the_scripted_key_names_agents_without_a_model_unless_an_entry_has_that_name() {
        let base = "entry: a\nagents:\n  - name: a\n    scripted: [{ text: hi }]\n";
        let section = "simulation:\n  models:\n    scripted: { latency: 1s }\n";
        let without = spec(&format!("{base}{section}"));
        assert_eq!(without.models.keys().collect::<Vec<_>>(), [NO_MODEL]);
        let with = spec(&format!(
            "{base}models:\n  - {{ name: scripted, provider: scripted }}\n{section}"
        ));
        assert_eq!(with.models.keys().collect::<Vec<_>>(), [SCRIPTED_KEY]);
    }

    #[test]
    fn scripted_turns_become_steps_with_their_arguments_as_written() {
        let yaml = "\
entry: a
tools:
  - builtin: add
agents:
  - name: a
    tools: [add]
    scripted:
      - calls:
          - { tool: add, args: '{\"a\": 1' }
          - { tool: add }
          - { tool: add, args: { a: 1, b: 2 }, id: sum }
      - text: done
simulation: {}
";
        let spec = spec(yaml);
        assert_eq!(
            spec.agents["a"],
            [
                Step::always(SimTurn::calls([
                    SimCall::tool("add", json!("{\"a\": 1")),
                    SimCall::tool("add", json!({})),
                    SimCall::tool("add", json!({ "a": 1, "b": 2 })).with_id("sum"),
                ]))
                .when(Condition::Turn(1)),
                Step::always(SimTurn::text("done")).when(Condition::Turn(2)),
            ]
        );
    }

    #[test]
    fn an_agent_listed_in_the_section_plays_only_its_steps() {
        let yaml = "\
entry: a
agents:
  - name: a
    scripted: [{ text: scripted }]
simulation:
  agents:
    a:
      - when: { not: { not: { turn: 2 } } }
        text: simulated
";
        let spec = spec(yaml);
        let not_not = Condition::Not(Box::new(Condition::Not(Box::new(Condition::Turn(2)))));
        assert_eq!(
            spec.agents["a"],
            [Step::always(SimTurn::text("simulated")).when(not_not)]
        );
    }

    #[test]
    fn only_tools_whose_bodies_cannot_run_in_virtual_time_need_an_output() {
        let yaml = |output: &str| {
            format!(
                "\
entry: a
tools:
  - builtin: add
  - agent: b
  - name: host
    description: The host.
    command: {{ argv: [uname] }}
agents:
  - name: a
    tools: [add, b, host]
    scripted: [{{ text: hi }}]
  - name: b
    scripted: [{{ text: hi }}]
simulation:
  tools: {{ {output} }}
"
            )
        };
        assert_eq!(
            load(&yaml("")).map(|_| ()),
            Err(vec![
                "5:11: tool `host` needs a simulated `output`: its real body cannot run in a simulation".to_owned()
            ])
        );
        let spec = spec(&yaml("host: { output: Linux }"));
        assert_eq!(spec.tools["host"].output.as_deref(), Some("Linux"));
        // Without a section, nothing needs simulating.
        let topology = load(&yaml("").replace("simulation:\n  tools: {  }\n", "")).unwrap();
        assert!(topology.simulation().is_none());
    }
}
