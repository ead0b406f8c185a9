//! `baton graph`: snapshot tests of the Mermaid and DOT drawings of every shipped example.
//!
//! Snapshots live in `tests/snapshots/graph/<example>.{mmd,dot}`; run with `BATON_BLESS=1` to
//! write them after an intended change, and review the diff.

use std::path::Path;

use super::baton;

fn check_snapshot(example: &str, format: &str, extension: &str) {
    let out = baton(&[
        "graph",
        &format!("agents/{example}.yaml"),
        "--format",
        format,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drawn = String::from_utf8(out.stdout).unwrap();
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/graph")
        .join(format!("{example}.{extension}"));
    if std::env::var_os("BATON_BLESS").is_some() {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &drawn).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (run with BATON_BLESS=1)", file.display()));
    assert_eq!(
        drawn,
        expected,
        "{} changed (BATON_BLESS=1 rewrites it)",
        file.display()
    );
}

#[test]
fn graphs_of_the_examples_match_their_snapshots() {
    for example in ["math", "customer_support", "research", "handoff_chain"] {
        check_snapshot(example, "mermaid", "mmd");
        check_snapshot(example, "dot", "dot");
    }
}

#[test]
fn the_entry_agent_is_marked_and_agent_tools_are_edges() {
    let out = baton(&["graph", "agents/research.yaml"]);
    let mermaid = String::from_utf8(out.stdout).unwrap();
    assert!(mermaid.contains("start((start)) --> a0\n"), "{mermaid}");
    assert!(mermaid.contains("a0([\"lead\"]):::entry\n"), "{mermaid}");
    assert!(mermaid.contains("a1([\"searcher\"])\n"), "{mermaid}");
    assert!(
        mermaid.contains("a0 -.->|\"tool: search\"| a1\n"),
        "{mermaid}"
    );
}

#[test]
fn svg_is_rendered_by_graphviz_or_explained() {
    let out = baton(&["graph", "agents/math.yaml", "--format", "svg"]);
    let have_dot = std::process::Command::new("dot").arg("-V").output().is_ok();
    if have_dot {
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
    } else {
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("needs Graphviz's `dot` on PATH"));
    }
}

#[test]
fn an_invalid_topology_is_not_drawn() {
    let out = baton(&["graph", "tests/fixtures/bad/unknown_tool.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}
