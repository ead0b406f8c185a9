//! What the two API clients share: a model's endpoint, name and settings, the choice to
//! stream (and the fallback when a server cannot stream tool calls), how a request is sent,
//! which fields `extra` may not set, which tool schemas may be sent as `strict`, and the
//! lenient reading of what comes back (call arguments, streamed items by index, answers with
//! nothing in them).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::Value;

use super::http::{self, Endpoint};
use super::{
    ApiKey, Compat, ModelError, ModelRequest, ModelResponse, ModelSettings, Provider,
    ResolvedCompat, Streaming,
};
use crate::item::Item;
use crate::stream::{EventSink, StreamEvent};

/// One HTTP model: where it is and what every request carries.
#[derive(Debug)]
pub(crate) struct HttpModel {
    /// URL and key.
    pub(crate) endpoint: Arc<Endpoint>,
    /// The provider's model name.
    pub(crate) model: String,
    /// The API it speaks, for the fields `extra` may not set.
    provider: Provider,
    /// The model's settings; an agent's are laid over them per request.
    pub(crate) settings: ModelSettings,
    /// When requests stream.
    pub(crate) streaming: Streaming,
    /// How requests meet the server's quirks.
    pub(crate) compat: ResolvedCompat,
    /// Whether images tools return are sent to it.
    pub(crate) images: bool,
    /// Set once a streamed request that offered tools came back with no event at all: from
    /// then on, for the rest of the process, requests that offer tools do not stream.
    tool_streams_broken: AtomicBool,
}

/// What one exchange brought back.
#[derive(Debug)]
pub(crate) enum Answer {
    /// An answer.
    Response(ModelResponse),
    /// A streamed request was answered 200 with no event at all (an empty body).
    EmptyStream,
}

impl HttpModel {
    pub(crate) fn new(
        base_url: &str,
        path: &str,
        model: &str,
        key: Option<ApiKey>,
        provider: Provider,
    ) -> Self {
        let mut endpoint = Endpoint::new(base_url, path, key);
        endpoint.name = Arc::from(model);
        HttpModel {
            endpoint: Arc::new(endpoint),
            model: model.to_owned(),
            provider,
            settings: ModelSettings::default(),
            streaming: Streaming::Auto,
            compat: Compat::default().resolve(provider),
            images: false,
            tool_streams_broken: AtomicBool::new(false),
        }
    }

    /// Sets the compatibility settings, with the provider's defaults for those left unset.
    pub(crate) fn set_compat(&mut self, compat: Compat) {
        self.compat = compat.resolve(self.provider);
    }

    /// Names the model entry, for messages and stream events (default: the model's name).
    pub(crate) fn set_name(&mut self, name: &str) {
        // The builders call this right after `new`, while they hold the only reference.
        if let Some(endpoint) = Arc::get_mut(&mut self.endpoint) {
            endpoint.name = Arc::from(name);
        }
    }

    /// Caps a streamed answer at `bytes`.
    pub(crate) fn set_max_stream(&mut self, bytes: usize) {
        // The builders call this right after `new`, while they hold the only reference.
        if let Some(endpoint) = Arc::get_mut(&mut self.endpoint) {
            endpoint.max_stream = bytes;
        }
    }

    /// Whether a request streams.
    fn streams(&self, listening: bool, offers_tools: bool) -> bool {
        self.streaming.streams(listening, offers_tools)
            && !(offers_tools && self.tool_streams_broken.load(Ordering::Relaxed))
    }

