//! `ToolActor`: the worker actor of one async tool on one shard.
//!
//! It serves any [`Body`]: a typed [`Tool`](super::Tool) or a
//! [`DynamicTool`](super::DynamicTool). Its mailbox takes [`ToolCall`]s from the turn loops of
//! its shard. The handler only starts the call as a task on the shard's event loop and
//! returns, so a slow call never blocks the mailbox and the calls of one turn run at once. A
//! semaphore shared by the tool's actors on every shard enforces `max_concurrency`; a call
//! whose caller gave up (timeout, shutdown) while it waited for a permit never starts. Each
//! call runs inside its [`ToolContext`]; when its caller gives up while it runs, the context's
//! signal fires, the call is polled once more (to see it and start cleaning up), then
//! dropped. A panic is caught: that call gets an error output, the other calls carry on, and
//! the actor takes a fresh tool instance from its factory before its next call (the tool's
//! restart count, which the run's events show, goes up). A factory that panics is caught too ([`Broken`]): calls get
//! an error output while there is no instance, and the factory is tried again after a pause
//! that doubles from [`FIRST_RETRY`] to [`MAX_RETRY`].

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix::{Actor, AsyncContext as _, Context, Handler, Recipient};
use futures::FutureExt as _;
use tokio::sync::{Semaphore, oneshot};
use tracing::Instrument as _;

use super::body::Body;
use super::error::panic_message;
use super::{CALL_CONTEXT, ToolCall, ToolContext, ToolDef, ToolError, ToolReply};

/// Makes tool instances: once at start, and again after a panic.
pub(crate) type Factory<T> = Arc<dyn Fn() -> T + Send + Sync>;

/// The pause before a factory that panicked is tried again the first time.
pub(crate) const FIRST_RETRY: Duration = Duration::from_millis(50);

/// The longest pause between two tries of a factory that keeps panicking.
pub(crate) const MAX_RETRY: Duration = Duration::from_secs(5);

/// Why a tool worker has no instance: its factory panicked.
#[derive(Debug, Clone)]
pub(crate) struct Broken {
    /// The factory's panic message.
    message: String,
    /// The pause before the next try.
    pub(crate) delay: Duration,
}

impl Broken {
    /// The state after the factory panicked with `message`, `before` being the state after
    /// the previous try (if it panicked too): the pause doubles, up to [`MAX_RETRY`].
    pub(crate) fn after(before: Option<&Broken>, message: String) -> Self {
        let delay = before.map_or(FIRST_RETRY, |b| b.delay.saturating_mul(2).min(MAX_RETRY));
        Broken { message, delay }
    }

    /// The error output of a call made while there is no instance.
    pub(crate) fn error(&self, tool: &str) -> ToolError {
        ToolError::Unavailable {
            tool: tool.to_owned(),
            reason: format!(
                "making an instance of it panicked ({}); trying again in {} ms",
                self.message,
                self.delay.as_millis()
            ),
        }
    }
}

/// Calls `factory`, catching a panic (returned as its message).
pub(crate) fn make<T>(factory: &(dyn Fn() -> T + Send + Sync)) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(factory)).map_err(|payload| panic_message(&*payload))
}

/// The worker actor of an async tool.
pub(crate) struct ToolActor<T: Body> {
    /// The instance new calls use; `None` while the factory panics.
    tool: Option<Arc<T>>,
    /// Where fresh instances come from.
    factory: Factory<T>,
    /// Name, options.
    def: Arc<ToolDef>,
    /// `max_concurrency` permits, if capped; shared with the tool's actors on other shards.
    limit: Option<Arc<Semaphore>>,
    /// Set by a call that panicked: the next call gets a fresh instance.
    panicked: Arc<AtomicBool>,
    /// Set while the factory panics; a retry is then scheduled on the actor's timer.
    broken: Option<Broken>,
}

impl<T: Body> ToolActor<T> {
    /// Makes a fresh instance; if the factory panics, schedules the next try.
    fn renew(&mut self, ctx: &mut Context<Self>) {
        match make(&*self.factory) {
            Ok(tool) => {
                if self.broken.take().is_some() {
                    tracing::info!(tool = self.def.name(), "tool factory works again");
                }
                self.tool = Some(Arc::new(tool));
            }
            Err(message) => {
                let broken = Broken::after(self.broken.as_ref(), message);
                tracing::warn!(
                    tool = self.def.name(),
                    error = %broken.message,
                    retry_ms = broken.delay.as_millis() as u64,
                    "tool factory panicked; trying again later"
                );
                self.tool = None;
                ctx.run_later(broken.delay, |actor, ctx| actor.renew(ctx));
                self.broken = Some(broken);
            }
        }
    }
}

impl<T: Body> Actor for ToolActor<T> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.renew(ctx);
    }
}

impl<T: Body> Handler<ToolCall> for ToolActor<T> {
    type Result = ();

