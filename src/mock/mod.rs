//! A mock model server: a topology's scripted turns served over real HTTP on loopback, in the
//! shapes of the OpenAI Responses API (`POST /v1/responses`) and Chat Completions
//! (`POST /v1/chat/completions`), streamed or not.
//!
//! Baton's HTTP tests run against it, and so can any application that talks to an
//! OpenAI-compatible API: point its base URL at [`MockServer::base_url`] (or run
//! `baton mock-model <topology.yaml> --port P`). Every request is checked the way the real
//! API checks it (`check`: unpaired function calls or outputs, unknown parameters, bad tool
//! names, ...) and refused with the API's error shape. Which agent is asking and which of its
//! turns is due is read from the request alone (`script` documents how). Faults can be
//! injected ([`Fault`]: 429 with `Retry-After`, 5xx, delays, a dropped connection, a
//! malformed body), and every request is recorded ([`RequestRecord`], with the peak number
//! in flight) so tests can assert what the server saw.
//!
//! It stays small and responsive whatever clients send: a request head must arrive within
//! [`DEFAULT_HEADER_READ_TIMEOUT`], a connection on which nothing moves for
//! [`DEFAULT_IDLE_TIMEOUT`] is closed, and records are kept within [`DEFAULT_RECORD_BYTES`]
//! (the oldest dropped first; a record keeps at most 1 KiB of its error message). The
//! builder changes each.
//!
//! Control routes for applications: `GET /_mock/stats`, `POST /_mock/faults` (a [`Fault`] as
//! JSON, with an optional `count`), `POST /_mock/reset`.

mod check;
mod fault;
mod idle;
mod reply;
mod script;
mod serve;

pub use fault::{Api, Fault, IdQuirk, RequestRecord};

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::model::ApiKey;
use crate::topology::Topology;

/// How long a connection has to send a request's head, from its opening or from the end of
/// its previous answer (hyper runs this timer while a kept-alive connection waits too).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may move no byte either way (a body sent halfway, an answer nobody
/// reads) before it is closed; the mock's own waits (latency, delay faults) do not count.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The bytes the records of a server may hold, about: past it the oldest are dropped.
pub const DEFAULT_RECORD_BYTES: usize = 32 * 1024 * 1024;

/// Why a mock server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// The topology has no scripted turns to serve.
    #[error("{path}: no agent has `scripted:` turns, so the mock model has nothing to serve")]
    NoScript {
        /// The topology file.
        path: String,
    },
    /// The port could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
    /// The server's runtime could not start.
    #[error("cannot start the mock server's runtime: {0}")]
    Runtime(std::io::Error),
}

/// How to start a [`MockServer`].
#[derive(Debug)]
pub struct MockBuilder<'a> {
    topology: &'a Topology,
    port: u16,
    latency: Duration,
    api_key: Option<ApiKey>,
    reasoning: bool,
    refuse_null_content: bool,
    bounds: serve::Bounds,
}

