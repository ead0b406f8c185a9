//! Virtual time: a swarm whose shard runs on tokio's paused clock
//! (`SwarmBuilder::virtual_time`). Tool sleeps, tool timeouts, model retry backoffs and model
//! timeouts take their virtual time, which the timeline records, and no real time; the same
//! seed gives the same trace ids and the same retry waits; the fan-out and the precise sleep
//! never spin while the clock stands still; what would run in real time is refused.
//!
//! Wall time is only ever checked as "the virtual wait did not really pass" (a bound far below
//! the virtual durations), never as a measurement.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use baton::model::{
    Model, ModelError, ModelRequest, ModelResponse, Retry, RetryPolicy, ScriptedCall,
    ScriptedModel, ScriptedTurn, Timeout,
};
use baton::swarm::{Problem, SwarmBuilder, SwarmError};
use baton::tool::ToolOptions;
use baton::tool::builtin::Sleep;
use baton::{Agent, Event, EventKind, Limits, RunError, RunResult, Swarm};
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::support::{output_of, trace_init};

/// Far below every virtual wait of these tests: a run that took this long really waited.
const REAL_BOUND: Duration = Duration::from_secs(10);

#[derive(Deserialize, JsonSchema)]
struct NoArgs {}

/// The timeline event of the tool call `call_id`.
fn tool_event<'a>(result: &'a RunResult, call_id: &str) -> &'a Event {
    result
        .timeline
        .iter()
        .find(|e| matches!(&e.kind, EventKind::Tool { call_id: id, .. } if id == call_id))
        .unwrap_or_else(|| panic!("no event for `{call_id}` in {:#?}", result.timeline))
}

/// The timeline event of the run's first model request.
fn first_model_event(result: &RunResult) -> &Event {
    result
        .timeline
        .iter()
        .find(|e| matches!(e.kind, EventKind::Model))
        .unwrap_or_else(|| panic!("no model event in {:#?}", result.timeline))
}

fn took(event: &Event) -> Duration {
    event.end - event.start
}

fn start(builder: SwarmBuilder, model: Arc<dyn Model>) -> Swarm {
    trace_init();
    builder.model(model).start().expect("the swarm starts")
}

// See: issue 12
#[tokio::test]
async fn a_30_s_tool_call_and_a_10_s_timeout_take_virtual_time_not_real_time() {
    let model = ScriptedModel::new().with_agent(
        "waiter",
        [
            ScriptedTurn::calls([
                ScriptedCall::tool("sleep_ms", json!({"ms": 30_000})).with_id("nap"),
                ScriptedCall::tool("stall", json!({})).with_id("stuck"),
            ]),
            ScriptedTurn::text("woke: {{output:nap}}"),
        ],
    );
    let stall = ToolOptions {
        timeout: Some(Duration::from_secs(10)),
        ..ToolOptions::default()
    };
    let swarm = start(
        Swarm::builder()
            .virtual_time()
            .tool(Sleep)
            .tool_fn_with("stall", "Waits an hour.", stall, |_: NoArgs| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok::<_, Infallible>("too late")
            })
            .agent(Agent::new("waiter").with_tools(["sleep_ms", "stall"])),
        Arc::new(model),
    );
    let real = Instant::now();
    let result = swarm.run("waiter", "wait").await.expect("the run ends");
    let real = real.elapsed();
    swarm.shutdown().await;

    assert_eq!(result.final_output, "woke: slept 30000 ms");
    let nap = tool_event(&result, "nap");
    assert!(matches!(nap.kind, EventKind::Tool { ok: true, .. }));
    assert!(
        took(nap) >= Duration::from_secs(30) && took(nap) < Duration::from_millis(30_050),
        "the 30 s call took {:?} of virtual time",
        took(nap)
    );
    let stuck = tool_event(&result, "stuck");
    assert!(matches!(stuck.kind, EventKind::Tool { ok: false, .. }));
    assert!(
        took(stuck) >= Duration::from_secs(10) && took(stuck) < Duration::from_millis(10_050),
        "the timeout fired after {:?} of virtual time",
        took(stuck)
    );
    assert_eq!(
        output_of(&result.transcript, "stuck"),
        "error: tool `stall` timed out after 10000 ms"
    );
    assert!(real < REAL_BOUND, "the 30 s really passed: {real:?}");
}

/// Fails its first request with a 503, then answers as `inner`.
#[derive(Debug)]
struct FailsOnce {
    inner: ScriptedModel,
    failed: AtomicBool,
}

impl Model for FailsOnce {
    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        if !self.failed.swap(true, Ordering::SeqCst) {
            return Box::pin(async {
                Err(ModelError::Api {
                    endpoint: "POST test".to_owned(),
                    status: 503,
                    code: None,
                    message: "busy".to_owned(),
                    retry_after: None,
                })
            });
        }
        self.inner.respond(request)
    }
}

