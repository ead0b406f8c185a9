//! Handoffs (DESIGN, "The turn loop", point 4), each case in both styles: one `handoff`
//! function with an `agent` enum, and one `transfer_to_<agent>` function per target.
//!
//! The cases: a valid handoff moves the conversation and the caller gets the target's answer;
//! the other calls of the turn still run and are recorded; the handoff call gets an output; a
//! second handoff in a turn is ignored with an error output; unknown and not-allowed targets
//! get error outputs and the loop goes on; the target's history is valid; the source agent
//! takes no more turns.

use std::sync::Arc;

use baton::handoff::HandoffStyle;
use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::tool::builtin::Add;
use baton::{Agent, EventKind, Item, Swarm};
use serde_json::json;

use crate::support::{self, Probe, assert_valid_history, output_of, probe_call};

/// Generates, for each case, a module with one test per handoff style.
macro_rules! in_both_styles {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            use baton::handoff::HandoffStyle;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn with_the_handoff_function() {
                super::$case(HandoffStyle::Handoff).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn with_transfer_functions() {
                super::$case(HandoffStyle::Transfer).await;
            }
        }
    )*};
}

in_both_styles!(
    valid_handoff_moves_the_conversation_and_the_caller_gets_the_targets_answer,
    regular_calls_of_a_handoff_turn_run_and_are_recorded_before_the_move,
    handoff_call_gets_an_output_saying_where_the_conversation_went,
    second_handoff_in_one_turn_gets_error_output_and_the_first_wins,
    handoff_to_unknown_agent_gets_error_output_and_the_loop_goes_on,
    handoff_to_agent_that_is_not_a_target_gets_error_output_and_the_loop_goes_on,
    history_the_target_receives_passes_the_history_check,
    source_agent_takes_no_more_turns_after_a_valid_handoff,
    chain_of_handoffs_records_the_whole_path,
);

/// A swarm of `triage` (tools `add` and `probe`, hands off to `targets`), `billing` (hands off
/// to `refunds`) and `refunds`, all in `style`.
fn swarm(style: HandoffStyle, targets: &[&str], model: &Arc<ScriptedModel>) -> Swarm {
    support::start(
        Swarm::builder()
            .tool(Add)
            .tool(Probe::new("probe"))
            .agent(
                Agent::new("triage")
                    .with_tools(["add"])
                    .with_handoffs(targets.iter().copied())
                    .with_handoff_style(style),
            )
            .agent(
                Agent::new("billing")
                    .with_description("Invoices and payments.")
                    .with_tools(["probe"])
                    .with_handoffs(["refunds"])
                    .with_handoff_style(style),
            )
            .agent(Agent::new("refunds").with_handoff_style(style)),
        model,
    )
}

/// The function call a model makes to hand off to `target` in `style`.
fn handoff_item(style: HandoffStyle, call_id: &str, target: &str) -> Item {
    match style {
        HandoffStyle::Handoff => {
            Item::function_call(call_id, "handoff", json!({ "agent": target }).to_string())
        }
        HandoffStyle::Transfer => {
            Item::function_call(call_id, format!("transfer_to_{target}"), "{}")
        }
    }
}

/// How many requests `agent` sent the model.
fn requests_of(model: &ScriptedModel, agent: &str) -> usize {
    model.requests().iter().filter(|r| r.agent == agent).count()
}

