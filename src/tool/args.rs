//! Checks a call's arguments before it is sent to a worker, and parses them once.
//!
//! Runs in the turn loop, so a bad call becomes an error output without touching the worker.
//! For a Rust tool the arguments are parsed straight into its argument type, and the worker
//! gets that value; the tool's JSON Schema is also checked unless the schema says nothing
//! serde's typed parse does not already enforce (see [`ToolDef`]). Error messages are the
//! schema's either way.

use std::any::Any;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{ToolDef, ToolError};

/// A call's arguments on their way to a worker.
pub(crate) enum Arguments {
    /// Already parsed into the tool's own argument type.
    Typed(Box<dyn Any + Send>),
    /// JSON text, checked against the schema (tools without a Rust argument type).
    Json(String),
}

/// A tool's typed parser with its type erased: JSON text to its boxed argument value.
pub(crate) type TypedParse = fn(&str) -> Result<Box<dyn Any + Send>, serde_json::Error>;

/// The [`TypedParse`] of argument type `A`.
pub(crate) fn typed_parse<A: DeserializeOwned + Send + 'static>(
    text: &str,
) -> Result<Box<dyn Any + Send>, serde_json::Error> {
    Ok(Box::new(serde_json::from_str::<A>(text)?))
}

/// Checks `arguments` (the model's JSON string): it must be JSON and fit `def`'s schema.
///
/// An empty string counts as `{}`: some servers send it for functions without parameters.
pub(crate) fn check(def: &ToolDef, arguments: &str) -> Result<Arguments, ToolError> {
    let text = or_empty(arguments);
    let invalid = |message: String| ToolError::InvalidArguments {
        tool: def.name().to_owned(),
        message,
    };
    let typed = def.typed_parse();
    if let Some(parse) = typed
        && def.schema_is_structural()
        && let Ok(args) = parse(text)
    {
        return Ok(Arguments::Typed(args)); // serde checked all the schema says
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
    def.validate(&value).map_err(invalid)?;
    match typed {
        // The schema passed; the type may still be stricter (an `i32` that overflows, say).
        Some(parse) => parse(text)
            .map(Arguments::Typed)
            .map_err(|e| invalid(e.to_string())),
        None => Ok(Arguments::Json(text.to_owned())),
    }
}

/// What kind of JSON value `value` is, for messages: "a string", "an array", "null", ...
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `arguments`, or `{}` if it is blank.
pub(crate) fn or_empty(arguments: &str) -> &str {
    if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    }
}

/// Turns arguments into the tool's type `A` on the worker's side.
pub(crate) fn into_typed<A: DeserializeOwned + 'static>(arguments: Arguments) -> Result<A, String> {
    match arguments {
        Arguments::Typed(any) => any
            .downcast::<A>()
            .map(|args| *args)
            .map_err(|_| "arguments of another tool's type".to_owned()),
        Arguments::Json(text) => serde_json::from_str(&text).map_err(|e| e.to_string()),
    }
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

    fn err(result: Result<Arguments, ToolError>) -> ToolError {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Ranged {
        #[schemars(range(min = 1, max = 10))]
        n: u32,
    }

    #[test]
    fn good_arguments_arrive_parsed_into_the_tools_type() {
        let args = check(&def(), r#"{"x": 16}"#).unwrap();
        let parsed: Args = into_typed(args).unwrap();
        assert_eq!(parsed.x, 16.0);
    }

    #[test]
    fn schema_constraints_serde_does_not_know_are_still_checked() {
        let def = ToolDef::new::<Ranged>("pick", "picks", ToolOptions::default()).unwrap();
        assert!(!def.schema_is_structural());
        let e = err(check(&def, r#"{"n": 11}"#)).to_string();
        assert_eq!(
            e,
            "invalid arguments for tool `pick`: 11 is greater than the maximum of 10 at /n"
        );
        assert!(check(&def, r#"{"n": 10}"#).is_ok());
    }

    #[test]
    fn bad_json_names_the_tool_and_the_position() {
        let message = err(check(&def(), "{\"x\": ")).to_string();
        assert!(
            message.starts_with(
                "invalid arguments for tool `sqrt`: not valid JSON: EOF while parsing"
            ),
            "{message}"
        );
        assert!(message.contains("line 1 column 6"), "{message}");
    }

    #[test]
    fn schema_mismatch_is_reported_with_its_path() {
        let message = err(check(&def(), r#"{"x": "four"}"#)).to_string();
        assert_eq!(
            message,
            "invalid arguments for tool `sqrt`: \"four\" is not of type \"number\" at /x"
        );
    }

    #[test]
    fn empty_arguments_count_as_an_empty_object() {
        let message = err(check(&def(), "")).to_string();
        assert!(
            message.contains("\"x\" is a required property"),
            "{message}"
        );
    }
}
