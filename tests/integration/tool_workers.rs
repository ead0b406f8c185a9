//! Tool workers under stress (issue 9, "Defects found in review"): a call whose caller gave up
//! while it waited for a `max_concurrency` permit never starts; a tool factory that panics
//! (async or blocking) leaves the worker serving error outputs and is tried again until it
//! works; a `Duration::MAX` timeout from the Rust API means "no timeout", not an overflow.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::tool::{BlockingTool, Tool, ToolOptions};
use baton::{Agent, Limits, Swarm};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::support::{self, HOLD, output_of};

/// Arguments of [`Gate`] and [`Fragile`].
#[derive(Debug, Deserialize, JsonSchema)]
struct GateArgs {
    /// Holds (until the caller gives up) instead of answering.
    #[serde(default)]
    hold: bool,
}

/// Counts the calls that started; answers `started <count>`.
#[derive(Debug, Clone, Default)]
struct Gate {
    started: Arc<AtomicUsize>,
}

impl Tool for Gate {
    type Args = GateArgs;
    type Output = String;
    type Error = String;

    fn name(&self) -> &str {
        "gate"
    }
    fn description(&self) -> &str {
        "Counts its calls."
    }
    async fn call(&self, args: GateArgs) -> Result<String, String> {
        let started = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        if args.hold {
            tokio::time::sleep(HOLD).await;
        }
        Ok(format!("started {started}"))
    }
}

/// An agent `a` that may call `tool`, answering `done` after `turns`.
fn agent_model(turns: Vec<Vec<ScriptedCall>>) -> Arc<ScriptedModel> {
    let mut scripted: Vec<ScriptedTurn> = turns.into_iter().map(ScriptedTurn::calls).collect();
    scripted.push(ScriptedTurn::text("done"));
    Arc::new(ScriptedModel::new().with_agent("a", scripted))
}

fn call(tool: &str, id: &str, hold: bool) -> ScriptedCall {
    ScriptedCall::tool(tool, json!({ "hold": hold })).with_id(id)
}

