//! `RunScope`: what a tool call knows of the run that made it, for tools that start runs of
//! their own (agents used as tools).
//!
//! The turn loop makes one scope per turn and every call of the turn carries it to its worker
//! inside its [`ToolContext`](super::ToolContext), which the worker runs the call in. An
//! agent tool reads it to start its nested run under the outer run's trace id and with only
//! the model turns the outer run has left, and reports the turns and tokens it used, which the
//! turn loop adds to the outer run after the fan-out. So nested runs count against the outer
//! run's `max_turns`, and their trace is the outer run's.

use std::sync::{Arc, Mutex};

use crate::model::Usage;

/// The run a tool call belongs to.
#[derive(Debug)]
pub(crate) struct RunScope {
    /// The outer run's trace id.
    pub(crate) trace_id: String,
    /// The agent whose turn it is.
    pub(crate) agent: std::sync::Arc<str>,
    /// Model turns the outer run may still take (its `max_turns` less those taken).
    pub(crate) turns_left: u32,
    /// What nested runs started by this turn's calls used (never locked across an await).
    used: Mutex<Usage>,
    /// One slot per tool call of the turn, in call order: what each call's
    /// [`ToolContext`](super::ToolContext) points at, so contexts cost no allocation.
    pub(crate) calls: Box<[CallSlot]>,
    /// Wakes the calls awaiting their cancellation (each then checks its own slot).
    pub(crate) wake: tokio::sync::Notify,
}

/// One tool call of a turn, as its context sees it.
#[derive(Debug)]
pub(crate) struct CallSlot {
    /// The call's id, as the model's output names it.
    pub(crate) call_id: Box<str>,
    /// The last attempt whose caller stopped waiting (0: none; attempts count from 1).
    pub(crate) cancelled: std::sync::atomic::AtomicU32,
}

impl CallSlot {
    /// The slot of call `call_id`.
    pub(crate) fn new(call_id: &str) -> Self {
        CallSlot {
            call_id: Box::from(call_id),
            cancelled: std::sync::atomic::AtomicU32::new(0),
        }
    }
}

impl RunScope {
    /// A scope for a turn of `agent` in the run `trace_id`, with `turns_left` turns to spare
    /// and a slot for each of its tool `calls`.
    pub(crate) fn new(
        trace_id: String,
        agent: Arc<str>,
        turns_left: u32,
        calls: Box<[CallSlot]>,
    ) -> Arc<Self> {
        Arc::new(RunScope {
            trace_id,
            agent,
            turns_left,
            used: Mutex::new(Usage::default()),
            calls,
            wake: tokio::sync::Notify::new(),
        })
    }

    /// Records what a nested run used.
    pub(crate) fn add(&self, usage: &Usage) {
        self.lock().add(usage);
    }

    /// What the turn's nested runs used in all.
    pub(crate) fn used(&self) -> Usage {
        *self.lock()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Usage> {
        // A panic while holding it leaves valid counts: keep using them.
        self.used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
