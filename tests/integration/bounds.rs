//! Memory a long-lived swarm must not grow without bound (issue 9, "Defects found in review"):
//! a topology's scripted model keeps no requests unless a test asks it to, and a streamed run
//! queues at most `EVENT_CAPACITY` events for a reader that does not read, telling it later
//! what it missed, while its result still arrives whole.

use std::sync::Arc;

use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::stream::{EVENT_CAPACITY, StreamEvent};
use baton::tool::Tool;
use baton::tool::builtin::Add;
use baton::{Agent, Limits, Swarm, topology};
use futures::{FutureExt as _, StreamExt as _};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::watch;

use crate::support::{self, HOLD, output_texts};

// See: issue 9
#[tokio::test(flavor = "multi_thread")]
async fn a_topologys_scripted_model_records_requests_only_when_asked() {
    let topology = topology::load("agents/math.yaml").unwrap();
    let model = Arc::clone(topology.scripted_model().unwrap());
    let swarm = topology.start().unwrap();
    let question = "What is (12 + 30) * 2, and the square root of 144?";
    swarm.run("triage", question).await.unwrap();
    assert!(model.requests().is_empty(), "recorded without being asked");

    model.set_recording(true);
    let result = swarm.run("triage", question).await.unwrap();
    swarm.shutdown().await;
    assert_eq!(model.requests().len() as u64, result.usage.requests);
}

/// Arguments of [`Latch`]: none.
#[derive(Debug, Deserialize, JsonSchema)]
struct NoArgs {}

/// A tool whose call says it started, then holds until the test opens it.
#[derive(Debug, Clone)]
struct Latch {
    started: Arc<watch::Sender<bool>>,
    open: Arc<watch::Sender<bool>>,
}

impl Tool for Latch {
    type Args = NoArgs;
    type Output = String;
    type Error = String;

    fn name(&self) -> &str {
        "latch"
    }
    fn description(&self) -> &str {
        "Holds until opened."
    }
    async fn call(&self, _: NoArgs) -> Result<String, String> {
        self.started.send_replace(true);
        let mut open = self.open.subscribe();
        match tokio::time::timeout(HOLD, open.wait_for(|o| *o)).await {
            Ok(Ok(_)) => Ok("opened".to_owned()),
            _ => Err("never opened".to_owned()),
        }
    }
}

// See: issue 9
#[tokio::test]
async fn a_reader_that_reads_nothing_gets_a_bounded_queue_a_lag_report_and_the_result() {
    // More tool calls in one turn than the queue holds: one `ToolCall` event each.
    let calls = EVENT_CAPACITY + 100;
    let many: Vec<ScriptedCall> = (0..calls)
        .map(|i| ScriptedCall::tool("add", json!({"a": i, "b": 1})).with_id(format!("c{i}")))
        .collect();
    let model = Arc::new(ScriptedModel::new().with_agent(
        "a",
        [
            ScriptedTurn::calls(many),
            ScriptedTurn::calls([ScriptedCall::tool("latch", json!({})).with_id("latch")]),
            ScriptedTurn::text("done"),
        ],
    ));
    let latch = Latch {
        started: Arc::new(watch::Sender::new(false)),
        open: Arc::new(watch::Sender::new(false)),
    };
    let swarm = support::start(
        Swarm::builder()
            .limits(Limits {
                max_calls_per_turn: calls,
                ..Limits::default()
            })
            .tool(Add)
            .tool(latch.clone())
            .agent(Agent::new("a").with_tools(["add", "latch"])),
        &model,
    );
    let mut run = swarm.run_streamed("a", "go");
    // Read nothing until the first turn is over and the second one holds.
    let mut started = latch.started.subscribe();
    tokio::time::timeout(HOLD, started.wait_for(|s| *s))
        .await
        .expect("the latch call starts")
        .expect("the latch is alive");
    assert_eq!(run.queued(), EVENT_CAPACITY);
    let mut early = Vec::new();
    // Unconstrained: tokio's task budget would make a busy `poll_recv` say "pending".
    while let Some(Some(event)) = tokio::task::unconstrained(run.next()).now_or_never() {
        early.push(event);
    }
    assert_eq!(early.len(), EVENT_CAPACITY);
    assert!(
        early
            .iter()
            .all(|e| matches!(e, StreamEvent::ToolCall { ok: true, .. })),
        "{:?}",
        &early[..3]
    );

    latch.open.send_replace(true);
    let rest: Vec<StreamEvent> = run.by_ref().collect().await;
    let result = run.result().await.expect("the run succeeds");
    swarm.shutdown().await;
    let dropped = (calls - EVENT_CAPACITY) as u64;
    assert_eq!(rest[0], StreamEvent::Lagged { dropped }, "{rest:?}");
    assert!(
        matches!(&rest[1], StreamEvent::ToolCall { name, .. } if &**name == "latch"),
        "{rest:?}"
    );
    assert!(
        matches!(rest.last(), Some(StreamEvent::TextDelta { delta, .. }) if delta == "done"),
        "{rest:?}"
    );
    // The result has every call's output, dropped events or not.
    assert_eq!(result.final_output, "done");
    let outputs = output_texts(&result.transcript);
    assert_eq!(outputs.len(), calls + 1);
    assert_eq!(outputs[calls - 1], calls.to_string());
}
