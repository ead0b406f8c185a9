//! An application that embeds a topology chooses its models as `baton run` does, in one call
//! (`Topology::start_live`): live when `OPENAI_API_KEY` is set, at `OPENAI_BASE_URL` (here the
//! mock server, over real HTTP), the scripted turns otherwise; `Topology::start` stays
//! offline. Reported usage of scripted turns has no invented tokens.
//!
//! The environment is the process's, so the embedding application is this test binary run
//! again as a child process with the variables set, running only
//! [`child_embeds_agents_math_with_start_live`].

use std::process::{Command, Output};

use baton::mock::MockServer;

use crate::http_support::{ANSWER, KEY, QUESTION};

// See: issue 9

fn math() -> baton::topology::Topology {
    baton::topology::load(format!("{}/agents/math.yaml", env!("CARGO_MANIFEST_DIR")))
        .expect("the example loads")
}

/// Runs [`child_embeds_agents_math_with_start_live`] in a child process, with the key and
/// base URL set when `base_url` is given and unset otherwise.
fn embed(base_url: Option<&str>) -> Output {
    let mut command = Command::new(std::env::current_exe().expect("the test binary has a path"));
    command
        .args([
            "embed_live::child_embeds_agents_math_with_start_live",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG");
    match base_url {
        Some(url) => command
            .env("OPENAI_API_KEY", KEY)
            .env("OPENAI_BASE_URL", url),
        None => command
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL"),
    };
    command.output().expect("the test binary runs")
}

/// The lines the child printed on stderr with `embed: ` in front, without it (the test
/// harness writes to stdout).
fn embed_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("embed: ").map(str::to_owned))
        .collect()
}

#[test]
#[ignore = "the embedding application of embed_live's other tests, run by them as a child \
            process with the environment they set"]
fn child_embeds_agents_math_with_start_live() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let topology = baton::topology::load("agents/math.yaml").expect("it loads");
        let (swarm, models) = topology.start_live().expect("it starts");
        for model in &models {
            eprintln!("embed: {model}");
        }
        let result = swarm
            .run(topology.entry(), QUESTION)
            .await
            .expect("it runs");
        eprintln!("embed: {}", result.final_output);
        eprintln!(
            "embed: {} requests, {} tokens",
            result.usage.requests, result.usage.total_tokens
        );
        swarm.shutdown().await;
    });
}

#[test]
fn start_live_uses_the_model_the_environment_points_at() {
    let server = MockServer::start(&math()).expect("the mock starts");
    let url = server.base_url();
    let out = embed(Some(&url));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = embed_lines(&out);
    assert_eq!(
        lines[..2],
        [
            format!("live: model `default`: responses `gpt-4.1-mini` at {url}"),
            ANSWER.to_owned()
        ]
    );
    // Every turn went over HTTP, with the key.
    assert_eq!(server.records().len(), 4);
    assert!(
        server
            .records()
            .iter()
            .all(|r| r.status == 200 && r.authorized)
    );
}

#[test]
fn start_live_without_a_key_runs_the_scripted_turns_and_says_why() {
    let out = embed(None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        embed_lines(&out),
        [
            "offline: scripted turns (OPENAI_API_KEY is not set)",
            ANSWER,
            // Scripted turns count their requests and no tokens.
            "4 requests, 0 tokens",
        ]
    );
}

#[tokio::test]
async fn start_runs_the_scripted_turns_and_counts_no_tokens() {
    let topology = math();
    let swarm = topology.start().expect("it starts");
    let result = swarm
        .run(topology.entry(), QUESTION)
        .await
        .expect("it runs");
    swarm.shutdown().await;
    assert_eq!(result.final_output, ANSWER);
    assert_eq!(result.usage.requests, 4);
    assert_eq!(
        (
            result.usage.input_tokens,
            result.usage.output_tokens,
            result.usage.total_tokens
        ),
        (0, 0, 0)
    );
}

#[test]
fn start_live_reports_a_model_that_cannot_run_without_scripted_turns() {
    let dir = std::env::temp_dir().join(format!("baton-embed-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let path = dir.join("unscripted.yaml");
    std::fs::write(
        &path,
        "entry: a\nmodel: m\nmodels:\n  - name: m\n    provider: openai\n    model: gpt-4.1-mini\n    api_key_env: BATON_TEST_UNSET_KEY\nagents:\n  - name: a\n",
    )
    .expect("the file is written");
    let topology = baton::topology::load(&path).expect("it loads");
    let error = topology.start_live().expect_err("nothing can answer");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: model `m` cannot run (BATON_TEST_UNSET_KEY is not set) and no agent has `scripted:` turns",
            path.display()
        )
    );
}
