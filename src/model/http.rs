//! The HTTP layer under the API clients: one small multi-thread tokio runtime (threads named
//! `baton-http`) and one shared `reqwest::Client`, created lazily on first use (the client on
//! the runtime itself).
//!
//! Model requests come from swarm shards, each an actix arbiter with its own current-thread
//! runtime. A reqwest client's pooled connections belong to the runtime that opened them, so
//! no shard does network I/O itself: a provider builds the request body on the calling thread,
//! [`spawn`]s the exchange here and awaits its handle (aborted if the caller gives up). The
//! retry and timeout wrappers take their timers from here too ([`sleep`]), so they work under
//! any executor; on the shard of a swarm in virtual time they wait on the shard's own paused
//! clock instead (see `clock`), so a retry's backoff or a model timeout takes no real time.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use tokio::runtime::Runtime;
use tokio_util::task::AbortOnDropHandle;

use super::sse::SseDecoder;
use super::{ApiKey, ModelError};

/// Worker threads of the HTTP runtime: network I/O and JSON decoding are light.
const THREADS: usize = 2;
/// How long connecting may take, before the request timeout even matters.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer body read (a response is a few KiB; this bounds a broken server).
pub(crate) const MAX_BODY: usize = 32 * 1024 * 1024;

/// The default cap on a streamed answer's bytes: about ten times the largest streamed answer a
/// model writes (128k output tokens, one event of ~200 bytes each). It stops a server that
/// never ends its stream before memory runs out.
pub const MAX_STREAM: usize = 256 * 1024 * 1024;

/// The runtime, made once, on first use.
static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The client, made once, on first use, on the HTTP runtime (loading the root certificates
/// takes milliseconds, which must not stall the shard that sends the first request).
static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();

fn runtime() -> Result<&'static Runtime, ModelError> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(THREADS)
                .thread_name("baton-http")
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the HTTP runtime: {e}"))
        })
        .as_ref()
        .map_err(|e| ModelError::Other(e.clone()))
}

/// The shared client. Call it inside a future given to [`spawn`] (it is built there on first
/// use); model providers and HTTP tools both do. It follows no redirects.
pub(crate) fn client() -> Result<&'static reqwest::Client, ModelError> {
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .tcp_nodelay(true)
                .user_agent(concat!("baton/", env!("CARGO_PKG_VERSION")))
                // Never followed behind the caller's back: an HTTP tool follows a redirect
                // only when its file allows it, and only to its own host; model APIs answer
                // directly.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| format!("cannot build the HTTP client: {e}"))
        })
        .as_ref()
        .map_err(|e| ModelError::Other(e.clone()))
}

/// Whether an answer is a stream of server-sent events.
pub(crate) fn is_event_stream(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// Runs `future` on the HTTP runtime and waits for it from any executor. Dropping the returned
/// future aborts the task (and so closes its connection).
pub(crate) async fn spawn<T, F>(future: F) -> Result<T, ModelError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, ModelError>> + Send + 'static,
{
    let handle = AbortOnDropHandle::new(runtime()?.spawn(future));
    match handle.await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(ModelError::Other(
            "the HTTP exchange panicked (a bug in Baton)".to_owned(),
        )),
        Err(_) => Err(ModelError::Other(
            "the HTTP exchange was cancelled".to_owned(),
        )),
    }
}

/// Waits `duration` on the HTTP runtime's clock, from any executor, never blocking the
/// calling thread; on a shard in virtual time, on the shard's clock.
pub(crate) async fn sleep(duration: Duration) {
    if crate::clock::is_virtual() {
        return tokio::time::sleep(duration).await;
    }
    match runtime() {
        Ok(runtime) => {
            let _ = AbortOnDropHandle::new(runtime.spawn(tokio::time::sleep(duration))).await;
        }
        // No runtime could be made (the request itself fails with that error).
        Err(_) => sleep_on_a_thread(duration).await,
    }
}

/// Waits `duration` without a runtime: a thread of its own waits and then wakes the waiter,
/// so the caller's thread (which runs other tasks) never blocks. Dropping the wait ends the
/// thread at once. If not even a thread can be started, returns at once.
async fn sleep_on_a_thread(duration: Duration) {
    let (done, wait) = tokio::sync::oneshot::channel::<()>();
    // Dropped with this future, which wakes the thread early.
    let (_cancel, cancelled) = std::sync::mpsc::channel::<()>();
    let started = std::thread::Builder::new()
        .name("baton-sleep".to_owned())
        .spawn(move || {
            let _ = cancelled.recv_timeout(duration);
            let _ = done.send(());
        });
    if started.is_ok() {
        let _ = wait.await;
    }
}

