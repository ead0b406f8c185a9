//! A precise wait, for waits that tokio's timer would end late.
//!
//! tokio's timer wheel has 1 ms ticks and rounds deadlines up, and `epoll_wait` rounds its
//! timeout up to whole milliseconds, so a 100 ms sleep usually ends 1 to 2 ms late. A wait that
//! stands in for a 100 ms I/O call (the `sleep_ms` tool) should not add that much. So
//! [`sleep_until`] sleeps on tokio's wheel until [`COARSE_MARGIN`] before its deadline, then
//! yields to the other tasks of its thread (`tokio::task::yield_now`) until the deadline has
//! passed: the thread stays busy for at most that margin, every other task keeps running, and
//! a wait never ends early.
//!
//! Under a paused clock (a swarm in virtual time, see `clock`) yielding would never end: time
//! moves only when the runtime has nothing to do, and a yielding task always has something.
//! There the wait is tokio's timer alone, which is exact in virtual time. A paused clock the
//! swarm does not know of (a tool called on a test's own paused runtime) is caught too: when
//! tokio's clock and the real one are more than the margin apart, the wait goes back to the
//! timer.
//!
//! Nothing here needs a driver of its own or `unsafe` (an earlier version watched a Linux
//! `timerfd` through tokio's `AsyncFd::with_interest`, which tokio deprecated as unsound, and
//! whose waits would hang if its driver task exited). The figures behind the choice are in
//! `docs/benchmarks.md`.

use std::time::Duration;

use tokio::time::Instant;

/// How long before its deadline a wait leaves tokio's wheel and starts yielding.
pub(crate) const COARSE_MARGIN: Duration = Duration::from_millis(2);

/// Waits until `deadline` on tokio's clock, never ending before it, and at most a few
/// microseconds after it on a thread that is not saturated.
pub(crate) async fn sleep_until(deadline: Instant) {
    if crate::clock::is_virtual() {
        return tokio::time::sleep_until(deadline).await;
    }
    if let Some(coarse) = deadline.checked_sub(COARSE_MARGIN)
        && coarse > Instant::now()
    {
        tokio::time::sleep_until(coarse).await;
    }
    loop {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        if apart(now) {
            // tokio's clock is not the real one: it is paused.
            return tokio::time::sleep_until(deadline).await;
        }
        tokio::task::yield_now().await;
    }
}

/// Whether tokio's `now` is more than [`COARSE_MARGIN`] away from the real clock: soon on a
/// paused clock (it stands still while the real one moves, or it has jumped ahead); on a
/// running one (tokio's is then the real one) only if the thread was descheduled between the
/// two reads, and then the wait merely ends on the timer, a little late. Nothing is kept
/// across the yields, so the wait's future (one per call in flight) stays small.
fn apart(now: Instant) -> bool {
    let (ours, real) = (now.into_std(), std::time::Instant::now());
    ours.max(real) - ours.min(real) > COARSE_MARGIN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(paused: bool) -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(paused)
            .build()
            .expect("a runtime")
    }

    #[test]
    fn waits_never_end_before_their_deadline() {
        runtime(false).block_on(async {
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

    // See: issue 9
    #[test]
    fn a_wait_in_its_last_margin_lets_the_other_tasks_of_its_thread_run() {
        runtime(false).block_on(async {
            // Inside the margin from the start: only the yielding part runs.
            let deadline = Instant::now() + Duration::from_millis(1);
            let ticks = std::cell::Cell::new(0_u32);
            let counter = async {
                loop {
                    ticks.set(ticks.get() + 1);
                    tokio::task::yield_now().await;
                }
            };
            tokio::select! {
                () = sleep_until(deadline) => {}
                () = counter => unreachable!("the counter never ends"),
            }
            assert!(Instant::now() >= deadline);
            assert!(ticks.get() > 1, "the other task ran {} times", ticks.get());
        });
    }

    // See: issue 12
    #[test]
    fn on_a_virtual_time_thread_a_wait_is_the_timer_alone_and_exact() {
        let thread = std::thread::spawn(|| {
            crate::clock::install(crate::clock::Setting {
                virtual_time: true,
                seed: 1,
            });
            runtime(true).block_on(async {
                let (start, real) = (Instant::now(), std::time::Instant::now());
                sleep_until(start + Duration::from_secs(3600)).await;
                (start.elapsed(), real.elapsed())
            })
        });
        let (virtual_wait, real_wait) = thread.join().expect("the thread ends");
        assert_eq!(virtual_wait, Duration::from_secs(3600));
        assert!(
            real_wait < Duration::from_secs(60),
            "it waited {real_wait:?}"
        );
    }

    // See: issue 12
    #[test]
    fn a_paused_clock_nobody_announced_ends_the_yielding_instead_of_hanging() {
        runtime(true).block_on(async {
            let start = Instant::now();
            // Inside the margin: the yielding part, which alone would never see time move.
            sleep_until(start + Duration::from_millis(1)).await;
            assert_eq!(start.elapsed(), Duration::from_millis(1));
            sleep_until(start + Duration::from_secs(60)).await;
            assert_eq!(start.elapsed(), Duration::from_secs(60));
        });
    }
}
