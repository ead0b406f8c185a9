//! The mock's answers in each API's shape: a whole response body, or the server-sent events a
//! streamed one arrives as (text and call arguments cut into several deltas, so clients
//! really assemble them).
//!
//! Item ids are derived from call ids and the agent's turn, so the same turn gets the same ids
//! whether streamed or not.

use serde_json::{Value, json};

use crate::item::Item;
use crate::model::Usage;
use crate::model::chat::convert as chat;
use crate::model::responses::convert as responses;

/// Bytes of text or arguments per streamed delta.
const PIECE: usize = 7;

/// What one turn answers.
#[derive(Debug)]
pub(crate) struct Turn<'a> {
    /// The response id (`resp_<n>` / `chatcmpl-<n>`).
    pub(crate) serial: u64,
    pub(crate) model: &'a str,
    pub(crate) agent: &'a str,
    pub(crate) turn: u32,
    pub(crate) output: &'a [Item],
    pub(crate) usage: Usage,
}

impl Turn<'_> {
    fn item_id(&self, item: &Item, index: usize) -> String {
        match item {
            Item::FunctionCall { call_id, .. } => format!("fc_{call_id}"),
            _ => format!("msg_{}_{}_{}", self.agent, self.turn + 1, index + 1),
        }
    }

    fn output_json(&self) -> Vec<Value> {
        self.output
            .iter()
            .enumerate()
            .map(|(i, item)| responses::output_item_json(item, &self.item_id(item, i)))
            .collect()
    }

    fn responses_body(&self, status: &str, output: Vec<Value>) -> Value {
        json!({
            "id": format!("resp_{}", self.serial),
            "object": "response",
            "created_at": 1_700_000_000,
            "status": status,
            "model": self.model,
            "output": output,
            "error": null,
            "incomplete_details": null,
            "usage": {
                "input_tokens": self.usage.input_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": self.usage.output_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": self.usage.total_tokens,
            },
        })
    }

    /// A Responses API body cut short (`max_output_tokens`) with no output.
    pub(crate) fn responses_incomplete(&self) -> Value {
        let mut body = self.responses_body("incomplete", Vec::new());
        body["incomplete_details"] = json!({"reason": "max_output_tokens"});
        body
    }

    /// The same, streamed: `response.created`, then `response.incomplete`.
    pub(crate) fn responses_incomplete_events(&self) -> Vec<(String, Value)> {
        let created = json!({"type": "response.created", "sequence_number": 0,
            "response": self.responses_body("in_progress", Vec::new())});
        let incomplete = json!({"type": "response.incomplete", "sequence_number": 1,
            "response": self.responses_incomplete()});
        vec![
            ("response.created".to_owned(), created),
            ("response.incomplete".to_owned(), incomplete),
        ]
    }

    /// A Chat Completions body cut short: no content, `finish_reason: length`.
    pub(crate) fn chat_incomplete(&self) -> Value {
        json!({
            "id": format!("chatcmpl-{}", self.serial),
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": ""},
                "finish_reason": "length",
            }],
            "usage": self.chat_usage(),
        })
    }

    /// The same, streamed, as chunk data.
    pub(crate) fn chat_incomplete_chunks(&self) -> Vec<Value> {
        vec![json!({
            "id": format!("chatcmpl-{}", self.serial),
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": self.model,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                         "finish_reason": "length"}],
        })]
    }

    /// A Responses API body.
    pub(crate) fn responses(&self) -> Value {
        self.responses_body("completed", self.output_json())
    }

    /// A Responses API stream, as `(event name, data)` pairs.
    pub(crate) fn responses_events(&self) -> Vec<(String, Value)> {
        let mut events: Vec<(String, Value)> = Vec::new();
        let mut push = |kind: &str, mut data: Value| {
            data["type"] = json!(kind);
            data["sequence_number"] = json!(events.len());
            events.push((kind.to_owned(), data));
        };
        push(
            "response.created",
            json!({"response": self.responses_body("in_progress", Vec::new())}),
        );
        for (index, (item, done)) in self.output.iter().zip(self.output_json()).enumerate() {
            let id = self.item_id(item, index);
            match item {
                Item::Message { content, .. } => {
                    let mut added = done.clone();
                    added["status"] = json!("in_progress");
                    added["content"] = json!([]);
                    push(
                        "response.output_item.added",
                        json!({"output_index": index, "item": added}),
                    );
                    let part = json!({"type": "output_text", "text": "", "annotations": []});
                    push(
                        "response.content_part.added",
                        json!({"item_id": id, "output_index": index, "content_index": 0, "part": part}),
                    );
                    for piece in pieces(content) {
                        push(
                            "response.output_text.delta",
                            json!({"item_id": id, "output_index": index, "content_index": 0, "delta": piece}),
                        );
                    }
                    push(
                        "response.output_text.done",
                        json!({"item_id": id, "output_index": index, "content_index": 0, "text": content}),
                    );
                    push(
                        "response.content_part.done",
                        json!({"item_id": id, "output_index": index, "content_index": 0,
                               "part": {"type": "output_text", "text": content, "annotations": []}}),
                    );
                }
                Item::FunctionCall { arguments, .. } => {
                    let mut added = done.clone();
                    added["status"] = json!("in_progress");
                    added["arguments"] = json!("");
                    push(
                        "response.output_item.added",
                        json!({"output_index": index, "item": added}),
                    );
                    for piece in pieces(arguments) {
                        push(
                            "response.function_call_arguments.delta",
                            json!({"item_id": id, "output_index": index, "delta": piece}),
                        );
                    }
                    push(
                        "response.function_call_arguments.done",
                        json!({"item_id": id, "output_index": index, "arguments": arguments}),
                    );
                }
                _ => push(
                    "response.output_item.added",
                    json!({"output_index": index, "item": done.clone()}),
                ),
            }
            push(
                "response.output_item.done",
                json!({"output_index": index, "item": done}),
            );
        }
        push("response.completed", json!({"response": self.responses()}));
        events
    }

    fn finish_reason(&self) -> &'static str {
        if self
            .output
            .iter()
            .any(|i| matches!(i, Item::FunctionCall { .. }))
        {
            "tool_calls"
        } else {
            "stop"
        }
    }

    fn chat_usage(&self) -> Value {
        json!({
            "prompt_tokens": self.usage.input_tokens,
            "completion_tokens": self.usage.output_tokens,
            "total_tokens": self.usage.total_tokens,
        })
    }

    /// A Chat Completions body.
    pub(crate) fn chat(&self) -> Value {
        json!({
            "id": format!("chatcmpl-{}", self.serial),
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": chat::reply_message_json(self.output),
                "finish_reason": self.finish_reason(),
            }],
            "usage": self.chat_usage(),
        })
    }

    /// A Chat Completions stream, as chunk data (the caller ends it with `[DONE]`).
    pub(crate) fn chat_chunks(&self, include_usage: bool) -> Vec<Value> {
        let chunk = |delta: Value, finish: Value| {
            json!({
                "id": format!("chatcmpl-{}", self.serial),
                "object": "chat.completion.chunk",
                "created": 1_700_000_000,
                "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            })
        };
        let mut chunks = vec![chunk(
            json!({"role": "assistant", "content": ""}),
            Value::Null,
        )];
        let text = crate::item::output_text(self.output);
        for piece in pieces(&text) {
            chunks.push(chunk(json!({"content": piece}), Value::Null));
        }
        let calls = self.output.iter().filter_map(|item| match item {
            Item::FunctionCall {
                call_id,
                name,
                arguments,
                ..
            } => Some((call_id, name, arguments)),
            _ => None,
        });
        for (index, (call_id, name, arguments)) in calls.enumerate() {
            chunks.push(chunk(
                json!({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                                       "function": {"name": name, "arguments": ""}}]}),
                Value::Null,
            ));
            for piece in pieces(arguments) {
                chunks.push(chunk(
                    json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                    Value::Null,
                ));
            }
        }
        chunks.push(chunk(json!({}), json!(self.finish_reason())));
        if include_usage {
            let mut last = chunk(json!({}), Value::Null);
            last["choices"] = json!([]);
            last["usage"] = self.chat_usage();
            chunks.push(last);
        }
        chunks
    }
}

/// `text` cut into pieces of about [`PIECE`] bytes, on character boundaries.
fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + PIECE).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[start..end]);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_text_on_char_boundaries() {
        let text = "héllo wörld, 12 + 30 = 42 ✓";
        assert_eq!(pieces(text).concat(), text);
        assert!(pieces(text).len() > 3);
        assert!(pieces("").is_empty());
    }
}
