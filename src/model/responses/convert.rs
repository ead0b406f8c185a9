//! Items to and from the Responses API's JSON.
//!
//! Outgoing: a [`ModelRequest`] becomes a [`wire::Request`]; assistant messages and function
//! calls that came from the API go back with their item ids, reasoning items go back exactly
//! as received. Incoming: output items become [`Item`]s (message text is the concatenation of
//! its `output_text` parts; unknown item types are skipped with a debug line). The reverse
//! directions (input JSON to items, items to output JSON) serve the mock server.

use serde_json::{Map, Value, json};

use super::wire;
use crate::item::{Item, Role};
use crate::model::provider::{arguments_text, strict};
use crate::model::{ModelRequest, ModelSettings, ResolvedCompat, ToolChoice, Usage};

/// The request body for `request`, with `settings` (the agent's over the model's).
pub(crate) fn request<'a>(
    model: &'a str,
    request: &ModelRequest<'a>,
    settings: &'a ModelSettings,
    stream: bool,
    compat: &ResolvedCompat,
) -> wire::Request<'a> {
    let has_tools = !request.tools.is_empty();
    wire::Request {
        model,
        instructions: request.instructions,
        input: request.input.iter().map(input_item).collect(),
        tools: request
            .tools
            .iter()
            .map(|t| wire::Tool {
                kind: "function",
                name: &t.name,
                description: &t.description,
                parameters: &t.parameters,
                strict: strict(settings.strict_tools, &t.parameters),
            })
            .collect(),
        tool_choice: match &settings.tool_choice {
            _ if !has_tools => None,
            Some(choice) => Some(tool_choice(choice)),
            None => compat
                .explicit_tool_choice
                .then(|| tool_choice(&ToolChoice::Auto)),
        },
        parallel_tool_calls: has_tools.then_some(request.parallel_tool_calls),
        temperature: settings.temperature,
        top_p: settings.top_p,
        max_output_tokens: settings.max_output_tokens,
        reasoning: settings
            .reasoning_effort
            .as_deref()
            .map(|effort| wire::Reasoning { effort }),
        stream,
        extra: &settings.extra,
    }
}

/// The Responses API's `tool_choice`.
fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Function(name) => json!({"type": "function", "name": name}),
    }
}

fn input_item(item: &Item) -> wire::InputItem<'_> {
    match item {
        Item::Message {
            role: Role::Assistant,
            content,
            id: Some(id),
        } => wire::InputItem::Message {
            id: Some(id),
            role: "assistant",
            content: wire::Content::Output([wire::OutputText {
                kind: "output_text",
                text: content,
                annotations: [],
            }]),
            status: Some("completed"),
        },
        Item::Message { role, content, .. } => wire::InputItem::Message {
            id: None,
            role: role.as_str(),
            content: wire::Content::Text(content),
            status: None,
        },
        Item::FunctionCall {
            call_id,
            name,
            arguments,
            id,
        } => wire::InputItem::FunctionCall {
            id: id.as_deref(),
            call_id,
            name,
            arguments,
        },
        Item::FunctionCallOutput {
            call_id,
            output,
            images,
        } => {
            let output = if images.is_empty() {
                wire::CallOutput::Text(output)
            } else {
                let mut parts = Vec::with_capacity(images.len() + 1);
                parts.push(wire::InputPart::InputText { text: output });
                parts.extend(images.iter().map(|image| wire::InputPart::InputImage {
                    image_url: image.data_url(),
                }));
                wire::CallOutput::Parts(parts)
            };
            wire::InputItem::FunctionCallOutput { call_id, output }
        }
        Item::Reasoning { fields } => wire::InputItem::Reasoning { fields },
    }
}

/// The items of a response's `output`.
pub(crate) fn output_items(output: Vec<Value>) -> Result<Vec<Item>, String> {
    let mut items = Vec::with_capacity(output.len());
    for value in output {
        if let Some(item) = output_item(value)? {
            items.push(item);
        }
    }
    Ok(items)
}

