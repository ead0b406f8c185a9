//! The `models:` and `tools:` sections: names, references and option values checked, and
//! the runtime configs built from them.

use std::collections::{HashMap, HashSet};

use super::ToolConfig;
use super::diagnostic::{Place, Problems};
use super::env;
use super::kinds::{Agents, RawTool};
use super::raw::{RawAgent, RawCompat, RawModel, RawModelSettings};
use super::read::Located;
use super::validate::first_at;
use crate::handoff::{HANDOFF_FUNCTION, TRANSFER_PREFIX};
use crate::model::provider::{extra_collision, sets_field};
use crate::model::{
    Compat, DEFAULT_API_KEY_ENV, ModelConfig, ModelLimits, ModelSettings, Provider,
};
use crate::tool::ToolOptions;
use crate::tool::def::check_name;

pub(super) fn models(p: &mut Problems, raw: &[RawModel]) -> Vec<ModelConfig> {
    let mut models: Vec<ModelConfig> = Vec::with_capacity(raw.len());
    // Where each model in `models` is defined, by name.
    let mut defined: HashMap<&str, &Place> = HashMap::with_capacity(raw.len());
    for model in raw {
        let (Some(name), Some(provider)) = (&model.name, model.provider) else {
            continue;
        };
        if let Some(first) = defined.get(name.value.as_str()) {
            p.error(
                &name.at,
                format!("model `{}` is defined twice", name.value),
                Some(format!("the first is at {}", first_at(first, &name.at))),
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
            && !env::is_name(&var.value)
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
        check_extra(p, model.settings.as_ref(), Some(provider.0));
        let mut limits = ModelLimits::default();
        if let Some(l) = &model.limits {
            limits.timeout = l.timeout.map(|d| d.0);
            limits.max_retries = l.max_retries.map(|r| r.0);
            limits.max_in_flight = l.max_in_flight.map(|n| n.0 as usize);
        }
        defined.insert(&name.value, &name.at);
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
            stream: model.stream.map(|s| s.0).unwrap_or_default(),
            compat: model.compat.as_ref().map(compat).unwrap_or_default(),
            images: model.images.unwrap_or(false),
        });
    }
    models
}

pub(super) fn settings(raw: &RawModelSettings) -> ModelSettings {
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
        extra: raw
            .extra
            .as_ref()
            .map(|e| e.map.clone())
            .unwrap_or_default(),
    }
}

pub(super) fn compat(raw: &RawCompat) -> Compat {
    Compat {
        tool_call_content: raw.tool_call_content.map(|c| c.0),
        explicit_tool_choice: raw.explicit_tool_choice,
    }
}

/// Reports each `extra` field of `raw` that would override a field Baton sets itself for
/// `provider` (for a scripted or unknown model: for either API).
pub(super) fn check_extra(
    p: &mut Problems,
    raw: Option<&RawModelSettings>,
    provider: Option<Provider>,
) {
    let Some(extra) = raw.and_then(|r| r.extra.as_ref()) else {
        return;
    };
    let providers: &[Provider] = match provider {
        Some(Provider::Chat) => &[Provider::Chat],
        Some(Provider::Openai) => &[Provider::Openai],
        _ => &[Provider::Openai, Provider::Chat],
    };
    for key in &extra.keys {
        if providers
            .iter()
            .any(|&provider| sets_field(provider, &key.value))
        {
            p.error(&key.at, extra_collision(&key.value), None);
        }
    }
}

/// Checks the `tools:` section; returns each tool with where it is defined. `agent_positions`
/// says where each of `agents` is, by name. Each tool's kind checks its own fields
/// (`kinds`); this checks what every tool shares: its name, and its options. Also returns the
/// names of tools defined with problems (already reported), so agents naming them get no
/// "unknown tool" error on top.
pub(super) fn tools<'r>(
    p: &mut Problems,
    raw: &'r [Located<RawTool>],
    agents: &[(&Located<String>, &RawAgent)],
    agent_positions: &HashMap<&str, usize>,
) -> (Vec<(ToolConfig, Place)>, HashSet<&'r str>) {
    let mut broken = HashSet::new();
    let view = Agents {
        list: agents,
        positions: agent_positions,
    };
    let mut tools: Vec<(ToolConfig, Place)> = Vec::with_capacity(raw.len());
    // Each tool's position in `tools`, by name.
    let mut positions: HashMap<&str, usize> = HashMap::with_capacity(raw.len());
    for tool in raw {
        let declared = &*tool.value.0;
        let Some(name) = declared.name() else {
            continue;
        };
        let (name, at) = (name.value.as_str(), &name.at);
        check_tool_name(p, name, at);
        let Some(kind) = declared.resolve(p, &view) else {
            broken.insert(name);
            continue;
        };
        if let Some(&first) = positions.get(name) {
            let first = &tools[first].1;
            p.error(
                at,
                format!("tool `{name}` is defined twice"),
                Some(format!("the first is at {}", first_at(first, at))),
            );
            continue;
        }
        let options = declared.options();
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
        positions.insert(name, tools.len());
        tools.push((
            ToolConfig {
                name: name.to_owned(),
                kind,
                options,
            },
            at.clone(),
        ));
    }
    (tools, broken)
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
