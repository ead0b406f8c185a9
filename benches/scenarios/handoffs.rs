//! S4 handoffs: a chain of 10 agents, each handing off to the next, the last answering; the
//! median of 20 runs. Ideal: 0; reported as ms per handoff (9 handoffs a run).

use crate::support::{fail, line, median, ms};

const AGENTS: usize = 10;
const REPS: usize = 20;

pub async fn run() -> String {
    let topology = baton::topology::load(crate::topology("handoffs.yaml"))
        .unwrap_or_else(|e| fail(e.to_string()));
    if let Some(model) = topology.scripted_model() {
        model.set_recording(false);
    }
    let swarm = topology.start().unwrap_or_else(|e| fail(e.to_string()));
    let handoffs = (AGENTS - 1) as f64;
    let mut walls = Vec::with_capacity(REPS);
    for rep in 0..REPS + 5 {
        let input = format!("rep {rep}");
        let started = std::time::Instant::now();
        let result = swarm
            .run(topology.entry(), input.as_str())
            .await
            .unwrap_or_else(|e| fail(e.to_string()));
        let wall = ms(started.elapsed());
        if result.final_output != format!("answered {input}") || result.path.len() != AGENTS {
            fail(format!(
                "wrong run: {} via {:?}",
                result.final_output, result.path
            ));
        }
        if rep >= 5 {
            walls.push(wall); // the first 5 warm up
        }
    }
    swarm.shutdown().await;
    let (min, max) = (
        walls.iter().copied().fold(f64::MAX, f64::min),
        walls.iter().copied().fold(0.0, f64::max),
    );
    let wall = median(&mut walls);
    line(
        "handoffs",
        wall,
        0.0,
        &[
            ("ms_per_handoff", format!("{:.4}", wall / handoffs)),
            ("handoffs", format!("{handoffs}")),
            ("reps", REPS.to_string()),
            ("min_ms", format!("{min:.3}")),
            ("max_ms", format!("{max:.3}")),
        ],
    )
}
