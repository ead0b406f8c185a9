//! `ToolRegistry`: tool name -> definition and worker mailbox.
//!
//! Async [`ToolActor`](super::actor)s and blocking [`SyncToolPool`](super::pool)s both appear
//! here as a `Recipient<ToolCall>`, so the turn loop sends to either the same way. Entries are
//! `Arc`s: a lookup clones one pointer, and no map guard is ever held across an `.await`.

use std::sync::Arc;

use actix::Recipient;
use dashmap::DashMap;

use super::{ToolCall, ToolDef};

/// One registered tool: what the model sees and where calls go.
#[derive(Debug)]
pub(crate) struct ToolEntry {
    /// Name, schema, options.
    pub(crate) def: Arc<ToolDef>,
    /// The worker's mailbox (an async actor or a thread pool).
    pub(crate) worker: Recipient<ToolCall>,
}

/// Tool name -> entry, shared by every agent of a swarm.
#[derive(Debug, Default)]
pub(crate) struct ToolRegistry {
    tools: DashMap<String, Arc<ToolEntry>>,
}

impl ToolRegistry {
    /// Adds a tool; returns `false` (and keeps the old one) if the name is taken.
    pub(crate) fn insert(&self, entry: ToolEntry) -> bool {
        match self.tools.entry(entry.def.name().to_owned()) {
            dashmap::Entry::Occupied(_) => false,
            dashmap::Entry::Vacant(slot) => {
                slot.insert(Arc::new(entry));
                true
            }
        }
    }

    /// Looks a tool up by name.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<ToolEntry>> {
        self.tools.get(name).map(|entry| Arc::clone(&entry))
    }
}
