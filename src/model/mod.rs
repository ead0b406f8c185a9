//! The model boundary: what an agent sends a model each turn and what it gets back.
//!
//! An agent's turn loop builds a [`ModelRequest`] (instructions, the conversation so far, the
//! agent's function tools, `parallel_tool_calls`) and awaits [`Model::respond`]. Providers
//! implement [`Model`]: the [`ScriptedModel`] here, HTTP clients elsewhere. A model is shared by
//! every agent and conversation that uses it, so it takes `&self` and must be `Send + Sync`.

pub(crate) mod build;
pub mod cassette;
pub mod chat;
mod check;
mod config;
pub(crate) mod http;
mod limit;
pub(crate) mod provider;
pub mod responses;
pub(crate) mod restart;
mod retry;
pub(crate) mod scripted;
mod secret;
mod sse;
mod timeout;

pub use build::{
    BASE_URL_ENV, DEFAULT_BASE_URL, DEFAULT_MAX_IN_FLIGHT, DEFAULT_TIMEOUT, ModelChoice,
    build_model, choose_model, live_model,
};
pub use cassette::{Cassette, CassetteError, Exchange, Recorder, Replay};
pub use check::{HistoryError, check_history};
pub use config::{
    Compat, DEFAULT_API_KEY_ENV, ModelConfig, ModelLimits, ModelSettings, Provider, ResolvedCompat,
    Streaming, ToolCallContent, ToolChoice,
};
pub use http::MAX_STREAM;
pub use limit::ConcurrencyLimit;
pub use retry::{Retry, RetryPolicy};
pub use scripted::{RecordedRequest, ScriptedCall, ScriptedModel, ScriptedTurn};
pub use secret::{ApiKey, redact_url};
pub use timeout::Timeout;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::item::Item;

/// A function the model may call: a tool or a handoff, with its JSON-schema parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionTool {
    /// The function's name, as the model will write it in a `function_call`.
    pub name: String,
    /// What the function does, for the model.
    pub description: String,
    /// A JSON Schema of the arguments object.
    pub parameters: serde_json::Value,
}

/// Who is asking, for providers that need it (the [`ScriptedModel`] picks its turn from this).
///
/// Real APIs never see it.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// The agent making the request.
    pub agent: &'a str,
    /// How many model requests this agent has already made in this run (0 for its first).
    pub agent_turn: u32,
    /// How many model requests the whole run has already made, across agents.
    pub run_turn: u32,
    /// The run's trace id.
    pub trace_id: &'a str,
    /// Where a streamed run's events go: providers that stream send text deltas here. `None`
    /// when nobody listens.
    pub events: Option<&'a crate::stream::EventSink>,
}

/// One request to a model, borrowed from the turn loop (nothing is copied to make it).
#[derive(Debug, Clone, Copy)]
pub struct ModelRequest<'a> {
    /// The agent's instructions (the Responses API's `instructions`).
    pub instructions: &'a str,
    /// The conversation so far (the Responses API's `input`).
    pub input: &'a [Item],
    /// The function tools the model may call: the agent's tools, then its handoff functions.
    pub tools: &'a [FunctionTool],
    /// Whether the model may ask for several calls in one turn (`true` unless the agent's
    /// settings say otherwise).
    pub parallel_tool_calls: bool,
    /// The agent's settings (temperature, tool choice, ...); a provider lays them over its
    /// model's own settings.
    pub settings: &'a ModelSettings,
    /// Who is asking.
    pub context: RequestContext<'a>,
}

/// Token counts, summed over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Model requests made.
    pub requests: u64,
    /// Tokens in the requests.
    pub input_tokens: u64,
    /// Tokens in the responses.
    pub output_tokens: u64,
    /// `input_tokens + output_tokens`.
    pub total_tokens: u64,
}

impl Usage {
    /// Adds `other` to `self`.
    pub fn add(&mut self, other: &Usage) {
        self.requests += other.requests;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.total_tokens += other.total_tokens;
    }
}

/// What a model answered.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelResponse {
    /// The output items, in the model's order: messages and function calls.
    pub output: Vec<Item>,
    /// Tokens used by this request.
    pub usage: Usage,
}

impl ModelResponse {
    /// Concatenates the text of the assistant messages of the output.
    pub fn output_text(&self) -> String {
        crate::item::output_text(&self.output)
    }
}

