//! `ToolContext`: what one tool call knows of where it runs: its call id, the run (trace id)
//! and agent that made it, its deadline, and a cancellation signal.
//!
//! The turn loop makes one per call and sends it with the call to the tool's worker actor. A
//! [`DynamicTool`](super::DynamicTool) gets it as an argument; a typed [`Tool`](super::Tool) or
//! [`BlockingTool`](super::BlockingTool) reads it with [`ToolContext::current`], since the
//! worker runs every call inside its context. The signal fires when the caller stops waiting
//! for the call: its timeout passed, or its run ended (cancelled, shut down). The worker then
//! polls the call once more, so a tool sees the signal and can start cleaning up (kill a
//! process group, tell a server to cancel), and drops it: what must happen whatever belongs
//! in a drop guard, or in a task the tool spawned with a clone of its context.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::Ordering;

use tokio::time::Instant;

use super::scope::{CallSlot, RunScope};

/// The context of one tool call.
///
/// # Examples
///
/// A tool that gives up cleanly when its call is cancelled:
///
/// ```
/// use baton::tool::ToolContext;
///
/// async fn fetch_slowly(context: &ToolContext) -> Result<String, String> {
///     tokio::select! {
///         () = context.cancelled() => Err(format!("call {} cancelled", context.call_id())),
///         () = tokio::time::sleep(context.remaining()) => Ok("done".to_owned()),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct ToolContext {
    /// The turn the call belongs to: its run's trace id, agent, turn budget, and a slot per
    /// call (the call's id and signal), so a context costs no allocation of its own.
    run: Arc<RunScope>,
    /// The call's slot in `run.calls`.
    slot: u32,
    /// The attempt this context is for (1-based; a retried call gets a fresh signal).
    attempt: u32,
    /// When the caller stops waiting.
    deadline: Instant,
}

impl ToolContext {
    /// A context outside any run, for calling a tool directly (in tests, say): no trace id, no
    /// agent, a deadline `timeout` from now.
    pub fn detached(call_id: &str, timeout: Duration) -> Self {
        let calls = Box::new([CallSlot::new(call_id)]);
        let run = RunScope::new(String::new(), Arc::from(""), u32::MAX, calls);
        ToolContext::new(run, 0, 1, deadline_after(timeout))
    }

    /// The context of attempt `attempt` of the call in slot `slot` of `run`, due by
    /// `deadline`.
    pub(crate) fn new(run: Arc<RunScope>, slot: usize, attempt: u32, deadline: Instant) -> Self {
        ToolContext {
            run,
            slot: u32::try_from(slot).unwrap_or(u32::MAX),
            attempt,
            deadline,
        }
    }

    /// The call's slot (a context is only made for a slot its turn has).
    fn call(&self) -> Option<&CallSlot> {
        self.run.calls.get(self.slot as usize)
    }

    /// The context of the tool call this task (or, for a blocking tool, this thread) is
    /// running, if any.
    pub fn current() -> Option<ToolContext> {
        CALL_CONTEXT
            .try_with(Clone::clone)
            .ok()
            .or_else(|| THREAD_CONTEXT.with(|slot| slot.borrow().clone()))
    }

    /// The call id, as the model's output names it.
    pub fn call_id(&self) -> &str {
        self.call().map_or("", |call| &call.call_id)
    }

    /// The run's trace id (empty outside a run).
    pub fn trace_id(&self) -> &str {
        &self.run.trace_id
    }

    /// The agent whose model asked for the call (empty outside a run).
    pub fn agent(&self) -> &str {
        &self.run.agent
    }

    /// When the caller stops waiting for the call (its timeout).
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The time left until [`deadline`](Self::deadline) (zero once it passed).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Whether the caller has stopped waiting.
    pub fn is_cancelled(&self) -> bool {
        self.call()
            .is_some_and(|call| call.cancelled.load(Ordering::Acquire) >= self.attempt)
    }

    /// Resolves when the caller stops waiting (timeout, or the run ended). Any clone of the
    /// context works, so a task the tool spawns can wait on its own clone.
    pub async fn cancelled(&self) {
        loop {
            // Made before the check: a signal between the two still wakes it.
            let woken = self.run.wake.notified();
            if self.is_cancelled() {
                return;
            }
            woken.await;
        }
    }

    /// Fires the signal: the worker does when the caller stops waiting; a test of a tool may.
    pub fn cancel(&self) {
        if let Some(call) = self.call() {
            call.cancelled.fetch_max(self.attempt, Ordering::AcqRel);
            self.run.wake.notify_waiters();
        }
    }

    /// The turn the call belongs to.
    pub(crate) fn run(&self) -> &Arc<RunScope> {
        &self.run
    }

    /// Runs `body` with this context as the thread's current one (blocking tools).
    pub(crate) fn enter_thread<R>(&self, body: impl FnOnce() -> R) -> R {
        /// Clears the slot again, also when `body` panics.
        struct Reset(Option<ToolContext>);
        impl Drop for Reset {
            fn drop(&mut self) {
                let before = self.0.take();
                THREAD_CONTEXT.with(|slot| *slot.borrow_mut() = before);
            }
        }
        let before = THREAD_CONTEXT.with(|slot| slot.replace(Some(self.clone())));
        let _reset = Reset(before);
        body()
    }
}

/// `now + timeout`, or a date about a century away where that does not fit (`Duration::MAX`
/// means "never" in the Rust API's timeouts).
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    /// Far enough to be never, near enough that `Instant` and tokio's timer hold it.
    const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
    let now = Instant::now();
    now.checked_add(timeout.min(FAR))
        .or_else(|| now.checked_add(Duration::from_secs(24 * 60 * 60)))
        .unwrap_or(now)
}

tokio::task_local! {
    /// The context of the tool call running in this task, set by its worker.
    pub(crate) static CALL_CONTEXT: ToolContext;
}

thread_local! {
    /// The context of the blocking tool call running on this pool thread.
    static THREAD_CONTEXT: RefCell<Option<ToolContext>> = const { RefCell::new(None) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocking_call_sees_its_context_only_while_it_runs() {
        let context = ToolContext::detached("call_1", Duration::from_secs(5));
        assert!(ToolContext::current().is_none());
        let seen = context.enter_thread(|| ToolContext::current().map(|c| c.call_id().to_owned()));
        assert_eq!(seen.as_deref(), Some("call_1"));
        assert!(ToolContext::current().is_none());
    }

    #[tokio::test]
    async fn cancelling_fires_the_signal_every_clone_sees() {
        let context = ToolContext::detached("c", Duration::from_secs(5));
        let clone = context.clone();
        assert!(!clone.is_cancelled());
        context.cancel();
        clone.cancelled().await;
        assert!(clone.is_cancelled());
        assert!(context.remaining() <= Duration::from_secs(5));
    }
}
