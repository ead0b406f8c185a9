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
//! Nothing here needs a driver of its own or `unsafe` (an earlier version watched a Linux
//! `timerfd` through tokio's `AsyncFd::with_interest`, which tokio deprecated as unsound, and
//! whose waits would hang if its driver task exited). The figures behind the choice are in
//! `docs/benchmarks.md`.

use std::time::{Duration, Instant};

/// How long before its deadline a wait leaves tokio's wheel and starts yielding.
pub(crate) const COARSE_MARGIN: Duration = Duration::from_millis(2);

/// Waits until `deadline`, never ending before it, and at most a few microseconds after it
/// on a thread that is not saturated.
pub(crate) async fn sleep_until(deadline: Instant) {
    if let Some(coarse) = deadline.checked_sub(COARSE_MARGIN)
        && coarse > Instant::now()
    {
        tokio::time::sleep_until(coarse.into()).await;
    }
    while Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_never_end_before_their_deadline() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
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
}
