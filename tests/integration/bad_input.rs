//! Files and inputs a newcomer or a hostile tester gives `baton`: links out of a folder
//! topology, named pipes, unreadable paths in `check --format json`, scripted texts that
//! would expand without end, inputs too long for an argument list, an empty key, and `${VAR}`
//! pointing at a key. Each is a clear error at once (or just works), never a hang or a leak.
//! See: issue 9

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{baton_command, text};

/// Longest any command here may take before it counts as a hang.
const HANG: Duration = Duration::from_secs(20);

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-bad-input-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch folder is made");
    dir
}

fn baton() -> Command {
    let mut command = baton_command();
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// Waits for `child` at most [`HANG`], reading its output meanwhile (so a full pipe cannot
/// stall it); kills it and fails the test if it is still running.
fn finish(mut child: Child, what: &str) -> Output {
    fn drain(
        pipe: Option<impl std::io::Read + Send + 'static>,
    ) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        match child.try_wait().expect("the child can be waited for") {
            Some(status) => break status,
            None if start.elapsed() > HANG => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`baton {what}` still ran after {HANG:?}: it hangs");
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout is read"),
        stderr: stderr.join().expect("stderr is read"),
    }
}

/// Runs `baton args` with stdin closed, bounded by [`HANG`].
fn run(args: &[&str]) -> Output {
    let child = baton()
        .args(args)
        .stdin(Stdio::null())
        .spawn()
        .expect("baton starts");
    finish(child, &args.join(" "))
}

/// Runs `baton args` with `input` on stdin, bounded by [`HANG`].
fn run_with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = baton()
        .args(args)
        .stdin(Stdio::piped())
        .spawn()
        .expect("baton starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    // Written from another thread, so a child that stops reading cannot block the test.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = finish(child, &args.join(" "));
    let _ = writer.join();
    out
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

const AGENT: &str = "name: a\nscripted:\n  - text: hello\n";

// ===== links and special files =====

#[cfg(unix)]
#[test]
fn an_agent_file_linking_out_of_its_folder_is_refused_without_showing_the_target() {
    let dir = scratch("link-out");
    std::fs::create_dir_all(dir.join("agents")).unwrap();
    std::fs::write(
        dir.join("topology.yaml"),
        "entry: a\nagents:\n  - file: agents/x.yaml\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("agents/x.yaml")).unwrap();
    let out = run(&["check", dir.to_str().unwrap()]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "error: cannot read agent file `agents/x.yaml`: it is a link that leads outside the topology's folder"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("topology.yaml:3:11"), "{stdout}");
    for shown in [&stdout, &stderr] {
        assert!(!shown.contains("root:"), "the target shows:\n{shown}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn links_that_stay_inside_the_folder_still_work_and_a_linked_topology_yaml_is_held_too() {
    let dir = scratch("link-in");
    std::fs::create_dir_all(dir.join("agents")).unwrap();
    std::fs::create_dir_all(dir.join("shared")).unwrap();
    std::fs::write(dir.join("shared/a.yaml"), AGENT).unwrap();
    std::os::unix::fs::symlink("../shared/a.yaml", dir.join("agents/a.yaml")).unwrap();
    std::fs::write(
        dir.join("real.yaml"),
        "entry: a\nagents:\n  - file: agents/a.yaml\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("real.yaml", dir.join("topology.yaml")).unwrap();
    let topology = baton::topology::load(&dir).expect("links inside the folder are fine");
    assert_eq!(topology.entry(), "a");

    // The same folder's topology.yaml leading outside it is refused.
    let outside = scratch("link-in-outside");
    std::fs::write(outside.join("t.yaml"), "entry: a\nagents: [{name: a}]\n").unwrap();
    std::fs::remove_file(dir.join("topology.yaml")).unwrap();
    std::os::unix::fs::symlink(outside.join("t.yaml"), dir.join("topology.yaml")).unwrap();
    let err = baton::topology::load(&dir).expect_err("a link out of the folder");
    assert!(
        err.to_string().ends_with(
            "cannot read the topology: it is a link that leads outside the topology's folder"
        ),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&outside);
}

#[cfg(unix)]
#[test]
fn a_named_pipe_as_topology_is_refused_at_once_by_every_command() {
    let dir = scratch("fifo-main");
    let pipe = dir.join("pipe.yaml");
    mkfifo(&pipe);
    let pipe = pipe.to_str().unwrap();
    for args in [
        vec!["check", pipe],
        vec!["check", "--format", "json", pipe],
        vec!["graph", pipe],
        vec!["run", pipe, "hi"],
        vec!["mock-model", pipe],
    ] {
        let out = run(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("not a regular file (a named pipe)"),
            "{args:?}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn a_named_pipe_as_agent_file_is_a_located_error_at_once() {
    let dir = scratch("fifo-agent");
    std::fs::write(
        dir.join("topology.yaml"),
        "entry: a\nagents:\n  - file: a.yaml\n",
    )
    .unwrap();
    mkfifo(&dir.join("a.yaml"));
    let folder = dir.to_str().unwrap();
    for args in [
        vec!["check", folder],
        vec!["graph", folder],
        vec!["run", folder, "hi"],
        vec!["mock-model", folder],
    ] {
        let out = run(&args);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "{args:?}: {stdout}{stderr}"
        );
        assert!(
            format!("{stdout}{stderr}")
                .contains("cannot read agent file `a.yaml`: not a regular file (a named pipe)"),
            "{args:?}: {stdout}{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_in_json_reports_an_unreadable_path_as_a_diagnostic() {
    let out = run(&[
        "check",
        "--format",
        "json",
        "agents/math.yaml",
        "/nonexistent/baton.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["errors"], 1, "{json}");
    let diagnostics = json["diagnostics"].as_array().expect("a list");
    let read = diagnostics
        .iter()
        .find(|d| d["file"] == "/nonexistent/baton.yaml")
        .unwrap_or_else(|| panic!("no diagnostic for the unreadable path: {json}"));
    assert_eq!(read["severity"], "error");
    assert_eq!(
        (read["line"].as_u64(), read["column"].as_u64()),
        (Some(1), Some(1))
    );
    let message = read["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("cannot read the topology: "),
        "{message}"
    );
}

// ===== inputs =====

/// A topology whose one agent answers with `text`.
fn answering(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let yaml = format!("entry: a\nagents:\n  - name: a\n    scripted:\n      - text: \"{text}\"\n");
    std::fs::write(&path, yaml).unwrap();
    path
}

/// A topology whose one agent answers with its input `repeat` times.
fn echo_topology(dir: &Path, repeat: usize) -> PathBuf {
    answering(dir, "echo.yaml", &"{{input}}".repeat(repeat))
}

#[test]
fn a_ten_megabyte_input_runs_through_stdin_and_through_a_file() {
    let dir = scratch("stdin");
    let topology = answering(&dir, "echo.yaml", "read {{input}}");
    let topology = topology.to_str().unwrap();
    // Too long for an argument list; more than a scripted text may quote, so the answer says
    // the input arrived whole by failing on its size.
    let input = "x".repeat(10 * 1024 * 1024);
    let too_long = "scripted turn 1 of agent `a`: its text would expand past 1048576 bytes";
    let file = dir.join("input.txt");
    std::fs::write(&file, &input).unwrap();
    let from_file = ["run", topology, "--input-file", file.to_str().unwrap()];
    for (args, stdin) in [
        (vec!["run", topology, "-"], input.as_bytes()),
        (vec!["run", topology], input.as_bytes()),
        (from_file.to_vec(), &b""[..]),
    ] {
        let out = run_with_stdin(&args, stdin);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(too_long), "{args:?}: {stderr}");
    }
    // A text that does not quote it: the run just works.
    let plain = answering(&dir, "plain.yaml", "got it");
    let out = run_with_stdin(&["run", "-q", plain.to_str().unwrap()], input.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "got it\n");
    // Under the bound, the input comes back exactly.
    let input = "é".repeat(200_000) + "!";
    for args in [
        vec!["run", "-q", topology, "-"],
        vec!["run", "-q", topology],
    ] {
        let out = run_with_stdin(&args, input.as_bytes());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout), format!("read {input}\n"), "{args:?}");
    }

    let out = run(&["run", topology, "--input-file", "/nonexistent/input.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--input-file /nonexistent/input.txt: "),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_scripted_text_that_would_expand_past_its_bound_is_an_error_naming_agent_and_turn() {
    let dir = scratch("expand");
    // 2,000 copies of a 100 KB input would be 200 MB.
    let topology = echo_topology(&dir, 2_000);
    let out = run_with_stdin(
        &["run", topology.to_str().unwrap()],
        "y".repeat(100_000).as_bytes(),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("scripted turn 1 of agent `a`: its text would expand past 1048576 bytes"),
        "{stderr}"
    );
    assert!(
        out.stdout.len() < 1024,
        "{} bytes of answer",
        out.stdout.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_empty_key_is_reported_as_empty_not_as_unset() {
    let out = finish(
        baton()
            .args(["run", "agents/math.yaml", "What is (12 + 30) * 2?"])
            .env("OPENAI_API_KEY", "")
            .stdin(Stdio::null())
            .spawn()
            .expect("baton starts"),
        "run with an empty key",
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("baton: offline: running the scripted turns of agents/math.yaml (OPENAI_API_KEY is empty)"),
        "{stderr}"
    );
    let unset = run(&["run", "agents/math.yaml", "What is (12 + 30) * 2?"]);
    assert!(
        text(&unset.stderr).contains("(OPENAI_API_KEY is not set)"),
        "{}",
        text(&unset.stderr)
    );
}

#[test]
fn interpolating_a_key_variable_is_a_located_error_that_never_shows_the_key() {
    let dir = scratch("key-var");
    let path = dir.join("t.yaml");
    std::fs::write(
        &path,
        "\
entry: a
models:
  - name: m
    provider: chat
    model: llama
    api_key_env: MY_LLM_KEY
agents:
  - name: a
    model: m
    instructions: \"Key: ${MY_LLM_KEY}\"
    scripted:
      - text: \"default: ${OPENAI_API_KEY:-none}\"
",
    )
    .unwrap();
    let out = finish(
        baton()
            .args(["check", path.to_str().unwrap()])
            .env("MY_LLM_KEY", "sk-llm-secret-value")
            .env("OPENAI_API_KEY", "sk-openai-secret-value")
            .stdin(Stdio::null())
            .spawn()
            .expect("baton starts"),
        "check",
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("error: `${MY_LLM_KEY}` would copy an API key into the topology"),
        "{stdout}"
    );
    assert!(stdout.contains("t.yaml:10:"), "{stdout}");
    assert!(
        stdout.contains("error: `${OPENAI_API_KEY}` would copy an API key into the topology"),
        "{stdout}"
    );
    assert!(
        !format!("{stdout}{stderr}").contains("secret-value"),
        "{stdout}{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
