//! `Fanout`: sends every tool call of one turn at once and collects the replies.
//!
//! One hand-written future per turn, instead of one boxed future per call: it sends each call
//! to its worker's mailbox (at most `max_tool_calls_in_flight` at a time, in call order, and,
//! when the swarm caps tool calls across all runs, each holding one of its permits, which
//! waiting calls get first come first served), polls
//! the reply channels in place, and keeps a single timer armed for the earliest per-call
//! deadline or retry backoff. Outputs and timings go straight into the turn's [`Call`]s. Every
//! call ends with a result or a [`ToolError`], never a hang: a closed mailbox, a dropped reply
//! and an elapsed timeout each become that call's error, and idempotent tools are retried
//! after a backoff. Dropping a `Fanout` drops the reply channels of the calls still running,
//! which tells their workers to stop.
//!
//! Every instant here is tokio's ([`Instant`]), read on the shard, as the timer is: so under a
//! paused clock (a swarm in virtual time) a deadline is due exactly when the timer fires, and
//! the poll loop never wakes to find its deadline still ahead (which, with two clocks, made it
//! spin until real time caught up).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix::prelude::SendError;
use tokio::sync::{OwnedSemaphorePermit, oneshot};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::PollSemaphore;

use super::call::{Call, Plan};
use crate::item::Item;
use crate::tool::scope::RunScope;
use crate::tool::{ToolCall, ToolContext, ToolEntry, ToolError, ToolReply, args};

/// Where one tool call stands.
enum State {
    /// Not sent yet (the in-flight cap).
    Waiting,
    /// Sent; the reply is due by `deadline`.
    Sent {
        reply: oneshot::Receiver<ToolReply>,
        deadline: Instant,
    },
    /// Failed; sent again at `until` (idempotent tools only).
    Backoff { until: Instant },
    /// Finished; its output is in its `Call`.
    Done,
}

/// The progress of one tool call of the turn.
struct Job {
    /// Its position among the turn's calls.
    pos: usize,
    state: State,
    /// Attempts made so far.
    attempts: u32,
    /// When the first attempt was sent, from the start of the run.
    start: Duration,
    /// Its permit under the swarm-wide cap, while an attempt is in flight.
    permit: Option<OwnedSemaphorePermit>,
}

/// The tool calls of one turn, in flight. Resolves when every call has an outcome.
pub(crate) struct Fanout<'a> {
    /// The conversation (for each call's id and arguments text).
    items: &'a [Item],
    /// The turn's calls: tools, arguments, and where outputs go.
    calls: &'a mut [Call],
    /// One per tool call, in call order.
    jobs: Vec<Job>,
    /// Offsets count from here (the run's start).
    started: Instant,
    /// `max_tool_calls_in_flight`.
    cap: usize,
    /// Calls sent and not answered.
    in_flight: usize,
    /// The run's default per-call timeout.
    default_timeout: Duration,
    /// The run the calls belong to, passed to each worker.
    scope: Arc<RunScope>,
    /// The swarm-wide cap on tool calls in flight, if there is one.
    global: Option<PollSemaphore>,
    /// One timer for the earliest deadline or backoff, and what it is armed for.
    timer: Option<Pin<Box<Sleep>>>,
    armed: Option<Instant>,
}

/// Where one call stands after a [`Fanout::step`].
enum Step {
    /// It has its outcome.
    Done,
    /// It waits for room under the in-flight cap.
    Blocked,
    /// It waits for a permit under the swarm-wide cap (the semaphore wakes the turn).
    Queued,
    /// It waits for its reply (due by then) or for its backoff to end.
    WaitUntil(Instant),
}

impl<'a> Fanout<'a> {
    /// Prepares the tool calls among `calls` (the others already have their outputs).
    pub(crate) fn new(
        items: &'a [Item],
        calls: &'a mut [Call],
        started: Instant,
        cap: usize,
        default_timeout: Duration,
        scope: Arc<RunScope>,
        global: Option<Arc<tokio::sync::Semaphore>>,
    ) -> Self {
        let jobs = calls
            .iter()
            .enumerate()
            .filter(|(_, call)| matches!(call.plan, Plan::Tool(..)))
            .map(|(pos, _)| Job {
                pos,
                state: State::Waiting,
                attempts: 0,
                start: Duration::ZERO,
                permit: None,
            })
            .collect();
        Fanout {
            items,
            calls,
            jobs,
            started,
            cap: cap.max(1),
            in_flight: 0,
            default_timeout,
            scope,
            global: global.map(PollSemaphore::new),
            timer: None,
            armed: None,
        }
    }