// See: issue 9
#[tokio::test]
async fn a_call_whose_caller_timed_out_waiting_for_a_permit_never_starts() {
    let gate = Gate::default();
    // Turn 1: `first` holds the only permit; `second` waits for it. Both time out together,
    // so nobody waits for `second` when `first` lets the permit go. Turn 2: `third` takes the
    // permit after whatever ran before it, and reports how many calls started in all.
    let model = agent_model(vec![
        vec![call("gate", "first", true), call("gate", "second", true)],
        vec![call("gate", "third", false)],
    ]);
    let options = ToolOptions {
        max_concurrency: Some(1),
        timeout: Some(Duration::from_millis(100)),
        ..ToolOptions::default()
    };
    let swarm = support::start(
        Swarm::builder()
            .worker_threads(1)
            .tool_with(gate.clone(), options)
            .agent(Agent::new("a").with_tools(["gate"])),
        &model,
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    swarm.shutdown().await;
    for id in ["first", "second"] {
        assert_eq!(
            output_of(&result.transcript, id),
            "error: tool `gate` timed out after 100 ms"
        );
    }
    assert_eq!(output_of(&result.transcript, "third"), "started 2");
    assert_eq!(gate.started.load(Ordering::SeqCst), 2);
}

/// An async tool whose clones (its factory) panic while `broken` is set.
#[derive(Debug, Default)]
struct Fragile {
    broken: Arc<AtomicBool>,
    /// Clones tried, panicked or not.
    tries: Arc<AtomicUsize>,
}

impl Clone for Fragile {
    fn clone(&self) -> Self {
        self.tries.fetch_add(1, Ordering::SeqCst);
        if self.broken.load(Ordering::SeqCst) {
            panic!("the fragile tool's backend is down");
        }
        Fragile {
            broken: Arc::clone(&self.broken),
            tries: Arc::clone(&self.tries),
        }
    }
}

impl Tool for Fragile {
    type Args = GateArgs;
    type Output = String;
    type Error = String;

    fn name(&self) -> &str {
        "fragile"
    }
    fn description(&self) -> &str {
        "Works once its factory does."
    }
    async fn call(&self, _: GateArgs) -> Result<String, String> {
        Ok("fine".to_owned())
    }
}

/// A blocking tool whose factory panics while `broken` is set.
struct FragileCpu;

impl BlockingTool for FragileCpu {
    type Args = GateArgs;
    type Output = String;
    type Error = String;

    fn name(&self) -> &str {
        "fragile_cpu"
    }
    fn description(&self) -> &str {
        "Works once its factory does."
    }
    fn call(&mut self, _: GateArgs) -> Result<String, String> {
        Ok("fine".to_owned())
    }
}

/// Runs `a` (which calls its tool once, as `c`) until that output is not an error (at most
/// `HOLD`); returns the outputs seen, in order.
async fn call_until_fine(swarm: &Swarm) -> Vec<String> {
    let mut outputs = Vec::new();
    let give_up = tokio::time::Instant::now() + HOLD;
    loop {
        let result = swarm.run("a", "go").await.expect("the run succeeds");
        let output = output_of(&result.transcript, "c");
        let fine = !output.starts_with("error:");
        outputs.push(output);
        if fine || tokio::time::Instant::now() > give_up {
            return outputs;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (at most `HOLD`) until `tries` reaches `n`.
async fn wait_for_tries(tries: &AtomicUsize, n: usize) {
    let give_up = tokio::time::Instant::now() + HOLD;
    while tries.load(Ordering::SeqCst) < n {
        assert!(
            tokio::time::Instant::now() < give_up,
            "the factory was tried {} times, not {n}",
            tries.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Checks the outputs of [`call_until_fine`]: errors that say what happened, then success.
fn assert_errors_then_fine(outputs: &[String], tool: &str) {
    let (last, errors) = outputs.split_last().expect("at least one call");
    assert_eq!(last, "fine", "{outputs:#?}");
    assert!(!errors.is_empty(), "{outputs:#?}");
    for error in errors {
        assert!(
            error.starts_with(&format!(
                "error: tool `{tool}` is unavailable: making an instance of it panicked (the fragile tool's backend is down); trying again in "
            )),
            "{error}"
        );
    }
}

fn fragile_model() -> Arc<ScriptedModel> {
    Arc::new(ScriptedModel::new().with_agent(
        "a",
        [
            ScriptedTurn::calls([call("fragile", "c", false)]),
            ScriptedTurn::text("done"),
        ],
    ))
}

// See: issue 9
#[tokio::test]
async fn an_async_tool_whose_factory_panics_gives_error_outputs_then_works_once_it_recovers() {
    let tool = Fragile::default();
    tool.broken.store(true, Ordering::SeqCst);
    let (broken, tries) = (Arc::clone(&tool.broken), Arc::clone(&tool.tries));
    let model = fragile_model();
    let swarm = support::start(
        Swarm::builder()
            .worker_threads(1)
            .tool(tool)
            .agent(Agent::new("a").with_tools(["fragile"])),
        &model,
    );
    // The first instance and at least one retry panic; the worker keeps answering.
    let first = swarm.run("a", "go").await.expect("the run succeeds");
    wait_for_tries(&tries, 2).await;
    broken.store(false, Ordering::SeqCst);
    let mut outputs = vec![output_of(&first.transcript, "c")];
    outputs.extend(call_until_fine(&swarm).await);
    swarm.shutdown().await;
    assert_errors_then_fine(&outputs, "fragile");
}

// See: issue 9
#[tokio::test]
async fn a_blocking_tool_whose_factory_panics_gives_error_outputs_then_works_once_it_recovers() {
    let broken = Arc::new(AtomicBool::new(false));
    let tries = Arc::new(AtomicUsize::new(0));
    let factory = {
        let (broken, tries) = (Arc::clone(&broken), Arc::clone(&tries));
        move || {
            tries.fetch_add(1, Ordering::SeqCst);
            if broken.load(Ordering::SeqCst) {
                panic!("the fragile tool's backend is down");
            }
            FragileCpu
        }
    };
    let model = Arc::new(ScriptedModel::new().with_agent(
        "a",
        [
            ScriptedTurn::calls([call("fragile_cpu", "c", false)]),
            ScriptedTurn::text("done"),
        ],
    ));
    // The builder's own call (for the name and description) works; the pool thread's fails.
    let builder = Swarm::builder()
        .worker_threads(1)
        .blocking_tool(
            factory,
            ToolOptions {
                max_concurrency: Some(1),
                ..ToolOptions::default()
            },
        )
        .agent(Agent::new("a").with_tools(["fragile_cpu"]));
    broken.store(true, Ordering::SeqCst);
    let swarm = support::start(builder, &model);
    let first = swarm.run("a", "go").await.expect("the run succeeds");
    assert!(tries.load(Ordering::SeqCst) >= 2, "the pool thread tried");
    broken.store(false, Ordering::SeqCst);
    let mut outputs = vec![output_of(&first.transcript, "c")];
    outputs.extend(call_until_fine(&swarm).await);
    swarm.shutdown().await;
    assert_errors_then_fine(&outputs, "fragile_cpu");
}

// See: issue 9
#[tokio::test]
async fn a_timeout_of_duration_max_means_no_timeout() {
    let gate = Gate::default();
    let model = agent_model(vec![vec![call("gate", "capped", false)]]);
    let forever = ToolOptions {
        timeout: Some(Duration::MAX),
        ..ToolOptions::default()
    };
    let swarm = support::start(
        Swarm::builder()
            .limits(Limits {
                tool_timeout: Duration::MAX,
                ..Limits::default()
            })
            .tool_with(gate, forever)
            .agent(Agent::new("a").with_tools(["gate"])),
        &model,
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    assert_eq!(output_of(&result.transcript, "capped"), "started 1");

    // The run's default, with no timeout of the tool's own.
    let model = agent_model(vec![vec![call("gate", "default", false)]]);
    let swarm2 = support::start(
        Swarm::builder()
            .limits(Limits {
                tool_timeout: Duration::MAX,
                ..Limits::default()
            })
            .tool(Gate::default())
            .agent(Agent::new("a").with_tools(["gate"])),
        &model,
    );
    let result = swarm2.run("a", "go").await.expect("the run succeeds");
    assert_eq!(output_of(&result.transcript, "default"), "started 1");
    swarm.shutdown().await;
    swarm2.shutdown().await;
}

/// An async tool whose clones (its factory) wait for a message from a task of the runtime
/// that started the swarm.
#[derive(Debug)]
struct Patient {
    signal: Arc<std::sync::Mutex<std::sync::mpsc::Receiver<()>>>,
    /// Whether a clone got the message (rather than giving up after `HOLD`).
    heard: Arc<AtomicBool>,
}

impl Clone for Patient {
    fn clone(&self) -> Self {
        let signal = self.signal.lock().unwrap_or_else(|e| e.into_inner());
        if signal.recv_timeout(HOLD).is_ok() {
            self.heard.store(true, Ordering::SeqCst);
        }
        drop(signal);
        Patient {
            signal: Arc::clone(&self.signal),
            heard: Arc::clone(&self.heard),
        }
    }
}

impl Tool for Patient {
    type Args = GateArgs;
    type Output = String;
    type Error = String;

    fn name(&self) -> &str {
        "patient"
    }
    fn description(&self) -> &str {
        "Made only once a task has run."
    }
    async fn call(&self, _: GateArgs) -> Result<String, String> {
        Ok("fine".to_owned())
    }
}

// See: issue 9
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn starting_a_swarm_on_a_runtime_worker_lets_the_workers_other_tasks_run() {
    let (tx, rx) = std::sync::mpsc::channel();
    let heard = Arc::new(AtomicBool::new(false));
    let tool = Patient {
        signal: Arc::new(std::sync::Mutex::new(rx)),
        heard: Arc::clone(&heard),
    };
    let model = agent_model(vec![vec![call("patient", "c", false)]]);
    // On the runtime's only worker: a task that sends the message, then the swarm's start.
    let swarm = tokio::spawn(async move {
        tokio::spawn(async move {
            let _ = tx.send(());
        });
        support::start(
            Swarm::builder()
                .worker_threads(1)
                .tool(tool)
                .agent(Agent::new("a").with_tools(["patient"])),
            &model,
        )
    })
    .await
    .expect("the swarm starts");
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    swarm.shutdown().await;
    assert_eq!(output_of(&result.transcript, "c"), "fine");
    assert!(
        heard.load(Ordering::SeqCst),
        "the task never ran while the swarm started"
    );
}
