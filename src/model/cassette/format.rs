//! The cassette file's serde form: the header line, one line per exchange, and the mirror of
//! [`ModelError`] that lets a recorded failure come back as the same error.
//!
//! Wire types only: [`Exchange`] is what the rest of the module works with; `to_line` and
//! `from_line` convert.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Exchange;
use crate::item::Item;
use crate::model::{FunctionTool, ModelError, ModelResponse, ModelSettings, Usage};

/// The format version this Baton writes and reads.
pub(super) const VERSION: u64 = 1;

/// The first line: `{"baton_cassette": 1, "baton": "0.1.0"}`. Other fields are allowed and
/// ignored (notes a person adds).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Header {
    /// The format version.
    pub(super) baton_cassette: u64,
    /// The Baton version that wrote it, for people reading the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) baton: Option<String>,
}

impl Header {
    /// The header this Baton writes.
    pub(super) fn current() -> Self {
        Header {
            baton_cassette: VERSION,
            baton: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }
    }
}

/// One exchange: who asked, what was sent, and what came back (a response or an error).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Line {
    model: String,
    agent: String,
    agent_turn: u32,
    run_turn: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    takes_images: bool,
    request: RequestLine,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    response: Option<ResponseLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<RecordedError>,
}

/// What reached the model (never a key: requests hold none).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestLine {
    instructions: String,
    input: Vec<Item>,
    tools: Vec<FunctionTool>,
    parallel_tool_calls: bool,
    #[serde(default)]
    settings: ModelSettings,
}

/// What the model answered.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseLine {
    output: Vec<Item>,
    #[serde(default)]
    usage: Usage,
}

/// The serde mirror of [`ModelError`]: `{"kind": "api", "status": 429, ...}`. Durations are
/// written as `humantime` text (`"1s 500ms"`), which reads back exactly.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RecordedError {
    Api {
        endpoint: String,
        status: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        message: String,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "opt_duration"
        )]
        retry_after: Option<Duration>,
    },
    Timeout {
        endpoint: String,
        #[serde(with = "duration")]
        after: Duration,
    },
    Connection {
        endpoint: String,
        reason: String,
    },
    Decode {
        endpoint: String,
        reason: String,
    },
    Failed {
        endpoint: String,
        message: String,
    },
    EmptyAnswer {
        model: String,
        endpoint: String,
        reason: String,
    },
    RetriesExhausted {
        attempts: u32,
        #[serde(with = "duration")]
        elapsed: Duration,
        last: Box<RecordedError>,
    },
    Config {
        model: String,
        reason: String,
    },
    OutOfTurns {
        agent: String,
        available: usize,
        requested: u32,
    },
    NoScript {
        agent: String,
    },
    NoHandoffFunction {
        agent: String,
        turn: u32,
        target: String,
    },
    Cassette {
        agent: String,
        turn: u32,
        run_turn: u32,
        mismatch: String,
    },
    Panicked {
        message: String,
    },
    /// Any error without a form of its own here (an invalid history), by its message.
    Other {
        message: String,
    },
}

impl From<&ModelError> for RecordedError {
    fn from(error: &ModelError) -> Self {
        match error.clone() {
            ModelError::Api {
                endpoint,
                status,
                code,
                message,
                retry_after,
            } => RecordedError::Api {
                endpoint,
                status,
                code,
                message,
                retry_after,
            },
            ModelError::Timeout { endpoint, after } => RecordedError::Timeout { endpoint, after },
            ModelError::Connection { endpoint, reason } => {
                RecordedError::Connection { endpoint, reason }
            }
            ModelError::Decode { endpoint, reason } => RecordedError::Decode { endpoint, reason },
            ModelError::Failed { endpoint, message } => RecordedError::Failed { endpoint, message },
            ModelError::EmptyAnswer {
                model,
                endpoint,
                reason,
            } => RecordedError::EmptyAnswer {
                model,
                endpoint,
                reason,
            },
            ModelError::RetriesExhausted {
                attempts,
                elapsed,
                last,
            } => RecordedError::RetriesExhausted {
                attempts,
                elapsed,
                last: Box::new(RecordedError::from(&*last)),
            },
            ModelError::Config { model, reason } => RecordedError::Config { model, reason },
            ModelError::OutOfTurns {
                agent,
                available,
                requested,
            } => RecordedError::OutOfTurns {
                agent,
                available,
                requested,
            },
            ModelError::NoScript { agent } => RecordedError::NoScript { agent },
            ModelError::NoHandoffFunction {
                agent,
                turn,
                target,
            } => RecordedError::NoHandoffFunction {
                agent,
                turn,
                target,
            },
            ModelError::Cassette {
                agent,
                turn,
                run_turn,
                mismatch,
            } => RecordedError::Cassette {
                agent,
                turn,
                run_turn,
                mismatch,
            },
            ModelError::Panicked { message } => RecordedError::Panicked { message },
            other @ (ModelError::InvalidHistory(_) | ModelError::Other(_)) => {
                RecordedError::Other {
                    message: other.to_string(),
                }
            }
        }
    }
}

