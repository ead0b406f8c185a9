//! `SyncToolPool`: CPU-bound tools on an actix `SyncArbiter`, one OS thread per worker.
//!
//! The pool's single mailbox feeds its threads; each thread owns a tool instance and runs one
//! call at a time, so N threads run N calls of a turn in parallel on N cores. A panic is caught
//! (it would otherwise kill the thread for good): that call gets an error output, and
//! `ctx.stop()` makes the `SyncArbiter` rebuild the worker from the factory on the same thread.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix::{Actor, ActorContext as _, Handler, Recipient, SyncArbiter, SyncContext};

use super::args;
use super::{BlockingTool, ToolCall, ToolDef, ToolError, reply_of};

/// One pool thread's worker: a tool instance of its own.
pub(crate) struct PoolWorker<T: BlockingTool> {
    /// Boxed because actors must be `Unpin` and `T` need not be.
    tool: Box<T>,
    def: Arc<ToolDef>,
}

impl<T: BlockingTool> Actor for PoolWorker<T> {
    type Context = SyncContext<Self>;
}

impl<T: BlockingTool> Handler<ToolCall> for PoolWorker<T> {
    type Result = ();

    fn handle(&mut self, call: ToolCall, ctx: &mut SyncContext<Self>) {
        if call.reply.is_closed() {
            // The caller gave up while the call waited for a thread.
            return;
        }
        let _span = call.span.enter(); // synchronous: the guard never crosses an await
        let reply = match args::into_typed::<T::Args>(call.arguments) {
            Err(message) => Err(Box::new(ToolError::InvalidArguments {
                tool: self.def.name().to_owned(),
                message,
            })),
            Ok(args) => {
                let ended = std::panic::catch_unwind(AssertUnwindSafe(|| self.tool.call(args)));
                if ended.is_err() {
                    tracing::warn!(
                        tool = self.def.name(),
                        "tool panicked; rebuilding its worker"
                    );
                    ctx.stop(); // the SyncArbiter builds a fresh worker on this thread
                }
                reply_of(self.def.name(), ended)
            }
        };
        let _ = call.reply.send(reply);
    }
}

/// Starts `threads` worker threads for a blocking tool and returns the pool's mailbox.
///
/// Must run inside the swarm's actix `System` (the pool's dispatcher actor lives there).
pub(crate) fn start<T: BlockingTool>(
    factory: Arc<dyn Fn() -> T + Send + Sync>,
    def: Arc<ToolDef>,
    threads: usize,
) -> Recipient<ToolCall> {
    let counter = AtomicUsize::new(0);
    let thread_name = format!("baton-{}", def.name());
    let addr = SyncArbiter::start_with_thread_builder(
        threads.max(1),
        move || {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            std::thread::Builder::new().name(format!("{thread_name}-{n}"))
        },
        move || PoolWorker {
            tool: Box::new(factory()),
            def: Arc::clone(&def),
        },
    );
    addr.recipient()
}