/// A model that fails once, then answers, behind retries whose first backoff is 40 s (equal
/// jitter: 20 to 40 s).
fn flaky() -> Arc<dyn Model> {
    let inner = ScriptedModel::new().with_agent("patient", [ScriptedTurn::text("at last")]);
    let policy = RetryPolicy {
        max_retries: 2,
        base_delay: Duration::from_secs(40),
        max_delay: Duration::from_secs(60),
        max_retry_after: Duration::from_secs(60),
    };
    Arc::new(Retry::new(
        FailsOnce {
            inner,
            failed: AtomicBool::new(false),
        },
        policy,
    ))
}

/// How long the first model request of one run took, in a virtual-time swarm seeded `seed`,
/// and how long the run really took.
async fn retried_request(seed: u64) -> (Duration, Duration) {
    let swarm = start(
        Swarm::builder()
            .virtual_time()
            .seed(seed)
            .agent(Agent::new("patient")),
        flaky(),
    );
    let real = Instant::now();
    let result = swarm
        .run("patient", "hello")
        .await
        .expect("the retry works");
    let real = real.elapsed();
    swarm.shutdown().await;
    assert_eq!(result.final_output, "at last");
    (took(first_model_event(&result)), real)
}

// See: issue 12
#[tokio::test]
async fn a_retried_model_request_waits_its_backoff_in_virtual_time() {
    let (took, real) = retried_request(1).await;
    assert!(
        took >= Duration::from_secs(20) && took <= Duration::from_millis(40_050),
        "the request with one retry took {took:?} of virtual time"
    );
    assert!(real < REAL_BOUND, "the backoff really passed: {real:?}");
}

// See: issue 12
#[tokio::test]
async fn the_same_seed_gives_the_same_retry_waits_and_another_seed_others() {
    let (first, _) = retried_request(7).await;
    let (again, _) = retried_request(7).await;
    assert_eq!(first, again);
    let mut others = Vec::new();
    for seed in [8, 9, 10] {
        others.push(retried_request(seed).await.0);
    }
    assert!(
        others.iter().any(|wait| *wait != first),
        "seeds 7 to 10 all waited {first:?}"
    );
}

/// Answers as `inner` after `delay` on the clock of the thread it runs on.
#[derive(Debug)]
struct Slow {
    inner: ScriptedModel,
    delay: Duration,
}

impl Model for Slow {
    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            self.inner.respond(request).await
        })
    }
}

// See: issue 12
#[tokio::test]
async fn a_model_timeout_fires_at_its_virtual_deadline_before_a_slower_answer() {
    let slow = Slow {
        inner: ScriptedModel::new().with_agent("patient", [ScriptedTurn::text("too late")]),
        delay: Duration::from_secs(90),
    };
    let model = Timeout::new(slow, Duration::from_secs(60), "slow model");
    let swarm = start(
        Swarm::builder().virtual_time().agent(Agent::new("patient")),
        Arc::new(model),
    );
    let real = Instant::now();
    let outcome = swarm.run("patient", "hello").await;
    let real = real.elapsed();
    swarm.shutdown().await;
    match outcome {
        Err(RunError::Model {
            error: ModelError::Timeout { after, .. },
            ..
        }) => assert_eq!(after, Duration::from_secs(60)),
        other => panic!("not a model timeout: {other:?}"),
    }
    assert!(real < REAL_BOUND, "the 60 s really passed: {real:?}");
}

/// The trace ids of `runs` runs made one after another by a swarm seeded with `seed`.
async fn trace_ids(seed: Option<u64>, runs: usize) -> Vec<String> {
    let model = ScriptedModel::new().with_agent("echo", [ScriptedTurn::text("hi")]);
    let mut builder = Swarm::builder().agent(Agent::new("echo"));
    if let Some(seed) = seed {
        builder = builder.seed(seed);
    }
    let swarm = start(builder, Arc::new(model));
    let mut ids = Vec::new();
    for _ in 0..runs {
        ids.push(
            swarm
                .run("echo", "hello")
                .await
                .expect("the run ends")
                .trace_id,
        );
    }
    swarm.shutdown().await;
    ids
}

// See: issue 12
#[tokio::test]
async fn the_same_seed_gives_the_same_trace_ids_in_the_same_order() {
    let first = trace_ids(Some(42), 5).await;
    assert_eq!(trace_ids(Some(42), 5).await, first);
    let mut distinct = first.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "{first:?}");
    assert!(first.iter().all(|id| id.len() == 32));
    let other = trace_ids(Some(43), 5).await;
    assert!(other.iter().all(|id| !first.contains(id)), "{other:?}");
    let unseeded = trace_ids(None, 5).await;
    assert!(
        unseeded.iter().all(|id| !first.contains(id)),
        "{unseeded:?}"
    );
}

/// CPU time used so far by the calling thread, from `/proc/thread-self/stat` (user plus
/// system time, in the kernel's 100 Hz ticks).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("a Linux /proc");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("a stat line")
        .1
        .split_whitespace()
        .collect();
    // Fields 14 and 15 of the line; the ones after the name start at field 3.
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10)
}

