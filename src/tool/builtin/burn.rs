//! `burn_ms`: a CPU-bound tool that does a calibrated amount of work.
//!
//! The work is a fixed number of iterations of an integer mixing loop, calibrated once per
//! process to take about 1 ms per unit on an idle core. So two calls on one core take twice as
//! long as on two cores: the tool measures real parallelism, which a "spin until the clock says
//! N ms" loop would hide. It runs on a [`SyncToolPool`](crate::tool) thread.

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Deserialize;

use crate::tool::BlockingTool;

/// Arguments of `burn_ms`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BurnArgs {
    /// How many milliseconds of work (measured on an idle core) to do.
    pub ms: u64,
}

/// The measured speed of the work loop on this machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Loop iterations that take one millisecond on an idle core.
    pub iterations_per_ms: u64,
}

static CALIBRATION: OnceLock<Calibration> = OnceLock::new();

/// Returns the calibration, measuring it on first use (about 100 ms).
pub fn calibration() -> Calibration {
    *CALIBRATION.get_or_init(measure)
}

/// Best of three 30 ms samples: the fastest is the least disturbed by other work.
fn measure() -> Calibration {
    let mut best = 0.0_f64;
    for _ in 0..3 {
        let mut iterations = 0_u64;
        let mut chunk = 10_000_u64;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(30) {
            black_box(work(chunk));
            iterations += chunk;
            chunk = chunk.saturating_mul(2).min(5_000_000);
        }
        let rate = iterations as f64 / start.elapsed().as_secs_f64() / 1000.0;
        best = best.max(rate);
    }
    Calibration {
        iterations_per_ms: (best as u64).max(1),
    }
}

/// The work loop: an LCG with a xorshift, so the compiler cannot skip it.
fn work(iterations: u64) -> u64 {
    let mut x = black_box(0x9E37_79B9_7F4A_7C15_u64);
    for _ in 0..iterations {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        x ^= x >> 33;
    }
    x
}

/// Burns `ms` calibrated milliseconds of one core.
#[derive(Debug, Clone, Copy, Default)]
pub struct Burn;

impl BlockingTool for Burn {
    type Args = BurnArgs;
    type Output = String;
    type Error = Infallible;

    fn name(&self) -> &str {
        "burn_ms"
    }
    fn description(&self) -> &str {
        "Does ms milliseconds of CPU work (simulates a CPU-bound computation), then says so."
    }
    fn call(&mut self, args: BurnArgs) -> Result<String, Infallible> {
        let iterations = calibration().iterations_per_ms.saturating_mul(args.ms);
        black_box(work(iterations));
        Ok(format!("burned {} ms", args.ms))
    }
}
