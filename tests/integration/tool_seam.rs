//! The open tool seam (issue 10, item 1, 4 and 5): a tool whose schema is data behaves as a
//! typed Rust tool does; every call has a context (call id, trace id, agent, deadline,
//! cancellation) that typed, blocking and dynamic tools all see; closure tools in one line;
//! tool sources started with the swarm and stopped at shutdown; the swarm-wide cap on tool
//! calls in flight across 200 concurrent runs, and waiting calls served in order; a tool's
//! restart count in the run's events.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::swarm::{Problem, SwarmError};
use baton::tool::{
    DynamicTool, SourcedTool, Tool, ToolContext, ToolError, ToolOptions, ToolOutput, ToolSource,
    ToolSourceError,
};
use baton::{Agent, EventKind, Swarm};
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::{self, output_of};

/// The arguments of both square-root tools below.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RootArgs {
    /// The number.
    #[schemars(range(min = 0))]
    x: f64,
}

/// A typed square root.
#[derive(Debug, Clone)]
struct TypedRoot;

impl Tool for TypedRoot {
    type Args = RootArgs;
    type Output = f64;
    type Error = String;

    fn name(&self) -> &str {
        "root"
    }
    fn description(&self) -> &str {
        "Square root."
    }
    async fn call(&self, args: RootArgs) -> Result<f64, String> {
        Ok(args.x.sqrt())
    }
}

/// The same tool with its schema as data.
struct DynamicRoot {
    schema: Value,
}

impl DynamicRoot {
    fn new() -> Self {
        let mut schema = serde_json::to_value(schemars::schema_for!(RootArgs)).unwrap();
        let map = schema.as_object_mut().unwrap();
        map.remove("$schema");
        map.remove("title");
        DynamicRoot { schema }
    }
}

impl DynamicTool for DynamicRoot {
    fn name(&self) -> &str {
        "root"
    }
    fn description(&self) -> &str {
        "Square root."
    }
    fn parameters(&self) -> Value {
        self.schema.clone()
    }
    fn call(&self, args: Value, _: ToolContext) -> BoxFuture<'_, Result<ToolOutput, ToolError>> {
        Box::pin(async move {
            let x = args["x"]
                .as_f64()
                .ok_or_else(|| ToolError::failed("root", "no x"))?;
            Ok(ToolOutput::Json(json!(x.sqrt())))
        })
    }
}

/// Agent `a` calls `tool` with each of `args` in one turn, then answers `done`.
fn one_turn(tool: &str, args: &[Value]) -> Arc<ScriptedModel> {
    let calls = args
        .iter()
        .enumerate()
        .map(|(i, a)| ScriptedCall::tool(tool, a.clone()).with_id(format!("c{i}")));
    Arc::new(ScriptedModel::new().with_agent(
        "a",
        [ScriptedTurn::calls(calls), ScriptedTurn::text("done")],
    ))
}

#[tokio::test]
async fn a_runtime_schema_tool_and_a_typed_tool_give_the_same_outputs() {
    let args = [
        json!({"x": 16}),
        json!({"x": -1}),
        json!({"x": "four"}),
        json!({"y": 1}),
        json!({}),
    ];
    let mut outputs = Vec::new();
    for dynamic in [false, true] {
        let model = one_turn("root", &args);
        let builder = Swarm::builder().agent(Agent::new("a").with_tools(["root"]));
        let builder = if dynamic {
            builder.dynamic_tool(Arc::new(DynamicRoot::new()), ToolOptions::default())
        } else {
            builder.tool(TypedRoot)
        };
        let swarm = support::start(builder, &model);
        let result = swarm.run("a", "go").await.expect("the run succeeds");
        swarm.shutdown().await;
        let texts: Vec<String> = (0..args.len())
            .map(|i| output_of(&result.transcript, &format!("c{i}")))
            .collect();
        outputs.push(texts);
    }
    assert_eq!(outputs[0], outputs[1], "typed vs dynamic");
    let typed = &outputs[0];
    assert_eq!(typed[0], "4.0");
    assert_eq!(
        typed[1],
        "error: invalid arguments for tool `root`: -1 is less than the minimum of 0 at /x"
    );
    assert!(
        typed[2].contains("\"four\" is not of type \"number\" at /x"),
        "{}",
        typed[2]
    );
    assert!(
        typed[3].contains("\"x\" is a required property"),
        "{}",
        typed[3]
    );
    assert!(
        typed[3].contains("Additional properties are not allowed ('y' was unexpected)"),
        "{}",
        typed[3]
    );
}

