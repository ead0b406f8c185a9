//! `Fanout`: sends every tool call of one turn at once and collects the replies.
//!
//! One hand-written future per turn, instead of one boxed future per call: it sends each call
//! to its worker's mailbox (at most `max_tool_calls_in_flight` at a time, in call order), polls
//! the reply channels in place, and keeps a single timer armed for the earliest per-call
//! deadline or retry backoff. Every call ends with a result or a [`ToolError`], never a hang:
//! a closed mailbox, a dropped reply and an elapsed timeout each become that call's error, and
//! idempotent tools are retried after a backoff. Dropping a `Fanout` drops the reply channels
//! of the calls still running, which tells their workers to stop.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix::prelude::SendError;
use tokio::sync::oneshot;
use tokio::time::Sleep;

use crate::tool::args::{self, Arguments};
use crate::tool::{ToolCall, ToolEntry, ToolError};

/// A call to send: its tool, and the call id and arguments as the model wrote them.
pub(crate) struct Job<'a> {
    /// The call's position among the turn's calls.
    pub(crate) pos: usize,
    pub(crate) entry: Arc<ToolEntry>,
    pub(crate) call_id: &'a str,
    /// Checked arguments; taken by the first attempt.
    pub(crate) arguments: Option<Arguments>,
    /// The JSON text, for retries (which check it again).
    pub(crate) text: &'a str,
}

/// How a call ended, with its start and end offsets from the start of the run.
pub(crate) struct Outcome {
    pub(crate) result: Result<String, ToolError>,
    pub(crate) start: Duration,
    pub(crate) end: Duration,
}

type Reply = oneshot::Receiver<Result<String, ToolError>>;

enum State {
    /// Not sent yet (the in-flight cap).
    Waiting,
    /// Sent; the reply is due by `deadline`.
    Sent { reply: Reply, deadline: Instant },
    /// Failed; sent again at `until` (idempotent tools only).
    Backoff { until: Instant },
    /// Finished.
    Done(Outcome),
}

struct Slot<'a> {
    job: Job<'a>,
    state: State,
    /// Attempts made so far.
    attempts: u32,
    /// When the first attempt was sent.
    start: Duration,
}

/// The tool calls of one turn, in flight. Resolves when every call has an outcome.
pub(crate) struct Fanout<'a> {
    slots: Vec<Slot<'a>>,
    /// Offsets count from here (the run's start).
    started: Instant,
    /// `max_tool_calls_in_flight`.
    cap: usize,
    /// Calls sent and not answered.
    in_flight: usize,
    /// The run's default per-call timeout.
    default_timeout: Duration,
    /// One timer for the earliest deadline or backoff, and what it is armed for.
    timer: Pin<Box<Sleep>>,
    armed: Option<Instant>,
}

impl<'a> Fanout<'a> {
    pub(crate) fn new(
        jobs: Vec<Job<'a>>,
        started: Instant,
        cap: usize,
        default_timeout: Duration,
    ) -> Self {
        let slots = jobs
            .into_iter()
            .map(|job| Slot {
                job,
                state: State::Waiting,
                attempts: 0,
                start: Duration::ZERO,
            })
            .collect();
        Fanout {
            slots,
            started,
            cap: cap.max(1),
            in_flight: 0,
            default_timeout,
            timer: Box::pin(tokio::time::sleep_until(tokio::time::Instant::now())),
            armed: None,
        }
    }

