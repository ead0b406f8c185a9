//! Faults the mock injects on request, and what it records about every request.
//!
//! Faults wait in a queue; each model request takes the one at the front, if any (so
//! "two 429s, then answer" is two queued faults). Tests queue them with
//! [`MockServer::inject`](super::MockServer::inject); other applications `POST` the same JSON
//! to `/_mock/faults`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One injected fault.
///
/// As JSON (for `POST /_mock/faults`): `{"kind": "status", "status": 429, "retry_after": 1}`,
/// `{"kind": "delay", "ms": 500}`, `{"kind": "drop"}`, `{"kind": "malformed"}`, `{"kind": "endless"}`,
/// `{"kind": "empty"}`, `{"kind": "incomplete"}`, `{"kind": "call_ids", "ids": "same"}`,
/// `{"kind": "cut"}`; add
/// `"count": N` to queue it N times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and the API's error shape (429 and 5xx are what retries meet;
    /// 400 and 401 must not be retried).
    Status {
        /// The HTTP status.
        status: u16,
        /// `Retry-After` seconds, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
        /// The error message (a default one per status otherwise).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// Wait this long, then answer normally (a slow model; past the client's timeout, a hang).
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// Close the connection without answering.
    Drop,
    /// Answer 200 with a body that is not what the API sends (cut JSON, or a broken stream
    /// event).
    Malformed,
    /// Answer normally, but with the call ids a rule-breaking server sends: none at all
    /// (`empty`), or `call_0` for every call of every turn (`same`: repeated within a turn and
    /// reused across turns).
    CallIds {
        /// Which ids.
        ids: IdQuirk,
    },
    /// Answer a streamed request with the first half of its events, then end the stream (a
    /// connection that broke part-way). A request that does not stream is answered normally.
    Cut,
    /// Answer a streamed request with a stream whose text never ends (a runaway server): the
    /// client must cut it. A request that does not stream is answered normally.
    Endless,
    /// Answer 200 with no answer in it: a streamed request gets an empty body (not one event,
    /// as servers that cannot stream tool calls do), a plain one a well-formed reply with
    /// nothing in it (Responses: `output: []`; Chat: a message with neither content nor tool
    /// calls).
    Empty,
    /// Answer 200 with a response cut short with nothing usable in it (Responses:
    /// `status: incomplete` for `max_output_tokens` and no output; Chat: no content and
    /// `finish_reason: length`).
    Incomplete,
}

/// The call ids of a [`Fault::CallIds`] answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdQuirk {
    /// Every call id empty (as a server that sends none is read).
    Empty,
    /// Every call id `call_0`.
    Same,
}

impl Fault {
    /// A status fault with the default message.
    pub fn status(status: u16) -> Self {
        Fault::Status {
            status,
            retry_after: None,
            message: None,
        }
    }

    /// `429 Too Many Requests` with `Retry-After: seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        Fault::Status {
            status: 429,
            retry_after: Some(seconds),
            message: None,
        }
    }

    /// A delay.
    pub fn delay(duration: Duration) -> Self {
        Fault::Delay {
            ms: duration.as_millis() as u64,
        }
    }
}

/// The body of `POST /_mock/faults`.
#[derive(Debug, Deserialize)]
pub(crate) struct FaultOrder {
    #[serde(flatten)]
    pub(crate) fault: Fault,
    #[serde(default = "one")]
    pub(crate) count: usize,
}

fn one() -> usize {
    1
}

/// Which API a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// `POST /v1/responses`.
    Responses,
    /// `POST /v1/chat/completions`.
    Chat,
}

/// What the mock saw and did for one model request.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    /// When it arrived, since the server started (milliseconds in JSON).
    #[serde(rename = "at_ms", serialize_with = "millis")]
    pub at: Duration,
    /// How long the server took to answer it, from arrival to the answer's headers
    /// (injected delays and latency included; milliseconds in JSON).
    #[serde(rename = "took_ms", serialize_with = "millis")]
    pub took: Duration,
    /// Which API.
    pub api: Api,
    /// The status answered (0 for a dropped connection).
    pub status: u16,
    /// The agent it was served as, once known.
    pub agent: Option<String>,
    /// The 0-based scripted turn served.
    pub turn: Option<u32>,
    /// Whether it asked to stream.
    pub stream: bool,
    /// The fault injected, if any.
    pub fault: Option<Fault>,
    /// The error message answered, if any.
    pub error: Option<String>,
    /// The `Authorization` header was present (its value is never kept).
    pub authorized: bool,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}
