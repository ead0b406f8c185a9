//! `baton = { default-features = false }` is the library alone: the binary's dependencies
//! (clap, anyhow, tracing-subscriber) and the mock server's (hyper's server side, hyper-util's
//! server parts) come only with the `cli` and `mock`
//! features, which are on by default. Checked on the real dependency graph, with
//! `cargo tree`.

use std::process::Command;

// See: issue 9

/// `cargo tree -e normal,features` of this package, one `name vX` or `name feature "f"` per
/// line, with `extra` arguments.
fn tree(extra: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--quiet",
            "-e",
            "normal,features",
            "--prefix",
            "none",
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ])
        .args(extra)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end_matches(" (*)").to_owned())
        .collect()
}

/// The lines of `tree` that show one of the binary's or the mock server's dependencies.
fn heavy(tree: &[String]) -> Vec<&String> {
    tree.iter()
        .filter(|l| {
            ["clap v", "anyhow v", "tracing-subscriber v"]
                .iter()
                .any(|name| l.starts_with(name))
                || l.starts_with("hyper feature \"server\"")
        })
        .collect()
}

#[test]
fn the_library_without_default_features_has_no_cli_or_mock_server_dependencies() {
    let lean = tree(&["--no-default-features"]);
    assert!(
        lean.iter().any(|l| l.starts_with("reqwest v")),
        "not a tree: {lean:?}"
    );
    assert_eq!(heavy(&lean), Vec::<&String>::new());
}

#[test]
fn the_default_features_bring_the_cli_and_the_mock_server() {
    let full = tree(&[]);
    for wanted in [
        "clap v",
        "anyhow v",
        "tracing-subscriber v",
        "hyper feature \"server\"",
    ] {
        assert!(
            full.iter().any(|l| l.starts_with(wanted)),
            "no `{wanted}` in the default tree"
        );
    }
}
