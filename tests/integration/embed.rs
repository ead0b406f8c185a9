//! A `Swarm` embedded in an application (DESIGN, "Decisions already taken"): it works from a
//! plain multi-thread tokio runtime, from a current-thread runtime and from a non-tokio
//! executor, from many tasks at once; and it shuts down cleanly: no new runs after
//! `shutdown()`, in-flight runs finish within the grace period or fail as `Cancelled` with
//! their partial transcript, and a caller that stops waiting abandons its run.

use std::sync::Arc;
use std::time::Duration;

use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::tool::builtin::{Add, Sleep};
use baton::{Agent, Item, RunError, Swarm};
use futures::future::join_all;
use serde_json::json;

use crate::support::{self, HOLD, Probe, assert_valid_history, probe_call};

/// A swarm whose agent `echo` sleeps a little, then answers with its input.
fn echo_swarm() -> Swarm {
    let model = Arc::new(ScriptedModel::new().with_agent(
        "echo",
        [
            ScriptedTurn::calls([ScriptedCall::tool("sleep_ms", json!({"ms": 10}))]),
            ScriptedTurn::text("echo: {{input}}"),
        ],
    ));
    support::start(
        Swarm::builder()
            .tool(Sleep)
            .agent(Agent::new("echo").with_tools(["sleep_ms"])),
        &model,
    )
}

/// Runs `echo` from `tasks` spawned tasks with distinct inputs and checks every answer.
async fn run_from_spawned_tasks(swarm: &Swarm, tasks: usize) {
    let runs = (0..tasks).map(|i| {
        let swarm = swarm.clone();
        tokio::spawn(async move { swarm.run("echo", format!("hello {i}")).await })
    });
    for (i, joined) in join_all(runs).await.into_iter().enumerate() {
        let result = joined
            .expect("the task did not panic")
            .expect("the run succeeds");
        assert_eq!(result.final_output, format!("echo: hello {i}"));
    }
}

#[test]
fn swarm_runs_from_tasks_of_a_hand_built_multi_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let swarm = echo_swarm();
        run_from_spawned_tasks(&swarm, 16).await;
        swarm.shutdown().await;
    });
}

#[tokio::test(flavor = "current_thread")]
async fn swarm_runs_from_tasks_of_a_current_thread_runtime() {
    let swarm = echo_swarm();
    run_from_spawned_tasks(&swarm, 16).await;
    swarm.shutdown().await;
}

#[test]
fn swarm_started_outside_any_runtime_serves_a_non_tokio_executor() {
    let swarm = echo_swarm();
    let result = futures::executor::block_on(swarm.run("echo", "plain"));
    assert_eq!(
        result.expect("the run succeeds").final_output,
        "echo: plain"
    );
    futures::executor::block_on(swarm.shutdown());
    let after = futures::executor::block_on(swarm.run("echo", "late"));
    assert!(matches!(after, Err(RunError::ShutDown)), "{after:?}");
}

#[tokio::test]
async fn runs_after_shutdown_get_the_shut_down_error() {
    let swarm = echo_swarm();
    swarm.run("echo", "before").await.expect("the run succeeds");

    swarm.shutdown().await;
    let error = swarm
        .run("echo", "after")
        .await
        .expect_err("the swarm is shut down");

    assert!(matches!(error, RunError::ShutDown), "{error:?}");
    assert_eq!(error.to_string(), "the swarm is shut down");
    assert!(error.partial().is_none());
    // A second shutdown, from a clone, returns as well.
    swarm.clone().shutdown().await;
}

/// A swarm whose agent `worker` calls `add` and the probe `slow` (held `after: "release"`, or
/// sleeping `sleep_ms`), then answers.
fn slow_swarm(probe: &Probe, slow_args: serde_json::Value) -> (Swarm, Arc<ScriptedModel>) {
    let model = Arc::new(ScriptedModel::new().with_agent(
        "worker",
        [
            ScriptedTurn::calls([
                ScriptedCall::tool("add", json!({"a": 1, "b": 2})).with_id("quick"),
                probe_call("slow", "slow", slow_args),
            ]),
            ScriptedTurn::text("finished: {{output:slow}}"),
        ],
    ));
    let swarm = support::start(
        Swarm::builder()
            .tool(Add)
            .tool(probe.clone())
            .agent(Agent::new("worker").with_tools(["add", "slow"])),
        &model,
    );
    (swarm, model)
}

