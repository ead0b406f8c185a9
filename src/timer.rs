//! A precise timer on each shard thread, for waits that tokio's timer would end late.
//!
//! tokio's timer wheel has 1 ms ticks and rounds deadlines up, and `epoll_wait` rounds its
//! timeout up to whole milliseconds, so a 100 ms sleep usually ends 1 to 2 ms late. A wait that
//! stands in for a 100 ms I/O call (the `sleep_ms` tool) should not add that much. So when a
//! swarm starts a shard, it installs a Linux `timerfd` there, watched by the shard's own event
//! loop: [`sleep_until`] sleeps on tokio's wheel until [`COARSE_MARGIN`] before its deadline,
//! then waits here. The timerfd is armed at the earliest deadline plus [`COALESCE`] (so one
//! wake serves close neighbours) and wakes every wait that is due; a wait never ends early.
//! Elsewhere (other systems, threads that are not shards), waits use tokio's timer.

use std::time::{Duration, Instant};

/// How long before its deadline a wait leaves tokio's wheel for the precise timer.
pub(crate) const COARSE_MARGIN: Duration = Duration::from_millis(2);

/// How late the precise timer may fire so that one wake serves waits due close together.
pub(crate) const COALESCE: Duration = Duration::from_micros(50);

/// Waits until `deadline`: precisely on a shard thread, on tokio's timer elsewhere.
pub(crate) async fn sleep_until(deadline: Instant) {
    if let Some(coarse) = deadline.checked_sub(COARSE_MARGIN)
        && coarse > Instant::now()
    {
        tokio::time::sleep_until(coarse.into()).await;
    }
    #[cfg(target_os = "linux")]
    if let Some(timer) = linux::current() {
        return linux::Wait::new(timer, deadline).await;
    }
    tokio::time::sleep_until(deadline.into()).await;
}

/// Installs the precise timer on the current thread, which must be a shard's arbiter thread
/// (it runs for the thread's whole life). Without a timerfd it does nothing.
pub(crate) fn install() {
    #[cfg(target_os = "linux")]
    linux::install();
}

#[cfg(target_os = "linux")]
mod linux {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::future::Future;
    use std::os::fd::OwnedFd;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
    use std::task::{Context, Poll, Waker};
    use std::time::{Duration, Instant};

    use rustix::time::{
        Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
        timerfd_settime,
    };
    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;

    use super::COALESCE;

    thread_local! {
        /// This thread's timer, if it is a shard with one installed.
        static TIMER: RefCell<Option<Arc<Timer>>> = const { RefCell::new(None) };
    }

    /// A timerfd and the waits it serves.
    pub(super) struct Timer {
        fd: AsyncFd<OwnedFd>,
        /// Never locked across an await; only this thread's tasks take it.
        state: Mutex<State>,
    }

    #[derive(Default)]
    struct State {
        /// (deadline, id) -> the waker of the wait.
        waits: BTreeMap<(Instant, u64), Waker>,
        next_id: u64,
        /// When the timerfd will fire, if armed.
        armed: Option<Instant>,
    }