/// One output item; `Ok(None)` for types Baton does not use.
pub(crate) fn output_item(value: Value) -> Result<Option<Item>, String> {
    let Value::Object(mut map) = value else {
        return Err("an output item is not an object".to_owned());
    };
    let kind = map.get("type").and_then(Value::as_str).unwrap_or("");
    let text = |map: &Map<String, Value>, key: &str| -> Option<String> {
        map.get(key).and_then(Value::as_str).map(str::to_owned)
    };
    match kind {
        "message" => {
            let content = message_text(map.get("content"));
            let role = match map.get("role").and_then(Value::as_str) {
                Some("user") => Role::User,
                Some("system") => Role::System,
                Some("developer") => Role::Developer,
                _ => Role::Assistant,
            };
            Ok(Some(Item::Message {
                role,
                content,
                id: text(&map, "id"),
            }))
        }
        "function_call" => {
            let call_id = text(&map, "call_id")
                .ok_or_else(|| "a function_call output item has no `call_id`".to_owned())?;
            let name = text(&map, "name")
                .ok_or_else(|| format!("function_call {call_id} has no `name`"))?;
            Ok(Some(Item::FunctionCall {
                call_id,
                name,
                arguments: arguments_text(map.remove("arguments")),
                id: text(&map, "id"),
            }))
        }
        "reasoning" => {
            map.remove("type");
            Ok(Some(Item::Reasoning { fields: map }))
        }
        other => {
            tracing::debug!(
                kind = other,
                "skipping an output item of a type Baton does not use"
            );
            Ok(None)
        }
    }
}

/// The text of a message's content: a string, or its `output_text` / `input_text` / `refusal`
/// parts joined.
fn message_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| {
                p.get("text")
                    .or_else(|| p.get("refusal"))
                    .and_then(Value::as_str)
            })
            .collect(),
        _ => String::new(),
    }
}

/// A wire usage as Baton's, for one request.
pub(crate) fn usage(usage: Option<wire::WireUsage>) -> Usage {
    let u = usage.unwrap_or_default();
    Usage {
        requests: 1,
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        total_tokens: if u.total_tokens > 0 {
            u.total_tokens
        } else {
            u.input_tokens + u.output_tokens
        },
    }
}

/// Reads one `input` entry the way the API does: typed items, or `{role, content}` messages
/// without a `type` (content as text or parts). For the mock server.
#[cfg_attr(
    not(feature = "mock"),
    allow(dead_code, reason = "only the mock server uses it")
)]
pub(crate) fn input_item_from_json(value: &Value, index: usize) -> Result<Item, String> {
    let at = |what: String| format!("Invalid 'input[{index}]': {what}");
    let Value::Object(map) = value else {
        return Err(at("expected an object.".to_owned()));
    };
    let kind = map.get("type").and_then(Value::as_str).unwrap_or("message");
    let string = |key: &str| -> Result<String, String> {
        match map.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!(
                "Invalid type for 'input[{index}].{key}': expected a string."
            )),
            None => Err(format!(
                "Missing required parameter: 'input[{index}].{key}'."
            )),
        }
    };
    let id = map.get("id").and_then(Value::as_str).map(str::to_owned);
    match kind {
        "message" => {
            let role = match map.get("role").and_then(Value::as_str) {
                Some("user") => Role::User,
                Some("assistant") => Role::Assistant,
                Some("system") => Role::System,
                Some("developer") => Role::Developer,
                Some(other) => {
                    return Err(format!(
                        "Invalid value: '{other}'. Supported values are: 'assistant', 'system', 'developer', and 'user'."
                    ));
                }
                None => {
                    return Err(format!(
                        "Missing required parameter: 'input[{index}].role'."
                    ));
                }
            };
            let content = match map.get("content") {
                Some(c @ (Value::String(_) | Value::Array(_))) => message_text(Some(c)),
                _ => {
                    return Err(format!(
                        "Missing required parameter: 'input[{index}].content'."
                    ));
                }
            };
            Ok(Item::Message { role, content, id })
        }
        "function_call" => Ok(Item::FunctionCall {
            call_id: string("call_id")?,
            name: string("name")?,
            arguments: string("arguments")?,
            id,
        }),
        "function_call_output" => {
            let output = match map.get("output") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(_)) => message_text(map.get("output")),
                _ => string("output")?,
            };
            Ok(Item::FunctionCallOutput {
                call_id: string("call_id")?,
                output,
                images: Vec::new(),
            })
        }
        "reasoning" => {
            let mut fields = map.clone();
            fields.remove("type");
            Ok(Item::Reasoning { fields })
        }
        other => Err(format!(
            "Invalid value: '{other}'. Supported values are: 'message', 'function_call', 'function_call_output', and 'reasoning'."
        )),
    }
}