/// Where requests of one model go, and with which key.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// The full URL (`{base_url}/responses`).
    url: String,
    /// `POST <url>`, for error messages.
    label: String,
    /// The `Authorization: Bearer` key, if any (local servers need none).
    key: Option<ApiKey>,
    /// The most bytes a streamed answer may have.
    pub(crate) max_stream: usize,
    /// The model entry's name, for [`ModelError::EmptyAnswer`].
    pub(crate) name: Arc<str>,
}

impl Endpoint {
    /// `base_url` joined with `path` (`responses`, `chat/completions`).
    pub(crate) fn new(base_url: &str, path: &str, key: Option<ApiKey>) -> Self {
        let url = format!("{}/{path}", base_url.trim_end_matches('/'));
        Endpoint {
            // Never the credentials a base URL may carry. See: issue 9
            label: format!("POST {}", super::secret::redact_url(&url)),
            url,
            key,
            max_stream: MAX_STREAM,
            name: Arc::from(""),
        }
    }

    /// Removes the key from a text that may quote it (an API's error message).
    fn scrub(&self, text: &str) -> String {
        match &self.key {
            Some(key) => key.scrub(text),
            None => text.to_owned(),
        }
    }

    fn connection(&self, error: &reqwest::Error) -> ModelError {
        ModelError::Connection {
            endpoint: self.label.clone(),
            reason: self.scrub(&chain(error)),
        }
    }

    /// [`ModelError::Decode`]: the answer could not be read, for `reason` (key removed).
    pub(crate) fn decode(&self, reason: impl Into<String>) -> ModelError {
        ModelError::Decode {
            endpoint: self.label.clone(),
            reason: self.scrub(&reason.into()),
        }
    }

    /// [`ModelError::Connection`] for a stream that ended before its last event: the answer
    /// broke off part-way, as when a connection drops, so it is retried like one.
    pub(crate) fn cut(&self, reason: &str) -> ModelError {
        ModelError::Connection {
            endpoint: self.label.clone(),
            reason: reason.to_owned(),
        }
    }

    /// [`ModelError::Failed`]: the model reported a failure, `message` (key removed).
    pub(crate) fn failed(&self, message: &str) -> ModelError {
        ModelError::Failed {
            endpoint: self.label.clone(),
            message: self.scrub(message),
        }
    }

    /// [`ModelError::EmptyAnswer`]: the model answered with nothing usable, `reason`.
    pub(crate) fn empty(&self, reason: &str) -> ModelError {
        ModelError::EmptyAnswer {
            model: self.name.to_string(),
            endpoint: self.label.clone(),
            reason: reason.to_owned(),
        }
    }

