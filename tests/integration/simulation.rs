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
                json!({"a": "{{match:(\\d+) mugs}}", "b": "{{match:at (\\d+(?:\\.\\d+)?)}}"}),
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

/// The support flow with latencies and faults: 500 ms model requests, 100 ms tool calls.
fn slow_spec() -> SimSpec {
    let mut spec = support_spec();
    let mut model = ModelSim::default();
    model.latency = Some(Distribution::millis(Duration::from_millis(500)));
    spec.models.insert("default".into(), model);
    let mut tool = ToolSim::default();
    tool.latency = Some(Distribution::new(baton::sim::Shape::Uniform {
        min: 50.0,
        max: 150.0,
    }));
    spec.tools.insert("multiply".into(), tool);
    spec
}

// See: issue 12
#[tokio::test]
async fn the_same_seed_gives_byte_identical_reports_whatever_the_concurrency_and_threads() {
    let run = |concurrency, threads, seed| async move {
        Simulation::new(&support(), slow_spec())
            .conversations(2_000)
            .concurrency(concurrency)
            .worker_threads(threads)
            .seed(seed)
            .run()
            .await
            .expect("the simulation runs")
            .to_json()
    };
    let first = run(16, 1, 7).await;
    // At most 64 in flight per entry: neither run makes a request queue.
    assert_eq!(run(16, 1, 7).await, first);
    assert_eq!(run(60, 1, 7).await, first);
    assert_eq!(run(16, 2, 7).await, first);
    assert_eq!(run(50, 2, 7).await, first);
    let other = run(16, 1, 8).await;
    assert_ne!(other, first, "another seed takes other paths");
    // Latencies are virtual: 3 model requests of 500 ms and a 50-150 ms tool call.
    let report: serde_json::Value = serde_json::from_str(&first).unwrap();
    let p99 = report["latency_ms"]["p99"].as_u64().unwrap();
    let max = report["latency_ms"]["max"].as_u64().unwrap();
    assert!((1_000..=1_650).contains(&p99) && max <= 1_650, "{report:#}");
}

// See: issue 12
#[tokio::test]
async fn a_conversation_rerun_alone_takes_the_path_it_took_among_the_others() {
    let simulation = Simulation::new(&support(), slow_spec())
        .conversations(300)
        .concurrency(40)
        .seed(3);
    let all = simulation.outcomes().await.expect("the simulation runs");
    for index in [0_u32, 17, 299] {
        let alone = simulation.conversation(index).await.expect("it reruns");
        let among = &all[index as usize];
        assert_eq!(alone.path, among.path);
        assert_eq!(alone.transcript, among.transcript);
        assert_eq!(alone.runs, among.runs);
        assert_eq!(alone.trace_id, among.trace_id);
    }
    // A refund conversation computed its refund from the user's words (2 x 19.99).
    let refund = all
        .iter()
        .find(|o| o.path == ["triage", "refunds", "triage"])
        .expect("some conversation asked for a refund");
    assert_eq!(
        baton::item::output_text(&refund.transcript),
        "Refunded 39.98."
    );
}

// See: issue 12
#[tokio::test]
async fn a_model_cap_of_4_makes_40_conversations_queue_as_the_arithmetic_says() {
    // One agent, one 100 ms request per conversation, at most 4 in flight: 40 concurrent
    // conversations are served in 10 waves, so their latencies are 100, 200, ... 1000 ms,
    // four of each.
    let yaml = r#"
entry: solo
models:
  - { name: small, provider: openai, model: m, limits: { max_in_flight: 4 } }
model: small
agents:
  - name: solo
"#;
    let topology = baton::topology::parse(yaml, std::path::Path::new("solo.yaml")).unwrap();
    let mut spec = SimSpec::default();
    spec.agents
        .insert("solo".into(), vec![Step::always(SimTurn::text("done"))]);
    let mut model = ModelSim::default();
    model.latency = Some(Distribution::millis(Duration::from_millis(100)));
    spec.models.insert("small".into(), model);
    let simulation = Simulation::new(&topology, spec)
        .conversations(40)
        .concurrency(40);
    let outcomes = simulation.outcomes().await.expect("the simulation runs");
    let mut latencies: Vec<u128> = outcomes.iter().map(|o| o.runs[0].as_millis()).collect();
    latencies.sort_unstable();
    let expected: Vec<u128> = (1..=10).flat_map(|wave| [wave * 100; 4]).collect();
    assert_eq!(latencies, expected);
    let report = simulation.run().await.unwrap();
    assert_eq!(
        (
            report.latency_ms.p50,
            report.latency_ms.p99,
            report.latency_ms.max
        ),
        (500, 1000, 1000)
    );
    // Without the cap binding (4 at a time), nobody queues.
    let report = simulation.clone().concurrency(4).run().await.unwrap();
    assert_eq!(report.latency_ms.max, 100);
}