// See: issue 12
#[tokio::test]
async fn a_thousand_runs_with_long_virtual_sleeps_finish_without_spinning() {
    const RUNS: usize = 1000;
    let model = ScriptedModel::new()
        .with_agent(
            "sleeper",
            [
                ScriptedTurn::calls([
                    ScriptedCall::tool("sleep_ms", json!({"ms": 60_000})).with_id("short"),
                    ScriptedCall::tool("sleep_ms", json!({"ms": 120_000})).with_id("long"),
                ]),
                ScriptedTurn::text("rested"),
            ],
        )
        .with_agent(
            "meter",
            [
                ScriptedTurn::calls([ScriptedCall::tool("thread_cpu", json!({})).with_id("cpu")]),
                ScriptedTurn::text("{{output:cpu}}"),
            ],
        )
        .with_recording(false);
    let swarm = start(
        Swarm::builder()
            .virtual_time()
            .limits(Limits {
                tool_timeout: Duration::from_secs(600),
                ..Limits::default()
            })
            .tool(Sleep)
            // Runs on the shard's thread, like every async tool: it reads that thread's CPU time.
            .tool_fn(
                "thread_cpu",
                "The shard thread's CPU time in ms.",
                |_: NoArgs| async { Ok::<_, Infallible>(thread_cpu().as_millis().to_string()) },
            )
            .agent(Agent::new("sleeper").with_tools(["sleep_ms"]))
            .agent(Agent::new("meter").with_tools(["thread_cpu"])),
        Arc::new(model),
    );
    let cpu = async || -> Duration {
        let result = swarm
            .run("meter", "how busy?")
            .await
            .expect("the meter runs");
        Duration::from_millis(result.final_output.parse().expect("milliseconds"))
    };
    let before = cpu().await;
    let runs = futures::future::join_all((0..RUNS).map(|_| swarm.run("sleeper", "sleep")));
    // A guard against a hang only: the batch needs far less real time.
    let results = tokio::time::timeout(Duration::from_secs(120), runs)
        .await
        .expect("the runs end");
    let used = cpu().await - before;
    swarm.shutdown().await;

    for result in results {
        let result = result.expect("the run ends");
        assert_eq!(result.final_output, "rested");
        assert!(took(tool_event(&result, "short")) >= Duration::from_secs(60));
        assert!(took(tool_event(&result, "long")) >= Duration::from_secs(120));
    }
    // A spin while the clock stands still burns the thread until real time catches up (or
    // forever); the work itself is a few milliseconds per run.
    assert!(
        used < Duration::from_secs(5),
        "the shard thread used {used:?} of CPU for {RUNS} runs"
    );
}

// See: issue 12
#[test]
fn a_virtual_time_swarm_refuses_what_would_run_in_real_time() {
    let model = ScriptedModel::new().with_agent("a", [ScriptedTurn::text("hi")]);
    let error = Swarm::builder()
        .virtual_time()
        .blocking_fn(
            "crunch",
            "Blocks a thread.",
            ToolOptions::default(),
            |_: NoArgs| Ok::<_, Infallible>("done"),
        )
        .agent(Agent::new("a").with_tools(["crunch"]))
        .model(Arc::new(model))
        .start()
        .expect_err("virtual time cannot hold these");
    let SwarmError::Invalid(problems) = &error else {
        panic!("not a definition problem: {error}");
    };
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems
            .iter()
            .all(|p| matches!(p, Problem::NotVirtual { .. })),
        "{problems:#?}"
    );
    let message = error.to_string();
    assert!(message.contains("blocking tool `crunch`"), "{message}");
}

// See: issue 12
#[tokio::test]
async fn each_shard_of_a_virtual_time_swarm_keeps_its_own_clock() {
    let model = ScriptedModel::new().with_agent(
        "waiter",
        [
            ScriptedTurn::calls([ScriptedCall::tool("sleep_ms", json!({"ms": 45_000}))]),
            ScriptedTurn::text("rested"),
        ],
    );
    let swarm = start(
        Swarm::builder()
            .virtual_time()
            .worker_threads(2)
            .tool(Sleep)
            .agent(Agent::new("waiter").with_tools(["sleep_ms"])),
        Arc::new(model),
    );
    let began = Instant::now();
    // Runs go to the two shards in turn; every one sleeps 45 s on its shard's clock.
    let runs = (0..8).map(|_| swarm.run("waiter", "rest"));
    let results = tokio::time::timeout(REAL_BOUND, futures::future::join_all(runs))
        .await
        .expect("the virtual waits took no real time");
    assert!(began.elapsed() < REAL_BOUND);
    for result in results {
        let result = result.expect("the run answers");
        let nap = took(
            result
                .timeline
                .iter()
                .find(|e| matches!(e.kind, EventKind::Tool { .. }))
                .expect("a tool call"),
        );
        assert!(
            nap >= Duration::from_secs(45) && nap < Duration::from_secs(46),
            "{nap:?}"
        );
    }
    swarm.shutdown().await;
}