    /// Whether the turn has no tool call to send.
    pub(crate) fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// The tool of the call at `pos`.
    fn entry(&self, pos: usize) -> Option<&ToolEntry> {
        match &self.calls[pos].plan {
            Plan::Tool(entry, _) => Some(entry),
            _ => None,
        }
    }

    /// The call id and arguments text of the call at `pos`.
    fn call_text(&self, pos: usize) -> (&'a str, &'a str) {
        match &self.items[self.calls[pos].item] {
            Item::FunctionCall {
                call_id, arguments, ..
            } => (call_id, arguments),
            _ => ("", ""),
        }
    }

    /// The timeout of the tool of the call at `pos`.
    fn timeout(&self, pos: usize) -> Duration {
        self.entry(pos)
            .and_then(|entry| entry.def.options().timeout)
            .unwrap_or(self.default_timeout)
    }

    /// Sends (or re-sends) job `j`'s call.
    fn send(&mut self, j: usize, now: Instant) -> Result<(), ToolError> {
        let pos = self.jobs[j].pos;
        let (call_id, text) = self.call_text(pos);
        let Plan::Tool(entry, arguments) = &mut self.calls[pos].plan else {
            return Ok(()); // jobs are only made for tool calls
        };
        let arguments = match arguments.take() {
            Some(arguments) => arguments,
            // A retry: the first attempt's arguments went to the worker.
            None => args::check(&entry.def, text)?,
        };
        let job = &mut self.jobs[j];
        if job.attempts == 0 {
            job.start = now.saturating_duration_since(self.started);
        }
        job.attempts += 1;
        let span = tracing::info_span!(
            "tool_call",
            tool = entry.def.name(),
            call_id,
            attempt = job.attempts
        );
        let (reply, answer) = oneshot::channel();
        let timeout = entry.def.options().timeout.unwrap_or(self.default_timeout);
        let deadline = later(now, timeout);
        // The turn's scope has a slot per tool call, in the order of `jobs`.
        let context = ToolContext::new(Arc::clone(&self.scope), j, job.attempts, deadline);
        let call = ToolCall {
            span,
            arguments,
            reply,
            context,
        };
        match entry.worker.try_send(call) {
            Ok(()) => {
                job.state = State::Sent {
                    reply: answer,
                    deadline,
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

    /// Records how an attempt ended: the call is done (its output goes into its `Call`), or,
    /// for idempotent tools, retried after a backoff. Replacing the state drops the attempt's
    /// reply channel, so a timed-out worker stops.
    fn settle(
        &mut self,
        j: usize,
        (result, restarts): (Result<crate::tool::output::Output, ToolError>, u32),
        now: Instant,
    ) {
        if matches!(self.jobs[j].state, State::Sent { .. }) {
            self.in_flight -= 1;
        }
        self.jobs[j].permit = None;
        let pos = self.jobs[j].pos;
        let retries = self.entry(pos).map_or(0, |entry| {
            let options = entry.def.options();
            if options.idempotent {
                options.retries
            } else {
                0
            }
        });
        let job = &mut self.jobs[j];
        match result {
            Err(e) if e.is_retryable() && job.attempts <= retries => {
                tracing::debug!(attempt = job.attempts, error = %e, "retrying idempotent tool");
                job.state = State::Backoff {
                    until: later(now, backoff(job.attempts)),
                };
            }
            result => {
                job.state = State::Done;
                let end = now.saturating_duration_since(self.started);
                let call = &mut self.calls[pos];
                call.timing = Some((job.start, end, result.is_ok()));
                call.restarts = restarts;
                match result {
                    Ok(output) => {
                        call.output = Some(output.text);
                        call.images = output.images;
                    }
                    Err(e) => {
                        call.error = Some(e.kind());
                        call.output = Some(e.to_output());
                    }
                }
            }
        }
    }

    /// Moves job `j` as far as it can go now. `queued` says whether an earlier call already
    /// waits for a swarm-wide permit (later calls then wait behind it, in call order).
    fn step(&mut self, j: usize, now: Instant, queued: bool, cx: &mut Context<'_>) -> Step {
        loop {
            let restarts = |entry: Option<&ToolEntry>| entry.map_or(0, |e| e.def.restarts());
            let result = match &mut self.jobs[j].state {
                State::Done => return Step::Done,
                State::Waiting if self.in_flight >= self.cap => return Step::Blocked,
                State::Backoff { until } if *until > now => return Step::WaitUntil(*until),
                State::Waiting | State::Backoff { .. } => {
                    if !self.take_permit(j, queued, cx) {
                        return Step::Queued;
                    }
                    match self.send(j, now) {
                        Ok(()) => continue, // poll the fresh reply channel to register interest
                        Err(e) => (Err(e), restarts(self.entry(self.jobs[j].pos))),
                    }
                }
                State::Sent { reply, deadline } => match Pin::new(reply).poll(cx) {
                    Poll::Ready(Ok(reply)) => (reply.result.map_err(|e| *e), reply.restarts),
                    Poll::Ready(Err(_)) => (
                        Err(ToolError::Unavailable {
                            tool: self.tool_name(j),
                            reason: "its worker dropped the call".to_owned(),
                        }),
                        restarts(self.entry(self.jobs[j].pos)),
                    ),
                    Poll::Pending if *deadline <= now => (
                        Err(ToolError::TimedOut {
                            tool: self.tool_name(j),
                            after: self.timeout(self.jobs[j].pos),
                        }),
                        restarts(self.entry(self.jobs[j].pos)),
                    ),
                    Poll::Pending => return Step::WaitUntil(*deadline),
                },
            };
            self.settle(j, result, now);
        }
    }

    /// Gets job `j` a permit under the swarm-wide cap, if there is one; `false` if it must
    /// wait (the semaphore then wakes the turn, or an earlier call waits already).
    fn take_permit(&mut self, j: usize, queued: bool, cx: &mut Context<'_>) -> bool {
        let Some(global) = &mut self.global else {
            return true;
        };
        if self.jobs[j].permit.is_some() {
            return true;
        }
        if queued {
            return false;
        }
        match global.poll_acquire(cx) {
            Poll::Ready(Some(permit)) => {
                self.jobs[j].permit = Some(permit);
                true
            }
            // The semaphore is never closed; a closed one would mean no cap.
            Poll::Ready(None) => true,
            Poll::Pending => false,
        }
    }

    fn tool_name(&self, j: usize) -> String {
        self.entry(self.jobs[j].pos)
            .map_or_else(String::new, |entry| entry.def.name().to_owned())
    }
}

impl Future for Fanout<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            let now = Instant::now();
            let (mut pending, mut blocked, mut queued) = (false, false, false);
            let mut wake_at: Option<Instant> = None;
            // In call order, so calls held back by the caps go out in call order.
            for j in 0..this.jobs.len() {
                match this.step(j, now, queued, cx) {
                    Step::Done => {}
                    Step::Blocked => blocked = true,
                    Step::Queued => {
                        queued = true;
                        pending = true;
                    }
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
            let timer = this
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(wake_at)));
            if this.armed != Some(wake_at) {
                timer.as_mut().reset(wake_at);
                this.armed = Some(wake_at);
            }
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.armed = None;
        }
    }
}

/// `now + wait`, or a date about a century away where that does not fit in an `Instant`
/// (`Duration::MAX` means "never" in the Rust API's timeouts).
fn later(now: Instant, wait: Duration) -> Instant {
    /// Far enough to be never, near enough that `Instant` and tokio's timer hold it.
    const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
    now.checked_add(wait.min(FAR))
        .or_else(|| now.checked_add(Duration::from_secs(24 * 60 * 60)))
        .unwrap_or(now)
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

    // See: issue 9
    #[test]
    fn a_timeout_of_duration_max_saturates_instead_of_overflowing() {
        let now = Instant::now();
        let at = later(now, Duration::MAX);
        assert!(at > now + Duration::from_secs(365 * 24 * 60 * 60));
        assert_eq!(
            later(now, Duration::from_millis(5)),
            now + Duration::from_millis(5)
        );
    }
}
