//! `ChatCompletions`: an OpenAI-compatible Chat Completions API
//! (`POST {base_url}/chat/completions`) as a [`Model`], for vLLM, Ollama and llama.cpp
//! servers (and OpenAI itself).
//!
//! Items map to messages with `tool_calls` and `role: "tool"` replies and back (`convert`);
//! `wire` holds the lenient JSON types; `stream` assembles streamed chunks into the same items.

pub(crate) mod convert;
mod stream;
mod wire;

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;

use super::http::{self, Endpoint, StreamEnd};
use super::provider::HttpModel;
use super::{ApiKey, Model, ModelError, ModelRequest, ModelResponse, ModelSettings};
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
            inner: HttpModel::new(base_url, "chat/completions", model, key),
        }
    }

    /// Sets the settings sent with every request (an agent's own settings win).
    pub fn with_settings(mut self, settings: ModelSettings) -> Self {
        self.inner.settings = settings;
        self
    }

    /// `Some(true)`: always stream; `Some(false)`: never; `None` (default): stream when the
    /// run is streamed.
    pub fn with_streaming(mut self, stream: Option<bool>) -> Self {
        self.inner.stream = stream;
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
    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        self.inner.respond(
            request,
            |model, request, settings, stream| {
                serde_json::to_vec(&convert::request(model, request, settings, stream))
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
) -> Result<ModelResponse, ModelError> {
    let response = endpoint.post(body).await?;
    let is_sse = http::is_event_stream(&response);
    if !(stream && is_sse) {
        let body = endpoint.read_body(response).await?;
        return decode(&endpoint, &body);
    }
    let mut assembler = stream::Assembler::new(events);
    let end = endpoint
        .read_events(response, |data| {
            assembler.on_event(data).map_err(|e| endpoint.decode(e))
        })
        .await?;
    match end {
        StreamEnd::Done => Ok(assembler.finish()),
        // Some servers end without `[DONE]`, after a `finish_reason`.
        StreamEnd::Closed if assembler.finished() => Ok(assembler.finish()),
        StreamEnd::Closed | StreamEnd::Cut => Err(endpoint.cut("the stream ended before `[DONE]`")),
    }
}

/// A whole (non-streamed) answer.
fn decode(endpoint: &Endpoint, body: &[u8]) -> Result<ModelResponse, ModelError> {
    let response: wire::Response = serde_json::from_slice(body)
        .map_err(|e| endpoint.decode(format!("not a Chat Completions response: {e}")))?;
    let choice = response
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| endpoint.decode("the answer has no `choices`"))?;
    let message = choice
        .message
        .ok_or_else(|| endpoint.decode("the answer's choice has no `message`"))?;
    Ok(ModelResponse {
        output: convert::reply_items(message),
        usage: convert::usage(response.usage),
    })
}
