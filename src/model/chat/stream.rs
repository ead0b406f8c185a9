//! Assembles a streamed Chat Completions answer (`stream: true`) into the same items a plain
//! answer has.
//!
//! Each chunk's `choices[0].delta` carries a piece of the text (also sent to the run's listener
//! as it arrives) or pieces of tool calls, keyed by `index` (the first piece has the id and
//! name, the rest append to the arguments). With `stream_options.include_usage` the last chunk
//! carries the usage. `data: [DONE]` ends the stream; a stream that stops before it, or before
//! any `finish_reason`, was cut.

use std::collections::BTreeMap;

use super::{convert, wire};
use crate::item::Item;
use crate::model::provider::{arguments_text, stream_slot};
use crate::model::{ModelResponse, Usage};
use crate::stream::EventSink;

/// A tool call being assembled.
#[derive(Debug, Default)]
struct PartialCall {
    id: Option<String>,
    name: String,
    arguments: String,
}

/// The answer as it grows.
#[derive(Debug)]
pub(crate) struct Assembler {
    text: String,
    calls: BTreeMap<usize, PartialCall>,
    usage: Usage,
    finished: bool,
    /// The last `finish_reason` seen.
    finish_reason: String,
    events: Option<(EventSink, String)>,
}

impl Assembler {
    pub(crate) fn new(events: Option<(EventSink, String)>) -> Self {
        Assembler {
            text: String::new(),
            calls: BTreeMap::new(),
            usage: Usage::default(),
            finished: false,
            finish_reason: String::new(),
            events,
        }
    }

    /// Takes one event's data; `Ok(true)` when the stream is over (`[DONE]`).
    pub(crate) fn on_event(&mut self, data: &str) -> Result<bool, String> {
        if data.trim() == "[DONE]" {
            return Ok(true);
        }
        let chunk: wire::Response = serde_json::from_str(data)
            .map_err(|e| format!("a stream chunk is not valid JSON: {e}"))?;
        if let Some(error) = chunk.error {
            let message = error
                .get("message")
                .and_then(|m| m.as_str())
                .map_or_else(|| error.to_string(), str::to_owned);
            return Err(format!("the server sent an error in the stream: {message}"));
        }
        if let Some(usage) = chunk.usage {
            self.usage = convert::usage(Some(usage));
        }
        let Some(choice) = chunk.choices.into_iter().next() else {
            return Ok(false);
        };
        if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
            self.finished = true;
            self.finish_reason = reason;
        }
        let Some(delta) = choice.delta.or(choice.message) else {
            return Ok(false);
        };
        if let Some(piece) = delta.content.or(delta.refusal).filter(|p| !p.is_empty()) {
            if let Some((sink, agent)) = &self.events {
                sink.text_delta(agent, piece.clone());
            }
            self.text.push_str(&piece);
        }
        for (k, piece) in delta.tool_calls.into_iter().enumerate() {
            let index = piece.index.unwrap_or(k);
            let call = stream_slot(&mut self.calls, index);
            if let Some(id) = piece.id.filter(|id| !id.is_empty()) {
                call.id = Some(id);
            }
            if let Some(name) = piece.function.name {
                call.name.push_str(&name);
            }
            call.arguments
                .push_str(&arguments_text(piece.function.arguments));
        }
        Ok(false)
    }

    /// Whether a `finish_reason` was seen (some servers end without `[DONE]`).
    pub(crate) fn finished(&self) -> bool {
        self.finished
    }

    /// The last `finish_reason` seen (empty if none).
    pub(crate) fn finish_reason(&self) -> &str {
        &self.finish_reason
    }

    /// The answer.
    pub(crate) fn finish(self) -> ModelResponse {
        let mut output = Vec::with_capacity(self.calls.len() + 1);
        if !self.text.is_empty() {
            output.push(Item::assistant(self.text));
        }
        for call in self.calls.into_values() {
            output.push(Item::function_call(
                // No id: the turn loop gives the call a unique one (`agent::call_ids`).
                call.id.unwrap_or_default(),
                call.name,
                call.arguments,
            ));
        }
        let mut usage = self.usage;
        usage.requests = 1;
        ModelResponse { output, usage }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_huge_tool_call_index_is_one_call_not_an_allocation() {
        let mut assembler = Assembler::new(None);
        let chunk = json!({"choices": [{"delta": {"tool_calls": [
            {"index": 1_000_000_000_000_u64, "id": "c1", "function": {"name": "f", "arguments": ""}}
        ]}}]});
        assert!(!assembler.on_event(&chunk.to_string()).unwrap());
        let output = assembler.finish().output;
        assert_eq!(output, [Item::function_call("c1", "f", "")]);
    }

    #[test]
    fn more_than_a_thousand_calls_stream_like_a_plain_answer() {
        // See: issue 8 (a streamed answer with over 1,024 items used to fail).
        let mut assembler = Assembler::new(None);
        for index in 0..1500 {
            let chunk = json!({"choices": [{"delta": {"tool_calls": [
                {"index": index, "id": format!("c{index}"), "function": {"name": "f", "arguments": "{}"}}
            ]}}]});
            assembler.on_event(&chunk.to_string()).unwrap();
        }
        assert_eq!(assembler.finish().output.len(), 1500);
    }
}
