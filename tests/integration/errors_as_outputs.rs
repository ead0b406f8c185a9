//! Errors are outputs, not crashes (DESIGN, "The turn loop", points 6 and 7): an unknown tool,
//! arguments that are not JSON or do not fit the schema, a tool error, a panic (async and
//! blocking) and a timeout each become that call's output with a clear message, while the other
//! calls of the turn run as usual; idempotent tools are retried, others are not.

use std::sync::Arc;
use std::time::Duration;

use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::swarm::SwarmBuilder;
use baton::tool::ToolOptions;
use baton::tool::builtin::{Add, Divide, Multiply};
use baton::{Agent, Limits, Swarm};
use serde_json::json;

use crate::support::{self, CpuProbe, HOLD, Probe, assert_valid_history, output_of, probe_call};

/// A model whose agent `calc` makes `turns` of calls, then answers "done".
fn script(turns: impl IntoIterator<Item = Vec<ScriptedCall>>) -> Arc<ScriptedModel> {
    let mut scripted: Vec<ScriptedTurn> = turns.into_iter().map(ScriptedTurn::calls).collect();
    scripted.push(ScriptedTurn::text("done"));
    Arc::new(ScriptedModel::new().with_agent("calc", scripted))
}

/// Starts `builder` (plus `add`) with an agent `calc` that may call `tools` (plus `add`).
fn start(builder: SwarmBuilder, tools: &[&str], model: &Arc<ScriptedModel>) -> Swarm {
    let tools = std::iter::once("add").chain(tools.iter().copied());
    support::start(
        builder
            .tool(Add)
            .agent(Agent::new("calc").with_tools(tools)),
        model,
    )
}

/// The call every test puts beside the failing one: it must be unaffected.
fn sibling() -> ScriptedCall {
    ScriptedCall::tool("add", json!({"a": 20, "b": 22})).with_id("sibling")
}

/// Runs `calc` and checks the parts every test shares: the run ends normally, the history is
/// valid, the sibling call got its answer.
async fn run_ok(swarm: &Swarm) -> Vec<baton::Item> {
    let result = swarm.run("calc", "go").await.expect("the run succeeds");
    assert_eq!(result.final_output, "done");
    assert_valid_history(&result.transcript);
    assert_eq!(output_of(&result.transcript, "sibling"), "42");
    result.transcript
}