impl MockBuilder<'_> {
    /// Closes connections that do not send a complete request head within `timeout` of
    /// opening or of their previous answer (default [`DEFAULT_HEADER_READ_TIMEOUT`]).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.bounds.header_read_timeout = timeout;
        self
    }

    /// Closes connections on which no byte moves for `timeout` outside the mock's own waits
    /// (default [`DEFAULT_IDLE_TIMEOUT`]).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.bounds.idle_timeout = timeout;
        self
    }

    /// Keeps records within about `bytes`, dropping the oldest first (default
    /// [`DEFAULT_RECORD_BYTES`]); the latest record is always kept.
    pub fn record_bytes(mut self, bytes: usize) -> Self {
        self.bounds.record_bytes = bytes;
        self
    }

    /// Acts as a reasoning model on the Responses API: every answer starts with a reasoning
    /// item (`rs_<agent>_<turn>`), and requests must send each one back unchanged and in
    /// place, as the API requires: followed by the item that followed it, and before the
    /// function calls of its turn. Chat Completions has no reasoning items.
    pub fn reasoning(mut self, on: bool) -> Self {
        self.reasoning = on;
        self
    }

    /// Refuses a Chat Completions assistant message that calls tools with `"content": null`,
    /// as llama-cpp-python's server does (HTTP 500 with its validation errors), instead of
    /// taking it as the OpenAI API does.
    pub fn refuse_null_content(mut self, on: bool) -> Self {
        self.refuse_null_content = on;
        self
    }

    /// Listens on this loopback port (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Waits this long before answering each model request (a model that takes time, so
    /// concurrent requests overlap).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Requires `Authorization: Bearer <key>`; other requests get the API's 401. The key is
    /// kept as an [`ApiKey`], so `Debug` output of the builder or server never shows it, and
    /// trimmed, as the bearer token it is compared with is.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key.into().trim()));
        self
    }

    /// Binds `127.0.0.1:<port>` and starts serving on a runtime of the server's own.
    ///
    /// # Errors
    ///
    /// [`MockError`] when the topology has no scripted turns, the port is taken, or the
    /// runtime cannot start.
    pub fn start(self) -> Result<MockServer, MockError> {
        let script = script::Script::new(self.topology).ok_or_else(|| MockError::NoScript {
            path: self.topology.path().display().to_string(),
        })?;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let listener = std::net::TcpListener::bind(addr)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|error| MockError::Bind { addr, error })?;
        let addr = listener
            .local_addr()
            .map_err(|error| MockError::Bind { addr, error })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("baton-mock")
            .enable_all()
            .build()
            .map_err(MockError::Runtime)?;
        let mut state = serve::State::new(script, self.api_key, self.latency, self.bounds);
        state.reasoning = self.reasoning;
        state.refuse_null_content = self.refuse_null_content;
        let state = Arc::new(state);
        let stop = CancellationToken::new();
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener)
                .map_err(|error| MockError::Bind { addr, error })?
        };
        runtime.spawn(serve::accept(listener, Arc::clone(&state), stop.clone()));
        Ok(MockServer {
            addr,
            state,
            stop,
            runtime: Some(runtime),
        })
    }
}

/// A running mock model server. Dropping it stops it.
///
/// # Examples
///
/// ```
/// use baton::mock::{Fault, MockServer};
///
/// let topology = baton::topology::load("agents/math.yaml")?;
/// let server = MockServer::start(&topology)?;
/// server.inject(Fault::rate_limited(1)); // the next request gets a 429
/// println!("point your client at {}", server.base_url());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<serve::State>,
    stop: CancellationToken,
    runtime: Option<tokio::runtime::Runtime>,
}

impl MockServer {
    /// Starts serving `topology`'s scripted turns on a free loopback port.
    ///
    /// # Errors
    ///
    /// As [`MockBuilder::start`].
    pub fn start(topology: &Topology) -> Result<Self, MockError> {
        Self::builder(topology).start()
    }

    /// A builder, for a fixed port, latency, a required key or reasoning items.
    pub fn builder(topology: &Topology) -> MockBuilder<'_> {
        MockBuilder {
            topology,
            port: 0,
            latency: Duration::ZERO,
            api_key: None,
            reasoning: false,
            refuse_null_content: false,
            bounds: serve::Bounds {
                header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
                idle_timeout: DEFAULT_IDLE_TIMEOUT,
                record_bytes: DEFAULT_RECORD_BYTES,
            },
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL a client uses: `http://127.0.0.1:<port>/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues a fault for the next model request that has none.
    pub fn inject(&self, fault: Fault) {
        self.inject_n(fault, 1);
    }

    /// Queues `fault` for the next `count` requests.
    pub fn inject_n(&self, fault: Fault, count: usize) {
        self.state.queue(&fault, count);
    }

    /// Every model request so far, in arrival order.
    pub fn records(&self) -> Vec<RequestRecord> {
        self.state.records()
    }

    /// The most model requests that were in flight at once.
    pub fn peak_in_flight(&self) -> usize {
        self.state.peak.load(Ordering::SeqCst)
    }

    /// Forgets records, the peak and queued faults.
    pub fn reset(&self) {
        self.state.reset();
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(runtime) = self.runtime.take() {
            // Never blocks, so dropping the server inside async code is fine.
            runtime.shutdown_background();
        }
    }
}
