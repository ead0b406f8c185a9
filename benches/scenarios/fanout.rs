//! S1 fanout: one conversation whose model asks for K=8 calls of an async tool that sleeps
//! L=100 ms, then answers; the median of 20 runs. Ideal: L.

use crate::support::{fail, line, median, ms, peak_in_flight};

const K: usize = 8;
const L_MS: f64 = 100.0;
const REPS: usize = 20;

pub async fn run() -> String {
    let topology = baton::topology::load(crate::topology("fanout.yaml"))
        .unwrap_or_else(|e| fail(e.to_string()));
    let swarm = topology.start().unwrap_or_else(|e| fail(e.to_string()));
    let mut walls = Vec::with_capacity(REPS);
    let mut peak = usize::MAX;
    for rep in 0..=REPS {
        let input = format!("rep {rep}");
        let started = std::time::Instant::now();
        let result = swarm
            .run(topology.entry(), input.as_str())
            .await
            .unwrap_or_else(|e| fail(e.to_string()));
        let wall = ms(started.elapsed());
        if result.final_output != format!("done: {input}") {
            fail(format!("wrong answer: {}", result.final_output));
        }
        peak = peak.min(peak_in_flight(&result.timeline));
        if rep > 0 {
            walls.push(wall); // rep 0 warms up
        }
    }
    swarm.shutdown().await;
    if peak != K {
        fail(format!(
            "peak tool calls in flight was {peak}, expected {K}"
        ));
    }
    let (min, max) = (
        walls.iter().copied().fold(f64::MAX, f64::min),
        walls.iter().copied().fold(0.0, f64::max),
    );
    let wall = median(&mut walls);
    line(
        "fanout",
        wall,
        L_MS,
        &[
            ("peak_in_flight", peak.to_string()),
            ("overhead_ms", format!("{:.3}", wall - L_MS)),
            ("reps", REPS.to_string()),
            ("min_ms", format!("{min:.3}")),
            ("max_ms", format!("{max:.3}")),
        ],
    )
}
