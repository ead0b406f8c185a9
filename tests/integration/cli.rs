//! The `baton` binary as a subprocess: answer on stdout, timeline on stderr, exit codes.

use std::process::Output;

use crate::support::{baton_command, text};

fn baton(args: &[&str]) -> Output {
    baton_command()
        .args(args)
        .output()
        .expect("the baton binary runs")
}

#[test]
fn baton_run_math_prints_the_answer_and_a_timeline() {
    let out = baton(&[
        "run",
        "agents/math.yaml",
        "What is (12 + 30) * 2, and the square root of 144?",
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(
        stdout,
        "(12 + 30) * 2 = 84, and the square root of 144 is 12.\n"
    );
    // One line says it runs offline, and why.
    assert!(
        stderr.starts_with("baton: offline: running the scripted turns of agents/math.yaml (OPENAI_API_KEY is not set)\n"),
        "{stderr}"
    );
    // The timeline has each agent's model turns, the handoff, and every tool call with
    // start and end offsets.
    for step in [
        "model",
        "handoff -> calculator",
        "add [sum]",
        "sqrt [root]",
        "multiply [product]",
    ] {
        assert!(stderr.contains(step), "missing `{step}` in:\n{stderr}");
    }
    assert!(stderr.contains("path triage -> calculator"), "{stderr}");
}

/// Start and end offsets (ms) of the timeline line that shows `step`.
fn offsets(stderr: &str, step: &str) -> (f64, f64) {
    let line = stderr
        .lines()
        .find(|l| l.contains(step))
        .unwrap_or_else(|| panic!("no `{step}` in:\n{stderr}"));
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    // turn, start, end
    (numbers[1], numbers[2])
}

#[test]
fn baton_run_timeline_shows_the_calls_of_one_turn_overlapping() {
    // The research agent's three sleeps (20, 30 and 10 ms) are asked for in one turn.
    let out = baton(&[
        "run",
        "agents/handoff_chain.yaml",
        "Summarize the incident report",
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let calls = ["[fetch_logs]", "[fetch_tickets]", "[fetch_metrics]"].map(|c| offsets(&stderr, c));
    let last_start = calls.iter().map(|c| c.0).fold(f64::MIN, f64::max);
    let first_end = calls.iter().map(|c| c.1).fold(f64::MAX, f64::min);
    // Every call started before any of them ended: all three were in flight together.
    assert!(last_start < first_end, "{stderr}");
    assert!(
        stderr.contains("path intake -> research -> draft -> review"),
        "{stderr}"
    );
}

#[test]
fn baton_run_on_a_bad_file_exits_2_with_the_location() {
    let dir = std::env::temp_dir().join(format!("baton-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.yaml");
    std::fs::write(&path, "entry: a\nagents:\n  - name: a\n    tools: [nope]\n").unwrap();
    let out = baton(&["run", path.to_str().unwrap(), "hi"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.yaml:4:13: unknown tool `nope` in agent `a`"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn baton_run_with_an_unknown_agent_exits_2() {
    let out = baton(&["run", "agents/math.yaml", "hi", "--agent", "ghost"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown agent `ghost`; the swarm has: calculator, triage"));
}

#[test]
fn baton_without_arguments_is_a_usage_error() {
    let out = baton(&["run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Usage: baton run"));
}

#[test]
fn baton_run_that_fails_exits_1_and_shows_the_partial_transcript() {
    // The scripted turns run out before the calculator answers.
    let dir = std::env::temp_dir().join(format!("baton-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("short.yaml");
    std::fs::write(
        &path,
        "entry: a\ntools:\n  - builtin: add\nagents:\n  - name: a\n    tools: [add]\n    scripted:\n      - calls:\n          - { tool: add, args: { a: 1, b: 2 } }\n",
    )
    .unwrap();
    let out = baton(&["run", path.to_str().unwrap(), "hi"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("baton: error: agent `a`, turn 2: model request failed: scripted model has 1 turn(s) for agent `a`, but turn 2 was requested"),
        "{stderr}"
    );
    assert!(stderr.contains("partial transcript:"), "{stderr}");
    assert!(stderr.contains("output call_1_1: 3"), "{stderr}");
}
