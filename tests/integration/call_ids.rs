//! Call ids and the history invariant whatever a model writes (issue 8): calls that come with
//! no id, empty ids, the same id twice in one turn or reused across turns; conversations
//! continued with a second user message; the per-turn call cap; a panicking model; and a
//! property test that random model outputs never make Baton send a history the API refuses.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use baton::mock::{Fault, IdQuirk};
use baton::model::{
    Model, ModelError, ModelRequest, ModelResponse, ScriptedCall, ScriptedModel, ScriptedTurn,
    check_history,
};
use baton::tool::builtin::Add;
use baton::{Agent, Item, Limits, RunError, RunInput, Swarm};
use futures::future::BoxFuture;
use proptest::prelude::*;
use serde_json::json;

use crate::http_support::{self, ANSWER, Api, QUESTION, Settings, served};
use crate::support::{assert_valid_history, call_ids, output_texts};

fn assert_unique_ids(items: &[Item]) {
    let ids = call_ids(items);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "repeated call ids: {ids:?}");
    assert!(
        ids.iter().all(|id| !id.is_empty()),
        "an empty call id: {ids:?}"
    );
}

// See: issue 8
#[tokio::test]
async fn calls_without_ids_or_with_repeated_ids_still_pair_with_their_outputs() {
    for api in [Api::Responses, Api::Chat] {
        for quirk in [IdQuirk::Empty, IdQuirk::Same] {
            let (server, swarm) = http_support::math(Settings::new(api));
            // Every answer breaks the rule: the triage turn, both calculator tool turns.
            server.inject_n(Fault::CallIds { ids: quirk }, 3);
            let result = swarm.run("triage", QUESTION).await;
            swarm.shutdown().await;
            let result = result.unwrap_or_else(|e| panic!("{api:?} {quirk:?}: {e}"));
            assert_eq!(result.path, ["triage", "calculator"]);
            assert_valid_history(&result.transcript);
            assert_unique_ids(&result.transcript);
            // The server accepted every request (its check refuses repeated ids) and served
            // each of the calculator's turns once, in order.
            let turns: Vec<_> = served(&server);
            assert!(
                turns.iter().all(|(_, _, status)| *status == 200),
                "{api:?} {quirk:?}: {turns:?}"
            );
            let calculator: Vec<_> = turns
                .iter()
                .filter(|(agent, _, _)| agent == "calculator")
                .map(|(_, turn, _)| *turn)
                .collect();
            assert_eq!(calculator, [Some(0), Some(1), Some(2)], "{api:?} {quirk:?}");
            // Every tool really ran and its output went back.
            let outputs = output_texts(&result.transcript);
            assert!(outputs.iter().any(|o| o == "42"), "{outputs:?}");
            assert!(outputs.iter().any(|o| o == "12"), "{outputs:?}");
            assert!(outputs.iter().any(|o| o == "84"), "{outputs:?}");
        }
    }
}

/// The transcript of a first run plus a second user message.
fn continued(first: &[Item]) -> RunInput {
    let mut items = first.to_vec();
    items.push(Item::user(
        "And again: what is (12 + 30) * 2, and the square root of 144?",
    ));
    RunInput::Items(items)
}

// See: issue 8 (the second run used to fail with `Duplicate function call with call_id ...`)
#[tokio::test]
async fn a_conversation_continued_with_a_second_user_message_keeps_ids_unique() {
    // The scripted model, in process.
    let topology = baton::topology::load("agents/math.yaml").unwrap();
    let swarm = topology.start().unwrap();
    let first = swarm.run("triage", QUESTION).await.unwrap();
    let second = swarm.run("triage", continued(&first.transcript)).await;
    swarm.shutdown().await;
    let second = second.expect("the second user turn is served");
    assert_eq!(second.final_output, ANSWER, "{:#?}", second.transcript);
    assert_valid_history(&second.transcript);
    assert_unique_ids(&second.transcript);
    // The first run's items, the new message, and the second run's own items.
    assert_eq!(second.transcript.len(), 2 * first.transcript.len());

    // The mock server, over both APIs.
    for api in [Api::Responses, Api::Chat] {
        let (server, swarm) = http_support::math(Settings::new(api));
        let first = swarm.run("triage", QUESTION).await.unwrap();
        let second = swarm.run("triage", continued(&first.transcript)).await;
        swarm.shutdown().await;
        let second = second.unwrap_or_else(|e| panic!("{api:?}: {e}"));
        assert_eq!(second.final_output, ANSWER, "{api:?}");
        assert_unique_ids(&second.transcript);
        assert!(served(&server).iter().all(|(_, _, status)| *status == 200));
    }
}

