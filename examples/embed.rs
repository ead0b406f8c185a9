//! Embeds a Baton swarm in a plain `#[tokio::main]` application and runs conversations from
//! several tasks at once.
//!
//! Run with:
//!
//! ```console
//! cargo run --example embed
//! ```
//!
//! The swarm owns its actors and threads; the application only holds a `Swarm` handle, which
//! is `Clone + Send + Sync`, and awaits `run` from wherever it likes. Offline: the topology's
//! scripted turns answer.

use baton::topology;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let topology = topology::load("agents/math.yaml")?;
    let swarm = topology.start()?;

    // Three conversations, each from its own task, all in flight together.
    let mut tasks = Vec::new();
    for n in 1..=3 {
        let swarm = swarm.clone();
        let entry = topology.entry().to_owned();
        tasks.push(tokio::spawn(async move {
            let question =
                format!("Question {n}: what is (12 + 30) * 2, and the square root of 144?");
            swarm.run(&entry, question).await
        }));
    }
    for task in tasks {
        let result = task.await??;
        println!(
            "{} -> {} ({} model requests, path {})",
            result.trace_id,
            result.final_output,
            result.usage.requests,
            result.path.join(" -> ")
        );
    }

    swarm.shutdown().await;
    Ok(())
}
