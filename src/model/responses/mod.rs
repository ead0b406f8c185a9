//! `OpenAiResponses`: the OpenAI Responses API (`POST {base_url}/responses`) as a [`Model`].
//!
//! Stateless: every request sends the whole conversation as `input` (function calls with their
//! outputs, reasoning items unchanged and in place), so any agent can take a conversation over
//! on a handoff. `wire` holds the JSON types, `convert` maps items, `stream` assembles
//! server-sent events into the same items; the exchange itself runs on the HTTP runtime.

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
            inner: HttpModel::new(base_url, "responses", model, key, Provider::Openai),
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

impl Model for OpenAiResponses {
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
    if stream && is_sse {
        read_stream(&endpoint, response, events).await
    } else {
        let body = endpoint.read_body(response).await?;
        if stream && body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Answer::EmptyStream);
        }
        decode(&endpoint, &body).map(Answer::Response)
    }
}

/// A whole (non-streamed) response. One with no output, or incomplete with nothing usable,
/// is no answer ([`ModelError::EmptyAnswer`]).
fn decode(endpoint: &Endpoint, body: &[u8]) -> Result<ModelResponse, ModelError> {
    let response: wire::Response = serde_json::from_slice(body)
        .map_err(|e| endpoint.decode(format!("not a Responses API response: {e}")))?;
    if response.status.as_deref() == Some("failed") {
        return Err(endpoint.failed(&stream::error_text(response.error.as_ref())));
    }
    let incomplete = (response.status.as_deref() == Some("incomplete"))
        .then(|| incomplete_reason(response.incomplete_details.as_ref()));
    let output = convert::output_items(response.output).map_err(|e| endpoint.decode(e))?;
    let response = ModelResponse {
        output,
        usage: convert::usage(response.usage),
    };
    answered(endpoint, response, incomplete)
}

/// `response`, if it holds an answer; `incomplete` is the reason the API gave when it
/// marked the response incomplete.
fn answered(
    endpoint: &Endpoint,
    response: ModelResponse,
    incomplete: Option<String>,
) -> Result<ModelResponse, ModelError> {
    match incomplete {
        _ if provider::usable(&response.output) => {
            if let Some(reason) = incomplete {
                tracing::warn!(
                    %reason,
                    "the model's response is incomplete; using what it produced"
                );
            }
            Ok(response)
        }
        Some(reason) => Err(endpoint.empty(&format!(
            "the response is incomplete ({reason}) with nothing usable in it"
        ))),
        None if response.output.is_empty() => Err(endpoint.empty("the response has no output")),
        None => Err(endpoint.empty("the response's output has neither text nor function calls")),
    }
}

/// `incomplete_details.reason`, or the whole object.
fn incomplete_reason(details: Option<&serde_json::Value>) -> String {
    match details {
        Some(details) => details
            .get("reason")
            .and_then(serde_json::Value::as_str)
            .map_or_else(|| details.to_string(), str::to_owned),
        None => "no reason given".to_owned(),
    }
}

/// A streamed response, assembled.
async fn read_stream(
    endpoint: &Endpoint,
    response: reqwest::Response,
    events: Option<(EventSink, String)>,
) -> Result<Answer, ModelError> {
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
        StreamEnd::Done => {
            let incomplete = assembler.incomplete();
            answered(endpoint, assembler.finish(), incomplete).map(Answer::Response)
        }
        StreamEnd::Empty => Ok(Answer::EmptyStream),
        StreamEnd::Closed | StreamEnd::Cut => {
            Err(endpoint.cut("the stream ended before `response.completed`"))
        }
    }
}
