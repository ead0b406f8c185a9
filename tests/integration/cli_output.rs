//! What `baton run` writes, as a script piping its output sees it: `-q` writes the answer
//! and nothing else (on failure, only the one-line error); log lines carry no colour codes
//! when stderr is not a terminal; offline runs count no invented tokens.

use std::process::Output;

use crate::support::{baton_command, text};

// See: issue 9

const QUESTION: &str = "What is (12 + 30) * 2, and the square root of 144?";
const ANSWER: &str = "(12 + 30) * 2 = 84, and the square root of 144 is 12.\n";

/// `baton <args>` with stdout and stderr piped, offline, with `RUST_LOG` as given.
fn baton(args: &[&str], rust_log: Option<&str>) -> Output {
    let mut command = baton_command();
    command.args(args).env_remove("NO_COLOR");
    if let Some(filter) = rust_log {
        command.env("RUST_LOG", filter);
    }
    command.output().expect("the baton binary runs")
}

/// A topology whose scripted turns run out after one tool call: the run fails.
fn short_topology() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-cli-output-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let path = dir.join("short.yaml");
    std::fs::write(
        &path,
        "entry: a\ntools:\n  - builtin: add\nagents:\n  - name: a\n    tools: [add]\n    scripted:\n      - calls:\n          - { tool: add, args: { a: 1, b: 2 } }\n",
    )
    .expect("the file is written");
    path
}

#[test]
fn quiet_run_prints_the_answer_and_nothing_else() {
    for quiet in ["-q", "--quiet"] {
        let out = baton(&["run", "agents/math.yaml", QUESTION, quiet], None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), ANSWER);
        assert_eq!(text(&out.stderr), "", "{quiet}");
    }
}

#[test]
fn quiet_run_that_fails_prints_only_the_one_line_error() {
    let path = short_topology();
    let out = baton(
        &["run", "-q", path.to_str().expect("a UTF-8 path"), "hi"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "baton: error: agent `a`, turn 2: model request failed: scripted model has 1 turn(s) \
         for agent `a`, but turn 2 was requested\n"
    );
}

#[test]
fn log_lines_on_a_pipe_carry_no_colour_codes() {
    let out = baton(&["run", "agents/math.yaml", QUESTION], Some("baton=debug"));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // There are log lines, and none has an escape sequence.
    assert!(stderr.contains(" DEBUG "), "{stderr}");
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}

#[test]
fn quiet_run_shows_logs_only_when_rust_log_asks_for_them() {
    let out = baton(
        &["run", "-q", "agents/math.yaml", QUESTION],
        Some("baton=debug"),
    );
    assert_eq!(text(&out.stdout), ANSWER);
    let stderr = text(&out.stderr);
    assert!(stderr.contains(" DEBUG "), "{stderr}");
    assert!(!stderr.contains("baton: offline"), "{stderr}");
    assert!(!stderr.contains("timeline"), "{stderr}");
}

#[test]
fn offline_run_reports_its_requests_and_no_invented_tokens() {
    let out = baton(&["run", "agents/math.yaml", QUESTION], None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("done in "))
        .unwrap_or_else(|| panic!("no summary in:\n{stderr}"));
    assert!(
        summary.contains("path triage -> calculator, 4 model requests, 0 tokens, trace "),
        "{summary}"
    );
}
