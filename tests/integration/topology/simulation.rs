//! The `simulation:` section: a fixture using every field reads into exactly the
//! [`SimSpec`] it declares; scripted turns become steps; a section in its own file reads the
//! same as one written in place.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use baton::sim::{
    Condition, Distribution, Expectation, ModelFault, ModelFaultKind, ModelSim, NO_MODEL, Persona,
    Shape, SimCall, SimSpec, SimTurn, Step, ToolSim,
};
use baton::tool::ToolErrorKind;
use baton::topology;
use serde_json::json;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/simulation")
        .join(name)
}

fn regex(text: &str) -> Condition {
    Condition::InputMatches(regex::Regex::new(text).unwrap())
}

fn ms(value: f64) -> f64 {
    value
}

fn tool_call(name: &str, args: serde_json::Value, id: &str) -> SimCall {
    SimCall::tool(name, args).with_id(id)
}

/// The spec `support.yaml` declares, written out in code.
fn expected_agents() -> BTreeMap<String, Vec<Step>> {
    let mut agents = BTreeMap::new();
    agents.insert(
        "triage".to_owned(),
        vec![
            Step::always(SimTurn::handoff("refunds")).when(regex("(?i)refund|money back")),
            Step::choose([
                (70.0, SimTurn::handoff("billing")),
                (30.0, SimTurn::handoff("technical")),
            ])
            .when(Condition::Turn(1)),
            Step::always(SimTurn::text("Anything else?")),
        ],
    );
    agents.insert(
        "billing".to_owned(),
        vec![
            Step::always(SimTurn::calls([tool_call(
                "lookup",
                json!({ "id": "{{match:#(\\d+)}}" }),
                "order",
            )]))
            .when(Condition::Turn(1)),
            Step::always(SimTurn::text("Your order {{output:order}}"))
                .when(Condition::OutputContains {
                    tool: Some("lookup".to_owned()),
                    text: "shipped".to_owned(),
                })
                .when(Condition::Not(Box::new(regex("angry")))),
            Step::always(SimTurn::handoff("refunds")).when(Condition::OutputContains {
                tool: None,
                text: "refund".to_owned(),
            }),
            Step::always(SimTurn::text("Billing cannot help.")),
        ],
    );
    // Agents with scripted turns and no entry: the n-th turn at the n-th request.
    agents.insert(
        "technical".to_owned(),
        vec![Step::always(SimTurn::text("Please restart the app.")).when(Condition::Turn(1))],
    );
    agents.insert(
        "refunds".to_owned(),
        vec![
            Step::always(SimTurn::calls([tool_call(
                "multiply",
                json!({ "a": 2, "b": 19.99 }),
                "refund",
            )]))
            .when(Condition::Turn(1)),
            Step::always(
                SimTurn::calls([SimCall::Handoff {
                    agent: "triage".to_owned(),
                }])
                .with_text("Refunded {{output:refund}}."),
            )
            .when(Condition::Turn(2)),
        ],
    );
    agents
}

