//! The HTTP side of the mock: hyper on a loopback listener, four routes, faults, records.
//!
//! hyper rather than a framework because one fault needs the connection itself: a service
//! that returns an error makes hyper close the connection without an answer, which is what
//! "dropped connection" means to a client.
//!
//! Bounds, so a long-running mock stays small whatever clients do: a request head must arrive
//! within the header-read timeout (hyper's; it also runs while a kept-alive connection waits
//! for its next request), a connection on which nothing moves for the idle timeout is closed
//! (`idle`), bodies are capped at [`MAX_REQUEST`] bytes, and records at a byte budget.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt as _;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::check::{self, ApiError, Ask};
use super::fault::{Api, Fault, FaultOrder, IdQuirk, RequestRecord};
use super::idle::{Activity, Tracked};
use super::reply::Turn;
use super::script::{self, Script};
use crate::model::{ApiKey, ModelRequest, ModelSettings, RequestContext};

/// Largest request body read.
const MAX_REQUEST: usize = 32 * 1024 * 1024;
/// The longest error message a record keeps (the answer itself carries all of it).
const MAX_RECORD_ERROR: usize = 1024;

/// The bounds of a server's connections and records (see `MockBuilder`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// A request head must arrive complete within this.
    pub(crate) header_read_timeout: Duration,
    /// A connection with no byte moving for this long is closed.
    pub(crate) idle_timeout: Duration,
    /// Records are dropped, oldest first, past this many bytes.
    pub(crate) record_bytes: usize,
}

/// The records kept, and the bytes they hold.
#[derive(Debug, Default)]
pub(crate) struct Records {
    list: VecDeque<RequestRecord>,
    bytes: usize,
}

impl Records {
    /// About how many bytes `record` holds.
    fn size(record: &RequestRecord) -> usize {
        let fault = match &record.fault {
            Some(Fault::Status {
                message: Some(m), ..
            }) => m.len(),
            _ => 0,
        };
        std::mem::size_of::<RequestRecord>()
            + record.agent.as_ref().map_or(0, String::len)
            + record.error.as_ref().map_or(0, String::len)
            + fault
    }

    /// Adds `record`, dropping the oldest past `budget` bytes (the newest is always kept).
    fn push(&mut self, record: RequestRecord, budget: usize) {
        self.bytes += Self::size(&record);
        self.list.push_back(record);
        while self.bytes > budget && self.list.len() > 1 {
            if let Some(old) = self.list.pop_front() {
                self.bytes -= Self::size(&old);
            }
        }
    }

    fn clear(&mut self) {
        self.list.clear();
        self.bytes = 0;
    }
}

/// `text` cut to at most `max` bytes (on a character boundary), marked when cut.
fn shorten(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("...");
    }
    text
}

type Body = BoxBody<Bytes, Infallible>;

/// The service's error: close the connection without answering.
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) script: Script,
    /// Requests must carry `Authorization: Bearer <this>` when set.
    pub(crate) api_key: Option<ApiKey>,
    /// Added to every model request.
    pub(crate) latency: Duration,
    /// Whether Responses API answers carry reasoning items (see `MockBuilder::reasoning`).
    pub(crate) reasoning: bool,
    /// Whether `"content": null` with tool calls is refused (see `MockBuilder::refuse_null_content`).
    pub(crate) refuse_null_content: bool,
    pub(crate) started: Instant,
    pub(crate) faults: Mutex<VecDeque<Fault>>,
    pub(crate) records: Mutex<Records>,
    pub(crate) bounds: Bounds,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) peak: AtomicUsize,
    serial: AtomicU64,
}

impl State {
    pub(crate) fn new(
        script: Script,
        api_key: Option<ApiKey>,
        latency: Duration,
        bounds: Bounds,
    ) -> Self {
        State {
            script,
            api_key,
            latency,
            reasoning: false,
            refuse_null_content: false,
            started: Instant::now(),
            faults: Mutex::new(VecDeque::new()),
            records: Mutex::new(Records::default()),
            bounds,
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            serial: AtomicU64::new(1),
        }
    }