/// What a call saw of its context.
type Seen = Arc<Mutex<Vec<(String, String, String, bool)>>>;

/// A typed tool that records `ToolContext::current()`.
#[derive(Debug, Clone, Default)]
struct Witness {
    seen: Seen,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct NoArgs {}

impl Tool for Witness {
    type Args = NoArgs;
    type Output = &'static str;
    type Error = String;

    fn name(&self) -> &str {
        "witness"
    }
    fn description(&self) -> &str {
        "Records its context."
    }
    async fn call(&self, _: NoArgs) -> Result<&'static str, String> {
        let context = ToolContext::current().ok_or("no context")?;
        let before_deadline = context.remaining() > Duration::ZERO;
        self.seen.lock().unwrap().push((
            context.call_id().to_owned(),
            context.trace_id().to_owned(),
            context.agent().to_owned(),
            before_deadline,
        ));
        Ok("seen")
    }
}

#[tokio::test]
async fn every_call_runs_in_its_context_typed_blocking_and_closure_tools_alike() {
    let witness = Witness::default();
    let blocking_seen: Seen = Arc::default();
    let seen = Arc::clone(&blocking_seen);
    let model = Arc::new(ScriptedModel::new().with_agent(
        "a",
        [
            ScriptedTurn::calls([
                ScriptedCall::tool("witness", json!({})).with_id("w1"),
                ScriptedCall::tool("witness", json!({})).with_id("w2"),
                ScriptedCall::tool("pool_witness", json!({})).with_id("p1"),
                ScriptedCall::tool("double", json!({"x": 21})).with_id("d1"),
            ]),
            ScriptedTurn::text("done"),
        ],
    ));
    #[derive(Deserialize, JsonSchema)]
    struct X {
        x: i64,
    }
    let swarm = support::start(
        Swarm::builder()
            .tool(witness.clone())
            .blocking_fn(
                "pool_witness",
                "Records its context on a pool thread.",
                ToolOptions::default(),
                move |_: NoArgs| {
                    let context = ToolContext::current().ok_or("no context")?;
                    seen.lock().unwrap().push((
                        context.call_id().to_owned(),
                        context.trace_id().to_owned(),
                        context.agent().to_owned(),
                        true,
                    ));
                    Ok::<_, &str>("seen")
                },
            )
            .tool_fn("double", "Doubles a number.", |args: X| async move {
                Ok::<_, String>(args.x * 2)
            })
            .agent(Agent::new("a").with_tools(["witness", "pool_witness", "double"])),
        &model,
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    swarm.shutdown().await;
    assert_eq!(output_of(&result.transcript, "d1"), "42");
    assert_eq!(output_of(&result.transcript, "p1"), "seen");
    let mut seen = witness.seen.lock().unwrap().clone();
    seen.sort();
    let trace = result.trace_id.clone();
    assert_eq!(
        seen,
        [
            ("w1".to_owned(), trace.clone(), "a".to_owned(), true),
            ("w2".to_owned(), trace.clone(), "a".to_owned(), true),
        ]
    );
    assert_eq!(
        *blocking_seen.lock().unwrap(),
        [("p1".to_owned(), trace, "a".to_owned(), true)]
    );
}

/// A dynamic tool that waits until its call is cancelled, and says it saw the signal.
struct Patient {
    saw_cancel: Arc<AtomicBool>,
}

impl DynamicTool for Patient {
    fn name(&self) -> &str {
        "patient"
    }
    fn description(&self) -> &str {
        "Waits for cancellation."
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }
    fn call(&self, _: Value, context: ToolContext) -> BoxFuture<'_, Result<ToolOutput, ToolError>> {
        Box::pin(async move {
            tokio::select! {
                () = context.cancelled() => {
                    // Seen on the one poll after the signal: clean-up starts here (what must
                    // finish belongs in a drop guard, since the call is dropped next).
                    self.saw_cancel.store(true, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    Err(ToolError::failed("patient", "cancelled"))
                }
                () = tokio::time::sleep(support::HOLD) => Ok(ToolOutput::text("never")),
            }
        })
    }
}

#[tokio::test]
async fn a_call_past_its_timeout_sees_the_cancellation_signal_before_it_is_dropped() {
    let saw_cancel = Arc::new(AtomicBool::new(false));
    let model = one_turn("patient", &[json!({})]);
    let options = ToolOptions {
        timeout: Some(Duration::from_millis(50)),
        ..ToolOptions::default()
    };
    let swarm = support::start(
        Swarm::builder()
            .dynamic_tool(
                Arc::new(Patient {
                    saw_cancel: Arc::clone(&saw_cancel),
                }),
                options,
            )
            .agent(Agent::new("a").with_tools(["patient"])),
        &model,
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    assert_eq!(
        output_of(&result.transcript, "c0"),
        "error: tool `patient` timed out after 50 ms"
    );
    // The signal fired as the caller left, and the call was polled once more.
    let deadline = tokio::time::Instant::now() + support::HOLD;
    while !saw_cancel.load(Ordering::SeqCst) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        saw_cancel.load(Ordering::SeqCst),
        "the call never saw its cancellation"
    );
    swarm.shutdown().await;
}

/// A typed tool that panics on its first call only.
#[derive(Debug, Clone, Default)]
struct Flaky {
    calls: Arc<AtomicUsize>,
}

impl Tool for Flaky {
    type Args = NoArgs;
    type Output = &'static str;
    type Error = String;

    fn name(&self) -> &str {
        "flaky"
    }
    fn description(&self) -> &str {
        "Panics once."
    }
    async fn call(&self, _: NoArgs) -> Result<&'static str, String> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("first call");
        }
        Ok("fine")
    }
}

