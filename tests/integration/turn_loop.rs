//! The turn loop itself (DESIGN, "The turn loop", points 1, 2, 3, 5 and 8): a turn without
//! calls ends the run with its text; one output per call in call order; what every request
//! carries; a scripted model out of turns fails clearly with the partial transcript; usage is
//! summed over requests; every run has a 32-hex-digit trace id.

use std::sync::Arc;

use baton::model::{
    Model, ModelError, ModelRequest, ModelResponse, ScriptedCall, ScriptedModel, ScriptedTurn,
    Usage,
};
use baton::tool::builtin::{Add, Multiply, Sqrt};
use baton::{Agent, Item, RunError, Swarm};
use futures::future::BoxFuture;
use serde_json::json;

use crate::support::{self, assert_valid_history};

/// A calculator agent with add, multiply and sqrt.
fn calculator(model: &Arc<ScriptedModel>) -> Swarm {
    support::start(
        Swarm::builder().tool(Add).tool(Multiply).tool(Sqrt).agent(
            Agent::new("calc")
                .with_instructions("Use the tools.")
                .with_tools(["add", "multiply", "sqrt"]),
        ),
        model,
    )
}

/// One turn with three calls, then an answer quoting them.
fn three_calls_then_answer() -> Arc<ScriptedModel> {
    Arc::new(ScriptedModel::new().with_agent(
        "calc",
        [
            ScriptedTurn::calls([
                ScriptedCall::tool("add", json!({"a": 12, "b": 30})).with_id("sum"),
                ScriptedCall::tool("multiply", json!({"a": 6, "b": 7})).with_id("product"),
                ScriptedCall::tool("sqrt", json!({"x": 144})).with_id("root"),
            ]),
            ScriptedTurn::text("{{output:sum}}, {{output:product}}, {{output:root}}"),
        ],
    ))
}

#[tokio::test]
async fn text_only_turn_ends_the_run_with_that_text() {
    let model = Arc::new(
        ScriptedModel::new().with_agent("calc", [ScriptedTurn::text("nothing to compute")]),
    );
    let swarm = calculator(&model);

    let result = swarm.run("calc", "hello").await.expect("the run succeeds");

    assert_eq!(result.final_output, "nothing to compute");
    assert_eq!(result.last_agent, "calc");
    assert_eq!(result.path, ["calc"]);
    assert_eq!(
        result.transcript,
        [Item::user("hello"), Item::assistant("nothing to compute")]
    );
    assert_eq!(model.requests().len(), 1);
    swarm.shutdown().await;
}

