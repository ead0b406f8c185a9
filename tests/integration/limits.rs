//! Limits (DESIGN, "The turn loop", point 7): a ping-pong topology (a hands to b, b hands to
//! a, forever) is stopped by the handoff-loop guard (`max_agent_visits`, `max_handoffs`) or by
//! `max_turns`, counted across agents; the failed run carries a complete, valid partial
//! transcript; limits count per run.

use std::sync::Arc;

use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::tool::builtin::Add;
use baton::{Agent, Item, Limits, RunError, Swarm};
use serde_json::json;

use crate::support::{self, assert_valid_history, output_texts};

/// Agents `a` and `b` that hand the conversation to each other at every turn, forever.
fn ping_pong(limits: Limits) -> (Swarm, Arc<ScriptedModel>) {
    let forever = |to: &str| vec![ScriptedTurn::handoff(to); 50];
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent("a", forever("b"))
            .with_agent("b", forever("a")),
    );
    let swarm = support::start(
        Swarm::builder()
            .agent(Agent::new("a").with_handoffs(["b"]))
            .agent(Agent::new("b").with_handoffs(["a"]))
            .limits(limits),
        &model,
    );
    (swarm, model)
}

/// Limits that let a run go on as long as the test wants, apart from what it sets.
fn lax() -> Limits {
    Limits {
        max_turns: 1000,
        max_handoffs: 1000,
        max_agent_visits: 1000,
        ..Limits::default()
    }
}

#[tokio::test]
async fn ping_pong_is_stopped_by_max_agent_visits_with_a_handoff_loop_error() {
    let (swarm, model) = ping_pong(Limits {
        max_agent_visits: 3,
        ..lax()
    });

    let error = swarm
        .run("a", "ping")
        .await
        .expect_err("the loop is stopped");

    let RunError::HandoffLoop { reason, partial } = &error else {
        panic!("expected a handoff loop, got {error:?}");
    };
    assert_eq!(
        reason,
        "agent `a` would be entered 4 times (max_agent_visits 3)"
    );
    assert_eq!(
        error.to_string(),
        "handoff loop: agent `a` would be entered 4 times (max_agent_visits 3); \
         path a -> b -> a -> b -> a -> b"
    );
    assert_eq!(partial.path, ["a", "b", "a", "b", "a", "b"]);
    // Every handoff of the run is in the transcript, each with its output; the refused one
    // says why.
    assert_valid_history(&partial.transcript);
    assert_eq!(partial.transcript.first(), Some(&Item::user("ping")));
    assert_eq!(
        output_texts(&partial.transcript),
        [
            "handed off to b",
            "handed off to a",
            "handed off to b",
            "handed off to a",
            "handed off to b",
            "error: handoff to `a` refused: agent `a` would be entered 4 times \
             (max_agent_visits 3)",
        ]
    );
    assert_eq!(partial.transcript.len(), 1 + 2 * 6);
    assert_eq!(partial.usage.requests, 6);
    assert_eq!(model.requests().len(), 6);
    swarm.shutdown().await;
}

#[tokio::test]
async fn ping_pong_is_stopped_by_max_turns_counted_across_agents() {
    let (swarm, model) = ping_pong(Limits {
        max_turns: 5,
        ..lax()
    });

    let error = swarm
        .run("a", "ping")
        .await
        .expect_err("the loop is stopped");

    let RunError::MaxTurnsExceeded {
        agent,
        max_turns,
        partial,
    } = &error
    else {
        panic!("expected max_turns, got {error:?}");
    };
    assert_eq!((agent.as_str(), *max_turns), ("b", 5));
    assert_eq!(
        error.to_string(),
        "agent `b`: max_turns (5) exceeded; path a -> b -> a -> b -> a -> b"
    );
    assert_valid_history(&partial.transcript);
    assert_eq!(
        output_texts(&partial.transcript),
        [
            "handed off to b",
            "handed off to a",
            "handed off to b",
            "handed off to a",
            "handed off to b",
        ]
    );
    // Five requests in all, though neither agent made more than three.
    let requests = model.requests();
    assert_eq!(requests.len(), 5);
    assert_eq!(requests.iter().filter(|r| r.agent == "a").count(), 3);
    assert_eq!(requests.iter().filter(|r| r.agent == "b").count(), 2);
    assert_eq!(partial.usage.requests, 5);
    swarm.shutdown().await;
}

#[tokio::test]
async fn ping_pong_is_stopped_by_max_handoffs() {
    let (swarm, model) = ping_pong(Limits {
        max_handoffs: 2,
        ..lax()
    });

    let error = swarm
        .run("a", "ping")
        .await
        .expect_err("the loop is stopped");

    let RunError::HandoffLoop { partial, .. } = &error else {
        panic!("expected a handoff loop, got {error:?}");
    };
    assert_eq!(
        error.to_string(),
        "handoff loop: the run has already handed off 2 times (max_handoffs 2); path a -> b -> a"
    );
    assert_valid_history(&partial.transcript);
    assert_eq!(
        output_texts(&partial.transcript),
        [
            "handed off to b",
            "handed off to a",
            "error: handoff to `b` refused: the run has already handed off 2 times \
             (max_handoffs 2)",
        ]
    );
    assert_eq!(model.requests().len(), 3);
    swarm.shutdown().await;
}