impl From<RecordedError> for ModelError {
    fn from(error: RecordedError) -> Self {
        match error {
            RecordedError::Api {
                endpoint,
                status,
                code,
                message,
                retry_after,
            } => ModelError::Api {
                endpoint,
                status,
                code,
                message,
                retry_after,
            },
            RecordedError::Timeout { endpoint, after } => ModelError::Timeout { endpoint, after },
            RecordedError::Connection { endpoint, reason } => {
                ModelError::Connection { endpoint, reason }
            }
            RecordedError::Decode { endpoint, reason } => ModelError::Decode { endpoint, reason },
            RecordedError::Failed { endpoint, message } => ModelError::Failed { endpoint, message },
            RecordedError::EmptyAnswer {
                model,
                endpoint,
                reason,
            } => ModelError::EmptyAnswer {
                model,
                endpoint,
                reason,
            },
            RecordedError::RetriesExhausted {
                attempts,
                elapsed,
                last,
            } => ModelError::RetriesExhausted {
                attempts,
                elapsed,
                last: Box::new(ModelError::from(*last)),
            },
            RecordedError::Config { model, reason } => ModelError::Config { model, reason },
            RecordedError::OutOfTurns {
                agent,
                available,
                requested,
            } => ModelError::OutOfTurns {
                agent,
                available,
                requested,
            },
            RecordedError::NoScript { agent } => ModelError::NoScript { agent },
            RecordedError::NoHandoffFunction {
                agent,
                turn,
                target,
            } => ModelError::NoHandoffFunction {
                agent,
                turn,
                target,
            },
            RecordedError::Cassette {
                agent,
                turn,
                run_turn,
                mismatch,
            } => ModelError::Cassette {
                agent,
                turn,
                run_turn,
                mismatch,
            },
            RecordedError::Panicked { message } => ModelError::Panicked { message },
            RecordedError::Other { message } => ModelError::Other(message),
        }
    }
}

/// The line for `exchange`.
pub(super) fn to_line(exchange: &Exchange) -> Line {
    let (response, error) = match &exchange.outcome {
        Ok(response) => (
            Some(ResponseLine {
                output: response.output.clone(),
                usage: response.usage,
            }),
            None,
        ),
        Err(error) => (None, Some(RecordedError::from(error))),
    };
    Line {
        model: exchange.model.clone(),
        agent: exchange.agent.clone(),
        agent_turn: exchange.agent_turn,
        run_turn: exchange.run_turn,
        takes_images: exchange.takes_images,
        request: RequestLine {
            instructions: exchange.instructions.clone(),
            input: exchange.input.clone(),
            tools: exchange.tools.clone(),
            parallel_tool_calls: exchange.parallel_tool_calls,
            settings: exchange.settings.clone(),
        },
        response,
        error,
    }
}

/// The exchange `line` holds.
///
/// # Errors
///
/// A line with both a `response` and an `error`, or neither.
pub(super) fn from_line(line: Line) -> Result<Exchange, &'static str> {
    let outcome = match (line.response, line.error) {
        (Some(response), None) => Ok(ModelResponse {
            output: response.output,
            usage: response.usage,
        }),
        (None, Some(error)) => Err(ModelError::from(error)),
        (Some(_), Some(_)) => return Err("an exchange has either `response` or `error`, not both"),
        (None, None) => return Err("an exchange needs a `response` or an `error`"),
    };
    Ok(Exchange {
        model: line.model,
        agent: line.agent,
        agent_turn: line.agent_turn,
        run_turn: line.run_turn,
        takes_images: line.takes_images,
        instructions: line.request.instructions,
        input: line.request.input,
        tools: line.request.tools,
        parallel_tool_calls: line.request.parallel_tool_calls,
        settings: line.request.settings,
        outcome,
    })
}

/// A `Duration` as humantime text (`"2s"`, `"1s 500ms"`).
mod duration {
    use std::time::Duration;

    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*value).to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

/// An optional `Duration` as humantime text.
mod opt_duration {
    use std::time::Duration;

    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => super::duration::serialize(value, s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => humantime::parse_duration(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(error: ModelError) -> ModelError {
        let json = serde_json::to_string(&RecordedError::from(&error)).unwrap();
        let back: RecordedError = serde_json::from_str(&json).unwrap();
        ModelError::from(back)
    }

    #[test]
    fn a_recorded_error_comes_back_with_the_same_message_and_retry_facts() {
        let error = ModelError::RetriesExhausted {
            attempts: 4,
            elapsed: Duration::from_millis(1_750),
            last: Box::new(ModelError::Api {
                endpoint: "POST http://127.0.0.1:9/v1/responses".to_owned(),
                status: 429,
                code: Some("rate_limit_exceeded".to_owned()),
                message: "slow down".to_owned(),
                retry_after: Some(Duration::from_millis(2_500)),
            }),
        };
        let back = round_trip(error.clone());
        assert_eq!(back.to_string(), error.to_string());
        assert_eq!(back.status(), Some(429));
        let ModelError::RetriesExhausted { elapsed, last, .. } = back else {
            panic!("{back:?}")
        };
        assert_eq!(elapsed, Duration::from_millis(1_750));
        assert_eq!(last.retry_after(), Some(Duration::from_millis(2_500)));
        assert!(last.is_retryable());

        let timeout = ModelError::Timeout {
            endpoint: "model `m`".to_owned(),
            after: Duration::from_secs(30),
        };
        let back = round_trip(timeout.clone());
        assert!(
            matches!(back, ModelError::Timeout { after, .. } if after == Duration::from_secs(30))
        );
        assert_eq!(back.to_string(), timeout.to_string());
    }

    #[test]
    fn an_error_without_a_form_of_its_own_keeps_its_message() {
        let error = ModelError::InvalidHistory(crate::model::HistoryError::MissingOutput {
            call_id: "c1".to_owned(),
        });
        let back = round_trip(error.clone());
        assert!(matches!(back, ModelError::Other(_)));
        assert_eq!(back.to_string(), error.to_string());
    }
}
