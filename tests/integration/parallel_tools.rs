//! The calls of one turn are in flight together (DESIGN, "The shape" and turn-loop point 3):
//! async calls as tasks, CPU-bound calls on separate pool threads; the outputs keep call order
//! whatever order the replies arrive in; the per-run `max_tool_calls_in_flight` cap holds.
//!
//! Peak concurrency is measured with probe tools that hold each call until K calls are in
//! flight, so the numbers do not depend on timing.

use std::collections::HashSet;
use std::sync::Arc;

use baton::model::{ScriptedModel, ScriptedTurn};
use baton::tool::ToolOptions;
use baton::{Agent, EventKind, Limits, Swarm};
use serde_json::json;

use crate::support::{self, CpuProbe, Probe, output_texts, probe_call};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_async_calls_of_one_turn_are_all_in_flight_at_once() {
    const K: usize = 8;
    let probe = Probe::new("probe");
    let calls = (0..K).map(|i| {
        probe_call(
            "probe",
            &format!("c{i}"),
            json!({"tag": format!("c{i}"), "wait_for": K}),
        )
    });
    let model = Arc::new(ScriptedModel::new().with_agent(
        "fan",
        [ScriptedTurn::calls(calls), ScriptedTurn::text("all back")],
    ));
    let swarm = support::start(
        Swarm::builder()
            .tool(probe.clone())
            .agent(Agent::new("fan").with_tools(["probe"])),
        &model,
    );

    let result = swarm.run("fan", "go").await.expect("the run succeeds");

    assert_eq!(probe.peak(), K);
    let expected: Vec<String> = (0..K).map(|i| format!("done c{i}")).collect();
    assert_eq!(output_texts(&result.transcript), expected);
    assert_eq!(result.final_output, "all back");
    // The timeline agrees: every call started before any call ended.
    let spans: Vec<_> = result
        .timeline
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Tool { ok: true, .. }))
        .map(|e| (e.start, e.end))
        .collect();
    assert_eq!(spans.len(), K);
    let last_start = spans.iter().map(|(start, _)| *start).max();
    let first_end = spans.iter().map(|(_, end)| *end).min();
    assert!(last_start <= first_end, "{spans:?}");
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_cpu_bound_calls_run_at_once_on_two_os_threads() {
    let probe = CpuProbe::default();
    let factory_probe = probe.clone();
    let model = Arc::new(ScriptedModel::new().with_agent(
        "cpu",
        [
            ScriptedTurn::calls([
                probe_call("cpu_probe", "x", json!({"tag": "x", "wait_for": 2})),
                probe_call("cpu_probe", "y", json!({"tag": "y", "wait_for": 2})),
            ]),
            ScriptedTurn::text("burned"),
        ],
    ));
    let swarm = support::start(
        Swarm::builder()
            .blocking_tool(
                move || factory_probe.clone(),
                ToolOptions {
                    max_concurrency: Some(2),
                    ..ToolOptions::default()
                },
            )
            .agent(Agent::new("cpu").with_tools(["cpu_probe"])),
        &model,
    );

    let result = swarm.run("cpu", "go").await.expect("the run succeeds");

    assert_eq!(output_texts(&result.transcript), ["done x", "done y"]);
    let stats = probe.stats();
    assert_eq!(stats.peak, 2);
    let threads: HashSet<_> = stats.threads.iter().map(|(_, id)| *id).collect();
    assert_eq!(threads.len(), 2, "calls ran on {:?}", stats.threads);
    assert!(
        !threads.contains(&std::thread::current().id()),
        "a call ran on the test's thread"
    );
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_keep_call_order_when_replies_arrive_reversed() {
    const K: usize = 6;
    let probe = Probe::new("probe");
    // Call i holds until call i + 1 has finished: the replies arrive last call first.
    let calls = (0..K).map(|i| {
        let mut args = json!({"tag": format!("c{i}")});
        if i + 1 < K {
            args["after"] = json!(format!("c{}", i + 1));
        }
        probe_call("probe", &format!("id{i}"), args)
    });
    let model = Arc::new(ScriptedModel::new().with_agent(
        "fan",
        [ScriptedTurn::calls(calls), ScriptedTurn::text("ordered")],
    ));
    let swarm = support::start(
        Swarm::builder()
            .tool(probe.clone())
            .agent(Agent::new("fan").with_tools(["probe"])),
        &model,
    );

    let result = swarm.run("fan", "go").await.expect("the run succeeds");

    let finished: Vec<String> = (0..K).rev().map(|i| format!("c{i}")).collect();
    assert_eq!(probe.stats().finished, finished, "replies arrived reversed");
    let in_call_order: Vec<(String, String)> = (0..K)
        .map(|i| (format!("id{i}"), format!("done c{i}")))
        .collect();
    assert_eq!(support::outputs(&result.transcript), in_call_order);
    // Every call comes before every output, and the calls keep the model's order too.
    let ids: Vec<String> = (0..K).map(|i| format!("id{i}")).collect();
    assert_eq!(support::call_ids(&result.transcript), ids);
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_run_cap_keeps_at_most_three_of_ten_calls_in_flight() {
    const CALLS: usize = 10;
    const CAP: usize = 3;
    let probe = Probe::new("probe");
    // Each call holds until CAP calls are in flight (so the peak reaches CAP whatever the
    // timing), then stays a little longer so that a broken cap would show more.
    let calls = (0..CALLS).map(|i| {
        probe_call(
            "probe",
            &format!("id{i}"),
            json!({"tag": format!("c{i}"), "wait_for": CAP, "sleep_ms": 20}),
        )
    });
    let model = Arc::new(ScriptedModel::new().with_agent(
        "fan",
        [ScriptedTurn::calls(calls), ScriptedTurn::text("capped")],
    ));
    let swarm = support::start(
        Swarm::builder()
            .tool(probe.clone())
            .agent(Agent::new("fan").with_tools(["probe"]))
            .limits(Limits {
                max_tool_calls_in_flight: CAP,
                ..Limits::default()
            }),
        &model,
    );

    let result = swarm.run("fan", "go").await.expect("the run succeeds");

    assert_eq!(probe.peak(), CAP);
    assert_eq!(probe.stats().calls, CALLS);
    let in_call_order: Vec<(String, String)> = (0..CALLS)
        .map(|i| (format!("id{i}"), format!("done c{i}")))
        .collect();
    assert_eq!(support::outputs(&result.transcript), in_call_order);
    assert_eq!(result.final_output, "capped");
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_max_concurrency_caps_calls_across_the_turn() {
    let probe = Probe::new("probe");
    let calls = (0..5).map(|i| {
        probe_call(
            "probe",
            &format!("id{i}"),
            json!({"tag": format!("c{i}"), "wait_for": 2, "sleep_ms": 20}),
        )
    });
    let model = Arc::new(ScriptedModel::new().with_agent(
        "fan",
        [ScriptedTurn::calls(calls), ScriptedTurn::text("done")],
    ));
    let swarm = support::start(
        Swarm::builder()
            .tool_with(
                probe.clone(),
                ToolOptions {
                    max_concurrency: Some(2),
                    ..ToolOptions::default()
                },
            )
            .agent(Agent::new("fan").with_tools(["probe"])),
        &model,
    );

    let result = swarm.run("fan", "go").await.expect("the run succeeds");

    assert_eq!(probe.peak(), 2);
    let expected: Vec<String> = (0..5).map(|i| format!("done c{i}")).collect();
    assert_eq!(output_texts(&result.transcript), expected);
    swarm.shutdown().await;
}