#[tokio::test]
async fn the_restart_count_of_a_tool_worker_shows_in_the_runs_events() {
    let model = Arc::new(ScriptedModel::new().with_agent(
        "a",
        [
            ScriptedTurn::calls([ScriptedCall::tool("flaky", json!({})).with_id("f1")]),
            ScriptedTurn::calls([ScriptedCall::tool("flaky", json!({})).with_id("f2")]),
            ScriptedTurn::text("done"),
        ],
    ));
    let swarm = support::start(
        Swarm::builder()
            .worker_threads(1)
            .tool(Flaky::default())
            .agent(Agent::new("a").with_tools(["flaky"])),
        &model,
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    swarm.shutdown().await;
    assert_eq!(
        output_of(&result.transcript, "f1"),
        "error: tool `flaky` panicked: first call"
    );
    assert_eq!(output_of(&result.transcript, "f2"), "fine");
    let restarts: Vec<(String, bool, u32)> = result
        .timeline
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Tool {
                call_id,
                ok,
                restarts,
                ..
            } => Some((call_id.clone(), *ok, *restarts)),
            _ => None,
        })
        .collect();
    assert_eq!(
        restarts,
        [("f1".to_owned(), false, 1), ("f2".to_owned(), true, 1)]
    );
}

/// Counts calls in flight; each holds for a while.
#[derive(Debug, Clone, Default)]
struct Counter {
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    order: Arc<Mutex<Vec<String>>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Tagged {
    tag: String,
}

impl Tool for Counter {
    type Args = Tagged;
    type Output = &'static str;
    type Error = String;

    fn name(&self) -> &str {
        "counter"
    }
    fn description(&self) -> &str {
        "Counts calls in flight."
    }
    async fn call(&self, args: Tagged) -> Result<&'static str, String> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        self.order.lock().unwrap().push(args.tag);
        tokio::time::sleep(Duration::from_millis(2)).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        Ok("counted")
    }
}

#[tokio::test]
async fn the_swarm_wide_cap_and_max_concurrency_hold_across_200_concurrent_runs() {
    for (global, per_tool, expect_peak) in [(Some(6), None, 6), (Some(16), Some(4), 4)] {
        let counter = Counter::default();
        let calls: Vec<ScriptedCall> = (0..4)
            .map(|i| ScriptedCall::tool("counter", json!({"tag": format!("t{i}")})))
            .collect();
        let model = Arc::new(ScriptedModel::new().with_agent(
            "a",
            [ScriptedTurn::calls(calls), ScriptedTurn::text("done")],
        ));
        let options = ToolOptions {
            max_concurrency: per_tool,
            ..ToolOptions::default()
        };
        let mut builder = Swarm::builder()
            .tool_with(counter.clone(), options)
            .agent(Agent::new("a").with_tools(["counter"]));
        if let Some(cap) = global {
            builder = builder.swarm_tool_calls_in_flight(cap);
        }
        let swarm = support::start(builder, &model);
        let runs = (0..200).map(|_| swarm.run("a", "go"));
        let results = futures::future::join_all(runs).await;
        swarm.shutdown().await;
        for result in results {
            let result = result.expect("every run succeeds");
            assert_eq!(support::output_texts(&result.transcript), ["counted"; 4]);
        }
        assert_eq!(counter.order.lock().unwrap().len(), 800);
        assert_eq!(
            counter.peak.load(Ordering::SeqCst),
            expect_peak,
            "global {global:?}, per tool {per_tool:?}"
        );
    }
}

