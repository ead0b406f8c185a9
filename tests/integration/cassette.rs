//! Record and replay (issue 12, item 4): `baton run --record` against the mock model server
//! keeps every model exchange of a live run; `baton run --replay` gives the same transcript
//! with the server stopped, and fails naming the agent and what changed when a prompt
//! changed; a failed run is recorded too. In Rust: `Recorder` around a scripted model, and
//! `Replay` answering 20 concurrent runs with identical results.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use baton::Item;
use baton::mock::{Fault, MockServer};
use baton::model::Cassette;
use baton::stream::StreamEvent;
use futures::StreamExt as _;

use crate::http_support::{ANSWER, KEY, QUESTION};
use crate::support::{baton_command, text, trace_init};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-cassette-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn math() -> baton::topology::Topology {
    baton::topology::load(format!("{}/agents/math.yaml", env!("CARGO_MANIFEST_DIR")))
        .expect("agents/math.yaml loads")
}

/// `baton run <args>` with the key and base URL of `url` in the environment.
fn baton(args: &[&str], url: &str) -> Output {
    baton_command()
        .args(args)
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", url)
        .output()
        .expect("the baton binary runs")
}

/// The `--transcript` lines of a run's stderr: every line after the `done in` summary.
fn transcript_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .skip_while(|line| !line.starts_with("done in "))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .collect()
}