#[tokio::test]
async fn transcript_has_one_output_per_call_in_call_order() {
    let model = three_calls_then_answer();
    let swarm = calculator(&model);

    let result = swarm
        .run("calc", "compute")
        .await
        .expect("the run succeeds");

    assert_eq!(
        result.transcript,
        [
            Item::user("compute"),
            Item::function_call("sum", "add", r#"{"a":12,"b":30}"#),
            Item::function_call("product", "multiply", r#"{"a":6,"b":7}"#),
            Item::function_call("root", "sqrt", r#"{"x":144}"#),
            Item::function_call_output("sum", "42"),
            Item::function_call_output("product", "42"),
            Item::function_call_output("root", "12"),
            Item::assistant("42, 42, 12"),
        ]
    );
    assert_eq!(result.final_output, "42, 42, 12");
    assert_valid_history(&result.transcript);
    swarm.shutdown().await;
}

#[tokio::test]
async fn every_request_asks_for_parallel_tool_calls_and_offers_the_tools() {
    let model = Arc::new(ScriptedModel::new().with_agent(
        "calc",
        [
            ScriptedTurn::calls([ScriptedCall::tool("add", json!({"a": 1, "b": 2}))]),
            ScriptedTurn::calls([ScriptedCall::tool("sqrt", json!({"x": 9}))]),
            ScriptedTurn::text("done"),
        ],
    ));
    let swarm = calculator(&model);

    swarm.run("calc", "go").await.expect("the run succeeds");

    let requests = model.requests();
    assert_eq!(requests.len(), 3);
    for (n, request) in requests.iter().enumerate() {
        assert!(request.parallel_tool_calls, "request {n}");
        assert_eq!(request.agent, "calc");
        assert_eq!(request.agent_turn, n as u32);
        assert_eq!(request.instructions, "Use the tools.");
        assert_eq!(request.tool_names(), ["add", "multiply", "sqrt"]);
    }
    swarm.shutdown().await;
}

#[tokio::test]
async fn request_after_a_tool_turn_carries_the_calls_and_their_outputs() {
    let model = three_calls_then_answer();
    let swarm = calculator(&model);

    swarm
        .run("calc", "compute")
        .await
        .expect("the run succeeds");

    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].input, [Item::user("compute")]);
    assert_eq!(
        requests[1].input,
        [
            Item::user("compute"),
            Item::function_call("sum", "add", r#"{"a":12,"b":30}"#),
            Item::function_call("product", "multiply", r#"{"a":6,"b":7}"#),
            Item::function_call("root", "sqrt", r#"{"x":144}"#),
            Item::function_call_output("sum", "42"),
            Item::function_call_output("product", "42"),
            Item::function_call_output("root", "12"),
        ]
    );
    swarm.shutdown().await;
}

#[tokio::test]
async fn default_call_ids_are_unique_across_turns() {
    let model = Arc::new(ScriptedModel::new().with_agent(
        "calc",
        [
            ScriptedTurn::calls([
                ScriptedCall::tool("add", json!({"a": 1, "b": 1})),
                ScriptedCall::tool("add", json!({"a": 2, "b": 2})),
            ]),
            ScriptedTurn::calls([ScriptedCall::tool("add", json!({"a": 3, "b": 3}))]),
            ScriptedTurn::text("done"),
        ],
    ));
    let swarm = calculator(&model);

    let result = swarm.run("calc", "go").await.expect("the run succeeds");

    assert_eq!(
        support::outputs(&result.transcript),
        [
            ("call_1_1".to_owned(), "2".to_owned()),
            ("call_1_2".to_owned(), "4".to_owned()),
            ("call_2_1".to_owned(), "6".to_owned()),
        ]
    );
    assert_valid_history(&result.transcript);
    swarm.shutdown().await;
}

#[tokio::test]
async fn run_can_continue_from_a_previous_transcript() {
    let model = Arc::new(
        ScriptedModel::new().with_agent("calc", [ScriptedTurn::text("you said {{input}}")]),
    );
    let swarm = calculator(&model);
    let first = swarm.run("calc", "one").await.expect("the run succeeds");

    let mut items = first.transcript.clone();
    items.push(Item::user("two"));
    let second = swarm
        .run("calc", items.clone())
        .await
        .expect("the run succeeds");

    assert_eq!(second.final_output, "you said two");
    let requests = model.requests();
    assert_eq!(requests[1].input, items);
    assert_eq!(second.transcript[..items.len()], items[..]);
    assert_ne!(second.trace_id, first.trace_id);
    swarm.shutdown().await;
}

#[tokio::test]
async fn scripted_model_out_of_turns_fails_clearly_with_the_partial_transcript() {
    let model = Arc::new(ScriptedModel::new().with_agent(
        "calc",
        [ScriptedTurn::calls([
            ScriptedCall::tool("add", json!({"a": 1, "b": 2})).with_id("sum"),
        ])],
    ));
    let swarm = calculator(&model);

    let error = swarm
        .run("calc", "go")
        .await
        .expect_err("the script has no second turn");

    assert_eq!(
        error.to_string(),
        "agent `calc`, turn 2: model request failed: scripted model has 1 turn(s) for agent \
         `calc`, but turn 2 was requested"
    );
    let RunError::Model {
        agent,
        turn,
        error: ModelError::OutOfTurns { .. },
        ..
    } = &error
    else {
        panic!("expected an out-of-turns model error, got {error:?}");
    };
    assert_eq!((agent.as_str(), *turn), ("calc", 2));
    let partial = error
        .partial()
        .expect("a started run carries its partial run");
    // The first turn is there, and nothing was repeated after it.
    assert_eq!(
        partial.transcript,
        [
            Item::user("go"),
            Item::function_call("sum", "add", r#"{"a":1,"b":2}"#),
            Item::function_call_output("sum", "3"),
        ]
    );
    assert_eq!(partial.path, ["calc"]);
    assert_eq!(partial.usage.requests, 1);
    assert_eq!(model.requests().len(), 2);
    swarm.shutdown().await;
}

/// Wraps a scripted model and reports fixed token counts for each run turn.
#[derive(Debug)]
struct FixedUsage {
    inner: ScriptedModel,
    per_turn: Vec<Usage>,
}

impl Model for FixedUsage {
    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let mut response = self.inner.respond(request).await?;
            response.usage = self.per_turn[request.context.run_turn as usize];
            Ok(response)
        })
    }
}

fn usage(input_tokens: u64, output_tokens: u64) -> Usage {
    Usage {
        requests: 1,
        input_tokens,
        output_tokens,
        total_tokens: input_tokens + output_tokens,
    }
}

#[tokio::test]
async fn usage_is_summed_over_every_request_of_the_run_across_agents() {
    let inner = ScriptedModel::new()
        .with_agent(
            "calc",
            [
                ScriptedTurn::calls([ScriptedCall::tool("add", json!({"a": 1, "b": 2}))]),
                ScriptedTurn::handoff("reporter"),
            ],
        )
        .with_agent("reporter", [ScriptedTurn::text("reported")]);
    let model = FixedUsage {
        inner,
        per_turn: vec![usage(100, 10), usage(120, 5), usage(130, 20)],
    };
    support::trace_init();
    let swarm = Swarm::builder()
        .tool(Add)
        .agent(
            Agent::new("calc")
                .with_tools(["add"])
                .with_handoffs(["reporter"]),
        )
        .agent(Agent::new("reporter"))
        .model(Arc::new(model))
        .start()
        .expect("the swarm starts");

    let result = swarm.run("calc", "go").await.expect("the run succeeds");

    assert_eq!(result.path, ["calc", "reporter"]);
    assert_eq!(
        result.usage,
        Usage {
            requests: 3,
            input_tokens: 350,
            output_tokens: 35,
            total_tokens: 385,
        }
    );
    swarm.shutdown().await;
}

#[tokio::test]
async fn every_run_has_its_own_32_hex_digit_trace_id() {
    let model = Arc::new(ScriptedModel::new().with_agent("calc", [ScriptedTurn::text("hi")]));
    let swarm = calculator(&model);

    let first = swarm.run("calc", "one").await.expect("the run succeeds");
    let second = swarm.run("calc", "two").await.expect("the run succeeds");

    for trace_id in [&first.trace_id, &second.trace_id] {
        assert_eq!(trace_id.len(), 32, "{trace_id}");
        assert!(
            trace_id.chars().all(|c| c.is_ascii_hexdigit()),
            "{trace_id}"
        );
    }
    assert_ne!(first.trace_id, second.trace_id);
    swarm.shutdown().await;
}

#[tokio::test]
async fn failed_run_keeps_its_trace_id() {
    let model = Arc::new(ScriptedModel::new().with_agent("calc", []));
    let swarm = calculator(&model);

    let error = swarm.run("calc", "go").await.expect_err("no turns");

    let partial = error
        .partial()
        .expect("a started run carries its partial run");
    assert_eq!(partial.trace_id.len(), 32);
    assert_eq!(partial.transcript, [Item::user("go")]);
    swarm.shutdown().await;
}

#[tokio::test]
async fn unknown_entry_agent_is_an_error_naming_the_agents() {
    let model = Arc::new(ScriptedModel::new());
    let swarm = calculator(&model);

    let error = swarm.run("nobody", "go").await.expect_err("no such agent");

    assert!(matches!(error, RunError::UnknownAgent { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "unknown agent `nobody`; the swarm has: calc"
    );
    assert!(error.partial().is_none());
    assert!(model.requests().is_empty());
    swarm.shutdown().await;
}
