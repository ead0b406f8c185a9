//! Checks a request the way the real API does, and reads it into an [`Ask`].
//!
//! Refused with the API's error shape and wording (`{"error": {"message", "type", "param",
//! "code"}}`): a body that is not JSON, unknown parameters, a missing `model` or
//! `input`/`messages`, tools that are not functions or whose names break the API's pattern or
//! repeat, a `tool_choice` naming a function not offered, a `temperature` out of range, and
//! histories with unpaired function calls or outputs.

use serde_json::{Map, Value};

use crate::item::Item;
use crate::model::chat::convert as chat;
use crate::model::responses::convert as responses;
use crate::model::{FunctionTool, check_history};

/// What a request asks, whichever API it came through.
#[derive(Debug)]
pub(crate) struct Ask {
    /// The `model` field.
    pub(crate) model: String,
    pub(crate) instructions: String,
    pub(crate) input: Vec<Item>,
    pub(crate) tools: Vec<FunctionTool>,
    pub(crate) parallel_tool_calls: bool,
    pub(crate) stream: bool,
    /// Chat Completions: `stream_options.include_usage`.
    pub(crate) include_usage: bool,
}

/// A refusal: status 400 and the API's error object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) message: String,
    pub(crate) kind: &'static str,
    pub(crate) param: Option<String>,
    pub(crate) code: Option<&'static str>,
}

impl ApiError {
    pub(crate) fn invalid(message: impl Into<String>, param: Option<&str>) -> Self {
        ApiError {
            status: 400,
            message: message.into(),
            kind: "invalid_request_error",
            param: param.map(str::to_owned),
            code: None,
        }
    }

    fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Value {
        serde_json::json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }})
    }
}

const RESPONSES_PARAMS: &[&str] = &[
    "model",
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "temperature",
    "top_p",
    "max_output_tokens",
    "max_tool_calls",
    "reasoning",
    "stream",
    "stream_options",
    "store",
    "metadata",
    "user",
    "safety_identifier",
    "prompt_cache_key",
    "previous_response_id",
    "conversation",
    "truncation",
    "text",
    "include",
    "service_tier",
    "background",
    "top_logprobs",
    "prompt",
];

const CHAT_PARAMS: &[&str] = &[
    "model",
    "messages",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "reasoning_effort",
    "stream",
    "stream_options",
    "store",
    "metadata",
    "user",
    "seed",
    "n",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "response_format",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
];

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::invalid(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            None,
        )),
    }
}

fn common(map: &Map<String, Value>, known: &[&str], chat_api: bool) -> Result<String, ApiError> {
    if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(if chat_api {
            ApiError::invalid(
                format!("Unrecognized request argument supplied: {unknown}"),
                None,
            )
        } else {
            ApiError::invalid(format!("Unknown parameter: '{unknown}'."), Some(unknown))
                .with_code("unknown_parameter")
        });
    }
    let model = match map.get("model") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        _ => {
            return Err(
                ApiError::invalid("Missing required parameter: 'model'.", Some("model"))
                    .with_code("missing_required_parameter"),
            );
        }
    };
    if let Some(t) = map.get("temperature") {
        match t.as_f64() {
            Some(t) if (0.0..=2.0).contains(&t) => {}
            Some(t) if t > 2.0 => {
                return Err(ApiError::invalid(
                    format!("Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got {t} instead."),
                    Some("temperature"),
                )
                .with_code("decimal_above_max_value"));
            }
            _ => {
                return Err(ApiError::invalid(
                    "Invalid 'temperature': expected a number between 0 and 2.",
                    Some("temperature"),
                ));
            }
        }
    }
    for flag in ["stream", "parallel_tool_calls"] {
        if let Some(v) = map.get(flag)
            && !v.is_boolean()
            && !v.is_null()
        {
            return Err(ApiError::invalid(
                format!(
                    "Invalid type for '{flag}': expected a boolean, but got {} instead.",
                    crate::tool::args::json_kind(v)
                ),
                Some(flag),
            )
            .with_code("invalid_type"));
        }
    }
    Ok(model)
}

