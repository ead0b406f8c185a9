//! `ToolContext`: what one tool call knows of where it runs: its call id, the run (trace id)
//! and agent that made it, its deadline, and a cancellation signal.
//!
//! The turn loop makes one per call and sends it with the call to the tool's worker actor. A
//! [`DynamicTool`](super::DynamicTool) gets it as an argument; a typed [`Tool`](super::Tool) or
//! [`BlockingTool`](super::BlockingTool) reads it with [`ToolContext::current`], since the
//! worker runs every call inside its context. The signal fires when the caller stops waiting
//! for the call: its timeout passed, or its run ended (cancelled, shut down). The worker then
//! polls the call for up to [`CANCEL_GRACE`] more, so a tool can clean up (kill a process
//! group, tell a server to cancel) before it is dropped.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::scope::RunScope;

/// How long a cancelled call is still polled, so it can clean up, before it is dropped.
pub const CANCEL_GRACE: Duration = Duration::from_secs(1);

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
    /// The call's id, as the model's output names it.
    call_id: Arc<str>,
    /// The turn the call belongs to: its run's trace id, agent and turn budget.
    run: Arc<RunScope>,
    /// When the caller stops waiting.
    deadline: Instant,
    /// Fires when the caller stops waiting.
    cancel: CancellationToken,
}

impl ToolContext {
    /// A context outside any run, for calling a tool directly (in tests, say): no trace id, no
    /// agent, a deadline `timeout` from now.
    pub fn detached(call_id: &str, timeout: Duration) -> Self {
        ToolContext::new(
            Arc::from(call_id),
            RunScope::new(String::new(), Arc::from(""), u32::MAX),
            deadline_after(timeout),
        )
    }

    /// The context of call `call_id` of a turn of `run`, due by `deadline`.
    pub(crate) fn new(call_id: Arc<str>, run: Arc<RunScope>, deadline: Instant) -> Self {
        ToolContext {
            call_id,
            run,
            deadline,
            cancel: CancellationToken::new(),
        }
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
        &self.call_id
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
        self.cancel.is_cancelled()
    }

    /// Resolves when the caller stops waiting (timeout, or the run ended).
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }

    /// The cancellation signal itself, for tasks a tool spawns.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }

    /// The turn the call belongs to.
    pub(crate) fn run(&self) -> &Arc<RunScope> {
        &self.run
    }

    /// Fires the cancellation signal (the worker, when the caller is gone).
    pub(crate) fn cancel(&self) {
        self.cancel.cancel();
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
