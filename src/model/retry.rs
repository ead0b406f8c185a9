//! `Retry`: tries a model request again after 429, 500, 502, 503, 504, timeouts and
//! connection failures, with exponential backoff and jitter, honouring `Retry-After`.
//!
//! It wraps any [`Model`] (tower's shape). 400 and 401 are never retried: the same request
//! would fail the same way, and the API's message goes straight to the caller. Waits are
//! bounded: a `Retry-After` longer than [`RetryPolicy::max_retry_after`] ends the retries at
//! once instead of hanging the run. They run on the HTTP runtime's clock, so they work from
//! any executor, except on the shard of a swarm in virtual time, where they run on the
//! shard's own (paused) clock and take no real time (`http::sleep`).
//!
//! The jitter comes from the swarm's seed (see `clock`), keyed by the run's trace id, the
//! agent, the run's turn and the retry: the same seed gives the same waits, whatever else
//! runs meanwhile. Off a swarm's threads it is random.

use std::time::Duration;

use futures::future::BoxFuture;

use super::{Model, ModelError, ModelRequest, ModelResponse, http};
use crate::clock;
use crate::stream::EventSink;

/// How often and how long to wait before trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff; it doubles on each retry.
    pub base_delay: Duration,
    /// The longest backoff.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a longer one stops the retries.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based) after `error`, or `None` to stop. On a
    /// swarm's thread its jitter comes from the swarm's seed; elsewhere it is random.
    pub fn delay(&self, retry: u32, error: &ModelError) -> Option<Duration> {
        self.delay_with(retry, error, clock::unit(u64::from(retry)))
    }

    /// [`delay`](Self::delay), with `jitter` (in `[0, 1)`) for its random part.
    fn delay_with(&self, retry: u32, error: &ModelError, jitter: f64) -> Option<Duration> {
        if !error.is_retryable() || retry >= self.max_retries {
            return None;
        }
        let backoff = self
            .base_delay
            .saturating_mul(2_u32.saturating_pow(retry.min(20)))
            .min(self.max_delay);
        match error.retry_after() {
            Some(asked) if asked > self.max_retry_after => None,
            // What the server asked, plus a little jitter so waiting callers spread out.
            Some(asked) => {
                Some(asked.saturating_add(backoff.min(Duration::from_millis(100)).mul_f64(jitter)))
            }
            // "Equal jitter": half the backoff, plus up to half again at random.
            None => Some(backoff / 2 + (backoff / 2).mul_f64(jitter)),
        }
    }
}

/// The jitter of retry `retry` of `request`: a function of the swarm's seed and of which
/// request and retry it is.
fn jitter(request: &ModelRequest<'_>, retry: u32) -> f64 {
    let context = &request.context;
    clock::unit(clock::key(&[
        context.trace_id.as_bytes(),
        context.agent.as_bytes(),
        &context.run_turn.to_le_bytes(),
        &retry.to_le_bytes(),
    ]))
}

/// Retries a model's failed requests by a [`RetryPolicy`].
#[derive(Debug)]
pub struct Retry<M> {
    inner: M,
    policy: RetryPolicy,
}

impl<M: Model> Retry<M> {
    /// Wraps `inner`.
    pub fn new(inner: M, policy: RetryPolicy) -> Self {
        Retry { inner, policy }
    }
}

impl<M: Model> Model for Retry<M> {
    fn takes_images(&self) -> bool {
        self.inner.takes_images()
    }

    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let started = tokio::time::Instant::now();
            // Every attempt writes its text through one gate, so a retried stream's text is
            // shown once (`restart`).
            let gated = request.context.events.map(EventSink::gated);
            let mut attempt = request;
            attempt.context.events = gated.as_ref();
            let mut retry = 0;
            loop {
                if let Some(sink) = &gated {
                    sink.begin_attempt();
                }
                let error = match self.inner.respond(attempt).await {
                    Ok(response) => return Ok(response),
                    Err(error) => error,
                };
                let jitter = jitter(&request, retry);
                let Some(wait) = self.policy.delay_with(retry, &error, jitter) else {
                    return Err(if retry > 0 && error.is_retryable() {
                        ModelError::RetriesExhausted {
                            attempts: retry + 1,
                            elapsed: started.elapsed(),
                            last: Box::new(error),
                        }
                    } else {
                        error
                    });
                };
                // One short line per retry; the message itself comes once, in the final error
                // (and here only at debug level).
                tracing::warn!(
                    agent = request.context.agent,
                    retry = retry + 1,
                    wait_ms = wait.as_millis() as u64,
                    status = error.status(),
                    "model request failed; retrying"
                );
                tracing::debug!(%error, "the failed attempt");
                http::sleep(wait).await;
                retry += 1;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, retry_after: Option<Duration>) -> ModelError {
        ModelError::Api {
            endpoint: "POST x".into(),
            status,
            code: None,
            message: "m".into(),
            retry_after,
        }
    }

    #[test]
    fn only_retryable_errors_get_a_delay_within_the_budget() {
        let policy = RetryPolicy::default();
        assert!(policy.delay(0, &api(400, None)).is_none());
        assert!(policy.delay(0, &api(401, None)).is_none());
        assert!(policy.delay(3, &api(500, None)).is_none());
        for status in [429, 500, 502, 503, 504] {
            assert!(policy.delay(0, &api(status, None)).is_some(), "{status}");
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_retry_after_wins() {
        let policy = RetryPolicy::default();
        for retry in 0..3 {
            let full = Duration::from_millis(500) * 2_u32.pow(retry);
            let wait = policy.delay(retry, &api(503, None)).unwrap();
            assert!(wait >= full / 2 && wait <= full, "{retry}: {wait:?}");
        }
        let wait = policy
            .delay(0, &api(429, Some(Duration::from_secs(2))))
            .unwrap();
        assert!(wait >= Duration::from_secs(2) && wait <= Duration::from_millis(2100));
        assert!(
            policy
                .delay(0, &api(429, Some(Duration::from_secs(3600))))
                .is_none()
        );
    }

    // See: issue 12
    #[test]
    fn on_a_swarm_thread_the_jitter_follows_the_swarm_seed() {
        let waits = |seed: u64| {
            std::thread::spawn(move || {
                crate::clock::install(crate::clock::Setting {
                    virtual_time: false,
                    seed,
                });
                let policy = RetryPolicy::default();
                (0..3)
                    .map(|retry| policy.delay(retry, &api(503, None)))
                    .collect::<Vec<_>>()
            })
            .join()
            .expect("the thread ends")
        };
        assert_eq!(waits(5), waits(5));
        assert!(
            [6, 7, 8].into_iter().any(|seed| waits(seed) != waits(5)),
            "seeds 5 to 8 gave the same waits"
        );
    }
}
