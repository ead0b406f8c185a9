//! `baton check`: rustc-style problems, JSON for editors and CI, exit codes.

use super::baton;
use crate::support::text;

#[test]
fn baton_check_passes_on_every_shipped_example() {
    let mut args = vec!["check".to_owned()];
    args.extend(
        super::shipped_topologies()
            .iter()
            .map(|p| p.display().to_string()),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = baton(&args);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(" topologies checked: 0 errors, "),
        "{stdout}"
    );
}

#[test]
fn baton_check_prints_problems_like_rustc_and_exits_1() {
    let out = baton(&["check", "tests/fixtures/bad/unknown_tool.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "\
error: unknown tool `ad` in agent `a`
 --> tests/fixtures/bad/unknown_tool.yaml:9:18
  |
9 |     tools: [add, ad, weather]
  |                  ^^
  = help: did you mean `add`?

error: unknown tool `weather` in agent `a`
 --> tests/fixtures/bad/unknown_tool.yaml:9:22
  |
9 |     tools: [add, ad, weather]
  |                      ^^^^^^^
  = help: add it under `tools:` at the top level

1 topology checked: 2 errors, 0 warnings
"
    );
    assert_eq!(text(&out.stderr), "baton: error: 2 errors found\n");
}

#[test]
fn warnings_alone_do_not_fail_baton_check() {
    let out = baton(&["check", "tests/fixtures/bad/handoff_cycle.yaml"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("warning: handoff cycle: triage -> refunds -> triage\n"));
    assert!(stdout.contains("  |                ------\n"), "{stdout}");
}

#[test]
fn baton_check_json_gives_every_diagnostic_with_its_place() {
    let out = baton(&[
        "check",
        "--format",
        "json",
        "tests/fixtures/bad/unknown_model.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"], 4);
    assert_eq!(report["warnings"], 0);
    let first = &report["diagnostics"][0];
    assert_eq!(first["file"], "tests/fixtures/bad/unknown_model.yaml");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["message"], "unknown model `fats`");
    assert_eq!(
        (&first["line"], &first["column"], &first["end_column"]),
        (&8.into(), &8.into(), &12.into())
    );
    assert_eq!(first["hint"], "define it under `models:`");
}

#[test]
fn an_unreadable_path_exits_2() {
    let out = baton(&["check", "agents/math.yaml", "agents/nope.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read agents/nope.yaml"));
}

#[cfg(unix)]
#[test]
fn an_endless_device_is_refused_as_not_a_regular_file() {
    // See: issue 9
    let out = baton(&["check", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot read /dev/zero: not a regular file (a device)"),
        "{stderr}"
    );
}

#[test]
fn a_folder_whose_topology_is_too_large_is_located_at_its_topology_yaml() {
    let dir = std::env::temp_dir().join(format!("baton-check-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join("topology.yaml")).unwrap();
    file.set_len(baton::topology::MAX_FILE_BYTES + 1).unwrap();
    drop(file);
    let out = baton(&["check", "--format", "json", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = dir.join("topology.yaml");
    assert_eq!(report["diagnostics"][0]["file"], file.display().to_string());
    let _ = std::fs::remove_dir_all(&dir);
}
