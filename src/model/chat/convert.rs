//! Items to and from Chat Completions messages.
//!
//! Outgoing: the instructions become the first `system` message; an assistant message and the
//! function calls after it become one assistant message with `tool_calls`; each output becomes
//! a `role: "tool"` message with its `tool_call_id`; reasoning items have no Chat form and are
//! left out. Incoming: the choice's text becomes an assistant message and each tool call a
//! function call. The reverse directions serve the mock server.

use serde_json::{Value, json};

use super::wire;
use crate::item::{Item, Role};
use crate::model::provider::{arguments_text, strict};
use crate::model::{
    ModelRequest, ModelSettings, ResolvedCompat, ToolCallContent, ToolChoice, Usage,
};

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
        messages: messages(
            request.instructions,
            request.input,
            compat.tool_call_content,
        ),
        tools: request
            .tools
            .iter()
            .map(|t| wire::Tool {
                kind: "function",
                function: wire::Function {
                    name: &t.name,
                    description: &t.description,
                    parameters: &t.parameters,
                    strict: strict(settings.strict_tools, &t.parameters),
                },
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
        max_tokens: settings.max_output_tokens,
        reasoning_effort: settings.reasoning_effort.as_deref(),
        stream,
        stream_options: stream.then_some(wire::StreamOptions {
            include_usage: true,
        }),
        extra: &settings.extra,
    }
}

fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Function(name) => json!({"type": "function", "function": {"name": name}}),
    }
}

/// The messages for `instructions` and `items`; an assistant message that only calls tools
/// carries `calls_only` as its content.
fn messages<'a>(
    instructions: &'a str,
    items: &'a [Item],
    calls_only: ToolCallContent,
) -> Vec<wire::Message<'a>> {
    let calls_only = || match calls_only {
        ToolCallContent::Null => Some(None),
        ToolCallContent::Empty => Some(Some(wire::Content::Text(""))),
        _ => None,
    };
    let mut messages = Vec::with_capacity(items.len() + 1);
    if !instructions.is_empty() {
        messages.push(plain("system", instructions));
    }
    // Tool messages take text only: the images of a run of tool outputs follow them in one
    // user message.
    let mut images: Vec<wire::Part<'a>> = Vec::new();
    for item in items {
        if !matches!(item, Item::FunctionCallOutput { .. }) && !images.is_empty() {
            messages.push(images_message(std::mem::take(&mut images)));
        }
        match item {
            Item::Message { role, content, .. } => {
                let role = match role {
                    Role::Developer => "system", // few compatible servers know `developer`
                    other => other.as_str(),
                };
                messages.push(plain(role, content));
            }
            Item::FunctionCall {
                call_id,
                name,
                arguments,
                ..
            } => {
                let call = wire::ToolCall {
                    id: call_id,
                    kind: "function",
                    function: wire::FunctionCall { name, arguments },
                };
                // Calls join the assistant message just before them (text or other calls).
                match messages.last_mut() {
                    Some(last) if last.role == "assistant" => last.tool_calls.push(call),
                    _ => messages.push(wire::Message {
                        role: "assistant",
                        content: calls_only(),
                        tool_calls: vec![call],
                        tool_call_id: None,
                    }),
                }
            }
            Item::FunctionCallOutput {
                call_id,
                output,
                images: its_images,
            } => {
                messages.push(wire::Message {
                    role: "tool",
                    content: Some(Some(wire::Content::Text(output))),
                    tool_calls: Vec::new(),
                    tool_call_id: Some(call_id),
                });
                if !its_images.is_empty() {
                    images.push(wire::Part::Text {
                        text: format!("The images tool call {call_id} returned:").into(),
                    });
                    images.extend(its_images.iter().map(|image| wire::Part::ImageUrl {
                        image_url: wire::ImageUrl {
                            url: image.data_url(),
                        },
                    }));
                }
            }
            Item::Reasoning { .. } => {}
        }
    }
    if !images.is_empty() {
        messages.push(images_message(images));
    }
    messages
}