/// Records a live run of `agents/math.yaml` against the mock into `cassette`; returns the
/// run's stderr and the (stopped) server's URL.
fn record_live(cassette: &Path) -> (String, String) {
    let server = MockServer::start(&math()).expect("the mock starts");
    let url = server.base_url();
    let out = baton(
        &[
            "run",
            "agents/math.yaml",
            QUESTION,
            "--transcript",
            "--record",
            cassette.to_str().expect("a UTF-8 path"),
        ],
        &url,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(text(&out.stdout), format!("{ANSWER}\n"));
    assert!(
        stderr.starts_with(&format!(
            "baton: live: model `default`: responses `gpt-4.1-mini` at {url}\n"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "baton: recorded 4 model exchange(s) to {}\n",
            cassette.display()
        )),
        "{stderr}"
    );
    assert_eq!(server.records().len(), 4, "every turn went to the server");
    drop(server);
    (stderr, url)
}

#[test]
fn a_live_run_recorded_against_the_mock_replays_without_it_to_the_same_transcript() {
    let dir = scratch("live");
    let cassette = dir.join("math.cassette");
    let (live, url) = record_live(&cassette);

    let file = std::fs::read_to_string(&cassette).expect("the cassette is written");
    assert!(!file.contains(KEY), "the key never reaches a cassette");
    assert_eq!(file.lines().count(), 5, "a header and 4 exchanges");
    assert!(file.starts_with("{\"baton_cassette\":1,"), "{file}");
    let recorded = Cassette::load(&cassette).expect("the cassette loads");
    let exchanges = recorded.exchanges();
    let agents: Vec<(&str, u32, u32)> = exchanges
        .iter()
        .map(|e| (e.agent.as_str(), e.agent_turn, e.run_turn))
        .collect();
    assert_eq!(
        agents,
        [
            ("triage", 0, 0),
            ("calculator", 0, 1),
            ("calculator", 1, 2),
            ("calculator", 2, 3)
        ]
    );
    let parallel = exchanges[1].outcome.as_ref().expect("answered");
    let calls = parallel
        .output
        .iter()
        .filter(|i| matches!(i, Item::FunctionCall { .. }))
        .count();
    assert_eq!(
        calls, 2,
        "the calculator's first turn asks for two calls at once"
    );
    assert!(exchanges.iter().all(|e| e.model == "default"));

    // The server is gone, and the environment still points at it: replay needs neither.
    let out = baton(
        &[
            "run",
            "agents/math.yaml",
            QUESTION,
            "--transcript",
            "--replay",
            cassette.to_str().expect("a UTF-8 path"),
        ],
        &url,
    );
    let replayed = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{replayed}");
    assert_eq!(text(&out.stdout), format!("{ANSWER}\n"));
    assert!(
        replayed.starts_with(&format!(
            "baton: replay: every model answered by {} (4 recorded exchange(s))\n",
            cassette.display()
        )),
        "{replayed}"
    );
    let (live_lines, replay_lines) = (transcript_lines(&live), transcript_lines(&replayed));
    assert_eq!(live_lines.len(), 10, "{live}");
    assert_eq!(replay_lines, live_lines);
    assert!(replayed.contains("path triage -> calculator, 4 model requests"));

    // Streamed too, the answer printed once.
    let out = baton(
        &[
            "run",
            "agents/math.yaml",
            QUESTION,
            "--stream",
            "-q",
            "--replay",
            cassette.to_str().expect("a UTF-8 path"),
        ],
        &url,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{ANSWER}\n"));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_changed_instruction_fails_the_replay_naming_the_agent_and_the_instructions() {
    let dir = scratch("changed");
    let cassette = dir.join("math.cassette");
    let (_, url) = record_live(&cassette);
    let yaml = std::fs::read_to_string(format!("{}/agents/math.yaml", env!("CARGO_MANIFEST_DIR")))
        .expect("agents/math.yaml reads");
    let edited = yaml.replace(
        "You solve arithmetic with the tools, never in your head.",
        "You solve arithmetic with the tools, never by heart.",
    );
    assert_ne!(edited, yaml, "the calculator's instructions changed");
    let copy = dir.join("math.yaml");
    std::fs::write(&copy, edited).expect("the copy is written");

    let out = baton(
        &[
            "run",
            copy.to_str().expect("a UTF-8 path"),
            QUESTION,
            "--replay",
            cassette.to_str().expect("a UTF-8 path"),
        ],
        &url,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(text(&out.stdout), "");
    let error = stderr
        .lines()
        .find(|line| line.starts_with("baton: error: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(
        error.contains(
            "replay: no recorded exchange matches agent `calculator` turn 1 (run turn 2): instructions differ at character 44: recorded \""
        ),
        "{error}"
    );
    assert!(error.contains("never in your head"), "{error}");
    assert!(error.contains("never by heart"), "{error}");
    // The triage turn before it matched and was replayed.
    assert!(stderr.contains("handed off to calculator"), "{stderr}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_failed_live_run_is_recorded_and_its_replay_fails_the_same_way() {
    let dir = scratch("failed");
    let cassette = dir.join("failed.cassette");
    let server = MockServer::start(&math()).expect("the mock starts");
    server.inject(Fault::Status {
        status: 400,
        retry_after: None,
        message: Some("the request is not welcome".to_owned()),
    });
    let path = cassette.to_str().expect("a UTF-8 path");
    let url = server.base_url();
    let live = baton(
        &["run", "agents/math.yaml", QUESTION, "--record", path],
        &url,
    );
    let live_err = text(&live.stderr);
    assert_eq!(live.status.code(), Some(1), "{live_err}");
    assert!(
        live_err.contains("baton: recorded 1 model exchange(s)"),
        "{live_err}"
    );
    drop(server);

    let exchanges = Cassette::load(&cassette).expect("loads").exchanges();
    assert_eq!(exchanges.len(), 1);
    let error = exchanges[0]
        .outcome
        .as_ref()
        .expect_err("a recorded failure");
    assert_eq!(error.status(), Some(400));

    let replay = baton(
        &["run", "agents/math.yaml", QUESTION, "--replay", path],
        &url,
    );
    assert_eq!(replay.status.code(), Some(1));
    let last_line = |stderr: &str| stderr.lines().last().unwrap_or_default().to_owned();
    assert!(
        last_line(&live_err).contains("HTTP 400: the request is not welcome"),
        "{live_err}"
    );
    assert_eq!(last_line(&text(&replay.stderr)), last_line(&live_err));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_bad_cassette_is_refused_with_its_file_and_line() {
    let dir = scratch("bad");
    let cassette = dir.join("bad.cassette");
    std::fs::write(
        &cassette,
        "{\"baton_cassette\":1}\n{\"model\": \"default\"\n",
    )
    .expect("written");
    let out = baton_command()
        .args(["run", "agents/math.yaml", QUESTION, "--replay"])
        .arg(&cassette)
        .output()
        .expect("the baton binary runs");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "baton: error: {}:2:19: EOF while parsing an object\n",
            cassette.display()
        )
    );

    let missing = dir.join("missing.cassette");
    let out = baton_command()
        .args(["run", "agents/math.yaml", QUESTION, "--replay"])
        .arg(&missing)
        .output()
        .expect("the baton binary runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with(&format!("baton: error: {}: ", missing.display())),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_replayed_runs_give_the_recorded_results() {
    trace_init();
    let topology = math();
    let scripted = topology
        .scripted_model()
        .expect("math.yaml is scripted")
        .clone();
    let cassette = Cassette::new();
    let recorder = Arc::new(cassette.recorder("scripted", scripted));
    let swarm = topology.builder().model(recorder).start().expect("starts");
    let question = |i: usize| format!("Question {i}: what is (12 + 30) * 2, and the root of 144?");
    let runs = (0..20).map(|i| {
        let swarm = swarm.clone();
        async move { swarm.run("triage", question(i).as_str()).await }
    });
    let live: Vec<_> = futures::future::join_all(runs)
        .await
        .into_iter()
        .map(|r| r.expect("a recorded run succeeds"))
        .collect();
    swarm.shutdown().await;
    assert_eq!(cassette.len(), 80, "4 exchanges per run");

    // Through the file, as `baton run --replay` reads it.
    let dir = scratch("rust-api");
    let path = dir.join("runs.cassette");
    cassette.save(&path).expect("saved");
    let loaded = Cassette::load(&path).expect("loaded");
    let replay = Arc::new(loaded.replay().for_model("scripted"));
    assert_eq!(replay.len(), 80);
    let swarm = topology.builder().model(replay).start().expect("starts");
    // In the other order, all at once: each run finds its own exchanges.
    let runs = (0..20).rev().map(|i| {
        let swarm = swarm.clone();
        async move { (i, swarm.run("triage", question(i).as_str()).await) }
    });
    let replayed = futures::future::join_all(runs).await;
    for (i, result) in replayed {
        let result = result.expect("a replayed run succeeds");
        assert_eq!(result.transcript, live[i].transcript, "run {i}");
        assert_eq!(result.path, live[i].path);
        assert_eq!(result.usage, live[i].usage);
        assert_eq!(result.final_output, live[i].final_output);
    }
    // A streamed run gets the recorded text as it would get the model's.
    let mut streamed = swarm.run_streamed("triage", question(3).as_str());
    let mut deltas = String::new();
    while let Some(event) = streamed.next().await {
        if let StreamEvent::TextDelta { delta, .. } = event {
            deltas.push_str(&delta);
        }
    }
    assert_eq!(deltas, live[3].final_output);
    assert_eq!(
        streamed.result().await.expect("replayed").transcript,
        live[3].transcript
    );

    let unknown = swarm.run("triage", "Something never recorded").await;
    let error = unknown.expect_err("no exchange matches").to_string();
    assert!(
        error.contains("agent `triage` turn 1 (run turn 1): input differs at item 1"),
        "{error}"
    );
    swarm.shutdown().await;
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
