//! Turns a [`RawTopology`] into a [`Topology`], or into every problem it has, each located.
//!
//! Checked here: built-in tool names, duplicate tools and agents, the entry agent, every tool
//! and handoff reference of every agent (with "did you mean" hints), handoffs to self,
//! durations and limits, and the shape of scripted calls.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_saphyr::{Location, Spanned};

use super::raw::{RawCall, RawLimits, RawTopology, RawTurn};
use super::{Diagnostic, ToolConfig, Topology, TopologyError};
use crate::agent::{Agent, Limits};
use crate::model::{
    DEFAULT_API_KEY_ENV, ModelConfig, ModelLimits, ScriptedCall, ScriptedModel, ScriptedTurn,
};
use crate::tool::{ToolOptions, builtin};

/// Collects problems as the checks go.
struct Checker<'a> {
    file: &'a Path,
    problems: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, at: Location, message: String, hint: Option<String>) {
        self.problems.push(Diagnostic {
            file: self.file.to_owned(),
            line: at.line() as u32,
            column: at.column() as u32,
            message,
            hint,
        });
    }

    /// Parses a duration such as `30s`, `500ms` or `1m 30s`.
    fn duration(&mut self, value: &Spanned<String>, field: &str) -> Option<Duration> {
        match humantime::parse_duration(value.value.trim()) {
            Ok(d) if !d.is_zero() => Some(d),
            Ok(_) => {
                self.error(
                    value.referenced,
                    format!("`{field}` must be longer than zero"),
                    None,
                );
                None
            }
            Err(e) => {
                self.error(
                    value.referenced,
                    format!("`{field}`: invalid duration `{}`: {e}", value.value),
                    Some("write it like `30s`, `500ms` or `2m`".to_owned()),
                );
                None
            }
        }
    }
}

/// Suggests the closest of `candidates` to a misspelt `name`.
fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(name, c), c))
        // Close, but not a different word: at most a third of the letters, and not all of them.
        .filter(|(distance, c)| {
            *distance <= (c.len().max(name.len()) / 3).max(1) && *distance < name.len()
        })
        .min()
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