/// A function name the API accepts: `^[a-zA-Z0-9_-]{1,64}$`.
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Reads `tools` (Responses: flat function tools; Chat: `{type, function: {...}}`).
fn tools(map: &Map<String, Value>, chat_api: bool) -> Result<Vec<FunctionTool>, ApiError> {
    let Some(list) = map.get("tools") else {
        return Ok(Vec::new());
    };
    let Some(list) = list.as_array() else {
        return Err(ApiError::invalid(
            "Invalid type for 'tools': expected an array.",
            Some("tools"),
        ));
    };
    let mut out: Vec<FunctionTool> = Vec::with_capacity(list.len());
    for (i, tool) in list.iter().enumerate() {
        let param = format!("tools[{i}]");
        if tool.get("type").and_then(Value::as_str) != Some("function") {
            return Err(ApiError::invalid(
                format!(
                    "Invalid value for '{param}.type': the mock model serves function tools only."
                ),
                Some(&param),
            ));
        }
        let (function, prefix) = if chat_api {
            match tool.get("function") {
                Some(f @ Value::Object(_)) => (f, format!("{param}.function")),
                _ => {
                    return Err(ApiError::invalid(
                        format!("Missing required parameter: '{param}.function'."),
                        Some(&format!("{param}.function")),
                    ));
                }
            }
        } else {
            (tool, param.clone())
        };
        let known: &[&str] = if chat_api {
            &["name", "description", "parameters", "strict"]
        } else {
            &["type", "name", "description", "parameters", "strict"]
        };
        if let Some(unknown) = function
            .as_object()
            .and_then(|o| o.keys().find(|k| !known.contains(&k.as_str())))
        {
            return Err(ApiError::invalid(
                format!("Unknown parameter: '{prefix}.{unknown}'."),
                Some(&format!("{prefix}.{unknown}")),
            )
            .with_code("unknown_parameter"));
        }
        let name = function.get("name").and_then(Value::as_str).unwrap_or("");
        if !valid_name(name) {
            return Err(ApiError::invalid(
                format!("Invalid '{prefix}.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."),
                Some(&format!("{prefix}.name")),
            )
            .with_code("invalid_value"));
        }
        if out.iter().any(|t| t.name == name) {
            return Err(ApiError::invalid(
                format!("Invalid 'tools': duplicate function name '{name}'."),
                Some("tools"),
            ));
        }
        let parameters = function
            .get("parameters")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}}));
        if !parameters.is_object() {
            return Err(ApiError::invalid(
                format!("Invalid type for '{prefix}.parameters': expected an object."),
                Some(&format!("{prefix}.parameters")),
            ));
        }
        out.push(FunctionTool {
            name: name.to_owned(),
            description: function
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            parameters,
        });
    }
    Ok(out)
}

/// Checks `tool_choice` against the offered tools.
fn tool_choice(
    map: &Map<String, Value>,
    tools: &[FunctionTool],
    chat_api: bool,
) -> Result<(), ApiError> {
    let Some(choice) = map.get("tool_choice") else {
        return Ok(());
    };
    match choice {
        Value::String(s) if ["auto", "none", "required"].contains(&s.as_str()) => Ok(()),
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("function") => {
            let name = if chat_api {
                o.get("function").and_then(|f| f.get("name"))
            } else {
                o.get("name")
            }
            .and_then(Value::as_str)
            .unwrap_or("");
            if tools.iter().any(|t| t.name == name) {
                Ok(())
            } else {
                Err(ApiError::invalid(
                    format!(
                        "Tool choice 'function' with name '{name}' not found in 'tools' parameter."
                    ),
                    Some("tool_choice"),
                ))
            }
        }
        _ => Err(ApiError::invalid(
            "Invalid value for 'tool_choice': expected 'auto', 'none', 'required' or a function.",
            Some("tool_choice"),
        )),
    }
}

fn flag(map: &Map<String, Value>, key: &str, default: bool) -> bool {
    map.get(key).and_then(Value::as_bool).unwrap_or(default)
}

/// Checks a `POST /responses` body.
pub(crate) fn responses(body: &[u8]) -> Result<Ask, ApiError> {
    let map = parse_object(body)?;
    let model = common(&map, RESPONSES_PARAMS, false)?;
    let instructions = match map.get("instructions") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid type for 'instructions': expected a string.",
                Some("instructions"),
            ));
        }
    };
    let input = match map.get("input") {
        Some(Value::String(text)) => vec![Item::user(text.clone())],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| responses::input_item_from_json(v, i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| ApiError::invalid(m, Some("input")))?,
        _ => {
            return Err(
                ApiError::invalid("Missing required parameter: 'input'.", Some("input"))
                    .with_code("missing_required_parameter"),
            );
        }
    };
    check_history(&input).map_err(|e| ApiError::invalid(e.to_string(), Some("input")))?;
    let tools = tools(&map, false)?;
    tool_choice(&map, &tools, false)?;
    Ok(Ask {
        model,
        instructions,
        input,
        parallel_tool_calls: flag(&map, "parallel_tool_calls", true),
        stream: flag(&map, "stream", false),
        include_usage: false,
        tools,
    })
}

