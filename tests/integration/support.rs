//! Shared helpers: probe tools that record what the swarm did to them, swarm builders with a
//! scripted model, transcript accessors, and a tracing subscriber for failing tests.
//!
//! The probes make concurrency assertions deterministic: a call can be told to hold until K
//! calls are in flight together (`wait_for`) or until another call has finished (`after`), so
//! a test observes peak concurrency and completion order without measuring time. Every hold has
//! a generous timeout ([`HOLD`]): a bug turns into an error output that fails the test, never
//! into a hung test.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;
use std::time::Duration;

use baton::model::{ScriptedCall, ScriptedModel, check_history};
use baton::swarm::SwarmBuilder;
use baton::tool::{BlockingTool, Tool};
use baton::{Item, Swarm};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::watch;

/// How long a probe call (or a test waiting on a probe) holds before giving up: long enough
/// that only a bug reaches it on a loaded machine.
pub const HOLD: Duration = Duration::from_secs(10);

/// Installs a subscriber that writes through the test harness, so a failing test shows its
/// spans. `RUST_LOG` picks what is shown; nothing by default.
pub fn trace_init() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
}

/// Starts `builder` with `model` as the swarm's model.
pub fn start(builder: SwarmBuilder, model: &Arc<ScriptedModel>) -> Swarm {
    trace_init();
    builder
        .model(Arc::clone(model) as _)
        .start()
        .expect("the swarm starts")
}

// ===== the binary =====

/// `baton` as a subprocess, run from the repository, with no model key, base URL or
/// `RUST_LOG` from the test's environment (a test sets what it needs).
pub fn baton_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_baton"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("RUST_LOG");
    command
}

/// A subprocess's output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ===== transcripts =====

/// The `function_call_output`s of `items`, as `(call_id, output)`, in transcript order.
pub fn outputs(items: &[Item]) -> Vec<(String, String)> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::FunctionCallOutput {
                call_id, output, ..
            } => Some((call_id.clone(), output.clone())),
            _ => None,
        })
        .collect()
}

/// The output texts of `items`, in transcript order.
pub fn output_texts(items: &[Item]) -> Vec<String> {
    outputs(items)
        .into_iter()
        .map(|(_, output)| output)
        .collect()
}

/// The output of call `call_id`; panics if there is not exactly one.
pub fn output_of(items: &[Item], call_id: &str) -> String {
    let found: Vec<String> = outputs(items)
        .into_iter()
        .filter(|(id, _)| id == call_id)
        .map(|(_, output)| output)
        .collect();
    assert_eq!(found.len(), 1, "outputs of `{call_id}` in {items:#?}");
    found.into_iter().next().unwrap_or_default()
}

/// The call ids of the `function_call`s of `items`, in transcript order.
pub fn call_ids(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::FunctionCall { call_id, .. } => Some(call_id.clone()),
            _ => None,
        })
        .collect()
}

/// Asserts that `items` is a history the OpenAI API accepts.
pub fn assert_valid_history(items: &[Item]) {
    if let Err(e) = check_history(items) {
        panic!("invalid history: {e}\n{items:#?}");
    }
}

// ===== the async probe =====

/// Arguments of the probe tools. Every field is optional.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeArgs {
    /// Names the call; the output is `done <tag>`.
    #[serde(default)]
    pub tag: String,
    /// Holds until this many calls have been in flight at the same time.
    #[serde(default)]
    pub wait_for: Option<usize>,
    /// Holds until the call tagged this has finished.
    #[serde(default)]
    pub after: Option<String>,
    /// Sleeps this long (after any hold).
    #[serde(default)]
    pub sleep_ms: u64,
    /// Returns an error.
    #[serde(default)]
    pub fail: bool,
    /// Returns an error on the first `fail_times` attempts of this tag, then succeeds.
    #[serde(default)]
    pub fail_times: u32,
    /// Panics.
    #[serde(default)]
    pub panic: bool,
}

/// What a probe has seen so far.
#[derive(Debug, Clone, Default)]
pub struct ProbeStats {
    /// Calls running now.
    pub in_flight: usize,
    /// The most calls ever running at once.
    pub peak: usize,
    /// Calls started, in all.
    pub calls: usize,
    /// Tags of the calls that finished (returned, failed, panicked or were dropped), in order.
    pub finished: Vec<String>,
    /// Attempts per tag (retries count).
    pub attempts: HashMap<String, u32>,
}

