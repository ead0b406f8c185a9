//! Checks a call's arguments before it is sent to a worker: JSON first, then the tool's schema.
//! Runs in the turn loop, so a bad call becomes an error output without touching the worker.

use serde_json::Value;

use super::{ToolDef, ToolError};

/// Parses `arguments` (the model's JSON string) and checks it against `def`'s schema.
///
/// An empty string counts as `{}`: some servers send it for functions without parameters.
pub(crate) fn parse(def: &ToolDef, arguments: &str) -> Result<Value, ToolError> {
    let invalid = |message: String| ToolError::InvalidArguments {
        tool: def.name().to_owned(),
        message,
    };
    let value = if arguments.trim().is_empty() {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_str(arguments).map_err(|e| invalid(format!("not valid JSON: {e}")))?
    };
    def.validate(&value).map_err(invalid)?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool::ToolOptions;

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        x: f64,
    }

    fn def() -> ToolDef {
        ToolDef::new::<Args>("sqrt", "square root", ToolOptions::default()).unwrap()
    }

    #[test]
    fn bad_json_names_the_tool_and_the_position() {
        let err = parse(&def(), "{\"x\": ").unwrap_err().to_string();
        assert!(
            err.starts_with("invalid arguments for tool `sqrt`: not valid JSON: EOF while parsing"),
            "{err}"
        );
        assert!(err.contains("line 1 column 6"), "{err}");
    }

    #[test]
    fn schema_mismatch_is_reported_with_its_path() {
        let err = parse(&def(), r#"{"x": "four"}"#).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid arguments for tool `sqrt`: \"four\" is not of type \"number\" at /x"
        );
    }

    #[test]
    fn empty_arguments_count_as_an_empty_object() {
        let err = parse(&def(), "").unwrap_err().to_string();
        assert!(err.contains("\"x\" is a required property"), "{err}");
    }
}
