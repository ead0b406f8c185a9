//! `ToolActor`: the worker actor of one async tool on one shard.
//!
//! Its mailbox takes [`ToolCall`]s from the turn loops of its shard. The handler only starts
//! the call as a task on the shard's event loop and returns, so a slow call never blocks the
//! mailbox and the calls of one turn run at once. A semaphore shared by the tool's actors on
//! every shard enforces `max_concurrency`. A panic is caught: that call gets an error output,
//! the other calls carry on, and the actor takes a fresh tool instance from its factory before
//! its next call.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix::{Actor, Context, Handler, Recipient};
use futures::FutureExt as _;
use tokio::sync::{Semaphore, oneshot};
use tracing::Instrument as _;

use super::args::into_typed;
use super::{Tool, ToolCall, ToolDef, ToolError, ToolReply, reply_of};

/// Makes tool instances: once at start, and again after a panic.
pub(crate) type Factory<T> = Arc<dyn Fn() -> T + Send + Sync>;

/// The worker actor of an async tool.
pub(crate) struct ToolActor<T: Tool> {
    /// The instance new calls use.
    tool: Arc<T>,
    /// Where fresh instances come from.
    factory: Factory<T>,
    /// Name, options.
    def: Arc<ToolDef>,
    /// `max_concurrency` permits, if capped; shared with the tool's actors on other shards.
    limit: Option<Arc<Semaphore>>,
    /// Set by a call that panicked: the next call gets a fresh instance.
    panicked: Arc<AtomicBool>,
}

impl<T: Tool> Actor for ToolActor<T> {
    type Context = Context<Self>;
}

impl<T: Tool> Handler<ToolCall> for ToolActor<T> {
    type Result = ();

    fn handle(&mut self, call: ToolCall, _: &mut Context<Self>) {
        if self.panicked.swap(false, Ordering::Relaxed) {
            tracing::warn!(
                tool = self.def.name(),
                "tool panicked; using a fresh instance"
            );
            self.tool = Arc::new((self.factory)());
        }
        let ToolCall {
            arguments,
            reply,
            span,
        } = call;
        let args = match into_typed::<T::Args>(arguments) {
            Ok(args) => args,
            Err(message) => {
                let _ = reply.send(Err(Box::new(ToolError::InvalidArguments {
                    tool: self.def.name().to_owned(),
                    message,
                })));
                return;
            }
        };
        let call = run_call(
            Arc::clone(&self.tool),
            Arc::clone(&self.def),
            self.limit.clone(),
            Arc::clone(&self.panicked),
            args,
            reply,
        );
        // Each call is a task of its own on the shard, so calls overlap and none holds the
        // mailbox. Without a subscriber the span is skipped, keeping the task small.
        if span.is_disabled() {
            actix::spawn(call);
        } else {
            actix::spawn(call.instrument(span));
        }
    }
}

/// Runs one call and sends its outcome, every failure turned into a `ToolError`. Stops early,
/// sending nothing, if the caller gives up (timeout, shutdown).
async fn run_call<T: Tool>(
    tool: Arc<T>,
    def: Arc<ToolDef>,
    limit: Option<Arc<Semaphore>>,
    panicked: Arc<AtomicBool>,
    args: T::Args,
    mut reply: oneshot::Sender<ToolReply>,
) {
    // The semaphore is never closed, so acquire only fails if it were.
    let _permit = match &limit {
        Some(semaphore) => semaphore.acquire().await.ok(),
        None => None,
    };
    let outcome = tokio::select! {
        biased;
        outcome = AssertUnwindSafe(tool.call(args)).catch_unwind() => outcome,
        () = reply.closed() => return,
    };
    if outcome.is_err() {
        panicked.store(true, Ordering::Relaxed);
    }
    let _ = reply.send(reply_of(def.name(), outcome));
}

/// Starts the tool's worker actor on each shard's arbiter and returns their mailboxes, in
/// shard order.
pub(crate) fn start<T: Tool>(
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
            start_one(
                Arc::clone(&factory),
                Arc::clone(&def),
                limit.clone(),
                arbiter,
            )
        })
        .collect()
}

fn start_one<T: Tool>(
    factory: Factory<T>,
    def: Arc<ToolDef>,
    limit: Option<Arc<Semaphore>>,
    arbiter: &actix::ArbiterHandle,
) -> Recipient<ToolCall> {
    let tool = Arc::new(factory());
    crate::mailbox::start_unbounded(arbiter, move || ToolActor {
        tool,
        factory,
        def,
        limit,
        panicked: Arc::new(AtomicBool::new(false)),
    })
    .recipient()
}