/// A probe's state: the stats, and what its waiters wait for.
///
/// Changes wake the waiters only when they can matter to one: a peak some call holds for, a
/// tag some call holds after, or any change while a test waits in [`Probe::wait_until`]. Waking
/// every waiter on every change would cost N x N wake-ups for N calls holding together, enough
/// to starve a loaded machine at N = 1,000.
#[derive(Debug, Default)]
struct ProbeState {
    stats: ProbeStats,
    /// The `wait_for` values calls hold on.
    peaks_awaited: HashSet<usize>,
    /// The tags calls hold `after`.
    tags_awaited: HashSet<String>,
    /// Tests waiting in `wait_until`.
    observers: usize,
}

/// An async tool that records how many of its calls run at once.
///
/// Clones share their state, so the clone registered with the swarm and the one the test keeps
/// see the same numbers.
#[derive(Debug, Clone)]
pub struct Probe {
    name: &'static str,
    state: Arc<watch::Sender<ProbeState>>,
}

impl Probe {
    /// A probe registered under `name`.
    pub fn new(name: &'static str) -> Self {
        Probe {
            name,
            state: Arc::new(watch::Sender::new(ProbeState::default())),
        }
    }

    /// A copy of the stats now.
    pub fn stats(&self) -> ProbeStats {
        self.state.borrow().stats.clone()
    }

    /// The most calls ever in flight at once.
    pub fn peak(&self) -> usize {
        self.state.borrow().stats.peak
    }

    /// Waits (at most [`HOLD`]) until `ready` holds for the stats; panics if it never does.
    pub async fn wait_until(&self, mut ready: impl FnMut(&ProbeStats) -> bool) {
        self.state.send_modify(|s| s.observers += 1);
        let mut rx = self.state.subscribe();
        // `matches!` drops the read guard `wait_for` returns before `send_modify` takes the lock.
        let reached = matches!(
            tokio::time::timeout(HOLD, rx.wait_for(|s| ready(&s.stats))).await,
            Ok(Ok(_))
        );
        self.state.send_modify(|s| s.observers -= 1);
        if !reached {
            panic!(
                "probe `{}` never reached the expected state: {:?}",
                self.name,
                self.stats()
            );
        }
    }

    /// Marks `tag` as finished without a call, releasing the calls held `after` it.
    pub fn release(&self, tag: &str) {
        self.state
            .send_modify(|s| s.stats.finished.push(tag.to_owned()));
    }

    /// Holds the calling call until `ready` holds, or fails it after [`HOLD`].
    async fn hold(
        &self,
        what: &str,
        mut ready: impl FnMut(&ProbeStats) -> bool,
    ) -> Result<(), String> {
        let mut rx = self.state.subscribe();
        match tokio::time::timeout(HOLD, rx.wait_for(|s| ready(&s.stats))).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(format!(
                "probe gave up waiting for {what} after {HOLD:?}: {:?}",
                self.stats()
            )),
        }
    }
}

/// Counts a call out of flight when it ends, however it ends.
struct InFlight {
    state: Arc<watch::Sender<ProbeState>>,
    tag: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let tag = std::mem::take(&mut self.tag);
        self.state.send_if_modified(|s| {
            s.stats.in_flight -= 1;
            let wake = s.observers > 0 || s.tags_awaited.contains(&tag);
            s.stats.finished.push(tag);
            wake
        });
    }
}

impl Tool for Probe {
    type Args = ProbeArgs;
    type Output = String;
    type Error = String;

    fn name(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        "Records concurrency; can hold, sleep, fail or panic on request."
    }