    /// Answers one request the way both APIs do: `encode` builds the body on the calling
    /// shard (from the model name, the request, the settings in force, and whether to
    /// stream), and `exchange` posts it and reads the answer on the HTTP runtime.
    ///
    /// A streamed request that offers tools and is answered with no event at all is sent
    /// again once without streaming, and tool turns of this model stop streaming for good;
    /// the run's listener hears it once ([`StreamEvent::StreamingDisabled`]). A listener of a
    /// turn that does not stream gets its text in one piece.
    pub(crate) fn respond<'a, E, F>(
        &'a self,
        request: ModelRequest<'a>,
        encode: impl Fn(&str, &ModelRequest<'_>, &ModelSettings, bool) -> serde_json::Result<Vec<u8>>
        + Send
        + 'a,
        exchange: E,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>>
    where
        E: Fn(Arc<Endpoint>, Bytes, bool, Option<(EventSink, String)>) -> F + Send + 'a,
        F: Future<Output = Result<Answer, ModelError>> + Send + 'static,
    {
        let settings = request.settings.over(&self.settings);
        let ctx = request.context;
        let offers_tools = !request.tools.is_empty();
        let stream = self.streams(ctx.events.is_some(), offers_tools);
        let events = ctx.events.map(|sink| (sink.clone(), ctx.agent.to_owned()));
        let send = move |stream: bool, events: Option<(EventSink, String)>| {
            if let Some(key) = settings.extra.keys().find(|k| sets_field(self.provider, k)) {
                return Err(ModelError::Config {
                    model: self.endpoint.name.to_string(),
                    reason: extra_collision(key),
                });
            }
            let body = encode(&self.model, &request, &settings, stream).map_err(|e| {
                self.endpoint
                    .decode(format!("cannot encode the request: {e}"))
            })?;
            Ok(exchange(
                Arc::clone(&self.endpoint),
                Bytes::from(body),
                stream,
                events,
            ))
        };
        let first = send(stream, events.clone());
        Box::pin(async move {
            let (answer, streamed) = match http::spawn(first?).await? {
                Answer::EmptyStream if offers_tools => {
                    self.fall_back(events.as_ref().map(|(sink, _)| sink));
                    let answer = match http::spawn(send(false, None)?).await {
                        // A server that gave up on the stream may close the connection it
                        // came on just as the pool hands it out again: one more try.
                        Err(ModelError::Connection { .. }) => {
                            http::spawn(send(false, None)?).await?
                        }
                        answer => answer?,
                    };
                    (answer, false)
                }
                answer => (answer, stream),
            };
            let response = match answer {
                Answer::Response(response) => self.answered(response)?,
                Answer::EmptyStream => return Err(self.no_answer("the stream ended with no event")),
            };
            // A listener of a turn that did not stream still sees its text, in one piece.
            if let (false, Some((sink, agent))) = (streamed, &events) {
                let text = response.output_text();
                if !text.is_empty() {
                    sink.text_delta(agent, text);
                }
            }
            Ok(response)
        })
    }

    /// Stops streaming tool turns, and says so once.
    fn fall_back(&self, sink: Option<&EventSink>) {
        let reason = "a streamed request that offered tools was answered with no event; \
                      tool turns of this model no longer stream"
            .to_owned();
        if !self.tool_streams_broken.swap(true, Ordering::Relaxed) {
            tracing::warn!(model = %self.endpoint.name, "{reason}");
        }
        if let Some(sink) = sink {
            sink.send(StreamEvent::StreamingDisabled {
                model: Arc::clone(&self.endpoint.name),
                reason,
            });
        }
    }

    /// `response` if it holds an answer: text or a function call.
    fn answered(&self, response: ModelResponse) -> Result<ModelResponse, ModelError> {
        if usable(&response.output) {
            Ok(response)
        } else {
            Err(self.no_answer("the answer has neither text nor function calls"))
        }
    }

    /// [`ModelError::EmptyAnswer`] for `reason`.
    pub(crate) fn no_answer(&self, reason: &str) -> ModelError {
        self.endpoint.empty(reason)
    }
}

/// Whether `output` holds an answer: some text that is not blank, or a function call.
pub(crate) fn usable(output: &[Item]) -> bool {
    output.iter().any(|item| match item {
        Item::Message { content, .. } => !content.trim().is_empty(),
        Item::FunctionCall { .. } => true,
        _ => false,
    })
}

/// The request fields Baton sets itself, which `extra` may not override.
pub(crate) fn set_fields(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::Chat => super::chat::SET_FIELDS,
        _ => super::responses::SET_FIELDS,
    }
}