// See: issue 12
#[tokio::test]
async fn injected_faults_are_retried_in_virtual_time_and_counted_exactly() {
    let mut spec = slow_spec();
    let model = spec.models.get_mut("default").unwrap();
    model.latency = Some(Distribution::millis(Duration::from_millis(100)));
    model.faults = vec![ModelFault::new(
        0.2,
        ModelFaultKind::RateLimit {
            retry_after: Some(Duration::from_secs(1)),
        },
    )];
    let tool = spec.tools.get_mut("multiply").unwrap();
    tool.latency = Some(Distribution::millis(Duration::from_millis(100)));
    tool.failure_rate = 0.3;
    tool.error = Some("the refund service is down".into());
    // Only refunds call the tool.
    spec.personas = vec![Persona::new("refunder", "Refund 3 mugs at 10.00")];
    let simulation = Simulation::new(&support(), spec)
        .conversations(400)
        .concurrency(50)
        .seed(11);
    let report = simulation.run().await.expect("the simulation runs");
    let outcomes = simulation.outcomes().await.expect("the simulation runs");
    // Each 429 made a request wait its 1 s Retry-After (plus under 100 ms of jitter) and
    // take another 100 ms attempt, so a model event lasting 100 + 1100 k + (under 100 k) ms
    // had k rate limits.
    let mut limited = 0;
    for outcome in &outcomes {
        for event in &outcome.timeline {
            if matches!(event.kind, EventKind::Model) {
                let ms = (event.end - event.start).as_millis() - 100;
                let k = ms / 1100;
                assert!(
                    ms - 1100 * k <= 100 * k,
                    "a model request took {} ms",
                    ms + 100
                );
                limited += k;
            }
        }
    }
    assert!(limited > 0);
    let stopped = report.stops.get("model_error").copied().unwrap_or(0);
    // Retries exhausted (4 rate limits in a row, 3 waits) end a conversation with a model
    // error: its failed request's event holds 3 waits for 4 limits.
    assert!(stopped > 0, "{}", report.to_text());
    assert_eq!(
        report.faults.model.get("rate_limit").copied(),
        Some(limited as u64 + u64::from(stopped))
    );
    // Every injected tool failure is an error output, counted by tool and kind.
    let failed_outputs: u64 = outcomes
        .iter()
        .flat_map(|o| &o.transcript)
        .filter(|item| matches!(item, baton::Item::FunctionCallOutput { output, .. } if output.contains("the refund service is down")))
        .count() as u64;
    let counted = report
        .error_outputs
        .iter()
        .find(|e| e.tool == "multiply" && e.kind == ToolErrorKind::Failed)
        .map_or(0, |e| e.count);
    assert!(failed_outputs > 0);
    assert_eq!(counted, failed_outputs);
    assert_eq!(report.faults.tool_failures, failed_outputs);
}