    async fn call(&self, args: ProbeArgs) -> Result<String, String> {
        let mut attempt = 0;
        self.state.send_if_modified(|s| {
            if let Some(k) = args.wait_for {
                s.peaks_awaited.insert(k);
            }
            if let Some(first) = &args.after {
                s.tags_awaited.insert(first.clone());
            }
            let stats = &mut s.stats;
            stats.in_flight += 1;
            let new_peak = stats.in_flight > stats.peak;
            stats.peak = stats.peak.max(stats.in_flight);
            stats.calls += 1;
            let n = stats.attempts.entry(args.tag.clone()).or_default();
            *n += 1;
            attempt = *n;
            s.observers > 0 || (new_peak && s.peaks_awaited.contains(&stats.peak))
        });
        let _in_flight = InFlight {
            state: Arc::clone(&self.state),
            tag: args.tag.clone(),
        };
        if args.panic {
            panic!("probe asked to panic");
        }
        if let Some(k) = args.wait_for {
            self.hold(&format!("{k} calls in flight"), |s| s.peak >= k)
                .await?;
        }
        if let Some(first) = &args.after {
            self.hold(&format!("call `{first}` to finish"), |s| {
                s.finished.contains(first)
            })
            .await?;
        }
        if args.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(args.sleep_ms)).await;
        }
        if args.fail || attempt <= args.fail_times {
            return Err(format!("probe asked to fail (attempt {attempt})"));
        }
        Ok(format!("done {}", args.tag))
    }
}

/// A call of the tool `tool` (a probe) with these probe arguments, with call id `id`.
pub fn probe_call(tool: &str, id: &str, args: Value) -> ScriptedCall {
    ScriptedCall::tool(tool, args).with_id(id)
}

// ===== the blocking probe =====

/// What a blocking probe has seen so far.
#[derive(Debug, Clone, Default)]
pub struct CpuStats {
    /// Calls running now.
    pub in_flight: usize,
    /// The most calls ever running at once.
    pub peak: usize,
    /// The OS thread each call ran on, by tag, in start order.
    pub threads: Vec<(String, ThreadId)>,
    /// Tags released by the test (see [`CpuProbe::release`]).
    pub released: Vec<String>,
}

/// A CPU-bound tool (run on a pool thread) that records concurrency and its OS thread ids.
#[derive(Debug, Clone, Default)]
pub struct CpuProbe {
    state: Arc<(Mutex<CpuStats>, Condvar)>,
}

impl CpuProbe {
    /// A copy of the stats now.
    pub fn stats(&self) -> CpuStats {
        self.lock().clone()
    }

    /// Releases the calls held `after` `tag`.
    pub fn release(&self, tag: &str) {
        self.lock().released.push(tag.to_owned());
        self.state.1.notify_all();
    }

    /// Blocks until `ready` holds, or fails after [`HOLD`].
    fn hold(&self, what: &str, mut ready: impl FnMut(&CpuStats) -> bool) -> Result<(), String> {
        let stats = self.lock();
        let (stats, wait) = self
            .state
            .1
            .wait_timeout_while(stats, HOLD, |s| !ready(s))
            .unwrap_or_else(PoisonError::into_inner);
        if wait.timed_out() {
            return Err(format!(
                "cpu probe gave up waiting for {what} after {HOLD:?}: {stats:?}"
            ));
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, CpuStats> {
        self.state.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Counts a blocking call out of flight when it ends, even by a panic.
struct CpuInFlight<'a>(&'a CpuProbe);

impl Drop for CpuInFlight<'_> {
    fn drop(&mut self) {
        self.0.lock().in_flight -= 1;
        self.0.state.1.notify_all();
    }
}

impl BlockingTool for CpuProbe {
    type Args = ProbeArgs;
    type Output = String;
    type Error = String;

    fn name(&self) -> &str {
        "cpu_probe"
    }

    fn description(&self) -> &str {
        "Records concurrency and OS threads; can hold or panic on request."
    }

    fn call(&mut self, args: ProbeArgs) -> Result<String, String> {
        {
            let mut stats = self.lock();
            stats.in_flight += 1;
            stats.peak = stats.peak.max(stats.in_flight);
            stats
                .threads
                .push((args.tag.clone(), std::thread::current().id()));
        }
        self.state.1.notify_all();
        let _in_flight = CpuInFlight(self);
        if args.panic {
            panic!("cpu probe asked to panic");
        }
        if let Some(k) = args.wait_for {
            self.hold(&format!("{k} calls in flight"), |s| s.peak >= k)?;
        }
        if let Some(tag) = &args.after {
            self.hold(&format!("`{tag}` to be released"), |s| {
                s.released.contains(tag)
            })?;
        }
        Ok(format!("done {}", args.tag))
    }
}
