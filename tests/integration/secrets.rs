//! The API key never shows: not in `Debug` output of models or errors, not in error messages
//! (even when the API's own message quotes a wrong key), not in the `baton` binary's logs and
//! traces at the most verbose level, on success, retries and failures alike.

use std::process::Command;

use baton::mock::{Fault, MockServer};
use baton::model::responses::OpenAiResponses;
use baton::model::{ApiKey, build_model};

use crate::http_support::{Api, KEY, QUESTION, Settings, fixture, model, swarm};

#[test]
fn models_and_keys_print_no_key_in_debug_output() {
    let key = ApiKey::new(KEY);
    let model = OpenAiResponses::new("http://127.0.0.1:9/v1", "m", Some(key.clone()));
    let topology = fixture("math.yaml");
    let config = topology.models()[0].clone();
    let built = build_model(&config, Some(key.clone()), Some("http://127.0.0.1:9/v1")).unwrap();
    let mock = MockServer::builder(&topology).api_key(KEY);
    let mock_shown = format!("{mock:?}");
    let server = mock.start().expect("the mock starts");
    for shown in [
        format!("{key:?}"),
        format!("{model:?}"),
        format!("{model:#?}"),
        format!("{built:?}"),
        mock_shown,
        format!("{server:?}"),
    ] {
        assert!(!shown.contains(KEY), "{shown}");
        assert!(!shown.contains("4f1c9e2b"), "{shown}");
    }
}

#[tokio::test]
async fn errors_of_failed_runs_hold_no_key_even_when_the_api_quotes_it() {
    let topology = fixture("math.yaml");
    let server = MockServer::start(&topology).expect("the mock starts");
    // An API that echoes the whole key in its message (some proxies do).
    server.inject(Fault::Status {
        status: 401,
        retry_after: None,
        message: Some(format!("Incorrect API key provided: {KEY}.")),
    });
    let swarm = swarm(
        &topology,
        model(&server, Settings::new(Api::Responses), KEY),
    );
    let error = swarm.run("triage", QUESTION).await.expect_err("refused");
    swarm.shutdown().await;
    let text = format!("{error} {error:?}");
    assert!(!text.contains(KEY), "{text}");
    assert!(
        text.contains("Incorrect API key provided: [redacted]."),
        "{text}"
    );
}

/// Runs `baton run` on the math fixture against `server` with the test key and every log and
/// trace on; returns stdout and stderr together.
fn baton_run_with_key(server: &MockServer) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args([
            "run",
            "tests/fixtures/http/math.yaml",
            QUESTION,
            "--transcript",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", server.base_url())
        .env("RUST_LOG", "trace")
        .output()
        .expect("the baton binary runs");
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_binarys_logs_and_traces_never_show_the_key() {
    let topology = fixture("math.yaml");
    // Success, with the key the server requires.
    let server = MockServer::builder(&topology)
        .api_key(KEY)
        .start()
        .expect("the mock starts");
    let output = baton_run_with_key(&server);
    assert!(output.contains("(12 + 30) * 2 = 84"), "{output}");
    assert!(output.contains("baton: live: model `fast`"), "{output}");
    assert!(output.contains("TRACE"), "traces are on: {output}");
    assert!(!output.contains(KEY), "the key shows in:\n{output}");
    // Retries, then a failure.
    server.inject(Fault::rate_limited(0));
    server.inject(Fault::Drop);
    server.inject(Fault::Malformed);
    let output = baton_run_with_key(&server);
    assert!(output.contains("retrying"), "{output}");
    assert!(output.contains("cannot read the answer"), "{output}");
    assert!(!output.contains(KEY), "the key shows in:\n{output}");
    // A server that wants another key.
    let other = MockServer::builder(&topology)
        .api_key("sk-another-key-123456789")
        .start()
        .expect("the mock starts");
    let output = baton_run_with_key(&other);
    assert!(
        output.contains("HTTP 401: Incorrect API key provided"),
        "{output}"
    );
    assert!(!output.contains(KEY), "the key shows in:\n{output}");
}
