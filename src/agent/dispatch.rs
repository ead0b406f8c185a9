//! Sends one tool call to its worker and waits for the reply, under the call's timeout.
//!
//! The turn loop runs one of these per call of a turn, all at once. Every path ends in a
//! result or a [`ToolError`], never a hang: a closed mailbox, a dropped reply and an elapsed
//! timeout each become that call's error output. Idempotent tools are retried.

use std::time::Duration;

use actix::prelude::SendError;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::tool::{ToolCall, ToolEntry, ToolError};

/// The pause before retry `attempt` (1-based): 50 ms, doubling, at most 2 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(50u64.saturating_mul(1 << attempt.min(6).saturating_sub(1)))
        .min(Duration::from_secs(2))
}

/// Calls the tool in `entry` once, plus retries if it is idempotent.
pub(crate) async fn call_tool(
    entry: &ToolEntry,
    call_id: &str,
    arguments: Value,
    default_timeout: Duration,
) -> Result<String, ToolError> {
    let options = entry.def.options();
    let timeout = options.timeout.unwrap_or(default_timeout);
    let retries = if options.idempotent {
        options.retries
    } else {
        0
    };
    if retries == 0 {
        return attempt_once(entry, arguments, timeout).await;
    }
    let mut attempt = 0;
    loop {
        let result = attempt_once(entry, arguments.clone(), timeout).await;
        match result {
            Err(e) if attempt < retries && e.is_retryable() => {
                attempt += 1;
                tracing::debug!(tool = entry.def.name(), call_id, attempt, error = %e, "retrying idempotent tool");
                tokio::time::sleep(backoff(attempt)).await;
            }
            other => return other,
        }
    }
}

async fn attempt_once(
    entry: &ToolEntry,
    arguments: Value,
    timeout: Duration,
) -> Result<String, ToolError> {
    let tool = || entry.def.name().to_owned();
    let (reply, answer) = oneshot::channel();
    let call = ToolCall {
        span: tracing::Span::current(),
        arguments,
        reply,
    };
    if let Err(e) = entry.worker.try_send(call) {
        let reason = match e {
            SendError::Closed(_) => "its worker has stopped",
            SendError::Full(_) => "its mailbox is full",
        };
        return Err(ToolError::Unavailable {
            tool: tool(),
            reason: reason.to_owned(),
        });
    }
    match tokio::time::timeout(timeout, answer).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(ToolError::Unavailable {
            tool: tool(),
            reason: "its worker dropped the call".to_owned(),
        }),
        Err(_) => Err(ToolError::TimedOut {
            tool: tool(),
            after: timeout,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(50));
        assert_eq!(backoff(2), Duration::from_millis(100));
        assert_eq!(backoff(3), Duration::from_millis(200));
        assert_eq!(backoff(30), Duration::from_millis(1600));
    }
}
