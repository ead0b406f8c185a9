//! `sleep_ms`: an async tool that waits, standing in for I/O (an HTTP call, a query).
//! The examples and the fan-out benchmarks use it: K sleeps of L ms in one turn should take
//! about L, not K x L.

use std::convert::Infallible;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use tokio::time::Instant;

use crate::tool::Tool;

/// Arguments of `sleep_ms`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SleepArgs {
    /// How long to wait, in milliseconds.
    pub ms: u64,
}

/// Waits `ms` milliseconds without using a thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sleep;

impl Tool for Sleep {
    type Args = SleepArgs;
    type Output = String;
    type Error = Infallible;

    fn name(&self) -> &str {
        "sleep_ms"
    }
    fn description(&self) -> &str {
        "Waits ms milliseconds (simulates a slow I/O call), then says so."
    }
    async fn call(&self, args: SleepArgs) -> Result<String, Infallible> {
        // Precise on a swarm's shards: tokio's timer alone ends 1-2 ms late (see `timer`);
        // exact, and instant, in virtual time.
        crate::timer::sleep_until(Instant::now() + Duration::from_millis(args.ms)).await;
        Ok(format!("slept {} ms", args.ms))
    }
}