pub(super) fn validate(raw: RawTopology, path: &Path) -> Result<Topology, TopologyError> {
    let mut check = Checker {
        file: path,
        problems: Vec::new(),
    };

    let mut tools = Vec::with_capacity(raw.tools.len());
    let mut tool_names: HashSet<String> = HashSet::new();
    for tool in raw.tools {
        let name = &tool.builtin.value;
        let Some(register) = builtin::find(name) else {
            check.error(
                tool.builtin.referenced,
                format!("unknown builtin tool `{name}`"),
                did_you_mean(name, builtin::NAMES.iter().copied())
                    .or_else(|| Some(format!("builtins: {}", builtin::NAMES.join(", ")))),
            );
            continue;
        };
        if !tool_names.insert(name.clone()) {
            check.error(
                tool.builtin.referenced,
                format!("tool `{name}` is listed twice"),
                None,
            );
        }
        if let Some(n) = &tool.max_concurrency
            && n.value == 0
        {
            check.error(
                n.referenced,
                "`max_concurrency` must be at least 1".to_owned(),
                None,
            );
        }
        let options = ToolOptions {
            max_concurrency: tool.max_concurrency.map(|n| n.value),
            timeout: tool.timeout.and_then(|t| check.duration(&t, "timeout")),
            idempotent: tool.idempotent,
            retries: tool.retries,
        };
        tools.push(ToolConfig {
            name: name.clone(),
            register,
            options,
        });
    }

    let mut agent_names: Vec<&str> = Vec::with_capacity(raw.agents.len());
    for agent in &raw.agents {
        let name = agent.name.value.as_str();
        if agent_names.contains(&name) {
            check.error(
                agent.name.referenced,
                format!("agent `{name}` is defined twice"),
                None,
            );
        } else {
            agent_names.push(name);
        }
    }
    if !agent_names.contains(&raw.entry.value.as_str()) {
        check.error(
            raw.entry.referenced,
            format!("entry agent `{}` is not defined", raw.entry.value),
            did_you_mean(&raw.entry.value, agent_names.iter().copied()),
        );
    }

    let limits = raw
        .limits
        .map(|l| limits(&mut check, l))
        .unwrap_or_default();

    let mut models: Vec<ModelConfig> = Vec::with_capacity(raw.models.len());
    for model in raw.models {
        let name = model.name.value.clone();
        if models.iter().any(|m| m.name == name) {
            check.error(
                model.name.referenced,
                format!("model `{name}` is defined twice"),
                None,
            );
            continue;
        }
        let mut model_limits = ModelLimits::default();
        if let Some(l) = model.limits {
            model_limits.timeout = l.timeout.and_then(|t| check.duration(&t, "timeout"));
            model_limits.max_retries = l.max_retries;
            if let Some(n) = &l.max_in_flight
                && n.value == 0
            {
                check.error(
                    n.referenced,
                    "`max_in_flight` must be at least 1".to_owned(),
                    None,
                );
            }
            model_limits.max_in_flight = l.max_in_flight.map(|n| n.value);
        }
        models.push(ModelConfig {
            name,
            provider: model.provider,
            model: model.model,
            base_url: model.base_url,
            api_key_env: model
                .api_key_env
                .unwrap_or_else(|| DEFAULT_API_KEY_ENV.to_owned()),
            settings: model.settings,
            limits: model_limits,
        });
    }
    let model_ref = |check: &mut Checker<'_>, name: &Spanned<String>| -> Option<String> {
        if models.iter().any(|m| m.name == name.value) {
            Some(name.value.clone())
        } else {
            check.error(
                name.referenced,
                format!("unknown model `{}`", name.value),
                did_you_mean(&name.value, models.iter().map(|m| m.name.as_str()))
                    .or_else(|| Some("define it under `models:`".to_owned())),
            );
            None
        }
    };
    let default_model = raw.model.as_ref().and_then(|m| model_ref(&mut check, m));

    let mut agents = Vec::with_capacity(raw.agents.len());
    let mut agent_models = Vec::with_capacity(raw.agents.len());
    let mut scripted = ScriptedModel::new();
    let mut any_script = false;
    for raw_agent in &raw.agents {
        let name = &raw_agent.name.value;
        for tool in &raw_agent.tools {
            if !tool_names.contains(&tool.value) {
                check.error(
                    tool.referenced,
                    format!("unknown tool `{}` in agent `{name}`", tool.value),
                    did_you_mean(&tool.value, tool_names.iter().map(String::as_str))
                        .or_else(|| Some("add it under `tools:` at the top level".to_owned())),
                );
            }
        }
        for target in &raw_agent.handoffs {
            if target.value == *name {
                check.error(
                    target.referenced,
                    format!("agent `{name}` hands off to itself"),
                    None,
                );
            } else if !agent_names.contains(&target.value.as_str()) {
                check.error(
                    target.referenced,
                    format!(
                        "unknown handoff target `{}` in agent `{name}`",
                        target.value
                    ),
                    did_you_mean(
                        &target.value,
                        agent_names.iter().copied().filter(|a| a != name),
                    ),
                );
            }
        }
        if let Some(turns) = &raw_agent.scripted {
            any_script = true;
            let turns: Vec<ScriptedTurn> = turns.iter().map(|t| turn(&mut check, t)).collect();
            scripted = scripted.with_agent(name.clone(), turns);
        }
        let model = match &raw_agent.model {
            Some(m) => model_ref(&mut check, m),
            None => default_model.clone(),
        };
        agent_models.push(model);
        let mut agent = Agent::new(name.clone())
            .with_model_settings(raw_agent.model_settings.clone())
            .with_description(raw_agent.description.clone())
            .with_instructions(raw_agent.instructions.clone())
            .with_tools(raw_agent.tools.iter().map(|t| t.value.clone()))
            .with_handoffs(raw_agent.handoffs.iter().map(|t| t.value.clone()));
        if let Some(style) = raw_agent.handoff_style {
            agent = agent.with_handoff_style(style);
        }
        agents.push(agent);
    }

    if !check.problems.is_empty() {
        return Err(TopologyError::Invalid(check.problems));
    }
    let name = raw.name.unwrap_or_else(|| {
        path.file_stem().map_or_else(
            || "topology".to_owned(),
            |s| s.to_string_lossy().into_owned(),
        )
    });
    Ok(Topology {
        path: path.to_owned(),
        name,
        description: raw.description,
        entry: raw.entry.value,
        limits,
        handoff_style: raw.handoff_style.unwrap_or_default(),
        tools,
        agents,
        models,
        agent_models,
        scripted: any_script.then(|| Arc::new(scripted)),
    })
}

fn limits(check: &mut Checker<'_>, raw: RawLimits) -> Limits {
    let defaults = Limits::default();
    let in_flight = match raw.max_tool_calls_in_flight {
        Some(n) if n.value == 0 => {
            check.error(
                n.referenced,
                "`max_tool_calls_in_flight` must be at least 1".to_owned(),
                None,
            );
            defaults.max_tool_calls_in_flight
        }
        Some(n) => n.value,
        None => defaults.max_tool_calls_in_flight,
    };
    Limits {
        max_turns: raw.max_turns.unwrap_or(defaults.max_turns),
        max_handoffs: raw.max_handoffs.unwrap_or(defaults.max_handoffs),
        max_agent_visits: raw.max_agent_visits.unwrap_or(defaults.max_agent_visits),
        tool_timeout: raw
            .tool_timeout
            .and_then(|t| check.duration(&t, "tool_timeout"))
            .unwrap_or(defaults.tool_timeout),
        max_tool_calls_in_flight: in_flight,
    }
}

fn turn(check: &mut Checker<'_>, raw: &RawTurn) -> ScriptedTurn {
    let mut calls: Vec<ScriptedCall> = raw.calls.iter().filter_map(|c| call(check, c)).collect();
    if let Some(target) = &raw.handoff {
        calls.push(ScriptedCall::handoff(target.value.clone()));
    }
    ScriptedTurn {
        text: raw.text.clone(),
        calls,
    }
}

