//! The mock's idle timeout: a connection on which no byte moves either way for a while, and
//! whose request is not in one of the mock's own waits (latency, an injected delay), is
//! closed.
//!
//! hyper's header-read timeout (set in `serve`) covers a request head sent halfway; this
//! covers the rest: a body sent halfway, an answer nobody reads, a kept-alive connection that
//! sends nothing more. [`Tracked`] wraps the socket and notes every read and write in an
//! [`Activity`]; the connection's task asks [`Activity::idle_for`] now and then.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// When a connection last moved a byte, and whether the mock itself is making it wait.
#[derive(Debug)]
pub(crate) struct Activity {
    /// The connection's start, which `last` counts from.
    started: Instant,
    /// Milliseconds from `started` to the last read or write.
    last: AtomicU64,
    /// Waits of the mock's own in progress (latency, delay faults): not idleness.
    waiting: AtomicUsize,
}

impl Activity {
    /// A connection that has just opened.
    pub(crate) fn new() -> Self {
        Activity {
            started: Instant::now(),
            last: AtomicU64::new(0),
            waiting: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.last.store(now, Ordering::Relaxed);
    }

    /// How long no byte has moved, or `None` while the mock itself makes the request wait.
    pub(crate) fn idle_for(&self) -> Option<Duration> {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        Some(self.started.elapsed().saturating_sub(last))
    }

    /// Marks a wait of the mock's own until the guard is dropped (then counts as activity).
    pub(crate) fn wait(&self) -> Waiting<'_> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        Waiting(self)
    }
}

/// A wait of the mock's own; see [`Activity::wait`].
pub(crate) struct Waiting<'a>(&'a Activity);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.touch();
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A socket whose reads and writes are noted in an [`Activity`].
#[derive(Debug)]
pub(crate) struct Tracked<S> {
    inner: S,
    activity: std::sync::Arc<Activity>,
}

impl<S> Tracked<S> {
    pub(crate) fn new(inner: S, activity: std::sync::Arc<Activity>) -> Self {
        Tracked { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