// See: issue 8
#[tokio::test]
async fn input_items_that_break_the_pairing_rule_are_refused_naming_the_call() {
    let topology = baton::topology::load("agents/math.yaml").unwrap();
    let swarm = topology.start().unwrap();
    let items = vec![
        Item::user("q"),
        Item::function_call("call_x", "add", "{}"),
        Item::user("next"),
    ];
    let error = swarm.run("triage", items).await.unwrap_err();
    swarm.shutdown().await;
    assert!(matches!(error, RunError::InvalidInput { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "invalid input items: No tool output found for function call call_x."
    );
}

// See: issue 8
#[tokio::test]
async fn calls_past_the_per_turn_cap_get_error_outputs_and_the_run_goes_on() {
    let calls = (0..5).map(|i| ScriptedCall::tool("add", json!({"a": i, "b": 1})));
    let model = Arc::new(ScriptedModel::new().with_agent(
        "calc",
        [ScriptedTurn::calls(calls), ScriptedTurn::text("done")],
    ));
    let swarm = crate::support::start(
        Swarm::builder()
            .tool(Add)
            .agent(Agent::new("calc").with_tools(["add"]))
            .limits(Limits {
                max_calls_per_turn: 3,
                ..Limits::default()
            }),
        &model,
    );
    let result = swarm.run("calc", "add").await.unwrap();
    swarm.shutdown().await;
    assert_eq!(result.final_output, "done");
    let outputs = output_texts(&result.transcript);
    assert_eq!(outputs[..3], ["1", "2", "3"]);
    for (k, output) in outputs[3..].iter().enumerate() {
        assert_eq!(
            *output,
            format!(
                "error: call {} of this turn (to `add`) was not run: a turn may ask for at most 3 calls (max_calls_per_turn); ask for the rest in the next turn",
                k + 4
            )
        );
    }
    assert_valid_history(&result.transcript);
}

/// A model whose code panics on its first request.
#[derive(Debug)]
struct Panicky(Mutex<u32>);

impl Model for Panicky {
    fn respond<'a>(
        &'a self,
        _request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let n = {
                let mut n = self.0.lock().unwrap();
                *n += 1;
                *n
            };
            if n == 1 {
                panic!("the model lost its mind");
            }
            Ok(ModelResponse {
                output: vec![Item::assistant("fine again")],
                ..ModelResponse::default()
            })
        })
    }
}