    fn lock_faults(&self) -> MutexGuard<'_, VecDeque<Fault>> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_records(&self) -> MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `fault` for the next `count` model requests; returns how many faults wait now.
    pub(crate) fn queue(&self, fault: &Fault, count: usize) -> usize {
        let mut faults = self.lock_faults();
        faults.extend(std::iter::repeat_n(fault, count).cloned());
        faults.len()
    }

    /// Every model request recorded, in arrival order.
    pub(crate) fn records(&self) -> Vec<RequestRecord> {
        self.lock_records().list.iter().cloned().collect()
    }

    /// Forgets records, the peak and queued faults.
    pub(crate) fn reset(&self) {
        self.lock_faults().clear();
        self.lock_records().clear();
        self.peak.store(0, Ordering::SeqCst);
    }

    fn record(&self, mut record: RequestRecord) {
        record.took = self.started.elapsed().saturating_sub(record.at);
        record.error = record.error.map(|e| shorten(e, MAX_RECORD_ERROR));
        self.lock_records().push(record, self.bounds.record_bytes);
    }
}

/// Counts a request in flight while it lives.
struct InFlight<'a>(&'a State);

impl<'a> InFlight<'a> {
    fn enter(state: &'a State) -> Self {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.peak.fetch_max(now, Ordering::SeqCst);
        InFlight(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Accepts connections until `stop` is cancelled.
pub(crate) async fn accept(listener: TcpListener, state: Arc<State>, stop: CancellationToken) {
    loop {
        let stream = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "mock model: accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        let stop = stop.clone();
        tokio::spawn(async move {
            let bounds = state.bounds;
            let activity = Arc::new(Activity::new());
            let io = hyper_util::rt::TokioIo::new(Tracked::new(stream, Arc::clone(&activity)));
            let service = {
                let activity = Arc::clone(&activity);
                hyper::service::service_fn(move |request| {
                    let state = Arc::clone(&state);
                    let activity = Arc::clone(&activity);
                    async move { handle(&state, &activity, request).await }
                })
            };
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(bounds.header_read_timeout)
                .serve_connection(io, service);
            tokio::select! {
                () = stop.cancelled() => {}
                _ = connection => {}
                () = idle(&activity, bounds.idle_timeout) => {}
            }
        });
    }
}

/// Returns once `activity` has been idle for `timeout` (dropping the connection closes it).
async fn idle(activity: &Activity, timeout: Duration) {
    let tick = (timeout / 4).max(Duration::from_millis(5));
    loop {
        tokio::time::sleep(tick).await;
        if activity.idle_for().is_some_and(|idle| idle >= timeout) {
            return;
        }
    }
}

fn json_response(status: u16, body: &Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())).boxed());
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn error_response(error: &ApiError) -> Response<Body> {
    json_response(error.status, &error.body())
}

async fn handle(
    state: &State,
    activity: &Activity,
    request: Request<Incoming>,
) -> Result<Response<Body>, Dropped> {
    let path = request.uri().path();
    let path = path.strip_prefix("/v1").unwrap_or(path).to_owned();
    let method = request.method().clone();
    Ok(match (&method, path.as_str()) {
        (&Method::POST, "/responses") => {
            return model_request(state, activity, request, Api::Responses).await;
        }
        (&Method::POST, "/chat/completions") => {
            return model_request(state, activity, request, Api::Chat).await;
        }
        (&Method::GET, "/models") => json_response(
            200,
            &json!({"object": "list", "data": [{"id": "mock", "object": "model", "owned_by": "baton"}]}),
        ),
        (&Method::GET, "/_mock/stats") => {
            let records = state.records();
            json_response(
                200,
                &json!({
                    "requests": records.len(),
                    "peak_in_flight": state.peak.load(Ordering::SeqCst),
                    "queued_faults": state.lock_faults().len(),
                    "records": records,
                }),
            )
        }
        (&Method::POST, "/_mock/faults") => match read_body(request).await {
            Ok(body) => match serde_json::from_slice::<FaultOrder>(&body) {
                Ok(order) => {
                    let queued = state.queue(&order.fault, order.count.min(10_000));
                    json_response(200, &json!({"queued": queued}))
                }
                Err(e) => error_response(&ApiError::invalid(
                    format!(
                        "not a fault: {e}; e.g. {{\"kind\": \"status\", \"status\": 429, \"retry_after\": 1, \"count\": 2}}"
                    ),
                    None,
                )),
            },
            Err(e) => error_response(&e),
        },
        (&Method::POST, "/_mock/reset") => {
            state.reset();
            json_response(200, &json!({"reset": true}))
        }
        _ => {
            let mut error = ApiError::invalid(
                format!("Invalid URL ({method} {})", request.uri().path()),
                None,
            );
            error.status = 404;
            error_response(&error)
        }
    })
}

async fn read_body(request: Request<Incoming>) -> Result<Bytes, ApiError> {
    Limited::new(request.into_body(), MAX_REQUEST)
        .collect()
        .await
        .map(|body| body.to_bytes())
        .map_err(|e| ApiError::invalid(format!("could not read the request body: {e}"), None))
}

/// The default message of an injected status.
fn status_message(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("Injected fault: invalid request.", "invalid_request_error"),
        401 => ("Incorrect API key provided.", "invalid_request_error"),
        429 => (
            "Rate limit reached for requests (injected fault). Please try again later.",
            "requests",
        ),
        500 => (
            "The server had an error while processing your request (injected fault).",
            "server_error",
        ),
        502..=504 => (
            "The server is overloaded or not ready yet (injected fault).",
            "server_error",
        ),
        _ => ("Injected fault.", "server_error"),
    }
}