async fn valid_handoff_moves_the_conversation_and_the_caller_gets_the_targets_answer(
    style: HandoffStyle,
) {
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent(
                "triage",
                [ScriptedTurn::calls([
                    ScriptedCall::handoff("billing").with_id("h")
                ])],
            )
            .with_agent("billing", [ScriptedTurn::text("billing here: {{input}}")]),
    );
    let swarm = swarm(style, &["billing"], &model);

    let result = swarm
        .run("triage", "I was charged twice")
        .await
        .expect("the run succeeds");

    assert_eq!(result.final_output, "billing here: I was charged twice");
    assert_eq!(result.last_agent, "billing");
    assert_eq!(result.path, ["triage", "billing"]);
    assert_eq!(
        result.transcript,
        [
            Item::user("I was charged twice"),
            handoff_item(style, "h", "billing"),
            Item::function_call_output("h", "handed off to billing"),
            Item::assistant("billing here: I was charged twice"),
        ]
    );
    let handoffs: Vec<_> = result
        .timeline
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Handoff { to } => Some((e.agent.to_string(), to.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(handoffs, [("triage".to_owned(), "billing".to_owned())]);

    // What triage was offered, in this style.
    let requests = model.requests();
    let offered = &requests[0].tools;
    match style {
        HandoffStyle::Handoff => {
            assert_eq!(requests[0].tool_names(), ["add", "handoff"]);
            assert_eq!(
                offered[1].parameters["properties"]["agent"]["enum"],
                json!(["billing"])
            );
            assert!(
                offered[1]
                    .description
                    .contains("billing: Invoices and payments.")
            );
        }
        HandoffStyle::Transfer => {
            assert_eq!(requests[0].tool_names(), ["add", "transfer_to_billing"]);
            assert!(offered[1].description.contains("Invoices and payments."));
        }
    }
    swarm.shutdown().await;
}

async fn regular_calls_of_a_handoff_turn_run_and_are_recorded_before_the_move(style: HandoffStyle) {
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent(
                "triage",
                [ScriptedTurn::calls([
                    ScriptedCall::tool("add", json!({"a": 1, "b": 2})).with_id("s"),
                    ScriptedCall::handoff("billing").with_id("h"),
                    ScriptedCall::tool("add", json!({"a": 3, "b": 4})).with_id("t"),
                ])],
            )
            .with_agent(
                "billing",
                [ScriptedTurn::text("{{output:s}} and {{output:t}}")],
            ),
    );
    let swarm = swarm(style, &["billing"], &model);

    let result = swarm
        .run("triage", "add up")
        .await
        .expect("the run succeeds");

    assert_eq!(result.final_output, "3 and 7");
    let billing = model
        .requests()
        .into_iter()
        .find(|r| r.agent == "billing")
        .expect("billing was asked");
    assert_eq!(
        billing.input,
        [
            Item::user("add up"),
            Item::function_call("s", "add", r#"{"a":1,"b":2}"#),
            handoff_item(style, "h", "billing"),
            Item::function_call("t", "add", r#"{"a":3,"b":4}"#),
            Item::function_call_output("s", "3"),
            Item::function_call_output("h", "handed off to billing"),
            Item::function_call_output("t", "7"),
        ]
    );
    swarm.shutdown().await;
}

async fn handoff_call_gets_an_output_saying_where_the_conversation_went(style: HandoffStyle) {
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent(
                "triage",
                [ScriptedTurn::calls([
                    ScriptedCall::handoff("billing").with_id("h")
                ])],
            )
            .with_agent("billing", [ScriptedTurn::text("ok")]),
    );
    let swarm = swarm(style, &["billing"], &model);

    let result = swarm.run("triage", "hi").await.expect("the run succeeds");

    assert_eq!(output_of(&result.transcript, "h"), "handed off to billing");
    let billing = &model.requests()[1];
    assert_eq!(billing.agent, "billing");
    assert_eq!(
        billing.input.last(),
        Some(&Item::function_call_output("h", "handed off to billing"))
    );
    swarm.shutdown().await;
}

async fn second_handoff_in_one_turn_gets_error_output_and_the_first_wins(style: HandoffStyle) {
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent(
                "triage",
                [ScriptedTurn::calls([
                    ScriptedCall::handoff("billing").with_id("h1"),
                    ScriptedCall::handoff("refunds").with_id("h2"),
                ])],
            )
            .with_agent("billing", [ScriptedTurn::text("billing won")])
            .with_agent("refunds", [ScriptedTurn::text("refunds won")]),
    );
    let swarm = swarm(style, &["billing", "refunds"], &model);

    let result = swarm.run("triage", "hi").await.expect("the run succeeds");

    assert_eq!(output_of(&result.transcript, "h1"), "handed off to billing");
    assert_eq!(
        output_of(&result.transcript, "h2"),
        "error: handoff ignored: this turn already hands off to `billing`, and only the first \
         handoff of a turn is taken"
    );
    assert_eq!(result.path, ["triage", "billing"]);
    assert_eq!(result.final_output, "billing won");
    assert_eq!(requests_of(&model, "refunds"), 0);
    swarm.shutdown().await;
}

