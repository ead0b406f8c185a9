//! The simulation harness (`baton::sim`): branching behaviour, personas, latencies and
//! faults in virtual time, the report and its expectations, from Rust.
//!
//! Determinism is checked as byte-identical JSON reports; branch weights statistically
//! (10,000 conversations, a fixed seed, a stated tolerance); queueing against its arithmetic.
//! Nothing here measures real time.

use std::time::Duration;

use baton::EventKind;
use baton::sim::{
    Condition, Distribution, Expectation, ModelFault, ModelFaultKind, ModelSim, Persona, SimCall,
    SimSpec, SimTurn, Simulation, Step, ToolSim,
};
use baton::tool::ToolErrorKind;
use baton::topology::Topology;
use serde_json::json;

/// Customer support: triage routes to billing, technical or refunds; refunds multiplies and
/// hands back to triage, which answers.
const SUPPORT: &str = r#"
entry: triage
handoff_style: transfer
models:
  - name: default
    provider: openai
    model: gpt-4.1-mini
    limits: { timeout: 10s, max_retries: 3, max_in_flight: 64 }
model: default
limits: { max_turns: 12, max_agent_visits: 2, tool_timeout: 2s }
tools:
  - builtin: multiply
agents:
  - name: triage
    handoffs: [billing, technical, refunds]
  - name: billing
  - name: technical
  - name: refunds
    tools: [multiply]
    handoffs: [triage]
"#;

fn support() -> Topology {
    baton::topology::parse(SUPPORT, std::path::Path::new("support.yaml"))
        .expect("the topology is valid")
}

/// Triage: refunds when the user asks for one, else billing 70% / technical 30%; back from
/// refunds it answers.
fn support_spec() -> SimSpec {
    let mut spec = SimSpec::default();
    spec.agents.insert(
        "triage".into(),
        vec![
            Step::always(SimTurn::text("Refunded {{output:refund}}.")).when(Condition::Turn(2)),
            Step::always(SimTurn::handoff("refunds")).when(Condition::InputMatches(
                regex::Regex::new("(?i)refund").unwrap(),
            )),
            Step::choose([
                (70.0, SimTurn::handoff("billing")),
                (30.0, SimTurn::handoff("technical")),
            ]),
        ],
    );
    spec.agents.insert(
        "billing".into(),
        vec![Step::always(SimTurn::text("Billing here."))],
    );
    spec.agents.insert(
        "technical".into(),
        vec![Step::always(SimTurn::text("Tech here."))],
    );
    spec.agents.insert(
        "refunds".into(),
        vec![Step::always(SimTurn::calls([
            SimCall::tool(
                "multiply",
                json!({"a": "{{match:(\\d+) mugs}}", "b": "{{match:at ([0-9.]+)}}"}),
            )
            .with_id("refund"),
            SimCall::Handoff {
                agent: "triage".into(),
            },
        ]))],
    );
    spec.personas = vec![
        Persona::new(
            "refunder",
            "I was charged twice for 2 mugs at 19.99. Refund please!",
        )
        .with_weight(1.0),
        Persona::new("asker", "Where is my invoice?").with_weight(3.0),
    ];
    spec
}

fn share(report: &baton::sim::Report, path: &[&str]) -> f64 {
    report
        .paths
        .iter()
        .find(|p| p.path == path)
        .map_or(0.0, |p| p.share)
}

// See: issue 12
#[tokio::test]
async fn branch_weights_are_honoured_within_sampling_error_over_10000_conversations() {
    let report = Simulation::new(&support(), support_spec())
        .conversations(10_000)
        .concurrency(500)
        .seed(42)
        .run()
        .await
        .expect("the simulation runs");
    assert_eq!(report.conversations, 10_000);
    assert_eq!(report.finished, 10_000, "{}", report.to_text());
    // Persona weights 1:3, then billing 70% / technical 30% of the askers.
    let expected = [
        (&["triage", "refunds", "triage"][..], 0.25),
        (&["triage", "billing"][..], 0.75 * 0.7),
        (&["triage", "technical"][..], 0.75 * 0.3),
    ];
    for (path, p) in expected {
        // Four standard deviations of a binomial share over 10,000 draws: at most 0.02.
        let tolerance = 4.0 * (p * (1.0 - p) / 10_000.0_f64).sqrt();
        let observed = share(&report, path);
        assert!(
            (observed - p).abs() < tolerance,
            "{path:?}: {observed} vs {p} ± {tolerance}"
        );
    }
}
