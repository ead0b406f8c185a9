//! Folder topologies: a `topology.yaml` listing one file per agent.

use std::path::Path;

use baton::topology::{self, TopologyError};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/topologies")
        .join(name)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_topology_loads_its_agent_files_and_runs() {
    let topology = topology::load(fixture("support_team")).unwrap();
    assert_eq!(topology.name(), "support_team");
    assert_eq!(topology.path(), fixture("support_team/topology.yaml"));
    let files: Vec<String> = topology
        .files()
        .iter()
        .map(|f| {
            f.strip_prefix(fixture("support_team"))
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        files,
        ["topology.yaml", "agents/triage.yaml", "agents/billing.yaml"]
    );
    let names: Vec<&str> = topology.agents().iter().map(|a| a.name()).collect();
    assert_eq!(names, ["triage", "billing"]);
    let swarm = topology.start().unwrap();
    let result = swarm.run(topology.entry(), "what do I owe?").await.unwrap();
    assert_eq!(result.final_output, "Your total is 42.5.");
    assert_eq!(result.path, ["triage", "billing"]);
    swarm.shutdown().await;
}

#[test]
fn problems_in_agent_files_are_located_in_those_files() {
    let err = topology::load(fixture("broken_team")).unwrap_err();
    let TopologyError::Invalid(diagnostics) = &err else {
        panic!("{err}")
    };
    let found: Vec<(String, u32, u32, bool)> = diagnostics
        .iter()
        .map(|d| {
            let file = d.file.strip_prefix(fixture("broken_team")).unwrap();
            (file.display().to_string(), d.line, d.column, d.is_error())
        })
        .collect();
    assert_eq!(
        found,
        [
            ("agents/triage.yaml".to_owned(), 2, 12, true),
            ("agents/triage.yaml".to_owned(), 3, 23, false),
            ("agents/billing.yaml".to_owned(), 2, 1, true),
        ]
    );
}

#[test]
fn a_folder_without_a_topology_file_is_a_read_error() {
    let err = topology::load(fixture("support_team/agents")).unwrap_err();
    assert!(matches!(err, TopologyError::Read { .. }), "{err}");
    assert!(err.to_string().contains("topology.yaml"), "{err}");
}
