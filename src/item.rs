//! Conversation items, named after the OpenAI Responses API.
//!
//! A conversation is a list of [`Item`]s: messages, the function calls a model asked for, and
//! the outputs Baton sent back. The same list travels from agent actor to agent actor on a
//! handoff, goes to every model request, and comes back in the [`RunResult`](crate::RunResult)
//! transcript. The serde form is the Responses API's (`"type": "function_call"`, ...), so a
//! transcript can be sent to the API or stored as JSON without conversion.

use serde::{Deserialize, Serialize};

/// Who wrote a [`Item::Message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The person or application talking to the swarm.
    User,
    /// A model's reply.
    Assistant,
    /// System instructions placed in the conversation.
    System,
    /// Developer instructions (the Responses API's name for system-level guidance).
    Developer,
}

impl Role {
    /// The role's name as the API writes it (`user`, `assistant`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::System => "system",
            Role::Developer => "developer",
        }
    }
}

/// One entry of a conversation, with the Responses API's field names.
///
/// # Examples
///
/// ```
/// use baton::Item;
///
/// let call = Item::function_call("call_1", "add", r#"{"a":1,"b":2}"#);
/// let json = serde_json::to_string(&call).unwrap();
/// assert_eq!(json, r#"{"type":"function_call","call_id":"call_1","name":"add","arguments":"{\"a\":1,\"b\":2}"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Item {
    /// A message from the user, a model, or the system.
    Message {
        /// Who wrote it.
        role: Role,
        /// Its text.
        content: String,
    },
    /// A model asking for one function (tool or handoff) to be called.
    FunctionCall {
        /// The id that pairs this call with its output.
        call_id: String,
        /// The function's name.
        name: String,
        /// The arguments as a JSON string, exactly as the model wrote them.
        arguments: String,
    },
    /// The result Baton sends back for one function call.
    FunctionCallOutput {
        /// The `call_id` of the call this answers.
        call_id: String,
        /// The output text; errors are outputs too (`error: ...`).
        output: String,
    },
}

impl Item {
    /// Builds a user message.
    pub fn user(content: impl Into<String>) -> Self {
        Item::Message {
            role: Role::User,
            content: content.into(),
        }
    }

    /// Builds an assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Item::Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }

    /// Builds a function call.
    pub fn function_call(
        call_id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Item::FunctionCall {
            call_id: call_id.into(),
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    /// Builds a function call output.
    pub fn function_call_output(call_id: impl Into<String>, output: impl Into<String>) -> Self {
        Item::FunctionCallOutput {
            call_id: call_id.into(),
            output: output.into(),
        }
    }

    /// Returns the `call_id` of a function call or output, `None` for other items.
    pub fn call_id(&self) -> Option<&str> {
        match self {
            Item::FunctionCall { call_id, .. } | Item::FunctionCallOutput { call_id, .. } => {
                Some(call_id)
            }
            Item::Message { .. } => None,
        }
    }
}

/// Concatenates the text of the assistant messages in `items`, the way the SDKs' `output_text`
/// helper does.
pub fn output_text(items: &[Item]) -> String {
    let mut text = String::new();
    for item in items {
        if let Item::Message {
            role: Role::Assistant,
            content,
        } = item
        {
            text.push_str(content);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_through_responses_api_json() {
        let items = vec![
            Item::user("hi"),
            Item::function_call("c1", "add", "{}"),
            Item::function_call_output("c1", "3"),
            Item::assistant("done"),
        ];
        let json = serde_json::to_value(&items).unwrap();
        assert_eq!(json[0]["type"], "message");
        assert_eq!(json[0]["role"], "user");
        assert_eq!(json[2]["type"], "function_call_output");
        let back: Vec<Item> = serde_json::from_value(json).unwrap();
        assert_eq!(back, items);
    }

    #[test]
    fn output_text_joins_assistant_messages_only() {
        let items = [Item::user("q"), Item::assistant("a"), Item::assistant("b")];
        assert_eq!(output_text(&items), "ab");
    }
}