#[tokio::test]
async fn unknown_tool_gets_error_output() {
    let model = script([vec![
        ScriptedCall::tool("nope", json!({})).with_id("bad"),
        sibling(),
    ]]);
    let swarm = start(Swarm::builder().tool(Divide), &["divide"], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(
        output_of(&transcript, "bad"),
        "error: unknown tool `nope`; agent `calc` can call: add, divide"
    );
    swarm.shutdown().await;
}

#[tokio::test]
async fn tool_of_the_swarm_that_the_agent_lacks_is_an_unknown_tool() {
    let model = script([vec![
        ScriptedCall::tool("multiply", json!({"a": 2, "b": 3})).with_id("bad"),
        sibling(),
    ]]);
    let swarm = start(Swarm::builder().tool(Multiply), &[], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(
        output_of(&transcript, "bad"),
        "error: unknown tool `multiply`; agent `calc` can call: add"
    );
    swarm.shutdown().await;
}

#[tokio::test]
async fn arguments_that_are_not_json_get_error_output() {
    let model = script([vec![
        ScriptedCall::tool_raw("add", "not json").with_id("bad"),
        sibling(),
    ]]);
    let swarm = start(Swarm::builder(), &[], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(
        output_of(&transcript, "bad"),
        "error: invalid arguments for tool `add`: not valid JSON: expected ident at line 1 column 2"
    );
    swarm.shutdown().await;
}

#[tokio::test]
async fn arguments_that_do_not_fit_the_schema_get_error_output() {
    let model = script([vec![
        ScriptedCall::tool("add", json!({"a": "one", "b": 2})).with_id("wrong_type"),
        ScriptedCall::tool("add", json!({"a": 1})).with_id("missing"),
        sibling(),
    ]]);
    let swarm = start(Swarm::builder(), &[], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(
        output_of(&transcript, "wrong_type"),
        "error: invalid arguments for tool `add`: \"one\" is not of type \"number\" at /a"
    );
    assert_eq!(
        output_of(&transcript, "missing"),
        "error: invalid arguments for tool `add`: \"b\" is a required property"
    );
    swarm.shutdown().await;
}

#[tokio::test]
async fn tool_that_returns_an_error_gets_error_output() {
    let model = script([vec![
        ScriptedCall::tool("divide", json!({"a": 7, "b": 0})).with_id("bad"),
        ScriptedCall::tool("divide", json!({"a": 8, "b": 2})).with_id("good"),
        sibling(),
    ]]);
    let swarm = start(Swarm::builder().tool(Divide), &["divide"], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(
        output_of(&transcript, "bad"),
        "error: tool `divide` failed: division by zero (7 / 0)"
    );
    assert_eq!(output_of(&transcript, "good"), "4");
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_tool_that_panics_gets_error_output_and_keeps_serving() {
    let probe = Probe::new("probe");
    let model = script([
        vec![
            probe_call("probe", "bad", json!({"tag": "bad", "panic": true})),
            probe_call("probe", "same_turn", json!({"tag": "same_turn"})),
            sibling(),
        ],
        vec![probe_call(
            "probe",
            "next_turn",
            json!({"tag": "next_turn"}),
        )],
    ]);
    let swarm = start(Swarm::builder().tool(probe.clone()), &["probe"], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(
        output_of(&transcript, "bad"),
        "error: tool `probe` panicked: probe asked to panic"
    );
    assert_eq!(output_of(&transcript, "same_turn"), "done same_turn");
    assert_eq!(output_of(&transcript, "next_turn"), "done next_turn");
    assert_eq!(probe.stats().in_flight, 0);
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_tool_that_panics_gets_error_output_and_its_thread_keeps_serving() {
    let probe = CpuProbe::default();
    let factory_probe = probe.clone();
    let model = script([
        vec![
            probe_call("cpu_probe", "bad", json!({"tag": "bad", "panic": true})),
            probe_call("cpu_probe", "same_turn", json!({"tag": "same_turn"})),
            sibling(),
        ],
        vec![probe_call(
            "cpu_probe",
            "next_turn",
            json!({"tag": "next_turn"}),
        )],
    ]);
    // One thread: the calls after the panic can only run if that thread survived it.
    let builder = Swarm::builder().blocking_tool(
        move || factory_probe.clone(),
        ToolOptions {
            max_concurrency: Some(1),
            ..ToolOptions::default()
        },
    );
    let swarm = start(builder, &["cpu_probe"], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(
        output_of(&transcript, "bad"),
        "error: tool `cpu_probe` panicked: cpu probe asked to panic"
    );
    assert_eq!(output_of(&transcript, "same_turn"), "done same_turn");
    assert_eq!(output_of(&transcript, "next_turn"), "done next_turn");
    let stats = probe.stats();
    let tags: Vec<&str> = stats.threads.iter().map(|(tag, _)| tag.as_str()).collect();
    assert_eq!(tags, ["bad", "same_turn", "next_turn"]);
    assert!(
        stats
            .threads
            .iter()
            .all(|(_, id)| *id == stats.threads[0].1),
        "one pool thread served every call: {:?}",
        stats.threads
    );
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_past_its_tool_timeout_gets_error_output_and_is_stopped() {
    let slow = Probe::new("slow");
    let model = script([vec![
        probe_call("slow", "bad", json!({"tag": "bad", "sleep_ms": 600_000})),
        sibling(),
    ]]);
    let builder = Swarm::builder().tool_with(
        slow.clone(),
        ToolOptions {
            timeout: Some(Duration::from_millis(300)),
            ..ToolOptions::default()
        },
    );
    let swarm = start(builder, &["slow"], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(
        output_of(&transcript, "bad"),
        "error: tool `slow` timed out after 300 ms"
    );
    // The timed-out call does not linger in the worker.
    slow.wait_until(|s| s.in_flight == 0).await;
    assert_eq!(slow.stats().finished, ["bad"]);
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_tool_timeout_applies_unless_the_tool_sets_its_own() {
    let slow = Probe::new("slow");
    let patient = Probe::new("patient");
    let model = script([vec![
        probe_call("slow", "bad", json!({"tag": "bad", "sleep_ms": 600_000})),
        probe_call("patient", "good", json!({"tag": "good", "sleep_ms": 600})),
        sibling(),
    ]]);
    let builder = Swarm::builder()
        .tool(slow.clone())
        .tool_with(
            patient.clone(),
            ToolOptions {
                timeout: Some(Duration::from_secs(60)),
                ..ToolOptions::default()
            },
        )
        .limits(Limits {
            tool_timeout: Duration::from_millis(300),
            ..Limits::default()
        });
    let swarm = start(builder, &["slow", "patient"], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(
        output_of(&transcript, "bad"),
        "error: tool `slow` timed out after 300 ms"
    );
    assert_eq!(output_of(&transcript, "good"), "done good");
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_call_past_its_timeout_gets_error_output_and_the_pool_keeps_serving() {
    let probe = CpuProbe::default();
    let factory_probe = probe.clone();
    let model = script([vec![
        probe_call(
            "cpu_probe",
            "bad",
            json!({"tag": "bad", "after": "release"}),
        ),
        sibling(),
    ]]);
    let builder = Swarm::builder().blocking_tool(
        move || factory_probe.clone(),
        ToolOptions {
            max_concurrency: Some(1),
            timeout: Some(Duration::from_millis(300)),
            ..ToolOptions::default()
        },
    );
    let swarm = start(builder, &["cpu_probe"], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(
        output_of(&transcript, "bad"),
        "error: tool `cpu_probe` timed out after 300 ms"
    );
    // Once the stuck call lets go of the pool's only thread, the pool serves the next run.
    probe.release("release");
    let idle = async {
        while probe.stats().in_flight > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(HOLD, idle)
        .await
        .expect("the released call ends");
    let again = run_ok(&swarm).await;
    assert_eq!(output_of(&again, "bad"), "done bad");
    let stats = probe.stats();
    let tags: Vec<&str> = stats.threads.iter().map(|(tag, _)| tag.as_str()).collect();
    assert_eq!(tags, ["bad", "bad"]);
    swarm.shutdown().await;
}

/// A probe registered under `name` with `retries` and `idempotent`.
fn retrying(name: &'static str, idempotent: bool) -> (Probe, SwarmBuilder) {
    let probe = Probe::new(name);
    let builder = Swarm::builder().tool_with(
        probe.clone(),
        ToolOptions {
            idempotent,
            retries: 2,
            ..ToolOptions::default()
        },
    );
    (probe, builder)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_tool_that_fails_once_is_retried_and_succeeds() {
    let (probe, builder) = retrying("flaky", true);
    let model = script([vec![
        probe_call("flaky", "f", json!({"tag": "f", "fail_times": 1})),
        sibling(),
    ]]);
    let swarm = start(builder, &["flaky"], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(output_of(&transcript, "f"), "done f");
    assert_eq!(probe.stats().attempts["f"], 2);
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_tool_that_keeps_failing_gets_the_last_error_after_its_retries() {
    let (probe, builder) = retrying("flaky", true);
    let model = script([vec![
        probe_call("flaky", "f", json!({"tag": "f", "fail_times": 5})),
        sibling(),
    ]]);
    let swarm = start(builder, &["flaky"], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(
        output_of(&transcript, "f"),
        "error: tool `flaky` failed: probe asked to fail (attempt 3)"
    );
    assert_eq!(probe.stats().attempts["f"], 3);
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_that_is_not_idempotent_is_not_retried() {
    let (probe, builder) = retrying("once", false);
    let model = script([vec![
        probe_call("once", "f", json!({"tag": "f", "fail_times": 1})),
        sibling(),
    ]]);
    let swarm = start(builder, &["once"], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(
        output_of(&transcript, "f"),
        "error: tool `once` failed: probe asked to fail (attempt 1)"
    );
    assert_eq!(probe.stats().attempts["f"], 1);
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_is_not_retried_even_for_an_idempotent_tool() {
    let (probe, builder) = retrying("flaky", true);
    let model = script([vec![
        probe_call("flaky", "p", json!({"tag": "p", "panic": true})),
        sibling(),
    ]]);
    let swarm = start(builder, &["flaky"], &model);

    let transcript = run_ok(&swarm).await;

    assert_eq!(
        output_of(&transcript, "p"),
        "error: tool `flaky` panicked: probe asked to panic"
    );
    assert_eq!(probe.stats().attempts["p"], 1);
    swarm.shutdown().await;
}

// See: issue 9 (refused calls used to show at the end of the turn, after the calls that ran)
#[tokio::test]
async fn calls_refused_before_they_run_are_reported_when_refused() {
    use baton::stream::StreamEvent;
    use futures::StreamExt as _;

    let model = Arc::new(ScriptedModel::new().with_agent(
        "a",
        [
            ScriptedTurn::calls([
                ScriptedCall::tool("sleep_ms", json!({"ms": 50})).with_id("slow"),
                ScriptedCall::tool("no_such_tool", json!({})).with_id("refused"),
            ]),
            ScriptedTurn::text("done"),
        ],
    ));
    let swarm = support::start(
        Swarm::builder()
            .tool(baton::tool::builtin::Sleep)
            .agent(Agent::new("a").with_tools(["sleep_ms"])),
        &model,
    );
    let mut run = swarm.run_streamed("a", "go");
    let mut order = Vec::new();
    while let Some(event) = run.next().await {
        if let StreamEvent::ToolCall { call_id, ok, .. } = event {
            order.push((call_id, ok));
        }
    }
    let result = run.result().await.unwrap();
    swarm.shutdown().await;
    // The refused call is reported first, though it comes second in the turn.
    assert_eq!(
        order,
        [("refused".to_owned(), false), ("slow".to_owned(), true)]
    );
    let ends: Vec<(String, Duration)> = result
        .timeline
        .iter()
        .filter_map(|e| match &e.kind {
            baton::EventKind::Tool { call_id, .. } => Some((call_id.clone(), e.end)),
            _ => None,
        })
        .collect();
    let end = |id: &str| ends.iter().find(|(c, _)| c == id).unwrap().1;
    assert!(end("refused") < end("slow"), "{ends:?}");
    assert_valid_history(&result.transcript);
}