    pub(super) fn install() {
        let Ok(fd) = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        ) else {
            return;
        };
        // `with_interest` is deprecated because, for an arbitrary `AsRawFd`, nothing stops the
        // descriptor from being closed or swapped while registered. An `OwnedFd` moved into
        // the `AsyncFd` cannot be: it stays open and the same until the `AsyncFd` drops it,
        // which is the contract of the `unsafe` replacement this crate cannot call.
        #[allow(deprecated)]
        let Ok(fd) = AsyncFd::with_interest(fd, Interest::READABLE) else {
            return; // no I/O driver on this thread: waits fall back to tokio's timer
        };
        let timer = Arc::new(Timer {
            fd,
            state: Mutex::new(State::default()),
        });
        TIMER.with(|slot| *slot.borrow_mut() = Some(Arc::clone(&timer)));
        actix::spawn(drive(timer));
    }

    pub(super) fn current() -> Option<Arc<Timer>> {
        TIMER.with(|slot| slot.borrow().clone())
    }

    /// Waits for the timerfd to fire, then wakes the waits that are due.
    async fn drive(timer: Arc<Timer>) {
        loop {
            let Ok(mut ready) = timer.fd.readable().await else {
                return;
            };
            // Reading the expiration count re-arms readiness; would-block means a spurious wake.
            let mut count = [0_u8; 8];
            let _ = rustix::io::read(timer.fd.get_ref(), &mut count);
            ready.clear_ready();
            timer.fire();
        }
    }

    impl Timer {
        fn lock(&self) -> MutexGuard<'_, State> {
            self.state.lock().unwrap_or_else(PoisonError::into_inner)
        }

        /// Wakes every wait that is due and arms the timerfd for the next.
        fn fire(&self) {
            let now = Instant::now();
            let mut state = self.lock();
            state.armed = None;
            while let Some(entry) = state.waits.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                entry.remove().wake();
            }
            if let Some(&(next, _)) = state.waits.keys().next() {
                self.arm(&mut state, next);
            }
        }

        /// Makes sure the timerfd fires by `deadline + COALESCE`.
        fn arm(&self, state: &mut State, deadline: Instant) {
            let at = deadline + COALESCE;
            if state.armed.is_some_and(|armed| armed <= at) {
                return;
            }
            let delay = at
                .saturating_duration_since(Instant::now())
                .max(Duration::from_nanos(1)); // zero would disarm it
            let spec = Itimerspec {
                it_interval: Timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: Timespec {
                    tv_sec: delay.as_secs() as _,
                    tv_nsec: delay.subsec_nanos() as _,
                },
            };
            if timerfd_settime(self.fd.get_ref(), TimerfdTimerFlags::empty(), &spec).is_ok() {
                state.armed = Some(at);
            }
        }
    }

    /// One wait on the precise timer.
    pub(super) struct Wait {
        timer: Arc<Timer>,
        deadline: Instant,
        /// Its key in the timer, once registered.
        id: Option<u64>,
    }

    impl Wait {
        pub(super) fn new(timer: Arc<Timer>, deadline: Instant) -> Self {
            Wait {
                timer,
                deadline,
                id: None,
            }
        }
    }

    impl Future for Wait {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if Instant::now() >= self.deadline {
                return Poll::Ready(());
            }
            let this = &mut *self;
            let mut state = this.timer.lock();
            let id = *this.id.get_or_insert_with(|| {
                state.next_id += 1;
                state.next_id
            });
            let key = (this.deadline, id);
            match state.waits.get_mut(&key) {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                Some(waker) => waker.clone_from(cx.waker()),
                None => {
                    state.waits.insert(key, cx.waker().clone());
                }
            }
            this.timer.arm(&mut state, this.deadline);
            Poll::Pending
        }
    }

    impl Drop for Wait {
        fn drop(&mut self) {
            if let Some(id) = self.id {
                self.timer.lock().waits.remove(&(self.deadline, id));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` on a fresh arbiter thread with the timer installed, like a shard.
    fn on_shard<F: std::future::Future<Output = ()> + 'static>(
        f: impl FnOnce() -> F + Send + 'static,
    ) {
        let system = actix::System::new();
        system.block_on(async move {
            let arbiter = actix::Arbiter::new();
            let (done, wait) = tokio::sync::oneshot::channel();
            arbiter.spawn_fn(move || {
                install();
                actix::spawn(async move {
                    f().await;
                    let _ = done.send(());
                });
            });
            wait.await.expect("the shard ran the test");
            arbiter.stop();
        });
    }

    #[test]
    fn waits_on_a_shard_never_end_before_their_deadline() {
        on_shard(|| async {
            #[cfg(target_os = "linux")]
            assert!(linux::current().is_some(), "the timer is installed");
            let start = Instant::now();
            let waits: Vec<_> = [5_u64, 1, 12, 3, 3, 0, 8]
                .into_iter()
                .map(|ms| async move {
                    let deadline = start + Duration::from_millis(ms);
                    sleep_until(deadline).await;
                    assert!(Instant::now() >= deadline, "a {ms} ms wait ended early");
                })
                .collect();
            futures::future::join_all(waits).await;
        });
    }

    #[test]
    fn waits_off_a_shard_use_tokios_timer() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let deadline = Instant::now() + Duration::from_millis(3);
            sleep_until(deadline).await;
            assert!(Instant::now() >= deadline);
        });
    }
}
