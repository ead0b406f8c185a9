//! Failures a person can read, and streams that restart (issue 8): an API's validation dump
//! shown as its first error, once; attempts and time in the retry error; a 404 on
//! `/responses` pointing at `provider: chat`; a base URL that cannot be parsed failing at
//! once; `baton run --model/--provider/--base-url` against another server; a streamed answer
//! cut and retried part-way printed exactly once.

use std::process::Output;

use baton::mock::{Fault, MockServer};
use baton::model::ModelError;
use baton::{RunError, RunResult};

use crate::http_support::{self, ANSWER, Api, KEY, QUESTION, Settings};
use crate::support::{baton_command, text};

/// llama-cpp-python's 500 for an assistant message with `"content": null` (pydantic's dump).
const DUMP: &str = "7 validation errors for CreateChatCompletionRequest\nmessages.2.typed-dict.content\n  Input should be a valid string [type=string_type, input_value=None, input_type=NoneType]\nmessages.2.typed-dict.role\n  Input should be 'system' [type=literal_error, input_value='assistant', input_type=str]\nmessages.2.typed-dict.role\n  Input should be 'user' [type=literal_error, input_value='assistant', input_type=str]";

fn baton(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = baton_command();
    command.args(args).envs(env.iter().copied());
    command.output().expect("the baton binary runs")
}

fn math_server() -> MockServer {
    let topology = baton::topology::load(concat!(env!("CARGO_MANIFEST_DIR"), "/agents/math.yaml"))
        .expect("the example loads");
    MockServer::start(&topology).expect("the mock starts")
}

async fn failing(settings: Settings, faults: Vec<Fault>) -> ModelError {
    let (server, swarm) = http_support::math(settings);
    for fault in faults {
        server.inject(fault);
    }
    let outcome: Result<RunResult, RunError> = swarm.run("triage", QUESTION).await;
    swarm.shutdown().await;
    match outcome {
        Err(RunError::Model { error, .. }) => error,
        other => panic!("expected a model error, got {other:?}"),
    }
}

// See: issue 8
#[tokio::test]
async fn a_validation_dump_is_shown_as_its_first_error_once_with_attempts_and_time() {
    let settings = Settings {
        retries: 2,
        ..Settings::new(Api::Chat)
    };
    let fault = Fault::Status {
        status: 500,
        retry_after: None,
        message: Some(DUMP.to_owned()),
    };
    let error = failing(settings, vec![fault; 3]).await;
    let text = error.to_string();
    assert!(text.starts_with("gave up after 3 attempts in "), "{text}");
    assert!(
        text.ends_with(
            "HTTP 500: 7 validation errors for CreateChatCompletionRequest; first: messages.2.typed-dict.content: Input should be a valid string (and 6 more)"
        ),
        "{text}"
    );
    assert_eq!(text.matches("validation errors").count(), 1, "{text}");
    assert!(!text.contains("literal_error"), "{text}");
}

// See: issue 8
#[tokio::test]
async fn a_404_on_responses_says_to_use_the_chat_provider() {
    let fault = Fault::Status {
        status: 404,
        retry_after: None,
        message: Some("Not Found".to_owned()),
    };
    let error = failing(Settings::new(Api::Responses), vec![fault]).await;
    assert_eq!(error.status(), Some(404));
    assert!(
        error.to_string().ends_with(
            "/v1/responses: HTTP 404: Not Found (this server has no Responses API at `/responses`: use `provider: chat` for it)"
        ),
        "{error}"
    );
}

// See: issue 8 (it used to be retried four times)
#[test]
fn a_base_url_that_cannot_be_parsed_fails_at_once() {
    let out = baton(
        &[
            "run",
            "agents/math.yaml",
            QUESTION,
            "--base-url",
            "http://[::1",
        ],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("base URL `http://[::1` cannot be parsed"),
        "{stderr}"
    );
    assert!(!stderr.contains("retrying"), "{stderr}");
}

// See: issue 8
#[test]
fn baton_run_overrides_the_topologys_model_for_a_quick_try_against_another_server() {
    let server = math_server();
    let url = server.base_url();
    // The file names the Responses API and gpt-4.1-mini; no key is set (a local server).
    let out = baton(
        &[
            "run",
            "agents/math.yaml",
            QUESTION,
            "--provider",
            "chat",
            "--model",
            "local-model",
            "--base-url",
            &url,
        ],
        &[],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout, format!("{ANSWER}\n"));
    assert!(
        stderr.starts_with(&format!(
            "baton: live: model `default`: chat completions `local-model` at {url} (--base-url)\n"
        )),
        "{stderr}"
    );
    let records = server.records();
    assert_eq!(records.len(), 4);
    assert!(records.iter().all(|r| r.status == 200 && !r.authorized));
    assert!(records.iter().all(|r| r.api == baton::mock::Api::Chat));
}

// See: issue 8 (a retried stream used to show its text twice)
#[test]
fn a_stream_cut_and_retried_part_way_prints_the_answer_once() {
    for provider in ["openai", "chat"] {
        let server = math_server();
        let url = server.base_url();
        // The three tool turns pass; the answer's stream breaks off half-way, once.
        for _ in 0..3 {
            server.inject(Fault::Delay { ms: 0 });
        }
        server.inject(Fault::Cut);
        let out = baton(
            &[
                "run",
                "agents/math.yaml",
                QUESTION,
                "--stream",
                "--provider",
                provider,
            ],
            &[("OPENAI_API_KEY", KEY), ("OPENAI_BASE_URL", &url)],
        );
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{provider}: {stderr}");
        assert_eq!(stdout, format!("{ANSWER}\n"), "{provider}: {stderr}");
        let statuses: Vec<_> = server.records().iter().map(|r| r.fault.clone()).collect();
        assert_eq!(
            statuses.len(),
            5,
            "{provider}: the cut answer was asked again"
        );
        assert_eq!(statuses[3], Some(Fault::Cut));
        assert!(!stderr.contains("replaces the text above"), "{stderr}");
    }
}