/// The user message that carries the images of the tool outputs before it.
fn images_message(parts: Vec<wire::Part<'_>>) -> wire::Message<'_> {
    wire::Message {
        role: "user",
        content: Some(Some(wire::Content::Parts(parts))),
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

fn plain<'a>(role: &'a str, content: &'a str) -> wire::Message<'a> {
    wire::Message {
        role,
        content: Some(Some(wire::Content::Text(content))),
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

/// The items of an answer's message.
pub(crate) fn reply_items(message: wire::ReplyMessage) -> Vec<Item> {
    let mut items = Vec::with_capacity(message.tool_calls.len() + 1);
    let text = message
        .content
        .filter(|c| !c.is_empty())
        .or(message.refusal.filter(|r| !r.is_empty()));
    if let Some(text) = text {
        items.push(Item::assistant(text));
    }
    for call in message.tool_calls {
        items.push(Item::function_call(
            // No id: the turn loop gives the call a unique one (`agent::call_ids`).
            call.id.unwrap_or_default(),
            call.function.name.unwrap_or_default(),
            arguments_text(call.function.arguments),
        ));
    }
    items
}

/// A wire usage as Baton's, for one request.
pub(crate) fn usage(usage: Option<wire::WireUsage>) -> Usage {
    let u = usage.unwrap_or_default();
    Usage {
        requests: 1,
        input_tokens: u.prompt_tokens,
        output_tokens: u.completion_tokens,
        total_tokens: if u.total_tokens > 0 {
            u.total_tokens
        } else {
            u.prompt_tokens + u.completion_tokens
        },
    }
}

/// Reads a request's `messages` back into instructions and items, checking them the way the
/// API does (every `tool_calls` answered by the `tool` messages right after it, every `tool`
/// message answering one). For the mock server; errors carry the API's wording.
#[cfg_attr(
    not(feature = "mock"),
    allow(dead_code, reason = "only the mock server uses it")
)]
pub(crate) fn items_from_messages(messages: &[Value]) -> Result<(String, Vec<Item>), String> {
    let mut instructions = String::new();
    let mut items = Vec::with_capacity(messages.len());
    // Call ids of the last assistant message that are still waiting for their tool message.
    let mut pending: Vec<String> = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("Missing required parameter: 'messages[{index}].role'."))?;
        if role != "tool" && !pending.is_empty() {
            return Err(unanswered(&pending));
        }
        let content = content_text(message.get("content"));
        match role {
            "system" | "developer" if index == 0 => instructions = content,
            "system" | "developer" => items.push(Item::Message {
                role: if role == "system" {
                    Role::System
                } else {
                    Role::Developer
                },
                content,
                id: None,
            }),
            "user" => items.push(Item::user(content)),
            "assistant" => {
                if !content.is_empty() {
                    items.push(Item::assistant(content));
                }
                let calls = message
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for (k, call) in calls.iter().enumerate() {
                    let text = |key: &str| call.get("function").and_then(|f| f.get(key)).cloned();
                    let id = call.get("id").and_then(Value::as_str).ok_or_else(|| {
                        format!(
                            "Missing required parameter: 'messages[{index}].tool_calls[{k}].id'."
                        )
                    })?;
                    let name = text("name").and_then(|n| n.as_str().map(str::to_owned)).ok_or_else(|| {
                        format!("Missing required parameter: 'messages[{index}].tool_calls[{k}].function.name'.")
                    })?;
                    items.push(Item::function_call(
                        id,
                        name,
                        arguments_text(text("arguments")),
                    ));
                    pending.push(id.to_owned());
                }
            }
            "tool" => {
                let id = message
                    .get("tool_call_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        format!("Missing required parameter: 'messages[{index}].tool_call_id'.")
                    })?;
                let Some(pos) = pending.iter().position(|p| p == id) else {
                    return Err("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.".to_owned());
                };
                pending.remove(pos);
                items.push(Item::function_call_output(id, content));
            }
            other => {
                return Err(format!(
                    "Invalid value: '{other}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'."
                ));
            }
        }
    }
    if !pending.is_empty() {
        return Err(unanswered(&pending));
    }
    Ok((instructions, items))
}

#[cfg_attr(
    not(feature = "mock"),
    allow(dead_code, reason = "only the mock server uses it")
)]
fn unanswered(pending: &[String]) -> String {
    format!(
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
        pending.join(", ")
    )
}