// See: issue 12
#[tokio::test]
async fn every_expectation_kind_passes_and_fails_when_it_should() {
    let check = |expectations: Vec<Expectation>| async move {
        let mut spec = slow_spec();
        spec.expectations = expectations;
        // 50 in flight: the entry's cap of 64 does not make anyone queue.
        Simulation::new(&support(), spec)
            .conversations(400)
            .concurrency(50)
            .seed(5)
            .run()
            .await
            .expect("runs")
    };
    let path = |agents: &[&str]| agents.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    let report = check(vec![
        Expectation::EndsIn(path(&["triage", "billing", "technical"])),
        Expectation::EndsIn(path(&["billing", "technical"])),
        Expectation::PathAtMost {
            path: path(&["triage", "refunds"]),
            max: 0.35,
        },
        Expectation::PathAtMost {
            path: path(&["triage", "refunds"]),
            max: 0.05,
        },
        Expectation::PathAtLeast {
            path: path(&["triage", "billing"]),
            min: 0.4,
        },
        Expectation::PathAtLeast {
            path: path(&["triage", "billing"]),
            min: 0.9,
        },
        Expectation::MaxTurns(3),
        Expectation::MaxTurns(2),
        Expectation::LatencyUnder {
            percentile: 99,
            under: Duration::from_secs(2),
        },
        Expectation::LatencyUnder {
            percentile: 50,
            under: Duration::from_millis(900),
        },
        Expectation::NoErrorOutput {
            kind: Some(ToolErrorKind::TimedOut),
            tool: None,
        },
        Expectation::FinishAtLeast(0.95),
    ])
    .await;
    let passed: Vec<bool> = report.expectations.iter().map(|e| e.passed).collect();
    assert_eq!(
        passed,
        [
            true, false, true, false, true, false, true, false, true, false, true, true
        ],
        "{}",
        report.to_text()
    );
    assert!(!report.passed());
    let failing = &report.expectations[3];
    assert!(
        failing.expectation.contains("triage -> refunds"),
        "{failing:?}"
    );
    assert!(failing.observed.contains('%'), "{failing:?}");
    // Tools that time out and runs that fail trip the last two.
    let mut spec = slow_spec();
    spec.tools.get_mut("multiply").unwrap().timeout_rate = 1.0;
    spec.agents.insert(
        "technical".into(),
        vec![Step::always(SimTurn::handoff("billing"))],
    );
    spec.expectations = vec![
        Expectation::NoErrorOutput {
            kind: Some(ToolErrorKind::TimedOut),
            tool: Some("multiply".into()),
        },
        Expectation::FinishAtLeast(0.95),
    ];
    let report = Simulation::new(&support(), spec)
        .conversations(400)
        .seed(5)
        .run()
        .await
        .unwrap();
    assert_eq!(
        report
            .expectations
            .iter()
            .map(|e| e.passed)
            .collect::<Vec<_>>(),
        [false, false],
        "{}",
        report.to_text()
    );
    assert!(
        report.stops.contains_key("model_error") || report.stops.contains_key("handoff_loop"),
        "{}",
        report.to_text()
    );
}

// See: issue 12
#[tokio::test]
async fn personas_reply_after_each_answer_and_a_model_can_play_one() {
    use baton::model::{ScriptedModel, ScriptedTurn};
    use baton::sim::PersonaModel;
    use std::sync::Arc;

    let mut spec = support_spec();
    spec.agents.insert(
        "billing".into(),
        vec![
            Step::always(SimTurn::text("Shipping takes 3 days.")).when(Condition::InputMatches(
                regex::Regex::new("(?i)shipping").unwrap(),
            )),
            Step::always(SimTurn::text("Billing here.")),
        ],
    );
    spec.personas = vec![
        Persona::new("fixed", "Where is my invoice?")
            .with_reply("And shipping?")
            .with_reply("Thanks"),
        Persona::new("played", "Where is my invoice?").played_by(PersonaModel::new(
            "user",
            "A busy shop owner.",
            "Get the invoice, then ask about shipping.",
        )),
    ];
    spec.agents.insert(
        "triage".into(),
        vec![Step::always(SimTurn::handoff("billing"))],
    );
    let user = Arc::new(ScriptedModel::new().with_agent(
        "persona:played",
        [
            ScriptedTurn::text("What about shipping?"),
            ScriptedTurn::text("DONE"),
        ],
    ));
    let simulation = Simulation::new(&support(), spec)
        .conversations(40)
        .seed(9)
        .persona_model("user", user.clone());
    let outcomes = simulation.outcomes().await.expect("the simulation runs");
    for outcome in &outcomes {
        let users: Vec<&str> = outcome
            .transcript
            .iter()
            .filter_map(|i| match i {
                baton::Item::Message {
                    role: baton::Role::User,
                    content,
                    ..
                } => Some(content.as_str()),
                _ => None,
            })
            .collect();
        match outcome.persona.as_deref() {
            Some("fixed") => {
                assert_eq!(users, ["Where is my invoice?", "And shipping?", "Thanks"]);
                assert_eq!(outcome.runs.len(), 3);
            }
            Some("played") => {
                assert_eq!(users, ["Where is my invoice?", "What about shipping?"]);
                assert_eq!(outcome.runs.len(), 2);
            }
            other => panic!("persona {other:?}"),
        }
        // Follow-ups continue at the agent that answered: one pass through triage.
        assert_eq!(outcome.path, ["triage", "billing"], "{:?}", outcome.path);
        assert!(baton::item::output_text(&outcome.transcript).contains("Shipping takes 3 days."));
    }
    // The model playing the user saw the conversation with the roles turned round.
    let asked = user.requests();
    assert!(!asked.is_empty());
    let first = &asked[0];
    assert!(first.instructions.contains("A busy shop owner."));
    assert!(
        matches!(&first.input[0], baton::Item::Message { role: baton::Role::Assistant, content, .. } if content == "Where is my invoice?")
    );
    assert!(
        matches!(first.input.last(), Some(baton::Item::Message { role: baton::Role::User, content, .. }) if content == "Billing here.")
    );
}