    /// The outcomes, by call position; calls still running (after a cancel) have none.
    pub(crate) fn into_outcomes(self) -> impl Iterator<Item = (usize, Option<Outcome>)> + 'a {
        self.slots.into_iter().map(|slot| {
            let outcome = match slot.state {
                State::Done(outcome) => Some(outcome),
                _ => None,
            };
            (slot.job.pos, outcome)
        })
    }

    /// Sends (or re-sends) the call in `slots[i]`.
    fn send(&mut self, i: usize, now: Instant) -> Result<(), ToolError> {
        let offset = now.saturating_duration_since(self.started);
        let slot = &mut self.slots[i];
        if slot.attempts == 0 {
            slot.start = offset;
        }
        slot.attempts += 1;
        let entry = &slot.job.entry;
        let span = tracing::info_span!(
            "tool_call",
            tool = entry.def.name(),
            call_id = slot.job.call_id,
            attempt = slot.attempts
        );
        let arguments = match slot.job.arguments.take() {
            Some(arguments) => arguments,
            // A retry: the first attempt's arguments went to the worker.
            None => args::check(&entry.def, slot.job.text)?,
        };
        let (reply, answer) = oneshot::channel();
        let call = ToolCall {
            span,
            arguments,
            reply,
        };
        match entry.worker.try_send(call) {
            Ok(()) => {
                let timeout = entry.def.options().timeout.unwrap_or(self.default_timeout);
                slot.state = State::Sent {
                    reply: answer,
                    deadline: now + timeout,
                };
                self.in_flight += 1;
                Ok(())
            }
            Err(e) => Err(ToolError::Unavailable {
                tool: entry.def.name().to_owned(),
                reason: match e {
                    SendError::Closed(_) => "its worker has stopped",
                    SendError::Full(_) => "its mailbox is full",
                }
                .to_owned(),
            }),
        }
    }

    /// Records how an attempt ended: the call is done, or (idempotent tools) retried after a
    /// backoff. Replacing the state drops the attempt's reply channel, so a timed-out worker
    /// stops.
    fn settle(&mut self, i: usize, result: Result<String, ToolError>, now: Instant) {
        let slot = &mut self.slots[i];
        if matches!(slot.state, State::Sent { .. }) {
            self.in_flight -= 1;
        }
        let options = slot.job.entry.def.options();
        let retries = if options.idempotent {
            options.retries
        } else {
            0
        };
        slot.state = match result {
            Err(e) if e.is_retryable() && slot.attempts <= retries => {
                tracing::debug!(
                    tool = slot.job.entry.def.name(),
                    call_id = slot.job.call_id,
                    attempt = slot.attempts,
                    error = %e,
                    "retrying idempotent tool"
                );
                State::Backoff {
                    until: now + backoff(slot.attempts),
                }
            }
            result => State::Done(Outcome {
                result,
                start: slot.start,
                end: now.saturating_duration_since(self.started),
            }),
        };
    }

    /// Moves the call in `slots[i]` as far as it can go now.
    fn step(&mut self, i: usize, now: Instant, cx: &mut Context<'_>) -> Step {
        loop {
            let result = match &mut self.slots[i].state {
                State::Done(_) => return Step::Done,
                State::Waiting if self.in_flight >= self.cap => return Step::Blocked,
                State::Backoff { until } if *until > now => return Step::WaitUntil(*until),
                State::Waiting | State::Backoff { .. } => match self.send(i, now) {
                    Ok(()) => continue, // poll the fresh reply channel to register interest
                    Err(e) => Err(e),
                },
                State::Sent { reply, deadline } => match Pin::new(reply).poll(cx) {
                    Poll::Ready(Ok(result)) => result,
                    Poll::Ready(Err(_)) => Err(ToolError::Unavailable {
                        tool: self.slots[i].job.entry.def.name().to_owned(),
                        reason: "its worker dropped the call".to_owned(),
                    }),
                    Poll::Pending if *deadline <= now => {
                        let def = &self.slots[i].job.entry.def;
                        Err(ToolError::TimedOut {
                            tool: def.name().to_owned(),
                            after: def.options().timeout.unwrap_or(self.default_timeout),
                        })
                    }
                    Poll::Pending => return Step::WaitUntil(*deadline),
                },
            };
            self.settle(i, result, now);
        }
    }
}

/// Where one call stands after a [`Fanout::step`].
enum Step {
    /// It has its outcome.
    Done,
    /// It waits for room under the in-flight cap.
    Blocked,
    /// It waits for its reply (due by then) or for its backoff to end.
    WaitUntil(Instant),
}

impl Future for Fanout<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            let now = Instant::now();
            let (mut pending, mut blocked) = (false, false);
            let mut wake_at: Option<Instant> = None;
            // In call order, so calls held back by the cap go out in call order.
            for i in 0..this.slots.len() {
                match this.step(i, now, cx) {
                    Step::Done => {}
                    Step::Blocked => blocked = true,
                    Step::WaitUntil(at) => {
                        pending = true;
                        wake_at = Some(wake_at.map_or(at, |w| w.min(at)));
                    }
                }
            }
            if !pending && !blocked {
                return Poll::Ready(());
            }
            if blocked && this.in_flight < this.cap {
                continue; // a later call's reply freed room for an earlier waiting call
            }
            let Some(wake_at) = wake_at else {
                return Poll::Pending;
            };
            if wake_at <= now {
                continue;
            }
            if this.armed != Some(wake_at) {
                this.timer.as_mut().reset(wake_at.into());
                this.armed = Some(wake_at);
            }
            if this.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.armed = None;
        }
    }
}

/// The pause before retry `attempt` (1-based): 50 ms, doubling, at most 2 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(50u64.saturating_mul(1 << attempt.min(6).saturating_sub(1)))
        .min(Duration::from_secs(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(50));
        assert_eq!(backoff(2), Duration::from_millis(100));
        assert_eq!(backoff(3), Duration::from_millis(200));
        assert_eq!(backoff(30), Duration::from_millis(1600));
    }
}