/// Waits until `swarm` refuses new runs, i.e. its shutdown has begun.
async fn until_shutdown_begins(swarm: &Swarm) {
    let refused = async {
        while !matches!(swarm.run("nobody", "?").await, Err(RunError::ShutDown)) {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(HOLD, refused)
        .await
        .expect("shutdown begins");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_run_in_flight_finish_within_the_grace_period() {
    let probe = Probe::new("slow");
    let (swarm, _model) = slow_swarm(&probe, json!({"tag": "slow", "after": "release"}));
    let run = tokio::spawn({
        let swarm = swarm.clone();
        async move { swarm.run("worker", "go").await }
    });
    probe.wait_until(|s| s.in_flight == 1).await;
    assert_eq!(swarm.runs_in_flight(), 1);

    let shutdown = tokio::spawn({
        let swarm = swarm.clone();
        async move { swarm.shutdown_within(Duration::from_secs(60)).await }
    });
    until_shutdown_begins(&swarm).await;
    probe.release("release");

    let result = run.await.expect("the task did not panic");
    assert_eq!(
        result.expect("the run finishes").final_output,
        "finished: done slow"
    );
    tokio::time::timeout(HOLD, shutdown)
        .await
        .expect("shutdown returns once the run is done")
        .expect("the task did not panic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_in_flight_past_the_grace_period_is_cancelled_with_its_partial_transcript() {
    let probe = Probe::new("slow");
    let (swarm, _model) = slow_swarm(&probe, json!({"tag": "slow", "sleep_ms": 600_000}));
    let run = tokio::spawn({
        let swarm = swarm.clone();
        async move { swarm.run("worker", "go").await }
    });
    probe.wait_until(|s| s.in_flight == 1).await;

    // The safety net is far below the tool's 600 s sleep: only a shutdown that stops the call
    // returns in time.
    tokio::time::timeout(HOLD, swarm.shutdown_within(Duration::from_millis(100)))
        .await
        .expect("shutdown returns without waiting for the tool call");

    let error = run
        .await
        .expect("the task did not panic")
        .expect_err("the run is cancelled");
    let RunError::Cancelled { agent, partial } = &error else {
        panic!("expected Cancelled, got {error:?}");
    };
    assert_eq!(agent, "worker");
    assert_eq!(partial.path, ["worker"]);
    assert_valid_history(&partial.transcript);
    assert_eq!(
        partial.transcript,
        [
            Item::user("go"),
            Item::function_call("quick", "add", r#"{"a":1,"b":2}"#),
            Item::function_call("slow", "slow", r#"{"sleep_ms":600000,"tag":"slow"}"#),
            // The call that had finished keeps its output.
            Item::function_call_output("quick", "3"),
            Item::function_call_output(
                "slow",
                "error: tool `slow` is unavailable: the swarm shut down during the call"
            ),
        ]
    );
    assert_eq!(
        error.to_string(),
        "agent `worker`: the swarm shut down while the run was in flight"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_that_stops_waiting_abandons_its_run() {
    let probe = Probe::new("slow");
    let (swarm, model) = slow_swarm(&probe, json!({"tag": "slow", "after": "release"}));
    let run = tokio::spawn({
        let swarm = swarm.clone();
        async move { swarm.run("worker", "go").await }
    });
    probe.wait_until(|s| s.in_flight == 1).await;

    run.abort();
    assert!(run.await.expect_err("aborted").is_cancelled());
    probe.release("release");

    let gone = async {
        while swarm.runs_in_flight() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(HOLD, gone)
        .await
        .expect("the abandoned run ends");
    // The model was not asked again for a run nobody waits for.
    assert_eq!(model.requests().len(), 1);
    swarm.shutdown().await;
}