/// Why a model request failed.
///
/// These are `Err` values: a model that cannot answer stops the run (with the partial
/// transcript), unlike tool failures, which become outputs.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The request broke the API's rules for histories (an unpaired call or output).
    #[error("invalid request: {0}")]
    InvalidHistory(HistoryError),
    /// A scripted model has no turn left for this agent.
    #[error(
        "scripted model has {available} turn(s) for agent `{agent}`, but turn {requested} was requested"
    )]
    OutOfTurns {
        /// The agent asking.
        agent: String,
        /// Turns scripted for it.
        available: usize,
        /// The 1-based turn asked for.
        requested: u32,
    },
    /// A scripted model has no script for this agent at all.
    #[error("scripted model has no turns for agent `{agent}`")]
    NoScript {
        /// The agent asking.
        agent: String,
    },
    /// A scripted turn hands off, but the request offers no handoff function for that agent.
    #[error(
        "scripted turn {turn} of agent `{agent}` hands off to `{target}`, but the request offers neither `transfer_to_{target}` nor `handoff`"
    )]
    NoHandoffFunction {
        /// The agent asking.
        agent: String,
        /// The 1-based turn.
        turn: u32,
        /// The scripted target.
        target: String,
    },
    /// The API answered with an error status; `message` is the API's own (`error.message`).
    #[error("{endpoint}: HTTP {status}: {message}")]
    Api {
        /// `POST <url>`: which endpoint answered (never the key).
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The API's error code or type, when it gave one (`rate_limit_exceeded`, ...).
        code: Option<String>,
        /// The API's message.
        message: String,
        /// How long the API asked to wait before retrying (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// No complete answer within the request timeout.
    #[error("{endpoint}: no answer within {}", humantime::format_duration(*after))]
    Timeout {
        /// Which endpoint (or model) was asked.
        endpoint: String,
        /// The timeout.
        after: Duration,
    },
    /// The connection could not be made, or broke before the answer was complete.
    #[error("{endpoint}: connection failed: {reason}")]
    Connection {
        /// Which endpoint.
        endpoint: String,
        /// What the HTTP stack said.
        reason: String,
    },
    /// The answer arrived but could not be read (not JSON, wrong shape, a broken stream).
    #[error("{endpoint}: cannot read the answer: {reason}")]
    Decode {
        /// Which endpoint.
        endpoint: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The model reported a failure inside a successful HTTP answer (a failed response status
    /// or an error event in a stream).
    #[error("{endpoint}: the model failed: {message}")]
    Failed {
        /// Which endpoint.
        endpoint: String,
        /// The model's message.
        message: String,
    },
    /// The API answered 200 with nothing usable in it: no output, an empty output list, a
    /// reply with neither text nor function calls, an incomplete response with nothing in it,
    /// a stream with no event. Not retried: the run fails rather than end with a blank answer.
    #[error("model `{model}` gave no answer ({endpoint}): {reason}")]
    EmptyAnswer {
        /// The model entry's name.
        model: String,
        /// Which endpoint answered.
        endpoint: String,
        /// What the answer lacked.
        reason: String,
    },
    /// Retryable failures went on past the retry budget; `last` is the final one.
    #[error("gave up after {attempts} attempts in {:.1} s: {last}", elapsed.as_secs_f64())]
    RetriesExhausted {
        /// Attempts made (the first one and the retries).
        attempts: u32,
        /// From the first attempt's start to the last one's end, waits included.
        elapsed: Duration,
        /// The last failure.
        last: Box<ModelError>,
    },
    /// A model cannot be built from its configuration (no key, a bad base URL).
    #[error("model `{model}`: {reason}")]
    Config {
        /// The model's name in the topology.
        model: String,
        /// What is wrong.
        reason: String,
    },
    /// The model's code panicked (a bug in a `Model` implementation); the run fails, the
    /// swarm goes on.
    #[error("the model panicked: {message}")]
    Panicked {
        /// The panic's message.
        message: String,
    },
    /// A replayed model ([`Replay`]) has no recorded exchange that matches the request: the
    /// instructions, tools or conversation changed since the cassette was recorded.
    #[error(
        "replay: no recorded exchange matches agent `{agent}` turn {turn} (run turn {run_turn}): {mismatch}"
    )]
    Cassette {
        /// The agent asking.
        agent: String,
        /// The agent's 1-based turn.
        turn: u32,
        /// The run's 1-based turn, across agents.
        run_turn: u32,
        /// What differs from the closest recorded exchange, or why there is none.
        mismatch: String,
    },
    /// Any other provider failure.
    #[error("{0}")]
    Other(String),
}

impl ModelError {
    /// Whether trying the same request again may succeed: 429, 500, 502, 503, 504, timeouts
    /// and connection failures. Never 400 or 401: the same request fails the same way.
    pub fn is_retryable(&self) -> bool {
        match self {
            ModelError::Api { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            ModelError::Timeout { .. } | ModelError::Connection { .. } => true,
            _ => false,
        }
    }

    /// How long the API asked to wait before trying again, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ModelError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status of an API error (of the last attempt, after retries).
    pub fn status(&self) -> Option<u16> {
        match self {
            ModelError::Api { status, .. } => Some(*status),
            ModelError::RetriesExhausted { last, .. } => last.status(),
            _ => None,
        }
    }
}

impl From<HistoryError> for ModelError {
    fn from(error: HistoryError) -> Self {
        ModelError::InvalidHistory(error)
    }
}

/// A language model: takes a request, returns output items.
///
/// Implementations must be cheap to share: one instance serves every agent and conversation
/// that names it, concurrently.
pub trait Model: Send + Sync + std::fmt::Debug + 'static {
    /// Answers one request.
    ///
    /// # Errors
    ///
    /// Returns a [`ModelError`] when the provider cannot answer; the run then fails with it.
    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>>;

    /// Whether images tools return are sent to it (as parts of their outputs); otherwise
    /// it reads only their text, which names each image (default: no).
    fn takes_images(&self) -> bool {
        false
    }
}

/// A shared model handle, as agents hold it.
pub type SharedModel = Arc<dyn Model>;
