//! S3 cpu: one conversation whose model asks for K=2 calls of a CPU-bound tool that burns
//! 200 ms each (calibrated), on a 2-thread pool; the median of 5 runs. Ideal: 200 ms on 2
//! cores.

use crate::support::{fail, line, median, ms, peak_in_flight};

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
            walls.push(wall);
        }
    }
    swarm.shutdown().await;
    if peak != K {
        fail(format!(
            "peak CPU-bound calls in flight was {peak}, expected {K}"
        ));
    }
    let (min, max) = (
        walls.iter().copied().fold(f64::MAX, f64::min),
        walls.iter().copied().fold(0.0, f64::max),
    );
    let wall = median(&mut walls);
    line(
        "cpu",
        wall,
        BURN_MS,
        &[
            ("peak_in_flight", peak.to_string()),
            (
                "iterations_per_ms",
                calibration.iterations_per_ms.to_string(),
            ),
            ("reps", REPS.to_string()),
            ("min_ms", format!("{min:.3}")),
            ("max_ms", format!("{max:.3}")),
        ],
    )
}