/// A masked form of a key for messages, as the API shows it (`sk-t****7890`).
fn masked(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "****".to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

async fn model_request(
    state: &State,
    activity: &Activity,
    request: Request<Incoming>,
    api: Api,
) -> Result<Response<Body>, Dropped> {
    let _in_flight = InFlight::enter(state);
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim().to_owned());
    let agent_header = request
        .headers()
        .get("x-baton-agent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let fault = state.lock_faults().pop_front();
    let mut record = RequestRecord {
        at: state.started.elapsed(),
        took: Duration::ZERO,
        api,
        status: 200,
        agent: None,
        turn: None,
        stream: false,
        fault: fault.clone(),
        error: None,
        authorized: bearer.is_some(),
    };
    {
        // The mock's own waits are not idleness.
        let _waiting = activity.wait();
        if let Some(Fault::Delay { ms }) = &fault {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
        }
        if !state.latency.is_zero() {
            tokio::time::sleep(state.latency).await;
        }
    }
    let refuse = |mut record: RequestRecord, error: ApiError, retry_after: Option<u64>| {
        record.status = error.status;
        record.error = Some(error.message.clone());
        state.record(record);
        let mut response = error_response(&error);
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        Ok(response)
    };
    match &fault {
        Some(Fault::Status {
            status,
            retry_after,
            message,
        }) => {
            let (default, code) = status_message(*status);
            let error = ApiError {
                status: *status,
                message: message.clone().unwrap_or_else(|| default.to_owned()),
                kind: if *status < 500 {
                    "invalid_request_error"
                } else {
                    "server_error"
                },
                param: None,
                code: Some(code),
            };
            return refuse(record, error, *retry_after);
        }
        Some(Fault::Drop) => {
            record.status = 0;
            state.record(record);
            return Err(Dropped);
        }
        _ => {}
    }
    if let Some(expected) = &state.api_key
        && bearer.as_deref() != Some(expected.expose())
    {
        let message = match &bearer {
            None => "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).".to_owned(),
            Some(given) => format!("Incorrect API key provided: {}. You can find your API key in your account settings.", masked(given)),
        };
        let mut error = ApiError::invalid(message, None);
        error.status = 401;
        error.code = Some("invalid_api_key");
        return refuse(record, error, None);
    }
    let body = match read_body(request).await {
        Ok(body) => body,
        Err(error) => return refuse(record, error, None),
    };
    let ask = match api {
        Api::Responses => check::responses(&body),
        Api::Chat => check::chat(&body, state.refuse_null_content),
    };
    let ask = match ask {
        Ok(ask) => ask,
        Err(error) => return refuse(record, error, None),
    };
    record.stream = ask.stream;
    let reasoning = state.reasoning && api == Api::Responses;
    if reasoning && let Err(message) = state.script.check_reasoning(&ask.input) {
        return refuse(record, ApiError::invalid(message, Some("input")), None);
    }
    match answer(state, &ask, agent_header.as_deref(), reasoning, &mut record) {
        Ok(reply) => {
            let response = reply.into_response(api, &ask, fault.as_ref());
            state.record(record);
            Ok(response)
        }
        Err(error) => refuse(record, error, None),
    }
}

/// A served turn, ready to be written in either API's shape.
struct Reply {
    serial: u64,
    agent: String,
    turn: u32,
    output: Vec<crate::item::Item>,
    usage: crate::model::Usage,
}

/// Finds the agent and its due turn, and answers it from the script.
fn answer(
    state: &State,
    ask: &Ask,
    agent_header: Option<&str>,
    reasoning: bool,
    record: &mut RequestRecord,
) -> Result<Reply, ApiError> {
    let mock_error = |message: String| {
        let mut error = ApiError::invalid(format!("mock model: {message}"), None);
        error.code = Some("mock_script");
        error
    };
    let agent = state
        .script
        .agent(agent_header, &ask.instructions, &ask.tools)
        .map_err(mock_error)?
        .to_owned();
    let (turn, run_turn) = state.script.turn(&agent, &ask.input);
    record.agent = Some(agent.clone());
    record.turn = Some(turn);
    let settings = ModelSettings::default();
    let request = ModelRequest {
        instructions: &ask.instructions,
        input: &ask.input,
        tools: &ask.tools,
        parallel_tool_calls: ask.parallel_tool_calls,
        settings: &settings,
        context: RequestContext {
            agent: &agent,
            agent_turn: turn,
            run_turn,
            trace_id: "mock",
            events: None,
        },
    };
    let mut response = state
        .script
        .model
        .answer_with(&request, &|k| script::call_id(&agent, turn, k))
        .map_err(|e| mock_error(e.to_string()))?;
    if let Some(Fault::CallIds { ids }) = &record.fault {
        for item in &mut response.output {
            if let crate::item::Item::FunctionCall { call_id, .. } = item {
                *call_id = match ids {
                    IdQuirk::Empty => String::new(),
                    IdQuirk::Same => "call_0".to_owned(),
                };
            }
        }
    }
    if reasoning {
        response
            .output
            .insert(0, script::reasoning_item(&agent, turn));
    }
    Ok(Reply {
        serial: state.serial.fetch_add(1, Ordering::Relaxed),
        agent,
        turn,
        output: response.output,
        usage: response.usage,
    })
}

impl Reply {
    fn into_response(self, api: Api, ask: &Ask, fault: Option<&Fault>) -> Response<Body> {
        let malformed = matches!(fault, Some(Fault::Malformed));
        let empty = matches!(fault, Some(Fault::Empty));
        let incomplete = matches!(fault, Some(Fault::Incomplete));
        let turn = Turn {
            serial: self.serial,
            model: &ask.model,
            agent: &self.agent,
            turn: self.turn,
            output: if empty { &[] } else { &self.output },
            usage: self.usage,
        };
        if !ask.stream && incomplete {
            return match api {
                Api::Responses => json_response(200, &turn.responses_incomplete()),
                Api::Chat => json_response(200, &turn.chat_incomplete()),
            };
        }
        if !ask.stream {
            if malformed {
                let mut response = json_response(200, &Value::Null);
                *response.body_mut() = Full::new(Bytes::from_static(
                    b"{\"id\": \"resp_1\", \"output\": [{\"type\": \"mess",
                ))
                .boxed();
                return response;
            }
            return match api {
                Api::Responses => json_response(200, &turn.responses()),
                Api::Chat => json_response(200, &turn.chat()),
            };
        }
        let mut frames: Vec<Bytes> = match api {
            _ if empty => Vec::new(),
            Api::Responses if incomplete => turn
                .responses_incomplete_events()
                .into_iter()
                .map(|(name, data)| Bytes::from(format!("event: {name}\ndata: {data}\n\n")))
                .collect(),
            Api::Chat if incomplete => turn
                .chat_incomplete_chunks()
                .into_iter()
                .map(|data| Bytes::from(format!("data: {data}\n\n")))
                .chain(std::iter::once(Bytes::from_static(b"data: [DONE]\n\n")))
                .collect(),
            Api::Responses => turn
                .responses_events()
                .into_iter()
                .map(|(name, data)| Bytes::from(format!("event: {name}\ndata: {data}\n\n")))
                .collect(),
            Api::Chat => turn
                .chat_chunks(ask.include_usage)
                .into_iter()
                .map(|data| Bytes::from(format!("data: {data}\n\n")))
                .chain(std::iter::once(Bytes::from_static(b"data: [DONE]\n\n")))
                .collect(),
        };
        if matches!(fault, Some(Fault::Cut)) {
            // Cut inside the text, so the client has shown part of the answer.
            frames.truncate(frames.len().div_ceil(2));
        }
        if malformed {
            frames.insert(
                frames.len() / 2,
                Bytes::from_static(b"data: {\"type\": \"response.output_text.delta\", \"delta\n\n"),
            );
        }
        let data = |bytes: Bytes| Ok::<_, Infallible>(Frame::data(bytes));
        let body = if matches!(fault, Some(Fault::Endless)) {
            // The events up to the first that carries text or arguments, then that one forever.
            let first = frames
                .iter()
                .position(|f| f.windows(7).any(|w| w == b"\"delta\""))
                .unwrap_or(0);
            let delta = frames.get(first).cloned().unwrap_or_default();
            let head = futures::stream::iter(frames.into_iter().take(first + 1));
            BodyExt::boxed(StreamBody::new(
                head.chain(futures::stream::repeat(delta)).map(data),
            ))
        } else {
            BodyExt::boxed(StreamBody::new(futures::stream::iter(frames).map(data)))
        };
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_keys_show_only_their_ends() {
        assert_eq!(masked("sk-test-1234567890"), "sk-t****7890");
        assert_eq!(masked("short"), "****");
    }

    fn record(error: &str) -> RequestRecord {
        RequestRecord {
            at: Duration::ZERO,
            took: Duration::ZERO,
            api: Api::Responses,
            status: 400,
            agent: None,
            turn: None,
            stream: false,
            fault: None,
            error: Some(error.to_owned()),
            authorized: false,
        }
    }

    // See: issue 9
    #[test]
    fn records_are_kept_within_their_byte_budget_oldest_dropped() {
        let one = Records::size(&record(&"x".repeat(1000)));
        let mut records = Records::default();
        for i in 0..100 {
            records.push(record(&format!("{i:04}{}", "x".repeat(996))), 10 * one);
        }
        assert_eq!(records.list.len(), 10);
        assert_eq!(records.bytes, 10 * one);
        let first = records.list[0].error.as_deref().unwrap_or_default();
        assert!(first.starts_with("0090"), "{first}");
        // A record larger than the budget is still kept, alone.
        records.push(record(&"y".repeat(20 * one)), 10 * one);
        assert_eq!(records.list.len(), 1);
    }

    #[test]
    fn long_errors_are_shortened_on_a_character_boundary() {
        assert_eq!(shorten("abc".to_owned(), 5), "abc");
        assert_eq!(shorten("ééé".to_owned(), 3), "é...");
    }
}
