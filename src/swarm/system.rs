//! The actix `System` a swarm owns, on a thread of its own.
//!
//! `Actor::start` panics outside an actix `System`, so an application on a plain
//! `#[tokio::main]` cannot host actors itself. The swarm therefore starts a thread that runs a
//! `System` built on a multi-thread tokio runtime: actors live on that thread's arbiter, turn
//! loops and tool calls run on the runtime's worker threads, and the application only ever
//! touches `Send + Sync` handles and oneshot channels, which work from any runtime.

use actix::{ArbiterHandle, System};
use futures::FutureExt as _;
use futures::future::Shared;
use tokio::sync::oneshot;

/// What setup code running inside the `System` gets.
pub(crate) struct Inside {
    /// The `System` thread's arbiter, where actors are started.
    pub(crate) arbiter: ArbiterHandle,
    /// The multi-thread runtime.
    pub(crate) runtime: tokio::runtime::Handle,
}

/// A running `System` thread (clones are handles to the same thread).
#[derive(Clone)]
pub(crate) struct SystemThread {
    system: System,
    /// Fires when the thread has stopped its runtime and exited (every waiter sees it).
    exited: Shared<oneshot::Receiver<()>>,
}

impl SystemThread {
    /// Starts the thread, runs `setup` inside the `System`, and returns its result.
    pub(crate) fn start<T, F>(worker_threads: usize, setup: F) -> std::io::Result<(Self, T)>
    where
        F: FnOnce(Inside) -> T + Send + 'static,
        T: Send + 'static,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads.max(1))
            .thread_name("baton-worker")
            .enable_all()
            .build()?;
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (exited_tx, exited_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name("baton-system".to_owned())
            .spawn(move || {
                let runner = System::with_tokio_rt(move || runtime);
                let made = runner.block_on(async move {
                    let inside = Inside {
                        arbiter: System::current().arbiter().clone(),
                        runtime: tokio::runtime::Handle::current(),
                    };
                    (System::current(), setup(inside))
                });
                if started_tx.send(made).is_ok() {
                    // Runs until `System::stop`; the runtime is dropped on return.
                    let _ = runner.run();
                }
                let _ = exited_tx.send(());
            })?;
        let (system, made) = started_rx
            .recv()
            .map_err(|_| std::io::Error::other("the swarm's system thread stopped during setup"))?;
        Ok((
            SystemThread {
                system,
                exited: exited_rx.shared(),
            },
            made,
        ))
    }

    /// Asks the `System` to stop (returns at once).
    pub(crate) fn stop(&self) {
        self.system.stop();
    }

    /// Stops the `System` and waits until its thread has exited.
    pub(crate) async fn stop_and_wait(&self) {
        self.stop();
        let _ = self.exited.clone().await;
    }
}

impl std::fmt::Debug for SystemThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemThread")
            .field("system", &self.system.id())
            .finish()
    }
}
