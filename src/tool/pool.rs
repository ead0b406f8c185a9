//! `SyncToolPool`: CPU-bound tools on an actix `SyncArbiter`, one OS thread per worker.
//!
//! The pool's single mailbox feeds its threads; each thread owns a tool instance and runs one
//! call at a time, so N threads run N calls of a turn in parallel on N cores. A panic is caught
//! (it would otherwise kill the thread for good): that call gets an error output, and
//! `ctx.stop()` makes the `SyncArbiter` rebuild the worker from the factory on the same thread.
//! A factory that panics is caught too: the worker then has no instance, its calls get an
//! error output, and the next call after the pause (which doubles, as for async tools) tries
//! the factory again.
//!
//! The pool's threads run no tokio runtime, so their clock is the real one, even in a swarm in
//! virtual time (which therefore refuses blocking tools: see `SwarmBuilder::virtual_time`).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix::{Actor, ActorContext as _, Handler, Recipient, SyncArbiter, SyncContext};
use tokio::time::Instant;

use super::actor::{Broken, make};
use super::args;
use super::{BlockingTool, ToolCall, ToolDef, ToolError, ToolReply, output_text, result_of};

/// Makes the instances of a blocking tool, one per pool thread.
type Factory<T> = Arc<dyn Fn() -> T + Send + Sync>;

/// One pool thread's worker: a tool instance of its own.
pub(crate) struct PoolWorker<T: BlockingTool> {
    /// Boxed because actors must be `Unpin` and `T` need not be; `None` while the factory
    /// panics.
    tool: Option<Box<T>>,
    factory: Factory<T>,
    def: Arc<ToolDef>,
    /// Set while the factory panics, with when to try it again.
    broken: Option<(Broken, Instant)>,
}

impl<T: BlockingTool> PoolWorker<T> {
    /// A worker with a fresh instance, or none if the factory panicked.
    fn new(factory: Factory<T>, def: Arc<ToolDef>) -> Self {
        let mut worker = PoolWorker {
            tool: None,
            factory,
            def,
            broken: None,
        };
        worker.renew();
        worker
    }

    /// Tries the factory; on a panic, sets when to try it next.
    fn renew(&mut self) {
        match make(&*self.factory) {
            Ok(tool) => {
                if self.broken.take().is_some() {
                    tracing::info!(tool = self.def.name(), "tool factory works again");
                }
                self.tool = Some(Box::new(tool));
            }
            Err(message) => {
                let broken = Broken::after(self.broken.as_ref().map(|(b, _)| b), message);
                tracing::warn!(
                    tool = self.def.name(),
                    retry_ms = broken.delay.as_millis() as u64,
                    "tool factory panicked on a pool thread; trying again later"
                );
                let at = Instant::now() + broken.delay;
                self.broken = Some((broken, at));
            }
        }
    }
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
        if self.tool.is_none()
            && self
                .broken
                .as_ref()
                .is_none_or(|(_, at)| Instant::now() >= *at)
        {
            self.renew();
        }
        let Some(tool) = &mut self.tool else {
            let error = match &self.broken {
                Some((broken, _)) => broken.error(self.def.name()),
                None => ToolError::Unavailable {
                    tool: self.def.name().to_owned(),
                    reason: "it has no instance".to_owned(),
                },
            };
            let _ = call.reply.send(ToolReply {
                result: Err(Box::new(error)),
                restarts: self.def.restarts(),
            });
            return;
        };
        let name = self.def.name();
        let result = match args::into_typed::<T::Args>(call.arguments) {
            Err(message) => Err(Box::new(ToolError::InvalidArguments {
                tool: name.to_owned(),
                message,
            })),
            Ok(args) => {
                // The call sees its context through `ToolContext::current`.
                let ended = call.context.enter_thread(|| {
                    std::panic::catch_unwind(AssertUnwindSafe(|| match tool.call(args) {
                        Ok(output) => output_text(output).map(Into::into).map_err(|e| {
                            ToolError::failed(name, format!("its output is not serializable: {e}"))
                        }),
                        Err(e) => Err(ToolError::failed(name, e.to_string())),
                    }))
                });
                if ended.is_err() {
                    tracing::warn!(tool = name, "tool panicked; rebuilding its worker");
                    self.def.restarted();
                    ctx.stop(); // the SyncArbiter builds a fresh worker on this thread
                }
                result_of(name, ended)
            }
        };
        let _ = call.reply.send(ToolReply {
            result,
            restarts: self.def.restarts(),
        });
    }
}

/// Starts `threads` worker threads for a blocking tool and returns the pool's mailbox.
///
/// Must run inside the swarm's actix `System` (the pool's dispatcher actor lives there).
pub(crate) fn start<T: BlockingTool>(
    factory: Factory<T>,
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
        move || PoolWorker::new(Arc::clone(&factory), Arc::clone(&def)),
    );
    addr.recipient()
}