fn check_support_spec(spec: &SimSpec) {
    assert_eq!(spec.conversations, Some(500));
    assert_eq!(spec.seed, Some(7));
    assert_eq!(spec.concurrency, Some(50));

    let models: Vec<&str> = spec.models.keys().map(String::as_str).collect();
    assert_eq!(models, [NO_MODEL, "default"]);
    let default = &spec.models["default"];
    let mut expected = ModelSim::default();
    expected.latency = Some(
        Distribution::new(Shape::LogNormal {
            median: ms(500.0),
            sigma: 0.5,
        })
        .with_max(ms(2000.0)),
    );
    expected.input_tokens = Some(Distribution::fixed(400.0));
    expected.output_tokens = Some(Distribution::new(Shape::Uniform {
        min: 20.0,
        max: 80.0,
    }));
    assert_eq!(default.latency, expected.latency);
    assert_eq!(default.input_tokens, expected.input_tokens);
    assert_eq!(default.output_tokens, expected.output_tokens);
    let faults: Vec<(&str, f64)> = default
        .faults
        .iter()
        .map(|f: &ModelFault| (f.kind.name(), f.rate))
        .collect();
    assert_eq!(faults, [("rate_limit", 0.02), ("server_error", 0.01)]);
    assert_eq!(
        default.faults[0].kind,
        ModelFaultKind::RateLimit {
            retry_after: Some(Duration::from_secs(1))
        }
    );
    assert_eq!(
        spec.models[NO_MODEL].latency,
        Some(Distribution::millis(Duration::from_millis(100)))
    );

    let multiply: &ToolSim = &spec.tools["multiply"];
    assert_eq!(
        multiply.latency,
        Some(Distribution::new(Shape::Uniform {
            min: 50.0,
            max: 150.0
        }))
    );
    assert_eq!(multiply.failure_rate, 0.05);
    assert_eq!(multiply.error.as_deref(), Some("upstream unavailable"));
    assert_eq!(multiply.timeout_rate, 0.01);
    assert_eq!(multiply.output, None);
    let lookup = &spec.tools["lookup"];
    assert_eq!(
        lookup.latency,
        Some(Distribution::new(Shape::Normal {
            mean: 200.0,
            sd: 50.0
        }))
    );
    assert_eq!((lookup.failure_rate, lookup.timeout_rate), (0.0, 0.0));
    assert_eq!(lookup.output.as_deref(), Some("order {{args.id}}: shipped"));

    assert_eq!(spec.agents, expected_agents());

    let mut double_charge = Persona::new("double_charge", "I was charged twice for order #12")
        .with_weight(3.0)
        .with_reply("Thanks!")
        .with_reply("Bye");
    assert_eq!(spec.personas[0], double_charge);
    double_charge = Persona::new("broken_app", "The app crashes");
    double_charge
        .openings
        .push("The app will not start".to_owned());
    assert_eq!(spec.personas[1], double_charge);
    let llm = &spec.personas[2];
    assert_eq!((llm.name.as_str(), llm.weight), ("llm_user", 1.0));
    assert_eq!(llm.openings, ["Hi"]);
    assert!(llm.replies.is_empty());
    let model = llm.model.as_ref().unwrap();
    assert_eq!(model.entry, "user");
    assert_eq!(model.description, "A busy customer.");
    assert_eq!(model.plan, "Get a refund for order 12.");
    assert_eq!(model.max_replies, 2);
    assert_eq!(spec.personas.len(), 3);

    let path = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        spec.expectations,
        [
            Expectation::EndsIn(path(&["triage", "billing", "technical"])),
            Expectation::PathAtMost {
                path: path(&["triage", "refunds"]),
                max: 0.05
            },
            Expectation::PathAtLeast {
                path: path(&["triage", "billing"]),
                min: 0.5
            },
            Expectation::MaxTurns(8),
            Expectation::LatencyUnder {
                percentile: 99,
                under: Duration::from_secs(2)
            },
            Expectation::LatencyUnder {
                percentile: 100,
                under: Duration::from_secs(5)
            },
            Expectation::NoErrorOutput {
                kind: Some(ToolErrorKind::TimedOut),
                tool: None
            },
            Expectation::NoErrorOutput {
                kind: None,
                tool: None
            },
            Expectation::NoErrorOutput {
                kind: Some(ToolErrorKind::Failed),
                tool: Some("multiply".to_owned())
            },
            Expectation::FinishAtLeast(0.95),
        ]
    );
}

#[test]
fn a_section_using_every_field_reads_into_exactly_the_spec_it_declares() {
    let topology = topology::load(fixture("support.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let warnings: Vec<String> = topology
        .warnings()
        .iter()
        .map(ToString::to_string)
        .collect();
    // Triage -> refunds -> triage is a cycle; nothing else is wrong.
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    check_support_spec(topology.simulation().expect("a simulation section"));
}

#[test]
fn a_section_in_its_own_file_reads_as_one_written_in_place() {
    let topology = topology::load(fixture("split/topology.yaml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(topology.files().len(), 2);
    assert!(topology.files()[1].ends_with("split/simulation.yaml"));
    check_support_spec(topology.simulation().expect("a simulation section"));
}

#[test]
fn a_topology_without_a_section_has_no_simulation() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("agents/math.yaml");
    assert!(topology::load(file).unwrap().simulation().is_none());
}

#[test]
fn problems_in_a_simulation_file_are_located_in_that_file() {
    let dir = std::env::temp_dir().join(format!("baton-sim-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("t.yaml"),
        "entry: a\nagents:\n  - name: a\n    scripted: [{ text: hi }]\nsimulation: sim.yaml\n",
    )
    .unwrap();
    std::fs::write(dir.join("sim.yaml"), "seed: -1\nconversation: 3\n").unwrap();
    let err = topology::load(dir.join("t.yaml")).unwrap_err();
    let lines: Vec<String> = err.diagnostics().iter().map(ToString::to_string).collect();
    let sim = dir.join("sim.yaml");
    assert_eq!(
        lines,
        [
            format!("{}:1:7: `seed` must not be negative", sim.display()),
            format!(
                "{}:2:1: unknown field `conversation` in a simulation (did you mean `conversations`?)",
                sim.display()
            ),
        ]
    );
    std::fs::write(
        dir.join("t.yaml"),
        "entry: a\nagents:\n  - name: a\n    scripted: [{ text: hi }]\nsimulation: ../sim.yaml\n",
    )
    .unwrap();
    let err = topology::load(dir.join("t.yaml")).unwrap_err();
    assert_eq!(
        err.diagnostics()[0].message,
        "simulation file `../sim.yaml` must stay inside the topology's folder (no `..`)"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
