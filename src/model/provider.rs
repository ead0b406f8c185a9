//! What the two API clients share: a model's endpoint, name and settings, the choice to
//! stream, how a request is sent, which tool schemas may be sent as `strict`, and the lenient
//! reading of what comes back (call arguments, streamed items by index).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::Value;

use super::http::{self, Endpoint};
use super::{ApiKey, ModelError, ModelRequest, ModelResponse, ModelSettings};
use crate::stream::EventSink;

/// One HTTP model: where it is and what every request carries.
#[derive(Debug)]
pub(crate) struct HttpModel {
    /// URL and key.
    pub(crate) endpoint: Arc<Endpoint>,
    /// The provider's model name.
    pub(crate) model: String,
    /// The model's settings; an agent's are laid over them per request.
    pub(crate) settings: ModelSettings,
    /// `Some(true)`: always stream; `Some(false)`: never; `None`: stream when the run is
    /// streamed (someone listens to text deltas).
    pub(crate) stream: Option<bool>,
}

impl HttpModel {
    pub(crate) fn new(base_url: &str, path: &str, model: &str, key: Option<ApiKey>) -> Self {
        HttpModel {
            endpoint: Arc::new(Endpoint::new(base_url, path, key)),
            model: model.to_owned(),
            settings: ModelSettings::default(),
            stream: None,
        }
    }

    /// Caps a streamed answer at `bytes`.
    pub(crate) fn set_max_stream(&mut self, bytes: usize) {
        // The builders call this right after `new`, while they hold the only reference.
        if let Some(endpoint) = Arc::get_mut(&mut self.endpoint) {
            endpoint.max_stream = bytes;
        }
    }

    /// Whether this request streams.
    pub(crate) fn streams(&self, listening: bool) -> bool {
        self.stream.unwrap_or(listening)
    }

    /// Answers one request the way both APIs do: `encode` builds the body on the calling
    /// shard (from the model name, the request, the settings in force, and whether to
    /// stream), and `exchange` posts it and reads the answer on the HTTP runtime.
    pub(crate) fn respond<'a, E, F>(
        &'a self,
        request: ModelRequest<'a>,
        encode: impl FnOnce(
            &str,
            &ModelRequest<'_>,
            &ModelSettings,
            bool,
        ) -> serde_json::Result<Vec<u8>>,
        exchange: E,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>>
    where
        E: FnOnce(Arc<Endpoint>, Bytes, bool, Option<(EventSink, String)>) -> F,
        F: Future<Output = Result<ModelResponse, ModelError>> + Send + 'static,
    {
        let settings = request.settings.over(&self.settings);
        let ctx = request.context;
        let stream = self.streams(ctx.events.is_some());
        let body = encode(&self.model, &request, &settings, stream);
        let endpoint = Arc::clone(&self.endpoint);
        let events = ctx.events.map(|sink| (sink.clone(), ctx.agent.to_owned()));
        let exchange = body
            .map(|body| exchange(Arc::clone(&endpoint), Bytes::from(body), stream, events))
            .map_err(|e| endpoint.decode(format!("cannot encode the request: {e}")));
        Box::pin(async move { http::spawn(exchange?).await })
    }
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
