//! `ToolActor`: the worker actor of one async tool on one shard.
//!
//! Its mailbox takes [`ToolCall`]s from the turn loops of its shard. The handler only starts
//! the call as a task on the shard's event loop and returns, so a slow call never blocks the
//! mailbox and the calls of one turn run at once. A semaphore shared by the tool's actors on
//! every shard enforces `max_concurrency`. A panic is caught:
//! that call gets an error output and the actor swaps in a fresh tool instance from its factory
//! (a [`Restart`] message), while the other calls carry on.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use actix::{Actor, AsyncContext, Context, Handler, Message, Recipient, WeakAddr};
use futures::FutureExt as _;
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use super::args::{Arguments, into_typed};
use super::error::panic_message;
use super::{Tool, ToolCall, ToolDef, ToolError, output_text};

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
    /// This actor's own address, for the `Restart` a panicking call sends.
    me: Option<WeakAddr<Self>>,
}

impl<T: Tool> Actor for ToolActor<T> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.me = Some(ctx.address().downgrade());
    }
}

/// Tells a tool actor to replace its instance after a panic.
#[derive(Message)]
#[rtype(result = "()")]
struct Restart;

impl<T: Tool> Handler<Restart> for ToolActor<T> {
    type Result = ();

    fn handle(&mut self, _: Restart, _: &mut Context<Self>) {
        tracing::warn!(
            tool = self.def.name(),
            "tool panicked; using a fresh instance"
        );
        self.tool = Arc::new((self.factory)());
    }
}

impl<T: Tool> Handler<ToolCall> for ToolActor<T> {
    type Result = ();

    fn handle(&mut self, call: ToolCall, _: &mut Context<Self>) {
        let tool = Arc::clone(&self.tool);
        let def = Arc::clone(&self.def);
        let limit = self.limit.clone();
        let me = self.me.clone();
        actix::spawn(async move {
            let ToolCall {
                arguments,
                mut reply,
                span,
            } = call;
            let work = async {
                let _permit = match &limit {
                    // The semaphore is never closed, so acquire only fails if it were.
                    Some(semaphore) => Some(semaphore.acquire().await.ok()),
                    None => None,
                };
                run_call(&*tool, &def, arguments, me).await
            }
            .instrument(span);
            tokio::select! {
                biased;
                result = work => { let _ = reply.send(result); }
                // The caller gave up (timeout, shutdown): stop the work.
                () = reply.closed() => {}
            }
        });
    }
}

/// Deserializes the arguments, runs the call, and turns every failure into a `ToolError`.
async fn run_call<T: Tool>(
    tool: &T,
    def: &ToolDef,
    arguments: Arguments,
    me: Option<WeakAddr<ToolActor<T>>>,
) -> Result<String, ToolError> {
    let name = || def.name().to_owned();
    let args: T::Args = into_typed(arguments).map_err(|message| ToolError::InvalidArguments {
        tool: name(),
        message,
    })?;
    match AssertUnwindSafe(tool.call(args)).catch_unwind().await {
        Ok(Ok(output)) => output_text(output).map_err(|e| ToolError::Failed {
            tool: name(),
            message: format!("its output is not serializable: {e}"),
        }),
        Ok(Err(e)) => Err(ToolError::Failed {
            tool: name(),
            message: e.to_string(),
        }),
        Err(payload) => {
            if let Some(addr) = me.and_then(|weak| weak.upgrade()) {
                addr.do_send(Restart);
            }
            Err(ToolError::Panicked {
                tool: name(),
                message: panic_message(&*payload),
            })
        }
    }
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
    let addr = ToolActor::start_in_arbiter(arbiter, move |ctx: &mut Context<ToolActor<T>>| {
        // Unbounded mailbox: the handler never blocks, and limits are the semaphores.
        ctx.set_mailbox_capacity(0);
        ToolActor {
            tool,
            factory,
            def,
            limit,
            me: None,
        }
    });
    addr.recipient()
}