#[tokio::test]
async fn agent_calling_tools_forever_is_stopped_by_max_turns() {
    let model = Arc::new(ScriptedModel::new().with_agent(
        "calc",
        vec![ScriptedTurn::calls([ScriptedCall::tool("add", json!({"a": 1, "b": 1}))]); 50],
    ));
    let swarm = support::start(
        Swarm::builder()
            .tool(Add)
            .agent(Agent::new("calc").with_tools(["add"]))
            .limits(Limits {
                max_turns: 3,
                ..lax()
            }),
        &model,
    );

    let error = swarm
        .run("calc", "go")
        .await
        .expect_err("the loop is stopped");

    let RunError::MaxTurnsExceeded { partial, .. } = &error else {
        panic!("expected max_turns, got {error:?}");
    };
    assert_eq!(
        error.to_string(),
        "agent `calc`: max_turns (3) exceeded; path calc"
    );
    assert_valid_history(&partial.transcript);
    assert_eq!(output_texts(&partial.transcript), ["2", "2", "2"]);
    assert_eq!(model.requests().len(), 3);
    swarm.shutdown().await;
}

#[tokio::test]
async fn limits_count_per_run_not_per_swarm() {
    let (swarm, _model) = ping_pong(Limits {
        max_agent_visits: 2,
        ..lax()
    });

    let first = swarm
        .run("a", "one")
        .await
        .expect_err("the loop is stopped");
    let second = swarm
        .run("a", "two")
        .await
        .expect_err("the loop is stopped");

    let path = |e: &RunError| e.partial().map(|p| p.path.clone()).unwrap_or_default();
    assert_eq!(path(&first), ["a", "b", "a", "b"]);
    assert_eq!(path(&second), path(&first));
    swarm.shutdown().await;
}

// ===== an agent's own limits =====

use std::time::Duration;

use baton::agent::AgentLimits;

use crate::support::{Probe, probe_call};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_own_max_turns_stops_it_before_the_runs_limit() {
    // The worker keeps asking for tools; the run would allow 50 turns, the agent 3.
    let turns = (0..20).map(|i| {
        ScriptedTurn::calls([
            ScriptedCall::tool("add", json!({"a": i, "b": 1})).with_id(format!("sum{i}"))
        ])
    });
    let model = Arc::new(ScriptedModel::new().with_agent("worker", turns));
    let swarm = support::start(
        Swarm::builder()
            .tool(Add)
            .agent(
                Agent::new("worker")
                    .with_tools(["add"])
                    .with_limits(AgentLimits {
                        max_turns: Some(3),
                        ..AgentLimits::default()
                    }),
            )
            .limits(Limits {
                max_turns: 50,
                ..lax()
            }),
        &model,
    );

    let err = swarm
        .run("worker", "go")
        .await
        .expect_err("the agent's limit stops the run");

    assert_eq!(
        err.to_string(),
        "agent `worker`: its own max_turns (3) exceeded; path worker"
    );
    let RunError::AgentTurnsExceeded {
        max_turns: 3,
        partial,
        ..
    } = err
    else {
        panic!("expected AgentTurnsExceeded, got {err:?}");
    };
    assert_eq!(model.requests().len(), 3);
    assert_eq!(output_texts(&partial.transcript), ["1", "2", "3"]);
    assert_valid_history(&partial.transcript);
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_own_max_turns_counts_again_each_time_the_run_enters_it() {
    // a: tool turn, hand off to b; b: hand back; a: tool turn, answer. With max_turns 2, a
    // takes 2 turns on each visit and the run succeeds.
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent(
                "a",
                [
                    ScriptedTurn::calls([ScriptedCall::tool("add", json!({"a": 1, "b": 1}))]),
                    ScriptedTurn::handoff("b"),
                    ScriptedTurn::calls([ScriptedCall::tool("add", json!({"a": 2, "b": 2}))]),
                    ScriptedTurn::text("done"),
                ],
            )
            .with_agent("b", [ScriptedTurn::handoff("a")]),
    );
    let two = AgentLimits {
        max_turns: Some(2),
        ..AgentLimits::default()
    };
    let swarm = support::start(
        Swarm::builder()
            .tool(Add)
            .agent(
                Agent::new("a")
                    .with_tools(["add"])
                    .with_handoffs(["b"])
                    .with_limits(two),
            )
            .agent(Agent::new("b").with_handoffs(["a"]))
            .limits(lax()),
        &model,
    );

    let result = swarm
        .run("a", "go")
        .await
        .expect("2 turns per visit are enough");

    assert_eq!(result.final_output, "done");
    assert_eq!(result.path, ["a", "b", "a"]);
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_own_tool_timeout_and_in_flight_cap_apply_to_its_calls() {
    let probe = Probe::new("probe");
    // Six calls that each wait until two are in flight; one more sleeps past the timeout.
    let mut calls: Vec<ScriptedCall> = (0..6)
        .map(|i| {
            probe_call(
                "probe",
                &format!("c{i}"),
                json!({"tag": format!("c{i}"), "wait_for": 2, "sleep_ms": 10}),
            )
        })
        .collect();
    calls.push(probe_call(
        "probe",
        "slow",
        json!({"tag": "slow", "sleep_ms": 10_000}),
    ));
    let model = Arc::new(ScriptedModel::new().with_agent(
        "fan",
        [ScriptedTurn::calls(calls), ScriptedTurn::text("capped")],
    ));
    let swarm = support::start(
        Swarm::builder().tool(probe.clone()).agent(
            Agent::new("fan")
                .with_tools(["probe"])
                .with_limits(AgentLimits {
                    tool_timeout: Some(Duration::from_millis(200)),
                    max_tool_calls_in_flight: Some(2),
                    ..AgentLimits::default()
                }),
        ),
        &model,
    );

    let result = swarm.run("fan", "go").await.expect("the run succeeds");

    // The run's defaults (32 in flight, 60 s) were narrowed to the agent's.
    assert_eq!(probe.peak(), 2);
    assert_eq!(
        support::output_of(&result.transcript, "slow"),
        "error: tool `probe` timed out after 200 ms"
    );
    assert_eq!(support::output_of(&result.transcript, "c5"), "done c5");
    swarm.shutdown().await;
}
