//! One call's exchange, run on Baton's HTTP runtime: send, retry a 429/5xx answer when the tool
//! is idempotent (waiting what `Retry-After` asks, never past the deadline), follow a redirect
//! to the tool's own origin when allowed, and read the final answer up to the byte cap, all
//! within the call's time.

use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode, Url};
use tokio::time::Instant;

use super::request::label;
use super::response::{self, Answer};
use crate::model::http::{chain, retry_after};

/// How one exchange runs.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// The most body bytes read.
    pub(crate) cap: usize,
    /// Redirects followed (to `origin` only).
    pub(crate) follow_redirects: u32,
    /// Extra attempts after a 429/5xx answer (0 unless the tool is idempotent).
    pub(crate) retries: u32,
    /// The tool's fixed origin.
    pub(crate) origin: Url,
}

/// Why an exchange produced no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The call's time ran out.
    TimedOut,
    /// The request could not be sent or its answer read.
    Connection {
        /// `METHOD url-without-query`.
        label: String,
        /// What went wrong (no URL in it).
        reason: String,
    },
}

/// The first wait between attempts when the server sends no `Retry-After`; it doubles.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// The longest such wait.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs the exchange for `request`, giving up after `timeout`.
pub(crate) async fn run(
    client: &'static reqwest::Client,
    request: reqwest::Request,
    policy: Policy,
    timeout: Duration,
) -> Result<Answer, Failure> {
    let now = Instant::now();
    let deadline = now
        .checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 60 * 60));
    tokio::time::timeout_at(deadline, attempts(client, request, &policy, deadline))
        .await
        .unwrap_or(Err(Failure::TimedOut))
}

/// Sends `request` and its retries and redirects.
async fn attempts(
    client: &'static reqwest::Client,
    mut request: reqwest::Request,
    policy: &Policy,
    deadline: Instant,
) -> Result<Answer, Failure> {
    let (mut retried, mut redirected) = (0_u32, 0_u32);
    loop {
        let label = label(request.method(), request.url());
        let again = request.try_clone();
        let response = client
            .execute(request)
            .await
            .map_err(|e| connection(&label, e))?;
        let status = response.status();
        tracing::debug!(request = %label, status = status.as_u16(), "http tool answer");
        // The next request, and the wait before it (a retry).
        let next = match again {
            Some(again) if retryable(status) && retried < policy.retries => {
                let wait = retry_after(response.headers(), SystemTime::now())
                    .unwrap_or_else(|| backoff(retried));
                match Instant::now().checked_add(wait) {
                    Some(at) if at < deadline => Some((again, Some(wait))),
                    // No time left to wait: the answer is the output.
                    _ => None,
                }
            }
            Some(again) if status.is_redirection() && redirected < policy.follow_redirects => {
                redirect(&response, again, &policy.origin).map(|next| (next, None))
            }
            _ => None,
        };
        let Some((next, wait)) = next else {
            return response::read(response, policy.cap)
                .await
                .map_err(|e| connection(&label, e));
        };
        // Not read: closing it is all the server needs.
        drop(response);
        match wait {
            Some(wait) => {
                tokio::time::sleep(wait).await;
                retried += 1;
            }
            None => redirected += 1,
        }
        request = next;
    }
}

/// Whether an answer is worth another attempt (idempotent tools only).
fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The wait before attempt `retried + 2` when the server names none.
fn backoff(retried: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(2_u32.saturating_pow(retried))
        .min(MAX_BACKOFF)
}

/// The request a redirect answer leads to, if its `Location` stays on `origin`: `303` (and
/// `301`/`302` after a POST) become a GET without body; `307`/`308` keep method and body.
fn redirect(
    response: &reqwest::Response,
    mut next: reqwest::Request,
    origin: &Url,
) -> Option<reqwest::Request> {
    let location = response.headers().get(LOCATION)?.to_str().ok()?;
    let target = response.url().join(location).ok()?;
    if target.origin() != origin.origin() {
        return None;
    }
    let status = response.status();
    let to_get = status == StatusCode::SEE_OTHER
        || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
            && next.method() == Method::POST);
    if to_get && next.method() != Method::HEAD {
        *next.method_mut() = Method::GET;
        *next.body_mut() = None;
        next.headers_mut().remove(CONTENT_TYPE);
        next.headers_mut().remove(CONTENT_LENGTH);
    }
    *next.url_mut() = target;
    Some(next)
}

/// A [`Failure::Connection`] for `error` (its URL, which may hold the query, left out).
fn connection(label: &str, error: reqwest::Error) -> Failure {
    Failure::Connection {
        label: label.to_owned(),
        reason: chain(&error.without_url()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        assert_eq!(backoff(0), Duration::from_millis(200));
        assert_eq!(backoff(1), Duration::from_millis(400));
        assert_eq!(backoff(10), MAX_BACKOFF);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn only_429_and_5xx_are_retryable() {
        assert!(retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(retryable(StatusCode::BAD_GATEWAY));
        assert!(!retryable(StatusCode::NOT_FOUND));
        assert!(!retryable(StatusCode::OK));
    }
}
