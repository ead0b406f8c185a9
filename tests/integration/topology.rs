//! YAML topologies: every file in `agents/` loads, starts and runs on its scripted model;
//! broken files give errors that name the file, line and column.
//!
//! - `bad_fixtures`: every file in `tests/fixtures/bad/` gives exactly its expected problems.
//! - `check`, `graph`, `schema`: the `baton check | graph | schema` commands.
//! - `folder`: folder topologies (one file per agent).
//! - `hostile`: the loader never panics or hangs on hostile input.
//! - `agent_tool`: agents used as tools.
//! - `declared_tools`: `http` and `command` tools from YAML (`agents/ops.yaml`).
//! - `simulation`: the `simulation:` section read into a `baton::sim::SimSpec`.

mod agent_tool;
mod bad_fixtures;
mod check;
mod declared_tools;
mod folder;
mod graph;
mod hostile;
mod schema;
mod simulation;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use baton::model::check_history;
use baton::topology::{self, TopologyError};

/// Runs the `baton` binary in the package root, offline.
fn baton(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("OPENAI_API_KEY")
        .output()
        .expect("the baton binary runs")
}

/// Every `*.yaml` file shipped in `agents/`.
fn shipped_topologies() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("agents");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("agents/ exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn every_file_in_agents_loads_and_runs_offline() {
    let files = shipped_topologies();
    assert!(
        files.len() >= 4,
        "expected the shipped examples, found {files:?}"
    );
    for file in files {
        let topology = topology::load(&file).unwrap_or_else(|e| panic!("{e}"));
        let model = topology
            .scripted_model()
            .unwrap_or_else(|| panic!("{} has no scripted turns", file.display()))
            .clone();
        model.set_recording(true);
        let swarm = topology
            .start()
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let result = swarm
            .run(topology.entry(), "a question")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!result.final_output.is_empty(), "{}", file.display());
        assert_eq!(result.path[0], topology.entry());
        check_history(&result.transcript).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        // Every request the scripted model accepted passed the API's history check (nested runs
        // of agents used as tools add requests of their own, not counted in this run's usage).
        assert!(model.requests().len() as u64 >= result.usage.requests);
        assert!(topology.warnings().iter().all(|w| !w.is_error()));
        swarm.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn math_topology_runs_the_lessons_example_with_parallel_calls() {
    let topology = topology::load("agents/math.yaml").unwrap();
    topology.scripted_model().unwrap().set_recording(true);
    let swarm = topology.start().unwrap();
    let result = swarm
        .run(
            "triage",
            "What is (12 + 30) * 2, and the square root of 144?",
        )
        .await
        .unwrap();
    assert_eq!(
        result.final_output,
        "(12 + 30) * 2 = 84, and the square root of 144 is 12."
    );
    assert_eq!(result.path, ["triage", "calculator"]);
    assert_eq!(result.last_agent, "calculator");
    // The calculator's first turn asked for two calls at once: both outputs follow both calls.
    let requests = topology.scripted_model().unwrap().requests();
    let second_calc_request = requests
        .iter()
        .filter(|r| r.agent == "calculator")
        .nth(1)
        .unwrap();
    let tail: Vec<String> = second_calc_request
        .input
        .iter()
        .rev()
        .take(4)
        .rev()
        .map(|item| {
            serde_json::to_value(item).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        tail,
        [
            "function_call",
            "function_call",
            "function_call_output",
            "function_call_output"
        ]
    );
    swarm.shutdown().await;
}

/// Writes `yaml` to a temporary file and loads it.
fn load_text(name: &str, yaml: &str) -> Result<topology::Topology, TopologyError> {
    let dir = std::env::temp_dir().join(format!("baton-topology-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    topology::load(&path)
}

#[test]
fn a_bad_file_gives_an_error_with_file_line_and_column() {
    let err = load_text(
        "typo.yaml",
        "entry: a\nagents:\n  - name: a\n    instructons: hi\n",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("typo.yaml:4:5: unknown field `instructons`"),
        "{text}"
    );

    let err = load_text(
        "refs.yaml",
        "entry: a\ntools:\n  - builtin: add\nagents:\n  - name: a\n    tools: [add, mul]\n    handoffs: [b]\n",
    )
    .unwrap_err();
    let lines: Vec<String> = err
        .diagnostics()
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].ends_with("refs.yaml:6:18: unknown tool `mul` in agent `a` (add it under `tools:` at the top level)"), "{lines:?}");
    assert!(
        lines[1].ends_with("refs.yaml:7:16: unknown handoff target `b` in agent `a`"),
        "{lines:?}"
    );
}

#[test]
fn a_yaml_alias_bomb_is_refused_quickly_with_a_location() {
    let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        yaml.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
            p = i - 1
        ));
    }
    let err = load_text("bomb.yaml", &yaml).unwrap_err();
    assert!(matches!(err, TopologyError::Syntax(_)), "{err}");
    assert!(err.to_string().contains("bomb.yaml:"), "{err}");
}

#[test]
fn a_missing_file_is_a_read_error_naming_the_file() {
    let err = topology::load("agents/does-not-exist.yaml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "agents/does-not-exist.yaml: cannot read the topology: No such file or directory (os error 2)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn customer_support_goes_to_refunds_and_back_to_triage() {
    let topology = topology::load("agents/customer_support.yaml").unwrap();
    // The cycle is real and reported, not an error.
    let warnings: Vec<String> = topology
        .warnings()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("warning: handoff cycle: triage -> refunds -> triage"));
    let swarm = topology.start().unwrap();
    let result = swarm
        .run("triage", "I was charged twice for 2 mugs at 19.99 each.")
        .await
        .unwrap();
    assert_eq!(result.path, ["triage", "refunds", "triage"]);
    assert!(
        result.final_output.contains("refunding $39.98"),
        "{}",
        result.final_output
    );
    swarm.shutdown().await;
}

#[test]
fn every_example_names_a_real_model_and_keeps_its_scripted_turns() {
    for file in shipped_topologies() {
        let topology = topology::load(&file).unwrap();
        for agent in topology.agents() {
            let model = topology
                .model_of(agent.name())
                .unwrap_or_else(|| panic!("{}: {} has no model", file.display(), agent.name()));
            assert_eq!(model.provider, baton::model::Provider::Openai);
            assert_eq!(model.model.as_deref(), Some("gpt-4.1-mini"));
            assert_eq!(model.api_key_env, "OPENAI_API_KEY");
        }
        assert!(topology.scripted_model().is_some(), "{}", file.display());
    }
}
