//! Helpers for the HTTP tests: the fixtures under `tests/fixtures/http/`, a mock model server
//! per test (real HTTP on 127.0.0.1, port 0), and swarms whose agents talk to it through the
//! real clients, with retry, timeout and in-flight settings a test chooses.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use baton::Swarm;
use baton::mock::MockServer;
use baton::model::chat::ChatCompletions;
use baton::model::responses::OpenAiResponses;
use baton::model::{ApiKey, ConcurrencyLimit, Retry, RetryPolicy, SharedModel, Timeout};
use baton::topology::Topology;

/// The question the math fixtures' scripts answer.
pub const QUESTION: &str = "What is (12 + 30) * 2, and the square root of 144?";
/// Their answer.
pub const ANSWER: &str = "(12 + 30) * 2 = 84, and the square root of 144 is 12.";
/// The key the HTTP tests send.
pub const KEY: &str = "sk-test-4f1c9e2b7d3a8e6f5c0b";

/// Loads a fixture from `tests/fixtures/http/`.
pub fn fixture(name: &str) -> Topology {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "http",
        name,
    ]
    .iter()
    .collect();
    baton::topology::load(path).expect("the fixture loads")
}

/// Which API the agents' model speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Responses,
    Chat,
}

/// How the test model is wrapped.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub api: Api,
    pub retries: u32,
    pub timeout: Duration,
    pub max_in_flight: usize,
}

impl Settings {
    pub fn new(api: Api) -> Self {
        Settings {
            api,
            retries: 3,
            timeout: Duration::from_secs(10),
            max_in_flight: 64,
        }
    }
}

/// A retry policy with short backoffs (Retry-After is still honoured as the server says).
pub fn fast_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

/// A model talking to `server` with `key`.
pub fn model(server: &MockServer, settings: Settings, key: &str) -> SharedModel {
    let key = Some(ApiKey::new(key));
    let url = server.base_url();
    let label = format!("model at {url}");
    let timeout = settings.timeout;
    let cap = settings.max_in_flight;
    let policy = fast_retries(settings.retries);
    match settings.api {
        Api::Responses => Arc::new(Retry::new(
            ConcurrencyLimit::new(
                Timeout::new(
                    OpenAiResponses::new(&url, "gpt-4.1-mini", key),
                    timeout,
                    label,
                ),
                cap,
            ),
            policy,
        )),
        Api::Chat => Arc::new(Retry::new(
            ConcurrencyLimit::new(
                Timeout::new(
                    ChatCompletions::new(&url, "llama3.1:8b", key),
                    timeout,
                    label,
                ),
                cap,
            ),
            policy,
        )),
    }
}

/// A swarm of `topology` whose every agent uses `model`.
pub fn swarm(topology: &Topology, model: SharedModel) -> Swarm {
    crate::support::trace_init();
    topology
        .builder_with(|_| Ok::<_, std::convert::Infallible>(Arc::clone(&model)))
        .expect("models resolve")
        .start()
        .expect("the swarm starts")
}

/// The math fixture, a mock serving it, and a swarm talking to the mock.
pub fn math(settings: Settings) -> (MockServer, Swarm) {
    let topology = fixture("math.yaml");
    let server = MockServer::start(&topology).expect("the mock starts");
    let swarm = swarm(&topology, model(&server, settings, KEY));
    (server, swarm)
}

/// `(agent, turn, status)` of every request the server saw.
pub fn served(server: &MockServer) -> Vec<(String, Option<u32>, u16)> {
    server
        .records()
        .into_iter()
        .map(|r| (r.agent.unwrap_or_default(), r.turn, r.status))
        .collect()
}

/// Runs the math question over `api` and checks what every HTTP test of a full run checks:
/// the answer, the path, both calls of the parallel turn in one turn, and every request
/// accepted by the server's API check, served as the right agent's right turn.
pub async fn full_math_run(api: Api) -> baton::RunResult {
    use baton::Item;

    let (server, swarm) = math(Settings::new(api));
    let result = swarm
        .run("triage", QUESTION)
        .await
        .expect("the run succeeds");
    swarm.shutdown().await;
    assert_eq!(result.final_output, ANSWER);
    assert_eq!(result.path, ["triage", "calculator"]);
    crate::support::assert_valid_history(&result.transcript);
    // The parallel turn: both calls in one model answer, before either output.
    let names: Vec<&str> = result
        .transcript
        .iter()
        .map(|item| match item {
            Item::FunctionCall { name, .. } => name.as_str(),
            Item::FunctionCallOutput { .. } => "output",
            Item::Message { .. } => "message",
            _ => "other",
        })
        .collect();
    assert_eq!(
        names,
        [
            "message", "handoff", "output", "add", "sqrt", "output", "output", "multiply",
            "output", "message"
        ]
    );
    assert_eq!(
        served(&server),
        [
            ("triage".to_owned(), Some(0), 200),
            ("calculator".to_owned(), Some(0), 200),
            ("calculator".to_owned(), Some(1), 200),
            ("calculator".to_owned(), Some(2), 200),
        ]
    );
    assert_eq!(result.usage.requests, 4);
    assert!(result.usage.total_tokens > 0);
    result
}

/// The same run streamed: the text arrives in several deltas that add up to the answer, and
/// the transcript is the plain run's.
pub async fn streamed_math_run_matches(api: Api) {
    use baton::stream::StreamEvent;
    use futures::StreamExt as _;

    let (server, swarm) = math(Settings::new(api));
    let plain = swarm
        .run("triage", QUESTION)
        .await
        .expect("the plain run succeeds");
    let mut run = swarm.run_streamed("triage", QUESTION);
    let mut deltas = Vec::new();
    while let Some(event) = run.next().await {
        if let StreamEvent::TextDelta { delta, .. } = event {
            deltas.push(delta);
        }
    }
    let streamed = run.result().await.expect("the streamed run succeeds");
    swarm.shutdown().await;
    assert_eq!(streamed.transcript, plain.transcript);
    assert_eq!(streamed.final_output, ANSWER);
    assert!(deltas.len() > 1, "text came in one piece: {deltas:?}");
    assert_eq!(deltas.concat(), ANSWER);
    let records = server.records();
    assert_eq!(records.len(), 8);
    assert!(records[..4].iter().all(|r| !r.stream && r.status == 200));
    assert!(records[4..].iter().all(|r| r.stream && r.status == 200));
}
