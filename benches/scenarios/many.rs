//! S2 many and S6 scale: M conversations in flight at once, each a turn of K=4 calls of an
//! async tool that sleeps L=100 ms, then an answer. Ideal: L. Every conversation's answer is
//! checked (it echoes its own input), and the run fails loudly if one is wrong or missing.

use crate::support::{fail, line, ms, peak_rss_kib, rss_kib};

const L_MS: f64 = 100.0;

pub async fn run(name: &str, conversations: usize) -> String {
    let topology =
        baton::topology::load(crate::topology("many.yaml")).unwrap_or_else(|e| fail(e.to_string()));
    // Recorded requests would hold a copy of every conversation: not what is measured.
    if let Some(model) = topology.scripted_model() {
        model.set_recording(false);
    }
    let swarm = topology.start().unwrap_or_else(|e| fail(e.to_string()));
    // Warm up the runtime threads and allocator with one conversation.
    swarm
        .run(topology.entry(), "warm-up")
        .await
        .unwrap_or_else(|e| fail(e.to_string()));

    let baseline_kib = rss_kib();
    let started = std::time::Instant::now();
    // One task per conversation, as a server handling requests would run them.
    let tasks: Vec<_> = (0..conversations)
        .map(|i| {
            let swarm = swarm.clone();
            let entry = topology.entry().to_owned();
            tokio::spawn(async move {
                let result = swarm
                    .run(&entry, format!("q{i}"))
                    .await
                    .map_err(|e| format!("conversation {i}: {e}"))?;
                if result.final_output != format!("answer to q{i}") {
                    return Err(format!(
                        "conversation {i}: wrong answer {:?}",
                        result.final_output
                    ));
                }
                Ok(())
            })
        })
        .collect();
    let mut answered = 0_usize;
    for task in tasks {
        match task.await {
            Ok(Ok(())) => answered += 1,
            Ok(Err(e)) => fail(e),
            Err(e) => fail(format!("a conversation task failed: {e}")),
        }
    }
    let wall = ms(started.elapsed());
    let peak_kib = peak_rss_kib();
    swarm.shutdown().await;
    if answered != conversations {
        fail(format!(
            "{answered} of {conversations} conversations answered"
        ));
    }
    let per_conv_kib = peak_kib.saturating_sub(baseline_kib) as f64 / conversations as f64;
    line(
        name,
        wall,
        L_MS,
        &[
            ("conversations", conversations.to_string()),
            (
                "conv_per_s",
                format!("{:.0}", conversations as f64 / (wall / 1000.0)),
            ),
            ("peak_rss_mib", format!("{:.1}", peak_kib as f64 / 1024.0)),
            ("kib_per_conv", format!("{per_conv_kib:.2}")),
        ],
    )
}