#[tokio::test]
async fn calls_waiting_for_the_swarm_wide_cap_are_served_in_the_order_they_began_to_wait() {
    let counter = Counter::default();
    // Each run calls once, tagged with its number; one permit in all.
    let mut model = ScriptedModel::new();
    for i in 0..20 {
        model = model.with_agent(
            format!("a{i}"),
            [
                ScriptedTurn::calls([ScriptedCall::tool(
                    "counter",
                    json!({"tag": format!("r{i:02}")}),
                )]),
                ScriptedTurn::text("done"),
            ],
        );
    }
    let mut builder = Swarm::builder()
        .worker_threads(1)
        .swarm_tool_calls_in_flight(1)
        .tool(counter.clone());
    for i in 0..20 {
        builder = builder.agent(Agent::new(format!("a{i}")).with_tools(["counter"]));
    }
    let swarm = support::start(builder, &Arc::new(model));
    // Started one after the other, so each begins to wait after the one before it.
    let mut runs = Vec::new();
    for i in 0..20 {
        let swarm = swarm.clone();
        runs.push(tokio::spawn(async move {
            swarm.run(&format!("a{i}"), "go").await
        }));
        tokio::task::yield_now().await;
    }
    for run in runs {
        run.await.unwrap().expect("every run succeeds");
    }
    swarm.shutdown().await;
    let order = counter.order.lock().unwrap().clone();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "served out of order");
    assert_eq!(counter.peak.load(Ordering::SeqCst), 1);
}

/// A source that lists one tool after an async start-up, and records its stop.
struct Server {
    stopped: Arc<AtomicBool>,
    fail: bool,
}

impl ToolSource for Server {
    fn name(&self) -> &str {
        "server"
    }
    fn start(&self) -> BoxFuture<'_, Result<Vec<SourcedTool>, ToolSourceError>> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(5)).await; // a server starting up
            if self.fail {
                return Err(ToolSourceError {
                    source_name: "server".to_owned(),
                    message: "connection refused".to_owned(),
                });
            }
            Ok(vec![SourcedTool {
                tool: Arc::new(DynamicRoot::new()),
                options: ToolOptions::default(),
            }])
        })
    }
    fn stop(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(5)).await; // closing a connection
            self.stopped.store(true, Ordering::SeqCst);
        })
    }
}

#[tokio::test]
async fn a_tool_source_starts_with_the_swarm_serves_its_tools_and_stops_at_shutdown() {
    let stopped = Arc::new(AtomicBool::new(false));
    let model = one_turn("root", &[json!({"x": 9})]);
    let swarm = support::start(
        Swarm::builder()
            .tool_source(Arc::new(Server {
                stopped: Arc::clone(&stopped),
                fail: false,
            }))
            .agent(Agent::new("a").with_tools(["root"])),
        &model,
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    assert_eq!(output_of(&result.transcript, "c0"), "3.0");
    assert!(!stopped.load(Ordering::SeqCst));
    swarm.shutdown().await;
    assert!(
        stopped.load(Ordering::SeqCst),
        "shutdown did not stop the source"
    );
}

#[tokio::test]
async fn a_source_that_cannot_start_or_lacks_a_tool_fails_the_start_and_is_stopped() {
    let model: Arc<ScriptedModel> = one_turn("root", &[]);
    let failing = Swarm::builder()
        .tool_source(Arc::new(Server {
            stopped: Arc::default(),
            fail: true,
        }))
        .agent(Agent::new("a").with_tools(["root"]))
        .model(Arc::clone(&model) as _)
        .start();
    match failing {
        Err(SwarmError::Source(e)) => assert_eq!(
            e.to_string(),
            "tool source `server` could not start: connection refused"
        ),
        other => panic!("expected a source error, got {other:?}"),
    }
    let stopped = Arc::new(AtomicBool::new(false));
    let missing = Swarm::builder()
        .tool_source(Arc::new(Server {
            stopped: Arc::clone(&stopped),
            fail: false,
        }))
        .agent(Agent::new("a").with_tools(["root", "cube"]))
        .model(model as _)
        .start();
    match missing {
        Err(SwarmError::Invalid(problems)) => assert_eq!(
            problems,
            [Problem::UnknownTool {
                agent: "a".to_owned(),
                tool: "cube".to_owned()
            }]
        ),
        other => panic!("expected an unknown tool, got {other:?}"),
    }
    assert!(
        stopped.load(Ordering::SeqCst),
        "the started source was not stopped"
    );
}
