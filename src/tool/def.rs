//! `ToolDef`: what the model sees of a tool (name, description, JSON Schema) and how calls to
//! it are checked and limited. Built once when a tool is registered, shared by every call.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use schemars::JsonSchema;
use serde_json::Value;

use serde::de::DeserializeOwned;

use super::args::{TypedParse, typed_parse};
use crate::model::FunctionTool;

/// How calls to one tool are run.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use baton::tool::ToolOptions;
///
/// let options = ToolOptions {
///     max_concurrency: Some(4),
///     timeout: Some(Duration::from_secs(2)),
///     ..ToolOptions::default()
/// };
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolOptions {
    /// At most this many calls run at once, across all conversations (`None`: no tool-level cap;
    /// the per-run cap still applies). For blocking tools, the pool's thread count.
    pub max_concurrency: Option<usize>,
    /// A call that takes longer gets a timeout output (`None`: the run's default tool timeout).
    pub timeout: Option<Duration>,
    /// Safe to call again with the same arguments; only idempotent tools are retried.
    pub idempotent: bool,
    /// Extra attempts after a failure or timeout, for idempotent tools.
    pub retries: u32,
}

/// Why a tool could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolDefError {
    /// The name is not one the OpenAI API accepts.
    #[error("tool name `{name}` is invalid: use 1 to 64 letters, digits, `_` or `-`")]
    InvalidName {
        /// The rejected name.
        name: String,
    },
    /// The argument schema does not compile.
    #[error("tool `{name}` has an invalid argument schema: {message}")]
    InvalidSchema {
        /// The tool.
        name: String,
        /// The schema compiler's message.
        message: String,
    },
}

/// A registered tool as the model and the turn loop see it.
#[derive(Debug)]
pub struct ToolDef {
    /// The name, shared (timeline events hold it without copying).
    name: Arc<str>,
    /// What the model is told: name, description, parameters.
    function: FunctionTool,
    /// The compiled parameters schema; every call's arguments are checked against it.
    validator: jsonschema::Validator,
    /// Parses arguments into the tool's Rust type (tools defined in Rust).
    typed_parse: Option<TypedParse>,
    /// Whether the schema only says what that typed parse enforces anyway (types, required
    /// and allowed properties), so a successful typed parse needs no schema check.
    structural: bool,
    /// Limits and retry policy.
    options: ToolOptions,
    /// How often the tool's workers were restarted (a fresh instance after a panic), across
    /// every shard and pool thread.
    restarts: AtomicU32,
}

impl ToolDef {
    /// Builds the definition of a tool whose arguments are `A`.
    pub(crate) fn new<A: JsonSchema + DeserializeOwned + Send + 'static>(
        name: &str,
        description: &str,
        options: ToolOptions,
    ) -> Result<Self, ToolDefError> {
        let mut parameters = serde_json::to_value(schemars::schema_for!(A)).map_err(|e| {
            ToolDefError::InvalidSchema {
                name: name.to_owned(),
                message: e.to_string(),
            }
        })?;
        if let Value::Object(map) = &mut parameters {
            // Model APIs want the bare object schema.
            map.remove("$schema");
            map.remove("title");
        }
        let mut def = Self::from_schema(name, description, parameters, options)?;
        def.structural = is_structural(&def.function.parameters);
        def.typed_parse = Some(typed_parse::<A>);
        Ok(def)
    }

    /// Builds a definition from a ready JSON Schema (tools defined outside Rust).
    pub(crate) fn from_schema(
        name: &str,
        description: &str,
        parameters: Value,
        options: ToolOptions,
    ) -> Result<Self, ToolDefError> {
        check_name(name)?;
        let validator =
            jsonschema::validator_for(&parameters).map_err(|e| ToolDefError::InvalidSchema {
                name: name.to_owned(),
                message: e.to_string(),
            })?;
        Ok(ToolDef {
            name: Arc::from(name),
            function: FunctionTool {
                name: name.to_owned(),
                description: description.to_owned(),
                parameters,
            },
            validator,
            typed_parse: None,
            structural: false,
            options,
            restarts: AtomicU32::new(0),
        })
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.function.name
    }

    /// The tool's name, as a shared string.
    pub fn shared_name(&self) -> &Arc<str> {
        &self.name
    }

    /// The function tool sent to models.
    pub fn function(&self) -> &FunctionTool {
        &self.function
    }

    /// The tool's options.
    pub fn options(&self) -> &ToolOptions {
        &self.options
    }

    /// How often the tool's workers have been restarted after a panic.
    pub fn restarts(&self) -> u32 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Counts a restart (a call panicked; its worker takes a fresh instance); returns the new
    /// count.
    pub(crate) fn restarted(&self) -> u32 {
        self.restarts
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1)
    }

    /// The typed parser of a tool defined in Rust.
    pub(crate) fn typed_parse(&self) -> Option<TypedParse> {
        self.typed_parse
    }

    /// Whether a successful typed parse makes the schema check redundant.
    pub(crate) fn schema_is_structural(&self) -> bool {
        self.structural
    }

    /// Checks arguments against the schema; the error lists every violation with its JSON path.
    pub(crate) fn validate(&self, arguments: &Value) -> Result<(), String> {
        if self.validator.is_valid(arguments) {
            return Ok(()); // the common case, without collecting errors
        }
        let mut problems = self.validator.iter_errors(arguments).peekable();
        if problems.peek().is_none() {
            return Ok(());
        }
        let listed: Vec<String> = problems
            .map(|e| {
                let path = e.instance_path().to_string();
                if path.is_empty() {
                    e.to_string()
                } else {
                    format!("{e} at {path}")
                }
            })
            .collect();
        Err(listed.join("; "))
    }
}

