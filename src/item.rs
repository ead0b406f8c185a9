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

/// An image a tool returned, base64-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Its type (`image/png`).
    pub mime_type: String,
    /// Its bytes, in base64.
    pub data: String,
}

impl Image {
    /// The image as a `data:` URL, as the APIs take it.
    pub fn data_url(&self) -> String {
        format!("data:{};base64,{}", self.mime_type, self.data)
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
        /// The item id a provider gave it (`msg_...`), kept so the item can be sent back as
        /// the same item (reasoning models need it); `None` for messages Baton wrote.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// A model asking for one function (tool or handoff) to be called.
    FunctionCall {
        /// The id that pairs this call with its output.
        call_id: String,
        /// The function's name.
        name: String,
        /// The arguments as a JSON string, exactly as the model wrote them.
        arguments: String,
        /// The item id a provider gave it (`fc_...`), kept so the item can be sent back as
        /// the same item: a reasoning item must be followed by the very item it preceded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// The result Baton sends back for one function call.
    FunctionCallOutput {
        /// The `call_id` of the call this answers.
        call_id: String,
        /// The output text; errors are outputs too (`error: ...`).
        output: String,
        /// Images the tool returned, for a model that takes them (its model entry says
        /// `images: true`); otherwise empty, and the text names each image by type and size.
        /// Sent as `input_image` parts of the output (Responses) or in a user message after
        /// the tool messages (Chat Completions).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        images: Vec<Image>,
    },
    /// A reasoning model's reasoning (`rs_...`), kept exactly as the provider sent it and sent
    /// back unchanged and in place: the API rejects a reasoning item without the item that
    /// followed it, and a call without the reasoning that preceded it.
    Reasoning {
        /// Every field but `type`, as received (`id`, `summary`, `encrypted_content`, ...).
        #[serde(flatten)]
        fields: serde_json::Map<String, serde_json::Value>,
    },
}

impl Item {
    /// Builds a user message.
    pub fn user(content: impl Into<String>) -> Self {
        Item::Message {
            role: Role::User,
            content: content.into(),
            id: None,
        }
    }

    /// Builds an assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Item::Message {
            role: Role::Assistant,
            content: content.into(),
            id: None,
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
            id: None,
        }
    }

    /// Builds a function call output.
    pub fn function_call_output(call_id: impl Into<String>, output: impl Into<String>) -> Self {
        Item::FunctionCallOutput {
            call_id: call_id.into(),
            output: output.into(),
            images: Vec::new(),
        }
    }

    /// Returns the `call_id` of a function call or output, `None` for other items.
    pub fn call_id(&self) -> Option<&str> {
        match self {
            Item::FunctionCall { call_id, .. } | Item::FunctionCallOutput { call_id, .. } => {
                Some(call_id)
            }
            Item::Message { .. } | Item::Reasoning { .. } => None,
        }
    }

    /// Sets the provider's item id of a message or function call (other items have none).
    pub fn with_id(mut self, item_id: impl Into<String>) -> Self {
        if let Item::Message { id, .. } | Item::FunctionCall { id, .. } = &mut self {
            *id = Some(item_id.into());
        }
        self
    }

    /// Returns the provider's item id, if it gave one.
    pub fn id(&self) -> Option<&str> {
        match self {
            Item::Message { id, .. } | Item::FunctionCall { id, .. } => id.as_deref(),
            Item::Reasoning { fields } => fields.get("id").and_then(serde_json::Value::as_str),
            Item::FunctionCallOutput { .. } => None,
        }
    }
}

/// The first of `base`, `base__2`, `base__3`, ... for which `taken` is false: how Baton makes
/// a call id unique when a model (or a continued conversation) repeats one.
pub(crate) fn unique_call_id(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_owned();
    }
    (2_u64..)
        .map(|n| format!("{base}__{n}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or_default() // the range is endless, so a free id is always found
}

/// The id a call had before [`unique_call_id`] gave it a `__<n>` suffix (the id itself when it
/// has none).
pub(crate) fn base_call_id(call_id: &str) -> &str {
    match call_id.rsplit_once("__") {
        Some((base, n))
            if !base.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) =>
        {
            base
        }
        _ => call_id,
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
            ..
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
    fn reasoning_items_round_trip_unchanged() {
        let json = serde_json::json!({
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "thinking"}],
            "encrypted_content": "abc"
        });
        let item: Item = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(item.id(), Some("rs_1"));
        assert_eq!(serde_json::to_value(&item).unwrap(), json);
    }

    #[test]
    fn provider_ids_are_kept_only_when_given() {
        let call = Item::function_call("c1", "f", "{}").with_id("fc_1");
        let json = serde_json::to_value(&call).unwrap();
        assert_eq!(json["id"], "fc_1");
        let plain = serde_json::to_value(Item::assistant("a")).unwrap();
        assert!(plain.get("id").is_none());
    }

    #[test]
    fn repeated_ids_get_a_numbered_suffix_that_strips_back() {
        let taken = ["a", "a__2"];
        let id = unique_call_id("a", |c| taken.contains(&c));
        assert_eq!(id, "a__3");
        assert_eq!(base_call_id(&id), "a");
        assert_eq!(unique_call_id("b", |c| taken.contains(&c)), "b");
        for plain in ["call_1_1", "x__", "__3", "a__b"] {
            assert_eq!(base_call_id(plain), plain);
        }
    }

    #[test]
    fn output_text_joins_assistant_messages_only() {
        let items = [Item::user("q"), Item::assistant("a"), Item::assistant("b")];
        assert_eq!(output_text(&items), "ab");
    }
}