/// An item as a response's output item (for the mock server), with the item id `id`.
#[cfg_attr(
    not(feature = "mock"),
    allow(dead_code, reason = "only the mock server uses it")
)]
pub(crate) fn output_item_json(item: &Item, id: &str) -> Value {
    match item {
        Item::Message { content, .. } => json!({
            "type": "message",
            "id": id,
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": content, "annotations": []}],
        }),
        Item::FunctionCall {
            call_id,
            name,
            arguments,
            ..
        } => json!({
            "type": "function_call",
            "id": id,
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
            "status": "completed",
        }),
        other => serde_json::to_value(other).unwrap_or(Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FunctionTool, RequestContext};

    #[test]
    fn requests_carry_items_tools_and_settings_with_the_api_names() {
        let reasoning: Map<String, Value> =
            serde_json::from_value(json!({"id": "rs_1", "summary": []})).unwrap();
        let input = [
            Item::user("hi"),
            Item::Reasoning { fields: reasoning },
            Item::assistant("thinking aloud").with_id("msg_1"),
            Item::function_call("c1", "add", "{}").with_id("fc_1"),
            Item::function_call_output("c1", "3"),
        ];
        let tools = [FunctionTool {
            name: "add".into(),
            description: "Adds.".into(),
            parameters: json!({"type": "object", "properties": {}, "additionalProperties": false}),
        }];
        let settings = ModelSettings {
            temperature: Some(0.2),
            tool_choice: Some(ToolChoice::Function("add".into())),
            reasoning_effort: Some("low".into()),
            extra: serde_json::from_value(json!({"seed": 7})).unwrap(),
            ..Default::default()
        };
        let req = ModelRequest {
            instructions: "Be brief.",
            input: &input,
            tools: &tools,
            parallel_tool_calls: true,
            settings: &settings,
            context: RequestContext {
                agent: "a",
                agent_turn: 0,
                run_turn: 0,
                trace_id: "t",
                events: None,
            },
        };
        let compat = crate::model::Compat::default().resolve(crate::model::Provider::Openai);
        let body =
            serde_json::to_value(request("gpt-test", &req, &settings, false, &compat)).unwrap();
        assert_eq!(
            body,
            json!({
                "model": "gpt-test",
                "instructions": "Be brief.",
                "input": [
                    {"type": "message", "role": "user", "content": "hi"},
                    {"type": "reasoning", "id": "rs_1", "summary": []},
                    {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                     "content": [{"type": "output_text", "text": "thinking aloud", "annotations": []}]},
                    {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "add", "arguments": "{}"},
                    {"type": "function_call_output", "call_id": "c1", "output": "3"},
                ],
                "tools": [{"type": "function", "name": "add", "description": "Adds.",
                           "parameters": {"type": "object", "properties": {}, "additionalProperties": false},
                           "strict": true}],
                "tool_choice": {"type": "function", "name": "add"},
                "parallel_tool_calls": true,
                "temperature": 0.2,
                "reasoning": {"effort": "low"},
                "seed": 7,
            })
        );
    }

    #[test]
    fn an_output_with_images_is_sent_as_input_text_and_input_image_parts() {
        let input = [
            Item::function_call("c1", "shot", "{}"),
            Item::FunctionCallOutput {
                call_id: "c1".into(),
                output: "[image: image/png, 5 bytes]".into(),
                images: vec![crate::Image {
                    mime_type: "image/png".into(),
                    data: "aGVsbG8=".into(),
                }],
            },
        ];
        let settings = ModelSettings::default();
        let req = ModelRequest {
            instructions: "",
            input: &input,
            tools: &[],
            parallel_tool_calls: true,
            settings: &settings,
            context: RequestContext {
                agent: "a",
                agent_turn: 0,
                run_turn: 0,
                trace_id: "t",
                events: None,
            },
        };
        let compat = crate::model::Compat::default().resolve(crate::model::Provider::Openai);
        let body = serde_json::to_value(request("m", &req, &settings, false, &compat)).unwrap();
        assert_eq!(
            body["input"][1],
            json!({"type": "function_call_output", "call_id": "c1", "output": [
                {"type": "input_text", "text": "[image: image/png, 5 bytes]"},
                {"type": "input_image", "image_url": "data:image/png;base64,aGVsbG8="},
            ]})
        );
    }

    #[test]
    fn output_items_become_items_and_unknown_types_are_skipped() {
        let output = vec![
            json!({"type": "reasoning", "id": "rs_9", "summary": [], "encrypted_content": "x"}),
            json!({"type": "message", "id": "msg_2", "role": "assistant",
                   "content": [{"type": "output_text", "text": "4"}, {"type": "output_text", "text": "2"}]}),
            json!({"type": "function_call", "id": "fc_3", "call_id": "c3", "name": "f", "arguments": {"a": 1}}),
            json!({"type": "web_search_call", "id": "ws_1"}),
        ];
        let items = output_items(output).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].id(), Some("rs_9"));
        assert_eq!(items[1], Item::assistant("42").with_id("msg_2"));
        assert_eq!(
            items[2],
            Item::function_call("c3", "f", r#"{"a":1}"#).with_id("fc_3")
        );
        assert!(output_items(vec![json!({"type": "function_call", "name": "f"})]).is_err());
    }
}
