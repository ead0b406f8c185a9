//! What the `Tool` docs say about threads: an async tool's calls share the shard thread of
//! their conversation, so an async tool that blocks it stalls every other call on the shard,
//! and the same work as a `BlockingTool` does not.
//!
//! One turn asks for `block` and `probe` at once. `block` says it has started, then blocks
//! its thread until `probe` has run; `probe` waits (asynchronously) for `block` to start, then
//! runs. `block`'s output says whether `probe` ran while it was blocking. No timing is
//! measured: on one shard thread `probe` cannot run while `block` holds the thread.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::tool::{BlockingTool, Tool, ToolOptions};
use baton::{Agent, Swarm};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::watch;

use crate::support::HOLD;

// See: issue 9

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
struct NoArgs {}

/// What the two calls share: `block` has started (a watch, awaited by `probe`), `probe` has
/// run (a flag and condvar, waited on by the blocking `block`).
#[derive(Debug, Clone)]
struct Meeting {
    block_started: Arc<watch::Sender<bool>>,
    probe_ran: Arc<(Mutex<bool>, Condvar)>,
    /// How long `block` blocks its thread waiting for `probe` at most.
    patience: Duration,
}

impl Meeting {
    fn new(patience: Duration) -> Self {
        Meeting {
            block_started: Arc::new(watch::channel(false).0),
            probe_ran: Arc::new((Mutex::new(false), Condvar::new())),
            patience,
        }
    }

    /// Says `block` has started, then blocks the thread until `probe` has run or the
    /// patience is spent; the output says which.
    fn block(&self) -> String {
        self.block_started.send_replace(true);
        let (ran, wake) = &*self.probe_ran;
        let ran = ran.lock().unwrap_or_else(PoisonError::into_inner);
        let (ran, _) = wake
            .wait_timeout_while(ran, self.patience, |ran| !*ran)
            .unwrap_or_else(PoisonError::into_inner);
        if *ran {
            "probe ran meanwhile".to_owned()
        } else {
            "probe was stalled".to_owned()
        }
    }
}

/// The blocking call as an async tool.
#[derive(Debug, Clone)]
struct AsyncBlock(Meeting);

impl Tool for AsyncBlock {
    type Args = NoArgs;
    type Output = String;
    type Error = String;

    fn name(&self) -> &str {
        "block"
    }

    fn description(&self) -> &str {
        "Blocks its thread until `probe` has run."
    }

    async fn call(&self, _: NoArgs) -> Result<String, String> {
        Ok(self.0.block())
    }
}

/// The blocking call as a blocking tool.
#[derive(Debug)]
struct PoolBlock(Meeting);

impl BlockingTool for PoolBlock {
    type Args = NoArgs;
    type Output = String;
    type Error = String;

    fn name(&self) -> &str {
        "block"
    }

    fn description(&self) -> &str {
        "Blocks its thread until `probe` has run."
    }

    fn call(&mut self, _: NoArgs) -> Result<String, String> {
        Ok(self.0.block())
    }
}

/// Waits, without blocking, for `block` to start; then says it ran.
#[derive(Debug, Clone)]
struct Probe(Meeting);

impl Tool for Probe {
    type Args = NoArgs;
    type Output = String;
    type Error = String;

    fn name(&self) -> &str {
        "probe"
    }

    fn description(&self) -> &str {
        "Runs once `block` has started."
    }

    async fn call(&self, _: NoArgs) -> Result<String, String> {
        let mut started = self.0.block_started.subscribe();
        started
            .wait_for(|started| *started)
            .await
            .map_err(|e| e.to_string())?;
        let (ran, wake) = &*self.0.probe_ran;
        *ran.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        Ok("probe done".to_owned())
    }
}

/// One turn calling `block` and `probe`, then `block`'s output as the answer, on a swarm of
/// one shard thread.
async fn answer(builder: baton::swarm::SwarmBuilder, meeting: &Meeting) -> String {
    let model = ScriptedModel::new().with_agent(
        "a",
        [
            ScriptedTurn::calls([
                ScriptedCall::tool("block", json!({})).with_id("b"),
                ScriptedCall::tool("probe", json!({})).with_id("p"),
            ]),
            ScriptedTurn::text("{{output:b}}"),
        ],
    );
    let swarm = builder
        .tool(Probe(meeting.clone()))
        .agent(Agent::new("a").with_tools(["block", "probe"]))
        .model(Arc::new(model))
        .worker_threads(1)
        .start()
        .expect("the swarm starts");
    let result = swarm.run("a", "go").await.expect("the run ends");
    swarm.shutdown().await;
    result.final_output
}

#[tokio::test]
async fn an_async_tool_that_blocks_stalls_every_other_call_on_its_shard() {
    // `probe` cannot run while `block` holds the one shard thread, however long it waits.
    let meeting = Meeting::new(Duration::from_millis(300));
    let builder = Swarm::builder().tool(AsyncBlock(meeting.clone()));
    assert_eq!(answer(builder, &meeting).await, "probe was stalled");
}

#[tokio::test]
async fn the_same_work_as_a_blocking_tool_leaves_the_shard_free() {
    let meeting = Meeting::new(HOLD);
    let pool = meeting.clone();
    let builder = Swarm::builder().blocking_tool(
        move || PoolBlock(pool.clone()),
        ToolOptions {
            max_concurrency: Some(1),
            ..ToolOptions::default()
        },
    );
    assert_eq!(answer(builder, &meeting).await, "probe ran meanwhile");
}
