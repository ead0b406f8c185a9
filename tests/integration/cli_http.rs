//! The `baton` binary with live models: with only `OPENAI_API_KEY` and `OPENAI_BASE_URL`
//! exported, `baton run agents/<example>.yaml` talks to whatever OpenAI-compatible server they
//! point at (here the mock, serving the same file), with no edit to the file; `--offline`
//! keeps the scripted turns; `--stream` prints the same answer; `baton mock-model` serves.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Output, Stdio};

use baton::mock::MockServer;

use crate::http_support::{ANSWER, KEY, QUESTION};
use crate::support::{baton_command, text};

fn baton(args: &[&str], base_url: Option<&str>) -> Output {
    let mut command = baton_command();
    command.args(args);
    if let Some(url) = base_url {
        command
            .env("OPENAI_API_KEY", KEY)
            .env("OPENAI_BASE_URL", url);
    }
    command.output().expect("the baton binary runs")
}

fn example(name: &str) -> baton::topology::Topology {
    baton::topology::load(format!("{}/agents/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("the example loads")
}

#[test]
fn baton_run_uses_the_live_model_that_the_environment_points_at() {
    let server = MockServer::start(&example("math.yaml")).expect("the mock starts");
    let url = server.base_url();
    let out = baton(&["run", "agents/math.yaml", QUESTION], Some(&url));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout, format!("{ANSWER}\n"));
    assert!(
        stderr.starts_with(&format!(
            "baton: live: model `default`: responses `gpt-4.1-mini` at {url}\n"
        )),
        "{stderr}"
    );
    assert_eq!(server.records().len(), 4);
    assert!(
        server
            .records()
            .iter()
            .all(|r| r.status == 200 && r.authorized)
    );

    let out = baton(
        &["run", "agents/math.yaml", QUESTION, "--stream", "-q"],
        Some(&url),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{ANSWER}\n"));
    assert!(server.records()[4..].iter().all(|r| r.stream));

    let before = server.records().len();
    let out = baton(
        &["run", "agents/math.yaml", QUESTION, "--offline"],
        Some(&url),
    );
    assert_eq!(text(&out.stdout), format!("{ANSWER}\n"));
    assert!(
        text(&out.stderr).starts_with(
            "baton: offline: running the scripted turns of agents/math.yaml (--offline)\n"
        ),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(server.records().len(), before, "--offline sent no request");
}

#[test]
fn every_example_answers_the_same_through_the_mock_as_offline() {
    let dir = format!("{}/agents", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("agents/ lists")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let path = format!("agents/{file}");
        let offline = baton(&["run", &path, "a test question", "-q"], None);
        assert_eq!(
            offline.status.code(),
            Some(0),
            "{file}: {}",
            text(&offline.stderr)
        );
        let server = MockServer::start(&example(&file)).expect("the mock starts");
        // Not `-q`, which hides the live line (issue 9).
        let live = baton(&["run", &path, "a test question"], Some(&server.base_url()));
        assert_eq!(
            live.status.code(),
            Some(0),
            "{file}: {}",
            text(&live.stderr)
        );
        assert_eq!(text(&live.stdout), text(&offline.stdout), "{file}");
        assert!(
            text(&live.stderr).starts_with("baton: live:"),
            "{file}: {}",
            text(&live.stderr)
        );
        assert!(!server.records().is_empty(), "{file}");
        assert!(
            server.records().iter().all(|r| r.status == 200),
            "{file}: {:?}",
            server.records()
        );
    }
}

/// Stops the child process this test started, whatever happens.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn baton_mock_model_serves_a_topology_that_baton_run_talks_to() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_baton"))
            .args(["mock-model", "agents/math.yaml", "--port", "0"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("baton mock-model starts"),
    );
    let stdout = child.0.stdout.take().expect("piped stdout");
    let mut url = String::new();
    BufReader::new(stdout)
        .read_line(&mut url)
        .expect("the mock prints its URL");
    let url = url.trim();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/v1"),
        "{url:?}"
    );
    let out = baton(&["run", "agents/math.yaml", QUESTION, "-q"], Some(url));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{ANSWER}\n"));
}
