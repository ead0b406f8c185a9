//! The fields every declared tool (`http`, `command`) shares: its function name, description
//! and the JSON Schema of its arguments, and the string mappings (`query`, `headers`,
//! `set_env`) their specs hold, with where each entry is written.

use schemars::JsonSchema;
use serde_json::{Value as Json, json};

use crate::topology::diagnostic::Place;
use crate::topology::read::{Fields, FromNode, Located, Reader};
use crate::topology::tree::{Node, Value};

/// A declared tool's name, description and argument schema.
#[derive(Debug, Default, JsonSchema)]
pub(crate) struct RawSignature {
    /// The function name the model calls.
    #[schemars(required)]
    pub(crate) name: Option<Located<String>>,
    /// What the tool does, for the model.
    pub(crate) description: Option<String>,
    /// The JSON Schema of its arguments: an object schema whose `properties` the templates
    /// refer to as `{name}` (default: no arguments).
    pub(crate) parameters: Option<Parameters>,
}

impl RawSignature {
    /// Reads the three fields.
    pub(super) fn read(f: &mut Fields<'_, '_, '_>) -> Self {
        RawSignature {
            name: f.required("name"),
            description: f.get("description"),
            parameters: f.get("parameters"),
        }
    }

    /// The argument schema (`{}` arguments when none is declared).
    pub(crate) fn schema(&self) -> Json {
        self.parameters.as_ref().map_or_else(
            || json!({"type": "object", "properties": {}, "additionalProperties": false}),
            |p| p.schema.clone(),
        )
    }

    /// Where the schema is written (else where the name is).
    pub(crate) fn schema_at(&self) -> Option<&Place> {
        self.parameters
            .as_ref()
            .map(|p| &p.at)
            .or(self.name.as_ref().map(|n| &n.at))
    }
}

/// A JSON Schema of a tool's arguments, checked to compile and to describe an object.
#[derive(Debug, Clone)]
pub(crate) struct Parameters {
    pub(crate) schema: Json,
    pub(crate) at: Place,
}

impl JsonSchema for Parameters {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Parameters".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "description": "A JSON Schema of an object: `type: object`, `properties`, `required`.",
            "additionalProperties": true,
        })
    }
}

impl FromNode for Parameters {
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let schema = Json::read(node, r)?;
        let is_object = schema.get("type").and_then(Json::as_str) == Some("object");
        if !is_object {
            r.error(
                node,
                "`parameters` must be a JSON Schema of an object (`type: object`)",
                Some("list the arguments under `properties:`".to_owned()),
            );
            return None;
        }
        if let Err(e) = jsonschema::validator_for(&schema) {
            r.error(
                node,
                format!("`parameters` is not a valid JSON Schema: {e}"),
                None,
            );
            return None;
        }
        Some(Parameters {
            schema,
            at: r.place(node),
        })
    }
}

/// A mapping of names to strings (`query`, `headers`, `set_env`), each entry located.
#[derive(Debug, Default, Clone)]
pub(crate) struct StringMap {
    /// Each entry: its key and its value, as written (not interpolated, see [`StringMap`]).
    pub(crate) entries: Vec<(Located<String>, Located<String>)>,
}

impl JsonSchema for StringMap {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StringMap".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": { "type": ["string", "number", "boolean"] },
        })
    }
}

impl FromNode for StringMap {
    /// Values are interpolated (`${VAR}`) like every string; numbers and booleans are taken
    /// as their text.
    fn read(node: &Node, r: &mut Reader<'_>) -> Option<Self> {
        let Value::Map(pairs) = &node.value else {
            r.expected(node, "a mapping of names to strings");
            return None;
        };
        let mut map = StringMap::default();
        for (key, value) in pairs {
            let Value::String(name) = &key.value else {
                r.error(key, "names must be strings", None);
                continue;
            };
            let text = match &value.value {
                Value::String(_) => r.string(value),
                Value::Bool(b) => Some(b.to_string()),
                Value::Int(n) => Some(n.to_string()),
                Value::UInt(n) => Some(n.to_string()),
                Value::Float(x) => Some(x.to_string()),
                _ => {
                    r.error(value, format!("`{name}` must be a string"), None);
                    None
                }
            };
            if let Some(text) = text {
                map.entries.push((
                    Located {
                        value: name.clone(),
                        at: r.place(key),
                    },
                    Located {
                        value: text,
                        at: r.place(value),
                    },
                ));
            }
        }
        Some(map)
    }
}

/// Reports each value of the mapping's `headers` that uses `${VAR}`, and says whether one
/// did (the headers are then not read). `${VAR}` would copy a value into the topology, where
/// it could be shown: secrets in headers are `{env:VAR}`, read once and never shown.
pub(super) fn interpolated_headers(f: &mut Fields<'_, '_, '_>) -> bool {
    let mut interpolated = false;
    if let Some(headers) = f.node("headers") {
        for (name, value) in raw_values(headers) {
            if let Value::String(text) = &value.value
                && text.contains("${")
            {
                interpolated = true;
                f.reader.error(
                    value,
                    format!("header `{name}` uses `${{...}}`; write `{{env:VAR}}` instead"),
                    Some("`{env:VAR}` is read when the topology loads and never shown in outputs, traces or errors".to_owned()),
                );
            }
        }
    }
    interpolated
}

/// The value node of `key` in mapping `node`, for headers (read without interpolation).
fn raw_values(node: &Node) -> Vec<(&str, &Node)> {
    let Value::Map(pairs) = &node.value else {
        return Vec::new();
    };
    pairs
        .iter()
        .filter_map(|(k, v)| match &k.value {
            Value::String(name) => Some((name.as_str(), v)),
            _ => None,
        })
        .collect()
}
