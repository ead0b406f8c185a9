//! `Conversation`: a run in motion, the value that moves from agent mailbox to agent mailbox.
//!
//! It owns everything the run has done (items, path, counts, usage, timeline), its limits, and
//! the channel to the caller, so whichever agent ends the run answers the caller directly and a
//! failure anywhere can hand back the partial run. It also holds a token of the swarm's
//! in-flight tracker, so shutdown knows the run exists even while it sits in a mailbox.
//!
//! Its clock starts on its shard, the first time the turn loop reads it, not where the caller
//! made it: the timeline's offsets are read on the shard's tokio clock (virtual, in a swarm in
//! virtual time), which the caller's thread does not share.

use std::cell::OnceCell;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::task::task_tracker::TaskTrackerToken;

use crate::agent::Limits;
use crate::item::{Item, output_text};
use crate::model::Usage;
use crate::run::{Event, EventKind, PartialRun, RunError, RunResult};
use crate::stream::EventSink;

/// Where the outcome of a run goes.
pub(crate) type Reply = oneshot::Sender<Result<RunResult, RunError>>;

/// A run in motion.
pub(crate) struct Conversation {
    /// The conversation so far.
    pub(crate) items: Vec<Item>,
    /// Model requests made so far, across agents.
    pub(crate) turns: u32,
    /// Agents entered, in order, the entry agent first.
    pub(crate) path: Vec<Arc<str>>,
    /// Tokens used so far.
    pub(crate) usage: Usage,
    /// The run's trace id.
    pub(crate) trace_id: String,
    /// When the run reached its shard (timeline offsets count from here); set by the first
    /// read, on the shard.
    started: OnceCell<Instant>,
    /// Steps taken so far.
    pub(crate) timeline: Vec<Event>,
    /// The run's bounds.
    pub(crate) limits: Limits,
    /// The caller's end of the run.
    reply: Reply,
    /// Where events go, for a streamed run.
    pub(crate) events: Option<EventSink>,
    /// Keeps the swarm's shutdown waiting while this run exists.
    in_flight: TaskTrackerToken,
}

impl Conversation {
    /// Starts a run at `entry`.
    pub(crate) fn new(
        items: Vec<Item>,
        entry: Arc<str>,
        limits: Limits,
        trace_id: String,
        reply: Reply,
        events: Option<EventSink>,
        in_flight: TaskTrackerToken,
    ) -> Self {
        Conversation {
            items,
            turns: 0,
            path: vec![entry],
            usage: Usage::default(),
            trace_id,
            started: OnceCell::new(),
            timeline: Vec::new(),
            limits,
            reply,
            events,
            in_flight,
        }
    }

    /// How many model requests `agent` has made so far in this run (counted in the timeline,
    /// which records every one).
    pub(crate) fn agent_turns(&self, agent: &str) -> u32 {
        self.timeline
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Model) && *e.agent == *agent)
            .count() as u32
    }

    /// How many times the run has entered `agent`.
    pub(crate) fn visits(&self, agent: &str) -> u32 {
        self.path.iter().filter(|a| ***a == *agent).count() as u32
    }

    /// Time since the run started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started().elapsed()
    }

    /// The instant timeline offsets count from: when the run was first seen on its shard.
    pub(crate) fn started(&self) -> Instant {
        *self.started.get_or_init(Instant::now)
    }

    /// Whether the caller stopped waiting (dropped its future): then nobody needs the run.
    pub(crate) fn caller_gone(&self) -> bool {
        self.reply.is_closed()
    }

    /// Ends the run with the text of the items from `first_output` on, produced by `agent`.
    pub(crate) fn finish(self, agent: &str, first_output: usize) {
        let final_output = output_text(&self.items[first_output..]);
        let (run, reply) = self.close();
        let _ = reply.send(Ok(RunResult {
            final_output,
            last_agent: agent.to_owned(),
            transcript: run.transcript,
            path: run.path,
            usage: run.usage,
            trace_id: run.trace_id,
            timeline: run.timeline,
        }));
    }

    /// Fails the run; `error` gets the partial run to carry.
    pub(crate) fn fail(self, error: impl FnOnce(Box<PartialRun>) -> RunError) {
        let (run, reply) = self.close();
        let _ = reply.send(Err(error(Box::new(run))));
    }

    /// What the run did, and the channel to its caller. The run stops counting as in flight
    /// here, before its caller hears of it.
    fn close(self) -> (PartialRun, Reply) {
        drop(self.in_flight);
        let run = PartialRun {
            transcript: self.items,
            path: self.path.iter().map(|a| a.to_string()).collect(),
            usage: self.usage,
            trace_id: self.trace_id,
            timeline: self.timeline,
        };
        (run, self.reply)
    }
}