async fn handoff_to_unknown_agent_gets_error_output_and_the_loop_goes_on(style: HandoffStyle) {
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent(
                "triage",
                [
                    ScriptedTurn::calls([
                        ScriptedCall::handoff("nobody").with_id("h1"),
                        ScriptedCall::tool("add", json!({"a": 1, "b": 1})).with_id("s"),
                    ]),
                    ScriptedTurn::calls([ScriptedCall::handoff("billing").with_id("h2")]),
                ],
            )
            .with_agent("billing", [ScriptedTurn::text("billing here")]),
    );
    let swarm = swarm(style, &["billing"], &model);

    let result = swarm.run("triage", "hi").await.expect("the run succeeds");

    assert_eq!(
        output_of(&result.transcript, "h1"),
        "error: handoff to unknown agent `nobody`; `triage` can hand off to: billing"
    );
    assert_eq!(output_of(&result.transcript, "s"), "2");
    assert_eq!(output_of(&result.transcript, "h2"), "handed off to billing");
    assert_eq!(result.path, ["triage", "billing"]);
    assert_eq!(result.final_output, "billing here");
    // Triage saw its error and chose again.
    let second = &model.requests()[1];
    assert_eq!((second.agent.as_str(), second.agent_turn), ("triage", 1));
    assert!(second.input.contains(&Item::function_call_output(
        "h1",
        "error: handoff to unknown agent `nobody`; `triage` can hand off to: billing"
    )));
    swarm.shutdown().await;
}

async fn handoff_to_agent_that_is_not_a_target_gets_error_output_and_the_loop_goes_on(
    style: HandoffStyle,
) {
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent(
                "triage",
                [
                    ScriptedTurn::calls([
                        ScriptedCall::tool("add", json!({"a": 2, "b": 2})).with_id("s"),
                        ScriptedCall::handoff("refunds").with_id("h1"),
                    ]),
                    ScriptedTurn::calls([ScriptedCall::handoff("billing").with_id("h2")]),
                ],
            )
            .with_agent("billing", [ScriptedTurn::text("billing here")])
            .with_agent("refunds", [ScriptedTurn::text("refunds should not answer")]),
    );
    let swarm = swarm(style, &["billing"], &model);

    let result = swarm.run("triage", "hi").await.expect("the run succeeds");

    assert_eq!(
        output_of(&result.transcript, "h1"),
        "error: agent `refunds` is not a handoff target of `triage`; it can hand off to: billing"
    );
    assert_eq!(output_of(&result.transcript, "s"), "4");
    assert_eq!(result.path, ["triage", "billing"]);
    assert_eq!(result.final_output, "billing here");
    assert_eq!(requests_of(&model, "triage"), 2);
    assert_eq!(requests_of(&model, "refunds"), 0);
    swarm.shutdown().await;
}

