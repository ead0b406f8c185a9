//! sim: 100,000 conversations of the customer-support flow (`agents/customer_support.yaml`)
//! in virtual time, with 100 ms tool calls and 500 ms model requests. Reports the simulated
//! seconds, the wall seconds and conversations per wall second (target: 50,000 on 2 cores).
//! No ideal (DESIGN.md: `-`).

use std::time::{Duration, Instant};

use baton::sim::{Distribution, Simulation};

use crate::support::{fail, line, ms};

const CONVERSATIONS: u32 = 100_000;
/// Conversations in flight: enough that the shards always have work, under the model
/// entry's in-flight cap so that nobody queues.
const CONCURRENCY: u32 = 32;

pub async fn run() -> String {
    let path = format!(
        "{}/agents/customer_support.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let topology = baton::topology::load(&path).unwrap_or_else(|e| fail(e.to_string()));
    let mut spec = topology.simulation().cloned().unwrap_or_default();
    // The scenario's latencies, whatever the file declares.
    for model in topology.models() {
        let entry = spec.models.entry(model.name.clone()).or_default();
        entry.latency = Some(Distribution::millis(Duration::from_millis(500)));
        entry.faults.clear();
    }
    for tool in ["add", "multiply"] {
        let tool = spec.tools.entry(tool.to_owned()).or_default();
        tool.latency = Some(Distribution::millis(Duration::from_millis(100)));
        tool.failure_rate = 0.0;
        tool.timeout_rate = 0.0;
    }
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let simulation = Simulation::new(&topology, spec)
        .conversations(CONVERSATIONS)
        .concurrency(CONCURRENCY * threads as u32)
        .worker_threads(threads)
        .seed(1);
    let began = Instant::now();
    let (report, simulated) = simulation
        .run_with_progress(|_, _| {})
        .await
        .unwrap_or_else(|e| fail(e.to_string()));
    let wall = began.elapsed();
    if report.conversations != CONVERSATIONS {
        fail(format!("{} conversations reported", report.conversations));
    }
    let per_s = f64::from(CONVERSATIONS) / wall.as_secs_f64();
    line(
        "sim",
        ms(wall),
        0.0,
        &[
            ("conversations", CONVERSATIONS.to_string()),
            ("finished", report.finished.to_string()),
            ("simulated_s", format!("{:.1}", simulated.as_secs_f64())),
            ("wall_s", format!("{:.3}", wall.as_secs_f64())),
            ("conv_per_wall_s", format!("{per_s:.0}")),
            ("p99_ms", report.latency_ms.p99.to_string()),
            ("threads", threads.to_string()),
            ("concurrency", (CONCURRENCY * threads as u32).to_string()),
        ],
    )
}
