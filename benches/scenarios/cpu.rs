//! S3 cpu: one conversation whose model asks for K=2 calls of a CPU-bound tool that burns
//! 200 ms each (calibrated), on a 2-thread pool; the median of 5 runs. Ideal: 200 ms on 2
//! cores.

use crate::support::{fail, line, runs};

const K: usize = 2;
const BURN_MS: f64 = 200.0;
const REPS: usize = 5;

pub async fn run() -> String {
    let calibration = baton::tool::builtin::calibration();
    eprintln!(
        "calibration: burn_ms does {} loop iterations per ms on an idle core",
        calibration.iterations_per_ms
    );
    let topology =
        baton::topology::load(crate::topology("cpu.yaml")).unwrap_or_else(|e| fail(e.to_string()));
    let swarm = topology.start().unwrap_or_else(|e| fail(e.to_string()));
    let done = |input: &str| format!("done: {input}");
    runs(&swarm, topology.entry(), 1, done).await; // warm-up
    let samples = runs(&swarm, topology.entry(), REPS, done).await;
    swarm.shutdown().await;
    let peak = samples.peak_in_flight();
    if peak != K {
        fail(format!(
            "peak CPU-bound calls in flight was {peak}, expected {K}"
        ));
    }
    let mut extra = vec![
        ("peak_in_flight", peak.to_string()),
        (
            "iterations_per_ms",
            calibration.iterations_per_ms.to_string(),
        ),
    ];
    extra.extend(samples.spread());
    line("cpu", samples.median(), BURN_MS, &extra)
}