// See: issue 12
#[tokio::test]
async fn each_model_fault_kind_does_what_it_says_and_is_counted() {
    // Refunds alone call a tool: every conversation asks for a refund.
    let run = |kind: ModelFaultKind| async move {
        let mut spec = slow_spec();
        spec.personas = vec![Persona::new("refunder", "Refund 2 mugs at 5.00")];
        spec.models.get_mut("default").unwrap().faults = vec![ModelFault::new(0.25, kind)];
        let simulation = Simulation::new(&support(), spec)
            .conversations(200)
            .concurrency(50)
            .seed(21);
        let report = simulation.run().await.expect("the simulation runs");
        let outcomes = simulation.outcomes().await.expect("the simulation runs");
        (report, outcomes)
    };
    let injected = |report: &baton::sim::Report, name: &str| {
        report.faults.model.get(name).copied().unwrap_or(0)
    };
    let errors = |report: &baton::sim::Report, kind: ToolErrorKind| -> u64 {
        report
            .error_outputs
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.count)
            .sum()
    };

    // Arguments that are not JSON: an invalid_arguments error output each, the run goes on.
    let (report, _) = run(ModelFaultKind::MalformedArguments).await;
    assert!(injected(&report, "malformed_arguments") > 0);
    assert_eq!(
        errors(&report, ToolErrorKind::InvalidArguments),
        injected(&report, "malformed_arguments")
    );
    assert_eq!(report.finished, 200, "{}", report.to_text());

    // A call to a tool the agent lacks: an unknown_tool error output each.
    let (report, _) = run(ModelFaultKind::UnknownTool).await;
    assert!(injected(&report, "unknown_tool") > 0);
    assert_eq!(
        errors(&report, ToolErrorKind::UnknownTool),
        injected(&report, "unknown_tool")
    );

    // One call id for the tool call and the handoff: the turn loop makes them unique again,
    // and every call still gets exactly one output.
    let (report, outcomes) = run(ModelFaultKind::DuplicateCallIds).await;
    assert!(injected(&report, "duplicate_call_ids") > 0);
    assert_eq!(report.finished, 200, "{}", report.to_text());
    for outcome in &outcomes {
        baton::model::check_history(&outcome.transcript).expect("a valid history");
    }

    // No answer: the entry's 10 s timeout ends the attempt, and the retry answers.
    let (report, outcomes) = run(ModelFaultKind::Timeout).await;
    let timeouts = injected(&report, "timeout");
    assert!(timeouts > 0);
    let slow: u64 = outcomes
        .iter()
        .flat_map(|o| &o.timeline)
        .filter(|e| {
            matches!(e.kind, EventKind::Model) && e.end - e.start >= Duration::from_secs(10)
        })
        .count() as u64;
    assert!(
        slow > 0 && slow <= timeouts,
        "{slow} slow requests for {timeouts} timeouts"
    );
    assert!(report.latency_ms.max >= 10_000, "{}", report.to_text());

    // HTTP 500s are retried with backoff.
    let (report, _) = run(ModelFaultKind::ServerError).await;
    assert!(injected(&report, "server_error") > 0);
    assert!(report.finished >= 195, "{}", report.to_text());
}
