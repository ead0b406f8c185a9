//! What a simulation injected, counted as it happens: model faults by kind, tool failures
//! and tool timeouts. The report shows the totals.

use std::sync::atomic::{AtomicU64, Ordering};

use super::spec::ModelFaultKind;

/// Counters shared by a simulation's models and tool stand-ins.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    model: [AtomicU64; ModelFaultKind::NAMES.len()],
    tool_failures: AtomicU64,
    tool_timeouts: AtomicU64,
}

impl Counts {
    /// Counts a model fault of the kind at `index` of [`ModelFaultKind::NAMES`].
    pub(crate) fn model_fault(&self, index: usize) {
        if let Some(counter) = self.model.get(index) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn tool_failure(&self) {
        self.tool_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn tool_timeout(&self) {
        self.tool_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    /// Model faults by kind name, the kinds that happened only.
    pub(crate) fn model_faults(&self) -> Vec<(&'static str, u64)> {
        ModelFaultKind::NAMES
            .iter()
            .zip(&self.model)
            .map(|(name, n)| (*name, n.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Tool failures and timeouts injected.
    pub(crate) fn tool_faults(&self) -> (u64, u64) {
        (
            self.tool_failures.load(Ordering::Relaxed),
            self.tool_timeouts.load(Ordering::Relaxed),
        )
    }
}