fn call(check: &mut Checker<'_>, raw: &Spanned<RawCall>) -> Option<ScriptedCall> {
    let call = &raw.value;
    let made = match (&call.tool, &call.handoff) {
        (Some(tool), None) => {
            let arguments = match &call.args {
                None => "{}".to_owned(),
                Some(serde_json::Value::String(text)) => text.clone(),
                Some(value) => value.to_string(),
            };
            ScriptedCall::tool_raw(tool.value.clone(), arguments)
        }
        (None, Some(target)) if call.args.is_none() => ScriptedCall::handoff(target.value.clone()),
        (None, Some(_)) => {
            check.error(
                raw.referenced,
                "a scripted handoff takes no `args`".to_owned(),
                None,
            );
            return None;
        }
        _ => {
            check.error(
                raw.referenced,
                "a scripted call needs exactly one of `tool` or `handoff`".to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(yaml: &str) -> Vec<String> {
        match super::super::parse(yaml, Path::new("t.yaml")) {
            Ok(_) => Vec::new(),
            Err(e) => e.diagnostics().iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn every_reference_problem_is_reported_with_its_location() {
        let yaml = "\
entry: triag
tools:
  - builtin: add
  - builtin: sqroot
agents:
  - name: triage
    handoffs: [calculater, triage]
  - name: calculator
    tools: [add, ad]
";
        assert_eq!(
            errors(yaml),
            [
                "t.yaml:4:14: unknown builtin tool `sqroot` (did you mean `sqrt`?)",
                "t.yaml:1:8: entry agent `triag` is not defined (did you mean `triage`?)",
                "t.yaml:7:16: unknown handoff target `calculater` in agent `triage` (did you mean `calculator`?)",
                "t.yaml:7:28: agent `triage` hands off to itself",
                "t.yaml:9:18: unknown tool `ad` in agent `calculator` (did you mean `add`?)",
            ]
        );
    }

    #[test]
    fn unknown_fields_and_bad_values_are_syntax_errors_with_locations() {
        assert_eq!(
            errors("entry: a\nagents:\n  - name: a\n    toolz: [x]\n"),
            [
                "t.yaml:4:5: unknown field `toolz`, expected one of name, description, instructions, tools, handoffs, handoff_style, model, model_settings, scripted"
            ]
        );
        assert_eq!(
            errors("entry: a\nlimits:\n  tool_timeout: soon\nagents:\n  - name: a\n"),
            [
                "t.yaml:3:17: `tool_timeout`: invalid duration `soon`: expected number at 0 (write it like `30s`, `500ms` or `2m`)"
            ]
        );
    }

    #[test]
    fn hints_are_given_only_for_close_names() {
        assert_eq!(
            did_you_mean("ad", ["add", "sqrt"]),
            Some("did you mean `add`?".to_owned())
        );
        assert_eq!(did_you_mean("b", ["a"]), None);
        assert_eq!(did_you_mean("weather", ["add", "sqrt"]), None);
    }

    #[test]
    fn models_are_parsed_and_agents_refer_to_them() {
        let yaml = "\
entry: a
model: fast
models:
  - name: fast
    provider: openai
    model: gpt-4.1-mini
    settings: { temperature: 0.5 }
    limits: { timeout: 30s, max_retries: 2, max_in_flight: 4 }
  - name: local
    provider: chat
    base_url: http://localhost:11434/v1
    api_key_env: LOCAL_KEY
agents:
  - name: a
    handoffs: [b]
  - name: b
    model: local
    model_settings: { temperature: 0 }
";
        let topology = super::super::parse(yaml, Path::new("t.yaml")).unwrap();
        let fast = topology.model_of("a").unwrap();
        assert_eq!(fast.model.as_deref(), Some("gpt-4.1-mini"));
        assert_eq!(fast.api_key_env, "OPENAI_API_KEY");
        assert_eq!(fast.limits.timeout, Some(Duration::from_secs(30)));
        assert_eq!(fast.settings.temperature, Some(0.5));
        let local = topology.model_of("b").unwrap();
        assert_eq!(local.provider, crate::model::Provider::Chat);
        assert_eq!(local.api_key_env, "LOCAL_KEY");
        assert_eq!(topology.agents()[1].model_settings.temperature, Some(0.0));
        assert_eq!(
            errors(
                "entry: a\nmodel: fats\nmodels:\n  - { name: fast, provider: openai }\nagents:\n  - name: a\n"
            ),
            ["t.yaml:2:8: unknown model `fats` (did you mean `fast`?)"]
        );
    }

    #[test]
    fn duplicates_are_reported_at_the_second_definition() {
        let yaml = "entry: a\ntools:\n  - builtin: add\n  - builtin: add\nagents:\n  - name: a\n  - name: a\n";
        assert_eq!(
            errors(yaml),
            [
                "t.yaml:4:14: tool `add` is listed twice",
                "t.yaml:7:11: agent `a` is defined twice"
            ]
        );
    }
}
