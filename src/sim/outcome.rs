//! `Outcome`: what became of one simulated conversation: its path, its runs' latencies in
//! virtual time, its turns, tokens and tool calls, and why it stopped if it did not finish.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::item::Item;
use crate::model::Usage;
use crate::run::{Event, EventKind, RunError};
use crate::tool::ToolErrorKind;

/// One simulated conversation.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Outcome {
    /// Its index (0-based): `baton sim --conversation <index>` reruns it alone.
    pub index: u32,
    /// The trace id every run of it carried.
    pub trace_id: String,
    /// The persona that played the user, if any was declared.
    pub persona: Option<String>,
    /// The agents it went through, across its runs.
    pub path: Vec<String>,
    /// Each run's latency (one per user message), in virtual time.
    pub runs: Vec<Duration>,
    /// Model turns, across its runs.
    pub turns: u32,
    /// Tokens and model requests, across its runs.
    pub usage: Usage,
    /// Each tool call: the tool, and the kind of its error output if it got one.
    pub tool_calls: Vec<(Arc<str>, Option<ToolErrorKind>)>,
    /// Why it stopped before it finished, if it did.
    pub stop: Option<Stop>,
    /// The transcript of its last run (kept when a single conversation is rerun, or when
    /// asked for).
    pub transcript: Vec<Item>,
    /// The timelines of its runs, one after the other (kept as the transcript is).
    pub timeline: Vec<Event>,
    /// When it ended, from the start of its shard's driver, in virtual time.
    pub ended_at: Duration,
}

/// Why a conversation stopped early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Stop {
    /// What stopped it: `max_turns`, `agent_max_turns`, `handoff_loop`, `model_error`, ...
    pub kind: &'static str,
    /// The run's error message.
    pub message: String,
}

impl Outcome {
    /// Whether every run of it answered.
    pub fn finished(&self) -> bool {
        self.stop.is_none()
    }

    /// The agent it ended in.
    pub fn last_agent(&self) -> Option<&str> {
        self.path.last().map(String::as_str)
    }

    /// Adds a run that went through `path` (the next run of a conversation starts where the
    /// last one ended, so that agent is not repeated).
    pub(crate) fn add_run(
        &mut self,
        latency: Duration,
        path: &[String],
        usage: &Usage,
        timeline: &[Event],
        keep: bool,
    ) {
        self.runs.push(latency);
        let skip = usize::from(self.path.last().is_some() && self.path.last() == path.first());
        self.path.extend(path.iter().skip(skip).cloned());
        self.usage.add(usage);
        for event in timeline {
            match &event.kind {
                EventKind::Model => self.turns += 1,
                EventKind::Tool { name, error, .. } => {
                    self.tool_calls.push((Arc::clone(name), *error))
                }
                _ => {}
            }
        }
        if keep {
            self.timeline.extend_from_slice(timeline);
        }
    }

    /// Records why the conversation stopped, with the run's partial work.
    pub(crate) fn fail(&mut self, latency: Duration, error: RunError, keep: bool) {
        if let Some(partial) = error.partial() {
            self.add_run(
                latency,
                &partial.path,
                &partial.usage,
                &partial.timeline,
                keep,
            );
            if keep {
                self.transcript.clone_from(&partial.transcript);
            }
        } else {
            self.runs.push(latency);
        }
        self.stop = Some(Stop {
            kind: stop_kind(&error),
            message: error.to_string(),
        });
    }
}

/// The name of the limit or failure that ended a run.
fn stop_kind(error: &RunError) -> &'static str {
    match error {
        RunError::MaxTurnsExceeded { .. } => "max_turns",
        RunError::AgentTurnsExceeded { .. } => "agent_max_turns",
        RunError::HandoffLoop { .. } => "handoff_loop",
        RunError::Model { .. } => "model_error",
        RunError::UnknownAgent { .. } => "unknown_agent",
        RunError::InvalidInput { .. } => "invalid_input",
        _ => "shut_down",
    }
}