/// A message's content: text, or its text parts joined.
#[cfg_attr(
    not(feature = "mock"),
    allow(dead_code, reason = "only the mock server uses it")
)]
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// The answer message for `items` (for the mock server).
#[cfg_attr(
    not(feature = "mock"),
    allow(dead_code, reason = "only the mock server uses it")
)]
pub(crate) fn reply_message_json(items: &[Item]) -> Value {
    let text: String = crate::item::output_text(items);
    let calls: Vec<Value> = items
        .iter()
        .filter_map(|item| match item {
            Item::FunctionCall {
                call_id,
                name,
                arguments,
                ..
            } => Some(json!({
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            })),
            _ => None,
        })
        .collect();
    let mut message = json!({
        "role": "assistant",
        "content": if text.is_empty() { Value::Null } else { Value::String(text) },
    });
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RequestContext;

    #[test]
    fn items_become_messages_with_tool_calls_and_tool_replies_and_back() {
        let input = vec![
            Item::user("q"),
            Item::assistant("let me see"),
            Item::function_call("c1", "add", "{}"),
            Item::function_call("c2", "sqrt", "{}"),
            Item::function_call_output("c1", "3"),
            Item::function_call_output("c2", "4"),
        ];
        let settings = ModelSettings::default();
        let req = ModelRequest {
            instructions: "Be brief.",
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
        let compat = crate::model::Compat::default().resolve(crate::model::Provider::Chat);
        let body = serde_json::to_value(request("m", &req, &settings, false, &compat)).unwrap();
        let messages = body["messages"].as_array().unwrap().clone();
        assert_eq!(
            messages[2],
            json!({"role": "assistant", "content": "let me see", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}},
                {"id": "c2", "type": "function", "function": {"name": "sqrt", "arguments": "{}"}},
            ]})
        );
        assert_eq!(
            messages[3],
            json!({"role": "tool", "content": "3", "tool_call_id": "c1"})
        );
        assert!(body.get("parallel_tool_calls").is_none());
        let (instructions, back) = items_from_messages(&messages).unwrap();
        assert_eq!(instructions, "Be brief.");
        assert_eq!(back, input);
    }

    #[test]
    fn images_of_tool_outputs_follow_the_tool_messages_in_one_user_message() {
        let image = crate::Image {
            mime_type: "image/png".into(),
            data: "aGVsbG8=".into(),
        };
        let input = vec![
            Item::user("q"),
            Item::function_call("c1", "shot", "{}"),
            Item::function_call("c2", "add", "{}"),
            Item::FunctionCallOutput {
                call_id: "c1".into(),
                output: "[image: image/png, 5 bytes]".into(),
                images: vec![image],
            },
            Item::function_call_output("c2", "3"),
            Item::assistant("done"),
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
        let compat = crate::model::Compat::default().resolve(crate::model::Provider::Chat);
        let body = serde_json::to_value(request("m", &req, &settings, false, &compat)).unwrap();
        let messages = body["messages"].as_array().unwrap();
        let roles: Vec<&str> = messages
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(
            roles,
            ["user", "assistant", "tool", "tool", "user", "assistant"]
        );
        assert_eq!(
            messages[2],
            json!({"role": "tool", "content": "[image: image/png, 5 bytes]", "tool_call_id": "c1"})
        );
        assert_eq!(
            messages[4],
            json!({"role": "user", "content": [
                {"type": "text", "text": "The images tool call c1 returned:"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,aGVsbG8="}},
            ]})
        );
    }

    #[test]
    fn a_calls_only_assistant_message_carries_the_content_compat_says() {
        let input = vec![
            Item::user("q"),
            Item::function_call("c1", "add", "{}"),
            Item::function_call_output("c1", "3"),
        ];
        let tools = [crate::model::FunctionTool {
            name: "add".into(),
            description: String::new(),
            parameters: json!({"type": "object"}),
        }];
        let settings = ModelSettings::default();
        let req = ModelRequest {
            instructions: "",
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
        let body = |content: Option<ToolCallContent>| {
            let compat = crate::model::Compat {
                tool_call_content: content,
                ..Default::default()
            }
            .resolve(crate::model::Provider::Chat);
            serde_json::to_value(request("m", &req, &settings, false, &compat)).unwrap()
        };
        let default = body(None);
        assert_eq!(default["messages"][1]["content"], json!(""));
        // Tools offered and no choice set: `auto` is sent for `chat`.
        assert_eq!(default["tool_choice"], json!("auto"));
        assert_eq!(
            body(Some(ToolCallContent::Null))["messages"][1]["content"],
            Value::Null
        );
        assert!(
            body(Some(ToolCallContent::Omit))["messages"][1]
                .get("content")
                .is_none()
        );
    }

    #[test]
    fn unanswered_and_orphan_tool_messages_get_the_api_errors() {
        let call = json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]});
        let err = items_from_messages(&[call.clone(), json!({"role": "user", "content": "x"})])
            .unwrap_err();
        assert!(err.ends_with("did not have response messages: c1"), "{err}");
        let err =
            items_from_messages(&[json!({"role": "tool", "tool_call_id": "c9", "content": "x"})])
                .unwrap_err();
        assert!(
            err.contains("must be a response to a preceeding message"),
            "{err}"
        );
    }

    #[test]
    fn lenient_answers_still_become_items() {
        let message: wire::ReplyMessage = serde_json::from_value(json!({
            "content": "",
            "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]
        }))
        .unwrap();
        let items = reply_items(message);
        assert_eq!(items.len(), 1);
        let Item::FunctionCall {
            call_id, arguments, ..
        } = &items[0]
        else {
            panic!("{items:?}")
        };
        assert_eq!(
            call_id, "",
            "the turn loop names calls that come without an id"
        );
        assert_eq!(arguments, r#"{"a":1}"#);
    }
}
