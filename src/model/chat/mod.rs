//! `ChatCompletions`: an OpenAI-compatible Chat Completions API
//! (`POST {base_url}/chat/completions`) as a [`Model`], for vLLM, Ollama and llama.cpp
//! servers (and OpenAI itself).
//!
//! Items map to messages with `tool_calls` and `role: "tool"` replies and back (`convert`);
//! `wire` holds the lenient JSON types; `stream` assembles streamed chunks into the same items.

pub(crate) mod convert;
mod stream;
mod wire;

pub(crate) use wire::SET_FIELDS;

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;

use super::http::{self, Endpoint, StreamEnd};
use super::provider::{self, Answer, HttpModel};
use super::{
    ApiKey, Compat, Model, ModelError, ModelRequest, ModelResponse, ModelSettings, Provider,
    Streaming,
};
use crate::stream::EventSink;

/// An OpenAI-compatible Chat Completions endpoint.
///
/// # Examples
///
/// ```
/// use baton::model::chat::ChatCompletions;
///
/// // Ollama's OpenAI-compatible API needs no key.
/// let model = ChatCompletions::new("http://localhost:11434/v1", "llama3.1:8b", None);
/// ```
#[derive(Debug)]
pub struct ChatCompletions {
    inner: HttpModel,
}

impl ChatCompletions {
    /// A client for `model` at `base_url`, with `key` if the server wants one.
    pub fn new(base_url: &str, model: &str, key: Option<ApiKey>) -> Self {
        ChatCompletions {
            inner: HttpModel::new(base_url, "chat/completions", model, key, Provider::Chat),
        }
    }

    /// Sets the settings sent with every request (an agent's own settings win).
    pub fn with_settings(mut self, settings: ModelSettings) -> Self {
        self.inner.settings = settings;
        self
    }

    /// When requests stream: a [`Streaming`], or `Some(true)` (always), `Some(false)`
    /// (never), `None` (default: when the run is streamed, so text arrives as the model
    /// writes it).
    pub fn with_streaming(mut self, streaming: impl Into<Streaming>) -> Self {
        self.inner.streaming = streaming.into();
        self
    }

    /// Sets how requests meet the server's quirks; fields left `None` keep the provider's
    /// defaults ([`Compat::resolve`]).
    pub fn with_compat(mut self, compat: Compat) -> Self {
        self.inner.set_compat(compat);
        self
    }

    /// Sends the images tools return to the model, as parts of their outputs (default: no;
    /// the model reads the text, which names each image).
    pub fn with_images(mut self, images: bool) -> Self {
        self.inner.images = images;
        self
    }

    /// Names the model entry in messages and stream events (default: the model's name).
    pub fn with_name(mut self, name: &str) -> Self {
        self.inner.set_name(name);
        self
    }

    /// Caps a streamed answer at `bytes` (default [`MAX_STREAM`](crate::model::MAX_STREAM),
    /// 256 MiB): a stream that goes on past it is cut with a clear error.
    pub fn with_max_stream_bytes(mut self, bytes: usize) -> Self {
        self.inner.set_max_stream(bytes);
        self
    }
}

impl Model for ChatCompletions {
    fn takes_images(&self) -> bool {
        self.inner.images
    }

    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        let compat = self.inner.compat;
        self.inner.respond(
            request,
            move |model, request, settings, stream| {
                serde_json::to_vec(&convert::request(model, request, settings, stream, &compat))
            },
            exchange,
        )
    }
}

/// One request and its answer, on the HTTP runtime.
async fn exchange(
    endpoint: Arc<Endpoint>,
    body: Bytes,
    stream: bool,
    events: Option<(EventSink, String)>,
) -> Result<Answer, ModelError> {
    let response = endpoint.post(body).await?;
    let is_sse = http::is_event_stream(&response);
    if !(stream && is_sse) {
        let body = endpoint.read_body(response).await?;
        if stream && body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Answer::EmptyStream);
        }
        return decode(&endpoint, &body).map(Answer::Response);
    }
    let mut assembler = stream::Assembler::new(events);
    let end = endpoint
        .read_events(response, |data| {
            assembler.on_event(data).map_err(|e| endpoint.decode(e))
        })
        .await?;
    // Some servers end without `[DONE]`, after a `finish_reason`.
    let complete = end == StreamEnd::Done || (end == StreamEnd::Closed && assembler.finished());
    match end {
        _ if complete => {
            let finish = assembler.finish_reason().to_owned();
            let response = assembler.finish();
            if provider::usable(&response.output) {
                Ok(Answer::Response(response))
            } else {
                Err(endpoint.empty(&nothing(&finish)))
            }
        }
        StreamEnd::Empty => Ok(Answer::EmptyStream),
        StreamEnd::Done | StreamEnd::Closed | StreamEnd::Cut => {
            Err(endpoint.cut("the stream ended before `[DONE]`"))
        }
    }
}

/// A whole (non-streamed) answer. One with no choice, or whose message has neither text nor
/// tool calls, is no answer ([`ModelError::EmptyAnswer`]).
fn decode(endpoint: &Endpoint, body: &[u8]) -> Result<ModelResponse, ModelError> {
    let response: wire::Response = serde_json::from_slice(body)
        .map_err(|e| endpoint.decode(format!("not a Chat Completions response: {e}")))?;
    let Some(choice) = response.choices.into_iter().next() else {
        return Err(endpoint.empty("the answer has no `choices`"));
    };
    let finish = choice.finish_reason.clone().unwrap_or_default();
    let Some(message) = choice.message else {
        return Err(endpoint.empty("the answer's choice has no `message`"));
    };
    let output = convert::reply_items(message);
    if !provider::usable(&output) {
        return Err(endpoint.empty(&nothing(&finish)));
    }
    Ok(ModelResponse {
        output,
        usage: convert::usage(response.usage),
    })
}

/// Why a reply that ended with `finish` is no answer.
fn nothing(finish: &str) -> String {
    if finish.is_empty() {
        "the message has neither content nor tool calls".to_owned()
    } else {
        format!("the message has neither content nor tool calls (finish_reason `{finish}`)")
    }
}
