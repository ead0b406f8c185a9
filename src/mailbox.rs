//! Starting an actor whose mailbox is unbounded from its very first message.
//!
//! Baton's handlers never block (they start a task and return), and its real limits are
//! semaphores and counts, so its actors take every message at once. actix's
//! `start_in_arbiter` creates the mailbox with a capacity of 16 and lets the actor change it
//! only once its arbiter has started it, so a burst of messages sent right after start could
//! find a "full" mailbox. Here the channel is unbounded (capacity 0) before the address exists.

use actix::dev::channel;
use actix::{Actor, Addr, ArbiterHandle, Context};

/// Starts the actor `make` builds on `arbiter` and returns its address at once.
pub(crate) fn start_unbounded<A>(
    arbiter: &ArbiterHandle,
    make: impl FnOnce() -> A + Send + 'static,
) -> Addr<A>
where
    A: Actor<Context = Context<A>>,
{
    // Capacity 0 means unbounded in actix's channel.
    let (sender, receiver) = channel::channel(0);
    arbiter.spawn_fn(move || {
        Context::with_receiver(receiver).run(make());
    });
    Addr::new(sender)
}