/// Whether Baton sets the request field `key` itself for `provider`.
pub(crate) fn sets_field(provider: Provider, key: &str) -> bool {
    set_fields(provider).contains(&key)
}

/// Why `extra` may not carry `key`, and what sets it instead.
pub(crate) fn extra_collision(key: &str) -> String {
    let instead = match key {
        "model" => "the model entry's `model:`",
        "messages" | "input" | "instructions" => "the conversation and the agent's instructions",
        "tools" => "the agent's `tools:` and `handoffs:`",
        "max_tokens" | "max_output_tokens" => "`max_output_tokens`",
        "reasoning" | "reasoning_effort" => "`reasoning_effort`",
        "stream" | "stream_options" => "the model entry's `stream:`",
        "temperature" => "`temperature`",
        "top_p" => "`top_p`",
        "tool_choice" => "`tool_choice`",
        "parallel_tool_calls" => "`parallel_tool_calls`",
        _ => "its own setting",
    };
    format!("`extra` may not set `{key}`: Baton sets it itself (use {instead})")
}

/// `slots[index]`, made with its default if the stream had not used that index yet: how both
/// stream assemblers place what an event carries.
///
/// The index is the server's number, so it must not size anything: the slots are a sorted map,
/// and a stream's memory is bounded by its bytes ([`MAX_STREAM`](super::MAX_STREAM)), exactly
/// as a plain answer's is by its body size. A streamed answer may so hold as many items as the
/// same answer sent whole; the turn loop caps the calls it runs per turn
/// ([`Limits::max_calls_per_turn`](crate::Limits::max_calls_per_turn)) for both.
pub(crate) fn stream_slot<T: Default>(slots: &mut BTreeMap<usize, T>, index: usize) -> &mut T {
    slots.entry(index).or_default()
}

/// A function call's arguments as JSON text (some servers send the object itself).
pub(crate) fn arguments_text(arguments: Option<Value>) -> String {
    match arguments {
        Some(Value::String(text)) => text,
        None | Some(Value::Null) => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Whether a tool is sent as strict, given the setting and its schema.
pub(crate) fn strict(setting: Option<bool>, schema: &Value) -> bool {
    setting.unwrap_or_else(|| accepts_strict(schema))
}

/// Whether strict mode would accept `schema`: every object schema in it lists all its
/// properties as required and sets `additionalProperties: false`.
pub(crate) fn accepts_strict(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            let is_object = map.get("type").is_some_and(|t| {
                t == "object"
                    || t.as_array()
                        .is_some_and(|a| a.iter().any(|t| t == "object"))
            });
            if is_object {
                if map.get("additionalProperties") != Some(&Value::Bool(false)) {
                    return false;
                }
                let required: Vec<&str> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if let Some(Value::Object(properties)) = map.get("properties")
                    && properties.keys().any(|k| !required.contains(&k.as_str()))
                {
                    return false;
                }
            }
            map.values().all(accepts_strict)
        }
        Value::Array(items) => items.iter().all(accepts_strict),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_closed_fully_required_objects_accept_strict() {
        let closed = json!({"type": "object", "properties": {"a": {"type": "number"}},
            "required": ["a"], "additionalProperties": false});
        assert!(accepts_strict(&closed));
        let open =
            json!({"type": "object", "properties": {"a": {"type": "number"}}, "required": ["a"]});
        assert!(!accepts_strict(&open));
        let optional = json!({"type": "object", "properties": {"a": {}, "b": {}},
            "required": ["a"], "additionalProperties": false});
        assert!(!accepts_strict(&optional));
        let nested = json!({"type": "object", "properties": {"p": {"type": "object", "properties": {}}},
            "required": ["p"], "additionalProperties": false});
        assert!(!accepts_strict(&nested));
        assert!(strict(Some(true), &open));
        assert!(!strict(Some(false), &closed));
    }
}
