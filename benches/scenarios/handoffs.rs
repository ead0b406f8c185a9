//! S4 handoffs: a chain of 10 agents, each handing off to the next, the last answering; the
//! median of 20 runs. Ideal: 0; reported as ms per handoff (9 handoffs a run).

use crate::support::{fail, line, runs};

const AGENTS: usize = 10;
const REPS: usize = 20;

pub async fn run() -> String {
    let topology = baton::topology::load(crate::topology("handoffs.yaml"))
        .unwrap_or_else(|e| fail(e.to_string()));
    if let Some(model) = topology.scripted_model() {
        model.set_recording(false);
    }
    let swarm = topology.start().unwrap_or_else(|e| fail(e.to_string()));
    let answered = |input: &str| format!("answered {input}");
    runs(&swarm, topology.entry(), 5, answered).await; // warm-up
    let samples = runs(&swarm, topology.entry(), REPS, answered).await;
    swarm.shutdown().await;
    if let Some(short) = samples.results.iter().find(|r| r.path.len() != AGENTS) {
        fail(format!("a run skipped agents: {:?}", short.path));
    }
    let handoffs = (AGENTS - 1) as f64;
    let wall = samples.median();
    let mut extra = vec![
        ("ms_per_handoff", format!("{:.4}", wall / handoffs)),
        ("handoffs", format!("{handoffs}")),
    ];
    extra.extend(samples.spread());
    line("handoffs", wall, 0.0, &extra)
}