    fn handle(&mut self, call: ToolCall, ctx: &mut Context<Self>) {
        if call.reply.is_closed() {
            return; // the caller gave up while the call sat in the mailbox
        }
        if self.panicked.swap(false, Ordering::Relaxed) {
            tracing::warn!(
                tool = self.def.name(),
                "tool panicked; using a fresh instance"
            );
            self.tool = None;
            if self.broken.is_none() {
                self.renew(ctx); // else a retry is already scheduled
            }
        }
        let ToolCall {
            arguments,
            reply,
            span,
            context,
        } = call;
        let answer = |error: ToolError| ToolReply {
            result: Err(Box::new(error)),
            restarts: self.def.restarts(),
        };
        let Some(tool) = &self.tool else {
            let error = match &self.broken {
                Some(broken) => broken.error(self.def.name()),
                None => ToolError::Unavailable {
                    tool: self.def.name().to_owned(),
                    reason: "it has no instance".to_owned(),
                },
            };
            let _ = reply.send(answer(error));
            return;
        };
        let args = match T::parse(arguments) {
            Ok(args) => args,
            Err(message) => {
                let _ = reply.send(answer(ToolError::InvalidArguments {
                    tool: self.def.name().to_owned(),
                    message,
                }));
                return;
            }
        };
        let call = run_call(
            Arc::clone(tool),
            Arc::clone(&self.def),
            self.limit.clone(),
            Arc::clone(&self.panicked),
            args,
            reply,
        );
        // Each call is a task of its own on the shard, so calls overlap and none holds the
        // mailbox; it runs inside its context (`ToolContext::current`, and nested runs).
        spawn_traced(CALL_CONTEXT.scope(context, call), span);
    }
}

/// Spawns a call's task on the shard, under its span; without a subscriber the span is
/// skipped, keeping the task small.
fn spawn_traced(call: impl Future<Output = ()> + 'static, span: tracing::Span) {
    if span.is_disabled() {
        actix::spawn(call);
    } else {
        actix::spawn(call.instrument(span));
    }
}

/// Runs one call and sends its outcome, every failure turned into a `ToolError`. Stops early,
/// sending nothing, if the caller gives up (timeout, shutdown): while the call waits for a
/// permit (it then never starts) or while it runs (its context's signal fires, and it is
/// polled once more, then dropped).
async fn run_call<T: Body>(
    tool: Arc<T>,
    def: Arc<ToolDef>,
    limit: Option<Arc<Semaphore>>,
    panicked: Arc<AtomicBool>,
    args: T::Args,
    mut reply: oneshot::Sender<ToolReply>,
) {
    let permit = match &limit {
        Some(semaphore) => tokio::select! {
            biased;
            () = reply.closed() => return,
            // The semaphore is never closed, so acquire only fails if it were.
            permit = semaphore.acquire() => permit.ok(),
        },
        None => None,
    };
    if reply.is_closed() {
        return;
    }
    let call = AssertUnwindSafe(tool.run(args)).catch_unwind();
    let mut call = std::pin::pin!(call);
    let outcome = tokio::select! {
        biased;
        () = reply.closed() => {
            // The caller is gone: its permit goes to the next call; the call sees the signal
            // on one more poll (and may start cleaning up: kill a process group, tell a
            // server), then is dropped, its drop guards doing the rest.
            drop(permit);
            // The task runs in its call's context (see `handle`).
            let _ = CALL_CONTEXT.try_with(ToolContext::cancel);
            if let std::task::Poll::Ready(Err(_)) = futures::poll!(&mut call) {
                panicked.store(true, Ordering::Relaxed);
                def.restarted();
            }
            return;
        }
        outcome = &mut call => outcome,
    };
    if outcome.is_err() {
        panicked.store(true, Ordering::Relaxed);
        def.restarted();
    }
    drop(permit);
    let _ = reply.send(ToolReply {
        result: super::result_of(def.name(), outcome.map(|done| T::finish(def.name(), done))),
        restarts: def.restarts(),
    });
}

/// Starts the tool's worker actor on each shard's arbiter and returns their mailboxes, in
/// shard order. Each actor makes its first instance on its own shard, as it starts.
pub(crate) fn start<T: Body>(
    factory: Factory<T>,
    def: Arc<ToolDef>,
    shards: &[actix::ArbiterHandle],
) -> Vec<Recipient<ToolCall>> {
    let limit = def
        .options()
        .max_concurrency
        .map(|n| Arc::new(Semaphore::new(n.max(1))));
    shards
        .iter()
        .map(|arbiter| {
            let (factory, def, limit) = (Arc::clone(&factory), Arc::clone(&def), limit.clone());
            crate::mailbox::start_unbounded(arbiter, move || ToolActor {
                tool: None,
                factory,
                def,
                limit,
                panicked: Arc::new(AtomicBool::new(false)),
                broken: None,
            })
            .recipient()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_between_factory_tries_doubles_up_to_five_seconds() {
        let mut broken: Option<Broken> = None;
        let mut delays = Vec::new();
        for _ in 0..10 {
            let next = Broken::after(broken.as_ref(), "boom".to_owned());
            delays.push(next.delay.as_millis());
            broken = Some(next);
        }
        assert_eq!(
            delays,
            [50, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]
        );
    }

    #[test]
    fn a_panicking_factory_is_caught_with_its_message() {
        let factory = || -> u8 { panic!("no database") };
        assert_eq!(make(&factory), Err("no database".to_owned()));
        assert_eq!(make(&|| 7_u8), Ok(7));
    }
}