/// Checks a `POST /chat/completions` body; `refuse_null_content`: as llama-cpp-python's server,
/// refuse an assistant message with tool calls whose `content` is `null`.
pub(crate) fn chat(body: &[u8], refuse_null_content: bool) -> Result<Ask, ApiError> {
    let map = parse_object(body)?;
    let model = common(&map, CHAT_PARAMS, true)?;
    let messages = match map.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m,
        Some(Value::Array(_)) => {
            return Err(ApiError::invalid(
                "[] is too short - 'messages'",
                Some("messages"),
            ));
        }
        _ => {
            return Err(ApiError::invalid(
                "Missing required parameter: 'messages'.",
                Some("messages"),
            )
            .with_code("missing_required_parameter"));
        }
    };
    if refuse_null_content {
        null_content(messages)?;
    }
    let (instructions, input) =
        chat::items_from_messages(messages).map_err(|m| ApiError::invalid(m, Some("messages")))?;
    let tools = tools(&map, true)?;
    tool_choice(&map, &tools, true)?;
    Ok(Ask {
        model,
        instructions,
        input,
        parallel_tool_calls: flag(&map, "parallel_tool_calls", true),
        stream: flag(&map, "stream", false),
        include_usage: map
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        tools,
    })
}

/// llama-cpp-python's answer to `"content": null` beside `tool_calls`: HTTP 500, one
/// validation error per message type its request model tries.
fn null_content(messages: &[Value]) -> Result<(), ApiError> {
    for (index, message) in messages.iter().enumerate() {
        let calls = message.get("tool_calls").is_some_and(|c| c.is_array());
        if message.get("role").and_then(Value::as_str) == Some("assistant")
            && calls
            && message.get("content") == Some(&Value::Null)
        {
            return Err(ApiError {
                status: 500,
                message: format!(
                    "{NULL_CONTENT_ERROR}\n  {{'type': 'string_type', 'loc': ('body', 'messages', {index}, 'ChatCompletionRequestAssistantMessage', 'content'), 'msg': 'Input should be a valid string', 'input': None}}"
                ),
                kind: "internal_server_error",
                param: None,
                code: None,
            });
        }
    }
    Ok(())
}

/// The start of llama-cpp-python's error text for a `null` content (the mock keeps only the
/// one error of the seven that matters).
pub(crate) const NULL_CONTENT_ERROR: &str = "7 validation errors:";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refuse(body: Value) -> String {
        responses(body.to_string().as_bytes()).unwrap_err().message
    }

    #[test]
    fn responses_requests_are_refused_with_the_apis_words() {
        assert_eq!(
            refuse(json!({"model": "m", "input": "hi", "temprature": 1})),
            "Unknown parameter: 'temprature'."
        );
        assert_eq!(
            refuse(json!({"input": "hi"})),
            "Missing required parameter: 'model'."
        );
        assert_eq!(
            refuse(json!({"model": "m", "input": [
                {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}]})),
            "No tool output found for function call c1."
        );
        assert_eq!(
            refuse(json!({"model": "m", "input": [
                {"type": "function_call_output", "call_id": "c2", "output": "x"}]})),
            "No tool call found for function call output with call_id c2."
        );
        assert!(
            refuse(json!({"model": "m", "input": "x",
            "tools": [{"type": "function", "name": "bad name"}]}))
            .starts_with("Invalid 'tools[0].name'")
        );
        assert!(refuse(json!({"model": "m", "input": "x", "tool_choice": {"type": "function", "name": "f"}}))
            .contains("not found in 'tools'"));
        assert!(
            responses(b"{not json")
                .unwrap_err()
                .message
                .starts_with("We could not parse")
        );
    }

    #[test]
    fn a_good_responses_request_is_read_into_an_ask() {
        let ask = responses(
            json!({"model": "m", "instructions": "I", "stream": true, "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
                "tools": [{"type": "function", "name": "add", "parameters": {"type": "object"}, "strict": false}]})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(ask.input, [Item::user("hi")]);
        assert!(ask.stream && ask.parallel_tool_calls);
        assert_eq!(ask.tools[0].name, "add");
    }

    #[test]
    fn chat_requests_are_checked_too() {
        let err = chat(
            json!({"model": "m", "messages": [], "x": 1})
                .to_string()
                .as_bytes(),
            false,
        )
        .unwrap_err();
        assert_eq!(err.message, "Unrecognized request argument supplied: x");
        let err = chat(
            json!({"model": "m", "messages": []}).to_string().as_bytes(),
            false,
        )
        .unwrap_err();
        assert_eq!(err.message, "[] is too short - 'messages'");
    }
}
