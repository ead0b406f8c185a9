//! Streaming a run: what happens, as it happens.
//!
//! [`Swarm::run_streamed`](crate::Swarm::run_streamed) returns a [`RunStream`]: a stream of
//! [`StreamEvent`]s (text as a model writes it, tool calls as they finish, handoffs) and then
//! the run's result. The [`EventSink`] travels with the conversation across handoffs; the turn
//! loop reports tool calls and handoffs into it, and models that stream report their text
//! deltas through [`RequestContext::events`](crate::model::RequestContext::events).
//!
//! # A slow reader
//!
//! At most [`EVENT_CAPACITY`] events wait for the reader; the run never waits for it. While
//! the queue is full, new events are dropped and counted, and the reader gets one
//! [`StreamEvent::Lagged`] with that count where they would have been (or last, if the run ends
//! first). Nothing the run produces is lost: its result holds the whole transcript, path and
//! timeline, and always arrives.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::sync::{mpsc, oneshot};

use crate::model::restart::{Admit, TextGate};
use crate::run::{RunError, RunResult};

/// The most events a run queues for a reader that has not read them yet (see
/// [`StreamEvent::Lagged`]).
pub const EVENT_CAPACITY: usize = 1024;

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
        /// How often the tool's workers had been restarted when the call ended.
        restarts: u32,
    },
    /// The conversation moved to another agent.
    Handoff {
        /// The agent handing off.
        from: Arc<str>,
        /// The agent taking over.
        to: Arc<str>,
    },
    /// The reader fell behind: this many events, which came here, were dropped because
    /// [`EVENT_CAPACITY`] events were waiting (text deltas and [`Restarted`](Self::Restarted)
    /// among them, so text read so far may be incomplete). The run's result still has all
    /// it did.
    Lagged {
        /// How many events were dropped.
        dropped: u64,
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
/// (events for a listener that went away are dropped, and so are events while
/// [`EVENT_CAPACITY`] wait for the reader: those are counted and reported as
/// [`StreamEvent::Lagged`]).
#[derive(Debug, Clone)]
pub struct EventSink {
    tx: mpsc::Sender<StreamEvent>,
    /// Events dropped and not yet reported, shared by every clone and by the reader.
    dropped: Arc<AtomicU64>,
    /// For a sink a retried request writes through: what of its text is new.
    gate: Option<Arc<Mutex<TextGate>>>,
}

impl EventSink {
    /// Reports an event (or counts it as dropped, if the reader is [`EVENT_CAPACITY`] events
    /// behind).
    pub fn send(&self, event: StreamEvent) {
        let dropped = self.dropped.load(Ordering::Acquire);
        if dropped > 0 {
            // The gap is reported where it happened, before anything that comes after it.
            match self.tx.try_send(StreamEvent::Lagged { dropped }) {
                Ok(()) => {
                    self.dropped.fetch_sub(dropped, Ordering::AcqRel);
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.dropped.fetch_add(1, Ordering::AcqRel);
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            }
        }
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(event) {
            self.dropped.fetch_add(1, Ordering::AcqRel);
        }
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
            dropped: Arc::clone(&self.dropped),
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
    events: mpsc::Receiver<StreamEvent>,
    /// Events the senders dropped and have not reported in the queue (reported at the end).
    dropped: Arc<AtomicU64>,
    result: oneshot::Receiver<Result<RunResult, RunError>>,
}

impl RunStream {
    /// A stream and the sink and reply channel that feed it.
    pub(crate) fn channel() -> (
        Self,
        EventSink,
        oneshot::Sender<Result<RunResult, RunError>>,
    ) {
        let (tx, events) = mpsc::channel(EVENT_CAPACITY);
        let (reply, result) = oneshot::channel();
        let dropped = Arc::new(AtomicU64::new(0));
        let sink = EventSink {
            tx,
            dropped: Arc::clone(&dropped),
            gate: None,
        };
        (
            RunStream {
                events,
                dropped,
                result,
            },
            sink,
            reply,
        )
    }

    /// How many events wait to be read now (at most [`EVENT_CAPACITY`]).
    pub fn queued(&self) -> usize {
        self.events.len()
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

    /// The next event; `None` once the run has ended and every event was read. Events dropped
    /// after the last one queued come as one [`StreamEvent::Lagged`] before the end.
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        match self.events.poll_recv(cx) {
            Poll::Ready(None) => match self.dropped.swap(0, Ordering::AcqRel) {
                0 => Poll::Ready(None),
                dropped => Poll::Ready(Some(StreamEvent::Lagged { dropped })),
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt as _;

    use super::*;

    fn delta(n: usize) -> StreamEvent {
        StreamEvent::TextDelta {
            agent: Arc::from("a"),
            delta: n.to_string(),
        }
    }

    // See: issue 9
    #[tokio::test]
    async fn a_reader_that_reads_nothing_holds_at_most_the_capacity_and_learns_what_it_missed() {
        let (mut stream, sink, reply) = RunStream::channel();
        let sent = 3 * EVENT_CAPACITY;
        for n in 0..sent {
            sink.clone().send(delta(n));
        }
        assert_eq!(stream.queued(), EVENT_CAPACITY);
        // Room again: the gap is reported in place, then the next event follows it.
        let first = stream.next().await;
        assert_eq!(first, Some(delta(0)));
        sink.send(delta(sent));
        let _ = reply.send(Err(RunError::ShutDown));
        drop(sink);
        let rest: Vec<StreamEvent> = stream.by_ref().collect().await;
        assert_eq!(rest.len(), EVENT_CAPACITY + 1);
        assert_eq!(rest[EVENT_CAPACITY - 2], delta(EVENT_CAPACITY - 1));
        let dropped = (sent - EVENT_CAPACITY) as u64;
        assert_eq!(rest[EVENT_CAPACITY - 1], StreamEvent::Lagged { dropped });
        // The event after the gap found no room (the gap's report took the last slot): it is
        // counted, and reported at the end.
        assert_eq!(rest[EVENT_CAPACITY], StreamEvent::Lagged { dropped: 1 });
        assert!(matches!(stream.result().await, Err(RunError::ShutDown)));
    }
}