    /// Sends `body` (JSON) and returns the response if its status is a success; an error
    /// status becomes [`ModelError::Api`] with the API's message and `Retry-After`.
    pub(crate) async fn post(&self, body: Bytes) -> Result<reqwest::Response, ModelError> {
        let mut request = client()?
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(key) = &self.key {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| {
                    ModelError::Config {
                        model: self.label.clone(),
                        reason: "the API key contains characters a header cannot hold".to_owned(),
                    }
                })?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        let response = request.send().await.map_err(|e| self.connection(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = retry_after(response.headers(), SystemTime::now());
        let body = self.read_body(response).await.unwrap_or_default();
        // The whole body only at debug level; the error carries the API's first problem.
        tracing::debug!(
            endpoint = %self.label,
            status = status.as_u16(),
            body = %self.scrub(&String::from_utf8_lossy(&body)),
            "the API answered with an error"
        );
        let (code, message) = api_message(&body);
        let message = message.map(|m| {
            if status == reqwest::StatusCode::NOT_FOUND && self.url.ends_with("/responses") {
                format!(
                    "{m} (this server has no Responses API at `/responses`: use `provider: chat` for it)"
                )
            } else {
                m
            }
        });
        Err(ModelError::Api {
            endpoint: self.label.clone(),
            status: status.as_u16(),
            code,
            message: self.scrub(&message.unwrap_or_else(|| {
                format!(
                    "{} (no error message in the body)",
                    status.canonical_reason().unwrap_or("error")
                )
            })),
            retry_after,
        })
    }

    /// Reads a whole body, at most [`MAX_BODY`] bytes.
    pub(crate) async fn read_body(
        &self,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, ModelError> {
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.connection(&e))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(self.decode(format!("the body is larger than {MAX_BODY} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Reads a streamed body as server-sent events, handing each event's data to `on_event`
    /// until it returns `Ok(true)` (the API's last event) or the body ends.
    pub(crate) async fn read_events(
        &self,
        mut response: reqwest::Response,
        mut on_event: impl FnMut(&str) -> Result<bool, ModelError>,
    ) -> Result<StreamEnd, ModelError> {
        let mut decoder = SseDecoder::default();
        let mut batch = Vec::new();
        let mut read = 0_usize;
        let mut seen = false;
        while let Some(chunk) = response.chunk().await.map_err(|e| self.connection(&e))? {
            read += chunk.len();
            if read > self.max_stream {
                let max = self.max_stream;
                return Err(self.decode(format!("the stream is larger than {max} bytes")));
            }
            decoder
                .feed(&chunk, &mut batch)
                .map_err(|e| self.decode(e))?;
            for event in batch.drain(..) {
                seen = true;
                if on_event(&event.data)? {
                    return Ok(StreamEnd::Done);
                }
            }
        }
        Ok(if decoder.is_mid_event() {
            StreamEnd::Cut
        } else if !seen {
            StreamEnd::Empty
        } else {
            StreamEnd::Closed
        })
    }
}

/// How [`Endpoint::read_events`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamEnd {
    /// The reader saw the API's last event.
    Done,
    /// The body ended between events, before the last one.
    Closed,
    /// The body ended inside an event.
    Cut,
    /// The body ended without a single event (some servers cannot stream tool calls).
    Empty,
}

/// An error and its sources, one line (`error sending request: connection refused`).
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = inner.source();
    }
    text
}

/// The API's `{"error": {"message", "code" | "type"}}`, FastAPI's `{"detail": [...]}`, or a
/// plain-text body, each shortened to its first problem ([`first_problem`]).
fn api_message(body: &[u8]) -> (Option<String>, Option<String>) {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(detail) = json.get("detail") {
            return (None, detail_message(detail));
        }
        let error = json.get("error").unwrap_or(&json);
        let text = |key: &str| error.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let message = text("message").or_else(|| error.as_str().map(str::to_owned));
        return (
            text("code").or_else(|| text("type")),
            message.map(|m| first_problem(&m)),
        );
    }
    let text = String::from_utf8_lossy(body);
    let message = first_problem(&text);
    (None, (!message.is_empty()).then_some(message))
}

/// The most of an API message shown in an error; the rest is at `RUST_LOG=debug`.
const MAX_MESSAGE: usize = 300;

/// FastAPI's validation list (`[{"loc": [...], "msg": ...}, ...]`) as its first entry, or a
/// plain `detail` string.
fn detail_message(detail: &serde_json::Value) -> Option<String> {
    if let Some(text) = detail.as_str() {
        return Some(first_problem(text));
    }
    let list = detail.as_array()?;
    let first = list.first()?;
    let loc: Vec<String> = first
        .get("loc")
        .and_then(|l| l.as_array())
        .map(|l| {
            l.iter()
                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let msg = first
        .get("msg")
        .and_then(|m| m.as_str())
        .unwrap_or("invalid");
    let more = match list.len() - 1 {
        0 => String::new(),
        n => format!(" (and {n} more)"),
    };
    Some(cut(&format!("{}: {msg}{more}", loc.join("."))))
}

/// An API's message as one short line: for pydantic's `N validation errors for X` dump, its
/// first error (`field: message`) and how many more; otherwise the first line, cut at
/// [`MAX_MESSAGE`] characters.
fn first_problem(message: &str) -> String {
    let mut lines = message
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty());
    let Some(head) = lines.next() else {
        return String::new();
    };
    let count = head
        .split_whitespace()
        .next()
        .and_then(|n| n.parse::<usize>().ok());
    if let Some(count) = count
        && head.contains(" validation error")
        && let (Some(field), Some(problem)) = (lines.next(), lines.next())
    {
        let problem = problem.trim();
        // `Input should be ... [type=..., input_value=...]`: the bracket repeats the input.
        let problem = problem.split(" [type=").next().unwrap_or(problem);
        let more = match count.saturating_sub(1) {
            0 => String::new(),
            n => format!(" (and {n} more)"),
        };
        return cut(&format!("{head}; first: {}: {problem}{more}", field.trim()));
    }
    cut(head.trim())
}

/// `text` cut at [`MAX_MESSAGE`] characters (with `…` when cut).
fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_MESSAGE {
        return text.to_owned();
    }
    let mut shown: String = text.chars().take(MAX_MESSAGE - 1).collect();
    shown.push('…');
    shown
}

/// `Retry-After` (seconds or an HTTP date) or `retry-after-ms`, as a wait from `now`.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(wait) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|ms| wait(ms / 1000.0))
    {
        return Some(wait);
    }
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return wait(seconds);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A server's number of seconds as a wait: `None` when negative or not finite, the longest
/// wait when past what a `Duration` holds (the retry policy then stops instead of waiting).
fn wait(seconds: f64) -> Option<Duration> {
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: issue 9
    #[test]
    fn the_fallback_sleep_never_blocks_the_thread_that_awaits_it() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let start = std::time::Instant::now();
            let wait = Duration::from_millis(30);
            // On one thread: if the sleep blocked it, the sleep would finish first.
            let first = tokio::select! {
                biased;
                () = super::sleep_on_a_thread(wait) => "sleep",
                () = tokio::task::yield_now() => "other task",
            };
            assert_eq!(first, "other task");
            super::sleep_on_a_thread(wait).await;
            assert!(start.elapsed() >= wait, "the sleep ended early");
        });
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_milliseconds() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2")]), now),
            Some(Duration::from_secs(2))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &date)]), now),
            Some(Duration::from_secs(7))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &past)]), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "250")]), now),
            Some(Duration::from_millis(250))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")]), now), None);
        // Finite, but past what a Duration holds: the longest wait, not a panic.
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1e300")]), now),
            Some(Duration::MAX)
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "1e300")]), now),
            Some(Duration::MAX)
        );
    }

    #[test]
    fn api_messages_come_from_the_error_object_or_the_text() {
        let body =
            br#"{"error":{"message":"Bad thing.","type":"invalid_request_error","code":null}}"#;
        assert_eq!(
            api_message(body),
            (
                Some("invalid_request_error".to_owned()),
                Some("Bad thing.".to_owned())
            )
        );
        assert_eq!(
            api_message(b"upstream timed out\nmore"),
            (None, Some("upstream timed out".to_owned()))
        );
        assert_eq!(api_message(b""), (None, None));
    }

    #[test]
    fn a_validation_dump_becomes_its_first_error_and_a_count() {
        // The shape of llama-cpp-python's 500 for `"content": null` (pydantic's dump).
        let dump = "7 validation errors for CreateChatCompletionRequest\nmessages.1.typed-dict.content\n  Input should be a valid string [type=string_type, input_value=None, input_type=NoneType]\nmessages.1.typed-dict.role\n  Input should be 'system' [type=literal_error, input_value='assistant', input_type=str]\n";
        let body = serde_json::json!({"error": {"message": dump, "type": "internal_server_error"}});
        let (_, message) = api_message(body.to_string().as_bytes());
        assert_eq!(
            message.as_deref(),
            Some(
                "7 validation errors for CreateChatCompletionRequest; first: messages.1.typed-dict.content: Input should be a valid string (and 6 more)"
            )
        );
        let fastapi = serde_json::json!({"detail": [
            {"loc": ["body", "messages", 1, "content"], "msg": "Input should be a valid string", "type": "string_type"},
            {"loc": ["body", "model"], "msg": "Field required", "type": "missing"},
        ]});
        let (_, message) = api_message(fastapi.to_string().as_bytes());
        assert_eq!(
            message.as_deref(),
            Some("body.messages.1.content: Input should be a valid string (and 1 more)")
        );
        let long = "x".repeat(1000);
        let (_, message) = api_message(long.as_bytes());
        assert_eq!(message.map(|m| m.chars().count()), Some(MAX_MESSAGE));
    }
}
