//! `baton sim` as a subprocess: the report on stdout (text or JSON), progress on stderr,
//! exit 1 naming a failed expectation, one conversation in full with `--conversation`.

use std::process::Output;

use crate::support::{baton_command, text};

fn baton(args: &[&str]) -> Output {
    baton_command()
        .args(args)
        .output()
        .expect("the baton binary runs")
}

/// `baton sim` of the customer-support topology with `extra` arguments: its JSON report.
fn report(extra: &[&str]) -> String {
    let mut args = vec![
        "sim",
        "agents/customer_support.yaml",
        "--format",
        "json",
        "-q",
        "-n",
        "600",
    ];
    args.extend_from_slice(extra);
    let out = baton(&args);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(
        out.stderr.is_empty(),
        "-q prints nothing: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

// See: issue 12
#[test]
fn baton_sim_gives_byte_identical_reports_for_a_seed_whatever_the_concurrency_and_threads() {
    let first = report(&["--seed", "3", "--concurrency", "20"]);
    assert_eq!(report(&["--seed", "3", "--concurrency", "20"]), first);
    assert_eq!(report(&["--seed", "3", "--concurrency", "5"]), first);
    assert_eq!(
        report(&["--seed", "3", "--concurrency", "20", "--threads", "2"]),
        first
    );
    let other = report(&["--seed", "4", "--concurrency", "20"]);
    assert_ne!(other, first);
    let json: serde_json::Value = serde_json::from_str(&first).expect("the report is JSON");
    assert_eq!(json["conversations"], 600);
    // The section branches: more than one path, the most common first.
    let paths = json["paths"].as_array().expect("paths");
    assert!(paths.len() >= 3, "{json:#}");
    assert!(paths[0]["count"].as_u64() >= paths[1]["count"].as_u64());
    // Every expectation of the shipped section holds.
    assert!(
        json["expectations"]
            .as_array()
            .is_some_and(|e| !e.is_empty() && e.iter().all(|e| e["passed"] == true)),
        "{json:#}"
    );
}

// See: issue 12
#[test]
fn a_failing_expectation_exits_1_and_names_itself_and_what_was_observed() {
    let dir = tempdir();
    let yaml = std::fs::read_to_string("agents/customer_support.yaml").expect("the topology");
    let strict = yaml.replace("at_most: 40%", "at_most: 1%");
    assert_ne!(strict, yaml, "the section has the path expectation");
    let path = dir.join("strict.yaml");
    std::fs::write(&path, strict).expect("write");
    let out = baton(&["sim", path.to_str().expect("utf-8"), "-n", "300"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stdout.contains("FAIL  path triage -> refunds in at most 1.0%"),
        "{stdout}"
    );
    assert!(
        stderr.contains("expectation failed: path triage -> refunds in at most 1.0% (observed "),
        "{stderr}"
    );
    // Not a terminal: progress comes as plain lines.
    assert!(
        stderr.contains("baton: simulated 300 of 300 conversations"),
        "{stderr}"
    );
}

// See: issue 12
#[test]
fn one_conversation_reruns_alone_with_its_transcript_and_timeline() {
    let out = baton(&[
        "sim",
        "agents/customer_support.yaml",
        "--seed",
        "3",
        "--conversation",
        "5",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.starts_with("conversation 5 (trace "), "{stdout}");
    assert!(stdout.contains("transcript:\n  user: "), "{stdout}");
    assert!(stdout.contains("timeline (virtual time"), "{stdout}");
    // The same conversation in the JSON form has the path the text names.
    let out = baton(&[
        "sim",
        "agents/customer_support.yaml",
        "--seed",
        "3",
        "--conversation",
        "5",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&text(&out.stdout)).expect("JSON");
    let path: Vec<&str> = json["path"]
        .as_array()
        .expect("path")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert!(
        stdout.contains(&format!("path {}", path.join(" -> "))),
        "{stdout}"
    );
}

// See: issue 12
#[test]
fn tools_that_would_do_real_io_in_virtual_time_are_refused_with_what_to_do() {
    let out = baton(&["sim", "agents/ops.yaml", "-n", "5"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("tool `service_status` cannot be simulated")
            && stderr.contains("simulation.tools.service_status.output"),
        "{stderr}"
    );
    let out = baton(&["sim", "agents/librarian.yaml", "-n", "5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("MCP tools cannot be simulated yet"),
        "{}",
        text(&out.stderr)
    );
}

/// A fresh directory under the target dir.
fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-cli-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}
