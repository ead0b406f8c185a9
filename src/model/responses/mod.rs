//! `OpenAiResponses`: the OpenAI Responses API (`POST {base_url}/responses`) as a [`Model`].
//!
//! Stateless: every request sends the whole conversation as `input` (function calls with their
//! outputs, reasoning items unchanged and in place), so any agent can take a conversation over
//! on a handoff. `wire` holds the JSON types, `convert` maps items, `stream` assembles
//! server-sent events into the same items; the exchange itself runs on the HTTP runtime.

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

/// The OpenAI Responses API.
///
/// # Examples
///
/// ```
/// use baton::model::{ApiKey, responses::OpenAiResponses};
///
/// let model = OpenAiResponses::new("https://api.openai.com/v1", "gpt-4.1-mini", ApiKey::from_env("OPENAI_API_KEY"));
/// ```
#[derive(Debug)]
pub struct OpenAiResponses {
    inner: HttpModel,
}

impl OpenAiResponses {
    /// A client for `model` at `base_url` (`https://api.openai.com/v1`), with `key` if any.
    pub fn new(base_url: &str, model: &str, key: Option<ApiKey>) -> Self {
        OpenAiResponses {
            inner: HttpModel::new(base_url, "responses", model, key),
        }
    }

    /// Sets the settings sent with every request (an agent's own settings win).
    pub fn with_settings(mut self, settings: ModelSettings) -> Self {
        self.inner.settings = settings;
        self
    }

    /// `Some(true)`: always stream; `Some(false)`: never; `None` (default): stream when the
    /// run is streamed, so text arrives as the model writes it.
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

impl Model for OpenAiResponses {
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
    if stream && is_sse {
        read_stream(&endpoint, response, events).await
    } else {
        let body = endpoint.read_body(response).await?;
        decode(&endpoint, &body)
    }
}

/// A whole (non-streamed) response.
fn decode(endpoint: &Endpoint, body: &[u8]) -> Result<ModelResponse, ModelError> {
    let response: wire::Response = serde_json::from_slice(body)
        .map_err(|e| endpoint.decode(format!("not a Responses API response: {e}")))?;
    if response.status.as_deref() == Some("failed") {
        return Err(endpoint.failed(&stream::error_text(response.error.as_ref())));
    }
    if response.status.as_deref() == Some("incomplete") {
        let details = response.incomplete_details.clone().unwrap_or_default();
        tracing::warn!(
            %details,
            "the model's response is incomplete; using what it produced"
        );
    }
    let output = convert::output_items(response.output).map_err(|e| endpoint.decode(e))?;
    Ok(ModelResponse {
        output,
        usage: convert::usage(response.usage),
    })
}

/// A streamed response, assembled.
async fn read_stream(
    endpoint: &Endpoint,
    response: reqwest::Response,
    events: Option<(EventSink, String)>,
) -> Result<ModelResponse, ModelError> {
    let mut assembler = stream::Assembler::new(events);
    let end = endpoint
        .read_events(response, |data| match assembler.on_event(data) {
            Ok(stream::Step::More) => Ok(false),
            Ok(stream::Step::Done) => Ok(true),
            Err(stream::Failure::Model(message)) => Err(endpoint.failed(&message)),
            Err(stream::Failure::Malformed(reason)) => Err(endpoint.decode(reason)),
        })
        .await?;
    match end {
        StreamEnd::Done => Ok(assembler.finish()),
        StreamEnd::Closed | StreamEnd::Cut => {
            Err(endpoint.cut("the stream ended before `response.completed`"))
        }
    }
}