/// Whether `schema` only uses keywords that a serde typed parse of the Rust type it was
/// derived from enforces by itself: types, properties, required properties, closed objects,
/// and `minimum: 0` on unsigned integers. Anything else (ranges, patterns, enums, references)
/// needs the schema check.
fn is_structural(schema: &Value) -> bool {
    let Value::Object(map) = schema else {
        return schema.is_boolean();
    };
    let unsigned = map
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| f.starts_with("uint"));
    map.iter().all(|(keyword, value)| match keyword.as_str() {
        "type" | "description" | "title" | "$schema" | "format" | "required" => true,
        "additionalProperties" | "items" => is_structural(value),
        "properties" => value
            .as_object()
            .is_some_and(|properties| properties.values().all(is_structural)),
        "minimum" => unsigned && value.as_u64() == Some(0),
        _ => false,
    })
}

/// Checks a function name against the OpenAI API's pattern `^[a-zA-Z0-9_-]{1,64}$`.
pub(crate) fn check_name(name: &str) -> Result<(), ToolDefError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ToolDefError::InvalidName {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        a: f64,
        b: f64,
    }

    #[test]
    fn schema_is_a_bare_object_schema_that_checks_arguments() {
        let def = ToolDef::new::<Args>("add", "adds", ToolOptions::default()).unwrap();
        let params = &def.function().parameters;
        assert_eq!(params["type"], "object");
        assert!(params.get("$schema").is_none());
        assert!(def.validate(&serde_json::json!({"a": 1, "b": 2})).is_ok());
        let err = def.validate(&serde_json::json!({"a": "x"})).unwrap_err();
        assert!(
            err.contains("\"x\" is not of type \"number\" at /a"),
            "{err}"
        );
        assert!(err.contains("\"b\" is a required property"), "{err}");
    }

    #[test]
    fn plain_argument_structs_have_structural_schemas() {
        #[derive(serde::Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct Plain {
            name: String,
            count: u32,
            ratio: Option<f64>,
            tags: Vec<String>,
        }
        #[derive(serde::Deserialize, JsonSchema)]
        #[allow(dead_code)]
        enum Mode {
            Fast,
            Slow,
        }
        #[derive(serde::Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct WithEnum {
            mode: Mode,
        }
        let plain = ToolDef::new::<Plain>("p", "", ToolOptions::default()).unwrap();
        assert!(
            plain.schema_is_structural(),
            "{}",
            plain.function().parameters
        );
        let with_enum = ToolDef::new::<WithEnum>("e", "", ToolOptions::default()).unwrap();
        assert!(!with_enum.schema_is_structural());
    }

    #[test]
    fn names_the_api_would_reject_are_refused() {
        assert!(check_name("get_weather-2").is_ok());
        for bad in ["", "has space", "dot.name", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
