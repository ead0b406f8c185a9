//! Streaming a run: what happens, as it happens.
//!
//! [`Swarm::run_streamed`](crate::Swarm::run_streamed) returns a [`RunStream`]: a stream of
//! [`StreamEvent`]s (text as a model writes it, tool calls as they finish, handoffs) and then
//! the run's result. The [`EventSink`] travels with the conversation across handoffs; the turn
//! loop reports tool calls and handoffs into it, and models that stream report their text
//! deltas through [`RequestContext::events`](crate::model::RequestContext::events).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::sync::{mpsc, oneshot};

use crate::model::restart::{Admit, TextGate};
use crate::run::{RunError, RunResult};

/// Something that happened in a streamed run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// A piece of text a model is writing (from providers that stream; the scripted model
    /// sends each text in one piece).
    TextDelta {
        /// The agent whose model writes it.
        agent: Arc<str>,
        /// The new text.
        delta: String,
    },
    /// A tool call finished.
    ToolCall {
        /// The agent that asked for it.
        agent: Arc<str>,
        /// The tool's name.
        name: Arc<str>,
        /// The call id.
        call_id: String,
        /// Whether it produced a result rather than an error output.
        ok: bool,
    },
    /// The conversation moved to another agent.
    Handoff {
        /// The agent handing off.
        from: Arc<str>,
        /// The agent taking over.
        to: Arc<str>,
    },
    /// A model stopped streaming the turns that offer tools, for the rest of the process (its
    /// server answered such a streamed request with no event at all); the turn was sent again
    /// without streaming.
    StreamingDisabled {
        /// The model entry's name.
        model: Arc<str>,
        /// Why.
        reason: String,
    },
    /// A streamed model request was retried part-way and its new attempt writes a different
    /// text: the text deltas of this turn before this event are void, and the ones after it
    /// are the answer. (A retry that writes the same text again sends no event and no
    /// repeated text: a listener sees the answer once.)
    Restarted {
        /// The agent whose model restarted.
        agent: Arc<str>,
        /// The attempt now writing (2 for the first retry).
        attempt: u32,
    },
}

/// Where a run's events go. Cheap to clone; sending never blocks and never fails the run
/// (events for a listener that went away are dropped).
#[derive(Debug, Clone)]
pub struct EventSink {
    tx: mpsc::UnboundedSender<StreamEvent>,
    /// For a sink a retried request writes through: what of its text is new.
    gate: Option<Arc<Mutex<TextGate>>>,
}

impl EventSink {
    /// Reports an event.
    pub fn send(&self, event: StreamEvent) {
        let _ = self.tx.send(event);
    }

    /// Reports a piece of text from `agent`'s model.
    pub fn text_delta(&self, agent: &str, delta: impl Into<String>) {
        let delta = delta.into();
        let delta = match &self.gate {
            None => delta,
            Some(gate) => {
                // Never held across an await; a poisoned gate is still a valid gate.
                let mut gate = gate
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match gate.admit(&delta) {
                    Admit::Hold => return,
                    Admit::Send(new) => new,
                    Admit::Restart(text) => {
                        self.send(StreamEvent::Restarted {
                            agent: Arc::from(agent),
                            attempt: gate.attempt(),
                        });
                        text
                    }
                }
            }
        };
        if delta.is_empty() {
            return;
        }
        self.send(StreamEvent::TextDelta {
            agent: Arc::from(agent),
            delta,
        });
    }

    /// A sink for the attempts of one request: text a retry repeats is sent once
    /// ([`TextGate`]). Call [`EventSink::begin_attempt`] before each attempt.
    pub(crate) fn gated(&self) -> EventSink {
        EventSink {
            tx: self.tx.clone(),
            gate: Some(Arc::new(Mutex::new(TextGate::default()))),
        }
    }

    /// Starts the next attempt of a gated sink's request.
    pub(crate) fn begin_attempt(&self) {
        if let Some(gate) = &self.gate {
            gate.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .begin_attempt();
        }
    }
}

/// A run in progress: its events, then its result.
///
/// # Examples
///
/// ```
/// use futures::StreamExt as _;
/// use baton::stream::StreamEvent;
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let topology = baton::topology::load("agents/math.yaml")?;
/// let swarm = topology.start()?;
/// let mut run = swarm.run_streamed("triage", "What is (12 + 30) * 2?");
/// let mut text = String::new();
/// while let Some(event) = run.next().await {
///     if let StreamEvent::TextDelta { delta, .. } = event {
///         text.push_str(&delta);
///     }
/// }
/// let result = run.result().await?;
/// assert_eq!(text, result.final_output);
/// swarm.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RunStream {
    events: mpsc::UnboundedReceiver<StreamEvent>,
    result: oneshot::Receiver<Result<RunResult, RunError>>,
}

impl RunStream {
    /// A stream and the sink and reply channel that feed it.
    pub(crate) fn channel() -> (
        Self,
        EventSink,
        oneshot::Sender<Result<RunResult, RunError>>,
    ) {
        let (tx, events) = mpsc::unbounded_channel();
        let (reply, result) = oneshot::channel();
        (
            RunStream { events, result },
            EventSink { tx, gate: None },
            reply,
        )
    }

    /// Waits for the run to end and returns its result (events not yet read are dropped).
    ///
    /// # Errors
    ///
    /// As [`Swarm::run`](crate::Swarm::run).
    pub async fn result(self) -> Result<RunResult, RunError> {
        self.result.await.unwrap_or(Err(RunError::ShutDown))
    }
}

impl futures::Stream for RunStream {
    type Item = StreamEvent;

    /// The next event; `None` once the run has ended and every event was read.
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        self.events.poll_recv(cx)
    }
}
