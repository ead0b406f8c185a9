//! One agent actor serves many conversations at once (DESIGN, "Actors and messages"): 1,000
//! concurrent runs of one agent, each with its own input and a sleep tool, all come back with
//! their own answer, none lost, and they really overlap inside the one agent (the swarm has
//! one worker thread, so the agent is exactly one actor). And a burst of runs sent the moment
//! a swarm starts is taken whole.

use std::sync::Arc;

use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::tool::builtin::Sleep;
use baton::{Agent, Item, Swarm};
use futures::future::join_all;
use serde_json::json;

use crate::support::{self, Probe, assert_valid_history, probe_call};

const CONVERSATIONS: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_agent_serves_a_thousand_concurrent_conversations_each_with_its_own_answer() {
    // Every conversation holds in `probe` until all of them are in flight: if one agent ran its
    // conversations one after another, the probe would give up and the answers would be wrong.
    let probe = Probe::new("probe");
    let model = Arc::new(ScriptedModel::new().with_agent(
        "echo",
        [
            ScriptedTurn::calls([
                ScriptedCall::tool("sleep_ms", json!({"ms": 20})).with_id("nap"),
                probe_call("probe", "together", json!({"wait_for": CONVERSATIONS})),
            ]),
            ScriptedTurn::text("answer to {{input}} after {{output:nap}}, {{output:together}}"),
        ],
    ));
    model.set_recording(false);
    let swarm = support::start(
        Swarm::builder()
            .tool(Sleep)
            .tool(probe.clone())
            .agent(Agent::new("echo").with_tools(["sleep_ms", "probe"]))
            .worker_threads(1),
        &model,
    );

    let runs = (0..CONVERSATIONS).map(|i| {
        let swarm = swarm.clone();
        tokio::spawn(async move { swarm.run("echo", format!("question {i}")).await })
    });
    let results = join_all(runs).await;

    assert_eq!(results.len(), CONVERSATIONS);
    let mut trace_ids = std::collections::HashSet::new();
    for (i, joined) in results.into_iter().enumerate() {
        let result = joined
            .expect("the task did not panic")
            .unwrap_or_else(|e| panic!("conversation {i} failed: {e}"));
        assert_eq!(
            result.final_output,
            format!("answer to question {i} after slept 20 ms, done ")
        );
        assert_eq!(
            result.transcript.first(),
            Some(&Item::user(format!("question {i}")))
        );
        assert_eq!(result.transcript.len(), 6);
        assert_valid_history(&result.transcript);
        assert!(trace_ids.insert(result.trace_id), "trace ids are unique");
    }
    let stats = probe.stats();
    assert_eq!(stats.calls, CONVERSATIONS);
    assert_eq!(stats.peak, CONVERSATIONS);
    swarm.shutdown().await;
}

// See: the start-up race the HTTP author found (mailboxes were bounded until their actor ran).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_sent_the_moment_a_swarm_starts_are_all_taken() {
    const BURST: usize = 500;
    let model = Arc::new(ScriptedModel::new().with_agent(
        "echo",
        [
            ScriptedTurn::calls([ScriptedCall::tool("sleep_ms", json!({"ms": 1})).with_id("nap")]),
            ScriptedTurn::text("answer to {{input}}"),
        ],
    ));
    model.set_recording(false);
    let swarm = support::start(
        Swarm::builder()
            .tool(Sleep)
            .agent(Agent::new("echo").with_tools(["sleep_ms"]))
            .worker_threads(1),
        &model,
    );
    // No warm-up: every run is sent before the actors have had a chance to start.
    let runs: Vec<_> = (0..BURST)
        .map(|i| {
            let swarm = swarm.clone();
            async move { swarm.run("echo", format!("q{i}")).await }
        })
        .collect();
    for (i, result) in join_all(runs).await.into_iter().enumerate() {
        let result = result.unwrap_or_else(|e| panic!("run {i} was refused: {e}"));
        assert_eq!(result.final_output, format!("answer to q{i}"));
    }
    swarm.shutdown().await;
}
