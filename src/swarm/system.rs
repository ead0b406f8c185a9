//! The actix `System` a swarm owns, on threads of its own.
//!
//! `Actor::start` panics outside an actix `System`, so an application on a plain
//! `#[tokio::main]` cannot host actors itself. The swarm starts a `baton-system` thread running
//! a `System`, and in it one arbiter per shard: an OS thread with its own event loop. Each shard
//! hosts an instance of every agent actor and async tool actor (see `swarm::core`). The
//! application only ever touches `Send + Sync` handles and oneshot channels, which work from
//! any runtime.
//!
//! Each shard's runtime is a tokio current-thread runtime, as actix builds by default; in
//! virtual time it starts with its clock paused (see `clock`). The `System` thread's clock
//! stays real: it hosts the shutdown grace timer, which must give runs real time to finish
//! (a paused clock there would jump to the end of every grace period at once, since that
//! thread idles while the shards work), and the blocking-pool dispatchers and tool-source
//! start-up, which are real-time work. Every thread of the swarm learns its clock and the
//! swarm's seed ([`clock::install`]) before it runs anything.

use std::sync::Arc;

use actix::{Arbiter, ArbiterHandle, System};
use futures::FutureExt as _;
use futures::future::Shared;
use tokio::sync::oneshot;

use crate::clock::{self, Chance, Setting};

/// What setup code running inside the `System` gets.
pub(crate) struct Inside {
    /// The `System` thread's arbiter (blocking-pool dispatchers and shutdown timers run here).
    pub(crate) system: ArbiterHandle,
    /// One arbiter per shard.
    pub(crate) shards: Vec<ArbiterHandle>,
}

/// A running `System` thread (clones are handles to the same thread).
#[derive(Clone)]
pub(crate) struct SystemThread {
    system: System,
    /// The swarm's generator (trace ids).
    chance: Arc<Chance>,
    /// Fires when the thread has stopped its arbiters and exited (every waiter sees it).
    exited: Shared<oneshot::Receiver<()>>,
}

impl SystemThread {
    /// Starts the `System` thread and `shards` arbiters (their clocks paused when
    /// `virtual_time`), runs `setup` inside the `System` (on its runtime, so tasks it spawns
    /// live on), and returns its result.
    pub(crate) fn start<T, F, Fut>(
        shards: usize,
        virtual_time: bool,
        chance: Chance,
        setup: F,
    ) -> std::io::Result<(Self, T)>
    where
        F: FnOnce(Inside) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = T> + 'static,
        T: Send + 'static,
    {
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (exited_tx, exited_rx) = oneshot::channel();
        let seed = chance.seed();
        std::thread::Builder::new()
            .name("baton-system".to_owned())
            .spawn(move || {
                clock::install(Setting {
                    virtual_time: false,
                    seed,
                });
                let runner = System::new();
                let started = runner.block_on(async move {
                    let shard = Setting { virtual_time, seed };
                    let arbiters = (0..shards.max(1))
                        .map(|_| Arbiter::try_with_tokio_rt(move || shard_runtime(shard)))
                        .collect::<std::io::Result<Vec<_>>>()?;
                    let inside = Inside {
                        system: System::current().arbiter().clone(),
                        shards: arbiters.iter().map(Arbiter::handle).collect(),
                    };
                    Ok::<_, std::io::Error>((System::current(), setup(inside).await, arbiters))
                });
                match started {
                    Ok((system, made, arbiters)) => {
                        if started_tx.send(Ok((system, made))).is_ok() {
                            // Runs until `System::stop`, which also stops the shard arbiters.
                            let _ = runner.run();
                        }
                        for arbiter in arbiters {
                            arbiter.stop();
                            let _ = arbiter.join();
                        }
                    }
                    Err(e) => {
                        let _ = started_tx.send(Err(e));
                    }
                }
                let _ = exited_tx.send(());
            })?;
        let (system, made) = wait_off_the_runtime(|| started_rx.recv()).map_err(|_| {
            std::io::Error::other("the swarm's system thread stopped during setup")
        })??;
        Ok((
            SystemThread {
                system,
                chance: Arc::new(chance),
                exited: exited_rx.shared(),
            },
            made,
        ))
    }

    /// The swarm's generator.
    pub(crate) fn chance(&self) -> &Chance {
        &self.chance
    }

    /// Asks the `System` to stop (returns at once).
    pub(crate) fn stop(&self) {
        self.system.stop();
    }

    /// Stops the `System` and waits until its thread and arbiters have exited.
    pub(crate) async fn stop_and_wait(&self) {
        self.stop();
        let _ = self.exited.clone().await;
    }
}

/// A shard's runtime, built on the shard's thread: current-thread with I/O and timers, as
/// actix's default, its clock paused in virtual time; the thread learns its setting first.
fn shard_runtime(setting: Setting) -> std::io::Result<tokio::runtime::Runtime> {
    clock::install(setting);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(setting.virtual_time)
        .build()
}

/// Runs `wait`, a short blocking wait (the setup above: starting threads and actors, no user
/// code), so that it never holds up other tasks: on a worker of a multi-thread tokio runtime,
/// through `block_in_place`, which first hands the worker's other tasks to another thread. On
/// a current-thread runtime nothing else could run meanwhile anyway, and outside a runtime
/// there are no tasks to hold up; there it simply blocks.
fn wait_off_the_runtime<R>(wait: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(wait)
        }
        _ => wait(),
    }
}

impl std::fmt::Debug for SystemThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemThread")
            .field("system", &self.system.id())
            .finish()
    }
}
