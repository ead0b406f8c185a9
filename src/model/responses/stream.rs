//! Assembles a streamed response (`stream: true`) into the same items a plain response has.
//!
//! `response.output_item.added` opens an item at its `output_index`; text deltas and
//! function-call argument deltas append to it (text deltas also go to the run's listener as
//! they arrive); `*.done` events carry the final value, which wins if it differs;
//! `response.completed` brings the usage. A stream that ends before `response.completed` was
//! cut, and is an error rather than a partial answer.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{convert, wire};
use crate::item::Item;
use crate::model::provider::stream_slot;
use crate::model::{ModelResponse, Usage};
use crate::stream::EventSink;

/// How a stream event went.
pub(crate) enum Step {
    /// Keep reading.
    More,
    /// The response is complete.
    Done,
}

/// The items of a streamed response, as they grow.
#[derive(Debug)]
pub(crate) struct Assembler {
    /// Items by `output_index`; `None` for indexes not opened (or of unused types).
    items: BTreeMap<usize, Option<Item>>,
    usage: Usage,
    /// Why the response is incomplete, once `response.incomplete` was seen.
    incomplete: Option<String>,
    /// Where text deltas go, with the agent's name.
    events: Option<(EventSink, String)>,
}

impl Assembler {
    pub(crate) fn new(events: Option<(EventSink, String)>) -> Self {
        Assembler {
            items: BTreeMap::new(),
            usage: Usage::default(),
            incomplete: None,
            events,
        }
    }

    fn slot(&mut self, index: usize) -> &mut Option<Item> {
        stream_slot(&mut self.items, index)
    }

    /// Takes one event's data. `Err` is the model's own failure message, or a malformed event.
    pub(crate) fn on_event(&mut self, data: &str) -> Result<Step, Failure> {
        let event: wire::StreamEvent = serde_json::from_str(data)
            .map_err(|e| Failure::Malformed(format!("a stream event is not valid JSON: {e}")))?;
        let index = event.output_index.unwrap_or(0);
        match event.kind.as_str() {
            "response.output_item.added" | "response.output_item.done" => {
                let Some(value) = event.item else {
                    return Err(Failure::Malformed(format!(
                        "`{}` without `item`",
                        event.kind
                    )));
                };
                let done = event.kind.ends_with("done");
                let item = convert::output_item(value).map_err(Failure::Malformed)?;
                let slot = self.slot(index);
                match (slot.as_mut(), item) {
                    // An added item opens the slot; a done item's final values win.
                    (None, item) => *slot = item,
                    (Some(current), Some(item)) if done => *current = item,
                    _ => {}
                }
            }
            "response.output_text.delta" | "response.refusal.delta" => {
                let delta = event.delta.unwrap_or_default();
                if let Some((sink, agent)) = &self.events {
                    sink.text_delta(agent, delta.clone());
                }
                let slot = self.slot(index);
                match slot {
                    Some(Item::Message { content, .. }) => content.push_str(&delta),
                    None => *slot = Some(Item::assistant(delta)),
                    Some(_) => {}
                }
            }
            "response.output_text.done" => {
                if let (Some(text), Some(Item::Message { content, .. })) =
                    (event.text, self.slot(index).as_mut())
                {
                    *content = text;
                }
            }
            "response.function_call_arguments.delta" => {
                if let Some(Item::FunctionCall { arguments, .. }) = self.slot(index) {
                    arguments.push_str(&event.delta.unwrap_or_default());
                }
            }
            "response.function_call_arguments.done" => {
                if let (Some(done), Some(Item::FunctionCall { arguments, .. })) =
                    (event.arguments, self.slot(index).as_mut())
                {
                    *arguments = done;
                }
            }
            "response.completed" => {
                let response = event.response.unwrap_or_default();
                self.usage = convert::usage(response.usage);
                return Ok(Step::Done);
            }
            "response.incomplete" => {
                let response = event.response.unwrap_or_default();
                self.incomplete = Some(super::incomplete_reason(
                    response.incomplete_details.as_ref(),
                ));
                self.usage = convert::usage(response.usage);
                return Ok(Step::Done);
            }
            "response.failed" => {
                let response = event.response.unwrap_or_default();
                return Err(Failure::Model(error_text(response.error.as_ref())));
            }
            "error" => {
                let message = event.message.unwrap_or_else(|| "stream error".to_owned());
                return Err(Failure::Model(match event.code {
                    Some(code) => format!("{message} ({code})"),
                    None => message,
                }));
            }
            _ => {} // created, in_progress, content_part.*, reasoning summaries, ...
        }
        Ok(Step::More)
    }