async fn history_the_target_receives_passes_the_history_check(style: HandoffStyle) {
    // A busy handoff turn: a tool call, the handoff, an ignored second handoff, an unknown tool.
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent(
                "triage",
                [ScriptedTurn::calls([
                    ScriptedCall::tool("add", json!({"a": 1, "b": 2})),
                    ScriptedCall::handoff("billing"),
                    ScriptedCall::handoff("refunds"),
                    ScriptedCall::tool("nope", json!({})),
                    ScriptedCall::handoff("nobody"),
                ])],
            )
            .with_agent(
                "billing",
                [
                    ScriptedTurn::calls([probe_call("probe", "p", json!({"tag": "p"}))]),
                    ScriptedTurn::text("checked"),
                ],
            ),
    );
    let swarm = swarm(style, &["billing", "refunds"], &model);

    let result = swarm.run("triage", "hi").await.expect("the run succeeds");

    assert_eq!(result.final_output, "checked");
    let requests = model.requests();
    let billing: Vec<_> = requests.iter().filter(|r| r.agent == "billing").collect();
    assert_eq!(billing.len(), 2, "billing's model accepted both requests");
    for request in billing {
        assert_valid_history(&request.input);
        // Billing is offered its own functions, not triage's.
        let offered = request.tool_names();
        assert_eq!(offered[0], "probe");
        assert!(!offered.contains(&"add"), "{offered:?}");
    }
    assert_valid_history(&result.transcript);
    assert_eq!(
        support::outputs(&result.transcript).len(),
        support::call_ids(&result.transcript).len()
    );
    swarm.shutdown().await;
}

async fn source_agent_takes_no_more_turns_after_a_valid_handoff(style: HandoffStyle) {
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent(
                "triage",
                [
                    ScriptedTurn::calls([ScriptedCall::handoff("billing")]),
                    ScriptedTurn::text("triage should not speak again"),
                ],
            )
            .with_agent(
                "billing",
                [
                    // Billing takes a while, so a triage that kept going would be seen.
                    ScriptedTurn::calls([probe_call(
                        "probe",
                        "p",
                        json!({"tag": "p", "sleep_ms": 50}),
                    )]),
                    ScriptedTurn::text("billing done"),
                ],
            ),
    );
    let swarm = swarm(style, &["billing"], &model);

    let result = swarm.run("triage", "hi").await.expect("the run succeeds");
    swarm.shutdown().await;

    assert_eq!(result.final_output, "billing done");
    assert_eq!(requests_of(&model, "triage"), 1);
    let agents: Vec<String> = model.requests().into_iter().map(|r| r.agent).collect();
    assert_eq!(agents, ["triage", "billing", "billing"]);
    assert!(
        !result
            .transcript
            .contains(&Item::assistant("triage should not speak again"))
    );
}

async fn chain_of_handoffs_records_the_whole_path(style: HandoffStyle) {
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent("triage", [ScriptedTurn::handoff("billing")])
            .with_agent("billing", [ScriptedTurn::handoff("refunds")])
            .with_agent("refunds", [ScriptedTurn::text("refunded")]),
    );
    let swarm = swarm(style, &["billing"], &model);

    let result = swarm.run("triage", "hi").await.expect("the run succeeds");

    assert_eq!(result.path, ["triage", "billing", "refunds"]);
    assert_eq!(result.last_agent, "refunds");
    assert_eq!(result.final_output, "refunded");
    assert_valid_history(&result.transcript);
    swarm.shutdown().await;
}

#[tokio::test]
async fn handoff_call_without_an_agent_gets_error_output() {
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent(
                "triage",
                [
                    ScriptedTurn::calls([ScriptedCall::tool_raw("handoff", "{}").with_id("h1")]),
                    ScriptedTurn::handoff("billing"),
                ],
            )
            .with_agent("billing", [ScriptedTurn::text("billing here")]),
    );
    let swarm = swarm(HandoffStyle::Handoff, &["billing"], &model);

    let result = swarm.run("triage", "hi").await.expect("the run succeeds");

    assert_eq!(
        output_of(&result.transcript, "h1"),
        "error: invalid arguments for `handoff`: missing field `agent` at line 1 column 2; \
         expected {\"agent\": \"<name>\"}"
    );
    assert_eq!(result.path, ["triage", "billing"]);
    swarm.shutdown().await;
}
