//! S1 fanout: one conversation whose model asks for K=8 calls of an async tool that sleeps
//! L=100 ms, then answers; the median of 20 runs. Ideal: L.

use crate::support::{fail, line, runs};

const K: usize = 8;
const L_MS: f64 = 100.0;
const REPS: usize = 20;

pub async fn run() -> String {
    let topology = baton::topology::load(crate::topology("fanout.yaml"))
        .unwrap_or_else(|e| fail(e.to_string()));
    let swarm = topology.start().unwrap_or_else(|e| fail(e.to_string()));
    let done = |input: &str| format!("done: {input}");
    runs(&swarm, topology.entry(), 1, done).await; // warm-up
    let samples = runs(&swarm, topology.entry(), REPS, done).await;
    swarm.shutdown().await;
    let peak = samples.peak_in_flight();
    if peak != K {
        fail(format!(
            "peak tool calls in flight was {peak}, expected {K}"
        ));
    }
    let wall = samples.median();
    let mut extra = vec![
        ("peak_in_flight", peak.to_string()),
        ("overhead_ms", format!("{:.3}", wall - L_MS)),
    ];
    extra.extend(samples.spread());
    line("fanout", wall, L_MS, &extra)
}
