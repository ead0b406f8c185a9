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