    /// Why the response is incomplete, if `response.incomplete` ended it.
    pub(crate) fn incomplete(&self) -> Option<String> {
        self.incomplete.clone()
    }

    /// The response, once `response.completed` was seen.
    pub(crate) fn finish(self) -> ModelResponse {
        ModelResponse {
            output: self.items.into_values().flatten().collect(),
            usage: self.usage,
        }
    }
}

/// Why a stream failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The model or API reported a failure.
    Model(String),
    /// The stream is not what the API sends.
    Malformed(String),
}

/// A response's `error` object as a message.
pub(crate) fn error_text(error: Option<&Value>) -> String {
    let Some(error) = error else {
        return "the response failed without an error message".to_owned();
    };
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("the response failed");
    match error.get("code").and_then(Value::as_str) {
        Some(code) => format!("{message} ({code})"),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn feed(assembler: &mut Assembler, event: Value) -> Step {
        match assembler.on_event(&event.to_string()) {
            Ok(step) => step,
            Err(Failure::Model(m) | Failure::Malformed(m)) => panic!("{m}"),
        }
    }

    #[test]
    fn deltas_build_the_items_and_reasoning_is_kept_whole() {
        let (mut stream, sink, _reply) = crate::stream::RunStream::channel();
        let mut assembler = Assembler::new(Some((sink, "a".to_owned())));
        let reasoning =
            json!({"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "e"});
        let events = [
            json!({"type": "response.created", "response": {"status": "in_progress"}}),
            json!({"type": "response.output_item.added", "output_index": 0, "item": reasoning}),
            json!({"type": "response.output_item.done", "output_index": 0, "item": reasoning}),
            json!({"type": "response.output_item.added", "output_index": 1,
                   "item": {"type": "message", "id": "msg_1", "role": "assistant", "content": []}}),
            json!({"type": "response.output_text.delta", "output_index": 1, "delta": "4"}),
            json!({"type": "response.output_text.delta", "output_index": 1, "delta": "2"}),
            json!({"type": "response.output_item.added", "output_index": 2,
                   "item": {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "add", "arguments": ""}}),
            json!({"type": "response.function_call_arguments.delta", "output_index": 2, "delta": "{\"a\":"}),
            json!({"type": "response.function_call_arguments.delta", "output_index": 2, "delta": "1}"}),
        ];
        for event in events {
            assert!(matches!(feed(&mut assembler, event), Step::More));
        }
        let done = json!({"type": "response.completed", "response": {"status": "completed",
            "usage": {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}}});
        assert!(matches!(feed(&mut assembler, done), Step::Done));
        let response = assembler.finish();
        assert_eq!(
            response.output,
            [
                serde_json::from_value::<Item>(reasoning).unwrap(),
                Item::assistant("42").with_id("msg_1"),
                Item::function_call("c1", "add", "{\"a\":1}").with_id("fc_1"),
            ]
        );
        assert_eq!(response.usage.total_tokens, 8);
        use futures::{FutureExt as _, StreamExt as _};
        let mut deltas = Vec::new();
        while let Some(Some(event)) = stream.next().now_or_never() {
            deltas.push(event);
        }
        assert_eq!(deltas.len(), 2, "{deltas:?}");
    }

    #[test]
    fn failures_and_broken_events_are_errors() {
        let mut assembler = Assembler::new(None);
        let failed = json!({"type": "response.failed", "response": {"status": "failed",
            "error": {"code": "server_error", "message": "boom"}}});
        assert!(matches!(
            assembler.on_event(&failed.to_string()),
            Err(Failure::Model(m)) if m == "boom (server_error)"
        ));
        assert!(matches!(
            assembler.on_event("{\"type\": \"resp"),
            Err(Failure::Malformed(_))
        ));
    }

    #[test]
    fn a_huge_output_index_is_one_item_not_an_allocation() {
        let mut assembler = Assembler::new(None);
        for index in [1_000_000_000_000_u64, u64::MAX] {
            let delta = json!({"type": "response.output_text.delta", "output_index": index,
                "delta": "x"});
            assert!(matches!(
                assembler.on_event(&delta.to_string()),
                Ok(Step::More)
            ));
        }
        assert_eq!(assembler.items.len(), 2);
    }
}
