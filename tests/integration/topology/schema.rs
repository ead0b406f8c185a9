//! `baton schema`: a JSON Schema every shipped example (and every agent file of a folder
//! topology) validates against, and that catches what editors should flag; the schema of a
//! simulation file (`docs/simulation.schema.json`).

use std::path::Path;

use super::baton;

/// The schema `baton schema` prints (with `--agent`: an agent file's).
fn printed_schema(agent: bool) -> serde_json::Value {
    let args: &[&str] = if agent {
        &["schema", "--agent"]
    } else {
        &["schema"]
    };
    let out = baton(args);
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn yaml_as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn errors(validator: &jsonschema::Validator, instance: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn every_example_validates_against_the_printed_schema() {
    let schema = printed_schema(false);
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let validator = jsonschema::validator_for(&schema).unwrap();
    for file in super::shipped_topologies() {
        let errors = errors(&validator, &yaml_as_json(&file));
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
    let folder =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/topologies/support_team");
    let errors = errors(&validator, &yaml_as_json(&folder.join("topology.yaml")));
    assert!(errors.is_empty(), "{errors:#?}");
    let simulations = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/simulation");
    for file in [
        simulations.join("support.yaml"),
        simulations.join("split/topology.yaml"),
    ] {
        let errors = errors_of(&validator, &file);
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
    let agent = jsonschema::validator_for(&printed_schema(true)).unwrap();
    for name in ["triage", "billing"] {
        let file = folder.join(format!("agents/{name}.yaml"));
        let errors = errors_of(&agent, &file);
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

fn errors_of(validator: &jsonschema::Validator, file: &Path) -> Vec<String> {
    errors(validator, &yaml_as_json(file))
}

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    let validator = jsonschema::validator_for(&printed_schema(false)).unwrap();
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    for name in [
        "unknown_field",
        "missing_entry",
        "wrong_types",
        "tool_kinds",
        "bad_limits",
        "simulation",
    ] {
        let file = bad.join(format!("{name}.yaml"));
        assert!(
            !errors_of(&validator, &file).is_empty(),
            "{} passed the schema",
            file.display()
        );
    }
}

#[test]
fn the_schema_files_in_docs_are_what_baton_schema_prints() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    for (file, agent) in [("topology.schema.json", false), ("agent.schema.json", true)] {
        let saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(docs.join(file)).unwrap()).unwrap();
        assert_eq!(
            saved,
            printed_schema(agent),
            "docs/{file} is stale: regenerate it with `baton schema`"
        );
    }
}

#[test]
fn schema_fields_carry_their_documentation() {
    let schema = printed_schema(false);
    let entry = &schema["properties"]["entry"];
    assert_eq!(entry["description"], "The agent every run starts at.");
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, ["entry", "agents"]);
}

#[test]
fn the_simulation_file_schema_in_docs_is_current_and_fits_the_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("docs/simulation.schema.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        saved,
        baton::topology::simulation_schema(),
        "docs/simulation.schema.json is stale: regenerate it from `baton::topology::simulation_schema()`"
    );
    let validator = jsonschema::validator_for(&saved).unwrap();
    let file = root.join("tests/fixtures/simulation/split/simulation.yaml");
    let found = errors_of(&validator, &file);
    assert!(found.is_empty(), "{found:#?}");
    let mut bad = yaml_as_json(&file);
    bad["seeds"] = serde_json::json!(3);
    assert!(!errors(&validator, &bad).is_empty());
}

// See: issue 12
#[test]
fn baton_schema_simulation_prints_the_simulation_files_schema() {
    let out = baton(&["schema", "--simulation"]);
    assert_eq!(out.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, baton::topology::simulation_schema());
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/simulation.schema.json"),
    )
    .unwrap();
    assert_eq!(
        printed,
        serde_json::from_str::<serde_json::Value>(&shipped).unwrap()
    );
}