// See: issue 9 (a panicking model used to look like a shutdown)
#[tokio::test]
async fn a_panicking_model_fails_its_run_with_the_panic_and_the_swarm_goes_on() {
    crate::support::trace_init();
    let swarm = Swarm::builder()
        .agent(Agent::new("a"))
        .model(Arc::new(Panicky(Mutex::new(0))))
        .start()
        .unwrap();
    let error = swarm.run("a", "hi").await.unwrap_err();
    let RunError::Model { error: cause, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(matches!(cause, ModelError::Panicked { .. }), "{cause:?}");
    assert_eq!(
        error.to_string(),
        "agent `a`, turn 1: model request failed: the model panicked: the model lost its mind"
    );
    let next = swarm.run("a", "hi").await.unwrap();
    assert_eq!(next.final_output, "fine again");
    swarm.shutdown().await;
}

// ===== random model outputs =====

/// One item a random model may write.
#[derive(Debug, Clone)]
enum Out {
    Text(String),
    /// A call to `add` with an id from a small pool (so ids repeat) and arguments that may be
    /// broken.
    Add {
        id: u8,
        good: bool,
    },
    /// A call to a tool the agent does not have.
    Unknown {
        id: u8,
    },
    /// A handoff to `b` (or, if `wrong`, to an agent that does not exist).
    Handoff {
        id: u8,
        wrong: bool,
    },
}

fn id_text(id: u8) -> String {
    // 0 is "no id at all"; the rest repeat across and within turns.
    if id == 0 {
        String::new()
    } else {
        format!("call_{}", id % 4)
    }
}

fn out_strategy() -> impl Strategy<Value = Out> {
    prop_oneof![
        "[a-z ]{0,12}".prop_map(Out::Text),
        (0u8..6, any::<bool>()).prop_map(|(id, good)| Out::Add { id, good }),
        (0u8..6).prop_map(|id| Out::Unknown { id }),
        (0u8..6, any::<bool>()).prop_map(|(id, wrong)| Out::Handoff { id, wrong }),
    ]
}

/// A model that answers request `n` of a run with turn `n` of its script (a text answer once
/// the script runs out) and records every history it was sent that the API would refuse.
#[derive(Debug)]
struct RandomModel {
    turns: Vec<Vec<Out>>,
    refused: Mutex<Vec<String>>,
}

impl Model for RandomModel {
    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        if let Err(e) = check_history(request.input) {
            self.refused.lock().unwrap().push(e.to_string());
        }
        let handoff = request
            .tools
            .iter()
            .any(|t| t.name == "transfer_to_b")
            .then_some("transfer_to_b");
        let turn = self.turns.get(request.context.run_turn as usize);
        let output = match turn {
            None => vec![Item::assistant("the end")],
            Some(outs) => outs
                .iter()
                .map(|out| match out {
                    Out::Text(text) => Item::assistant(text.clone()),
                    Out::Add { id, good } => Item::function_call(
                        id_text(*id),
                        "add",
                        if *good {
                            r#"{"a":1,"b":2}"#
                        } else {
                            r#"{"a":"#
                        },
                    ),
                    Out::Unknown { id } => Item::function_call(id_text(*id), "nope", "{}"),
                    Out::Handoff { id, wrong } => Item::function_call(
                        id_text(*id),
                        if *wrong {
                            "transfer_to_zz".to_owned()
                        } else {
                            handoff.unwrap_or("transfer_to_a").to_owned()
                        },
                        "{}",
                    ),
                })
                .collect(),
        };
        Box::pin(std::future::ready(Ok(ModelResponse {
            output,
            ..ModelResponse::default()
        })))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    // See: issue 8
    #[test]
    fn random_model_outputs_never_make_baton_send_an_invalid_history(
        turns in prop::collection::vec(prop::collection::vec(out_strategy(), 0..6), 0..8)
    ) {
        let model = Arc::new(RandomModel { turns, refused: Mutex::new(Vec::new()) });
        let swarm = Swarm::builder()
            .tool(Add)
            .agent(Agent::new("a").with_tools(["add"]).with_handoffs(["b"]))
            .agent(Agent::new("b").with_tools(["add"]).with_handoffs(["a"]))
            .handoff_style(baton::handoff::HandoffStyle::Transfer)
            .model(Arc::clone(&model) as _)
            .worker_threads(1)
            .limits(Limits { max_turns: 6, ..Limits::default() })
            .start()
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let outcome = runtime.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(30), swarm.run("a", "go")).await
        });
        runtime.block_on(swarm.shutdown());
        let outcome = outcome.expect("the run ends");
        let transcript = match &outcome {
            Ok(result) => result.transcript.clone(),
            Err(error) => error.partial().map(|p| p.transcript.clone()).unwrap_or_default(),
        };
        prop_assert!(
            !matches!(outcome, Err(RunError::Model { .. } | RunError::ShutDown)),
            "{outcome:?}"
        );
        prop_assert!(check_history(&transcript).is_ok(), "{transcript:#?}");
        let refused = model.refused.lock().unwrap().clone();
        prop_assert!(refused.is_empty(), "{refused:?}");
        let ids = call_ids(&transcript);
        let unique: HashSet<&String> = ids.iter().collect();
        prop_assert_eq!(unique.len(), ids.len());
    }
}
