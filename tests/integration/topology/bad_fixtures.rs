//! Table-driven: each file in `tests/fixtures/bad/` states its expected problems in
//! `# expect: <line>:<col>: <message> (<hint>)` comments, in order; loading it must give
//! exactly those (errors and warnings), at exactly those places.

use std::path::{Path, PathBuf};

use baton::topology;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_bad_fixture_gives_exactly_its_expected_problems() {
    let files = fixtures();
    assert!(files.len() >= 20, "{files:?}");
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let expected: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .collect();
        assert!(
            !expected.is_empty(),
            "{} states no expectation",
            file.display()
        );
        let found: Vec<String> = match topology::load(file) {
            Ok(t) => t.warnings().iter().map(ToString::to_string).collect(),
            Err(e) => e.diagnostics().iter().map(ToString::to_string).collect(),
        };
        // Messages start with `file:`; the expectations leave the file out.
        let prefix = format!("{}:", file.display());
        let found: Vec<&str> = found
            .iter()
            .map(|d| d.strip_prefix(&prefix).unwrap_or(d))
            .collect();
        if found != expected {
            failures.push(format!(
                "{}:\n  expected:\n    {}\n  found:\n    {}",
                file.display(),
                expected.join("\n    "),
                found.join("\n    ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_fixture_with_only_warnings_still_loads() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/handoff_cycle.yaml");
    let topology = topology::load(file).unwrap();
    assert_eq!(topology.warnings().len(), 1);
    assert!(
        topology.warnings()[0]
            .message
            .starts_with("handoff cycle: ")
    );
}
