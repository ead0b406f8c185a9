//! Retries and limits over real HTTP, with faults injected by the mock model server: 429s with
//! `Retry-After`, 500s past the retry budget, 400 and 401 (never retried), a timeout, a dropped
//! connection, a malformed body, and the in-flight cap under 200 concurrent conversations.
//! Each ends in a success or a clear error: never a panic, never a hang (every wait is
//! bounded by the client's timeout). Time is asserted only through what the server recorded.

use std::time::Duration;

use baton::RunError;
use baton::mock::{Fault, MockServer};
use baton::model::ModelError;
use futures::future::join_all;

use crate::http_support::{
    ANSWER, Api, KEY, QUESTION, Settings, fixture, math, model, served, swarm,
};

/// The model error a failed run ended with.
fn model_error(error: RunError) -> ModelError {
    match error {
        RunError::Model { error, .. } => error,
        other => panic!("expected a model error, got {other:?}"),
    }
}

async fn failing_run(settings: Settings, faults: &[Fault]) -> (MockServer, ModelError) {
    let (server, swarm) = math(settings);
    for fault in faults {
        server.inject(fault.clone());
    }
    let error = swarm
        .run("triage", QUESTION)
        .await
        .expect_err("the run fails");
    swarm.shutdown().await;
    (server, model_error(error))
}

#[tokio::test]
async fn two_rate_limits_then_success_wait_as_retry_after_says() {
    let (server, swarm) = math(Settings::new(Api::Responses));
    server.inject_n(Fault::rate_limited(1), 2);
    let result = swarm
        .run("triage", QUESTION)
        .await
        .expect("the run succeeds");
    swarm.shutdown().await;
    assert_eq!(result.final_output, ANSWER);
    let records = server.records();
    let statuses: Vec<u16> = records.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 429, 200, 200, 200, 200]);
    // The server saw each retry at least the second it asked for after the refusal.
    for pair in records[..3].windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
    }
}

#[tokio::test]
async fn server_errors_past_the_retry_budget_end_the_run_with_a_clear_error() {
    let settings = Settings {
        retries: 2,
        ..Settings::new(Api::Responses)
    };
    let (server, error) = failing_run(
        settings,
        &[Fault::status(500), Fault::status(502), Fault::status(503)],
    )
    .await;
    assert!(
        matches!(&error, ModelError::RetriesExhausted { attempts: 3, .. }),
        "{error:?}"
    );
    assert_eq!(error.status(), Some(503));
    let text = error.to_string();
    // How many attempts, over how long, then the last failure once.
    assert!(text.starts_with("gave up after 3 attempts in "), "{text}");
    assert!(text.contains(" s: POST http://127.0.0.1:"), "{text}");
    assert_eq!(
        text.matches("The server is overloaded").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("/v1/responses: HTTP 503: The server is overloaded"),
        "{text}"
    );
    assert_eq!(server.records().len(), 3);
}

#[tokio::test]
async fn a_bad_request_is_not_retried_and_shows_the_apis_message() {
    let fault = Fault::Status {
        status: 400,
        retry_after: None,
        message: Some("Invalid 'input[3]': the thing the API disliked.".to_owned()),
    };
    let (server, error) = failing_run(Settings::new(Api::Chat), &[fault]).await;
    assert_eq!(error.status(), Some(400));
    assert!(
        error.to_string().ends_with(
            "/v1/chat/completions: HTTP 400: Invalid 'input[3]': the thing the API disliked."
        ),
        "{error}"
    );
    assert_eq!(server.records().len(), 1, "a 400 must not be retried");
}

#[tokio::test]
async fn a_wrong_key_is_not_retried_and_shows_the_apis_message() {
    let topology = fixture("math.yaml");
    let server = MockServer::builder(&topology)
        .api_key("sk-the-right-key-000000")
        .start()
        .expect("the mock starts");
    let swarm = swarm(
        &topology,
        model(&server, Settings::new(Api::Responses), KEY),
    );
    let error = model_error(swarm.run("triage", QUESTION).await.expect_err("refused"));
    swarm.shutdown().await;
    assert_eq!(error.status(), Some(401));
    assert!(
        error
            .to_string()
            .contains("HTTP 401: Incorrect API key provided: sk-t****5c0b"),
        "{error}"
    );
    assert_eq!(served(&server), [(String::new(), None, 401)]);
}

#[tokio::test]
async fn a_model_slower_than_the_timeout_gives_a_timeout_error() {
    let settings = Settings {
        retries: 0,
        timeout: Duration::from_millis(200),
        ..Settings::new(Api::Responses)
    };
    let (_server, error) = failing_run(settings, &[Fault::delay(Duration::from_secs(5))]).await;
    assert!(matches!(error, ModelError::Timeout { .. }), "{error:?}");
    assert!(
        error.to_string().ends_with("no answer within 200ms"),
        "{error}"
    );
}

#[tokio::test]
async fn a_slow_answer_is_retried_after_its_timeout_and_the_run_succeeds() {
    let settings = Settings {
        retries: 1,
        timeout: Duration::from_millis(200),
        ..Settings::new(Api::Chat)
    };
    let (server, swarm) = math(settings);
    server.inject(Fault::delay(Duration::from_secs(5)));
    let result = swarm
        .run("triage", QUESTION)
        .await
        .expect("the retry succeeds");
    swarm.shutdown().await;
    assert_eq!(result.final_output, ANSWER);
}

#[tokio::test]
async fn a_dropped_connection_is_retried_and_without_retries_is_a_connection_error() {
    let (server, swarm) = math(Settings::new(Api::Responses));
    server.inject(Fault::Drop);
    let result = swarm
        .run("triage", QUESTION)
        .await
        .expect("the retry succeeds");
    swarm.shutdown().await;
    assert_eq!(result.final_output, ANSWER);
    assert_eq!(
        server.records()[0].status,
        0,
        "the first request was dropped"
    );

    let settings = Settings {
        retries: 0,
        ..Settings::new(Api::Responses)
    };
    let (_server, error) = failing_run(settings, &[Fault::Drop]).await;
    assert!(matches!(error, ModelError::Connection { .. }), "{error:?}");
    assert!(error.to_string().contains("connection failed"), "{error}");
}

#[tokio::test]
async fn a_malformed_body_is_a_clear_error_plain_or_streamed() {
    for api in [Api::Responses, Api::Chat] {
        let (server, error) = failing_run(Settings::new(api), &[Fault::Malformed]).await;
        assert!(matches!(error, ModelError::Decode { .. }), "{error:?}");
        assert!(
            error.to_string().contains("cannot read the answer"),
            "{error}"
        );
        assert_eq!(server.records().len(), 1, "a malformed body is not retried");
    }
    // Streamed: a broken event in the middle of the stream.
    use futures::StreamExt as _;
    for api in [Api::Responses, Api::Chat] {
        let (server, swarm) = math(Settings::new(api));
        server.inject(Fault::Malformed);
        let mut run = swarm.run_streamed("triage", QUESTION);
        while run.next().await.is_some() {}
        let error = model_error(run.result().await.expect_err("the stream is broken"));
        swarm.shutdown().await;
        assert!(matches!(error, ModelError::Decode { .. }), "{error:?}");
        assert!(error.to_string().contains("not valid JSON"), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_flight_cap_holds_under_two_hundred_concurrent_conversations() {
    const CONVERSATIONS: usize = 200;
    const CAP: usize = 8;
    let topology = fixture("math.yaml");
    let server = MockServer::builder(&topology)
        .latency(Duration::from_millis(20))
        .start()
        .expect("the mock starts");
    let settings = Settings {
        max_in_flight: CAP,
        timeout: Duration::from_secs(60),
        ..Settings::new(Api::Responses)
    };
    let swarm = swarm(&topology, model(&server, settings, KEY));
    // A few runs one after another first, so every shard's agent actors have started: an
    // actor's unbounded mailbox is set when it starts, and until then a burst of 200 runs can
    // find it full (a start-up race in the swarm, reported; not what this test is about).
    for _ in 0..8 {
        swarm
            .run("triage", QUESTION)
            .await
            .expect("a warm-up run succeeds");
    }
    server.reset();
    let runs = (0..CONVERSATIONS).map(|_| {
        let swarm = swarm.clone();
        tokio::spawn(async move { swarm.run("triage", QUESTION).await })
    });
    for joined in join_all(runs).await {
        let result = joined.expect("no panic").expect("the run succeeds");
        assert_eq!(result.final_output, ANSWER);
    }
    swarm.shutdown().await;
    assert_eq!(server.records().len(), CONVERSATIONS * 4);
    assert!(server.records().iter().all(|r| r.status == 200));
    let peak = server.peak_in_flight();
    assert!(
        peak <= CAP,
        "the server saw {peak} requests at once; the cap is {CAP}"
    );
    assert!(
        peak >= CAP / 2,
        "the requests hardly overlapped (peak {peak})"
    );
}

#[tokio::test]
async fn a_stream_that_never_ends_is_cut_at_the_cap_with_a_clear_error() {
    // One per API: the mock answers the first request with text that goes on forever.
    for api in [Api::Responses, Api::Chat] {
        let topology = fixture("math.yaml");
        let server = MockServer::start(&topology).expect("the mock starts");
        server.inject(Fault::Endless);
        let url = server.base_url();
        let key = Some(baton::model::ApiKey::new(KEY));
        let cap = 64 * 1024;
        let model: baton::model::SharedModel = match api {
            Api::Responses => std::sync::Arc::new(
                baton::model::responses::OpenAiResponses::new(&url, "gpt-4.1-mini", key)
                    .with_streaming(Some(true))
                    .with_max_stream_bytes(cap),
            ),
            Api::Chat => std::sync::Arc::new(
                baton::model::chat::ChatCompletions::new(&url, "llama3.1:8b", key)
                    .with_streaming(Some(true))
                    .with_max_stream_bytes(cap),
            ),
        };
        let swarm = swarm(&topology, model);
        let error = swarm
            .run("triage", QUESTION)
            .await
            .expect_err("the runaway stream ends the run");
        swarm.shutdown().await;
        let text = model_error(error).to_string();
        assert!(
            text.contains("the stream is larger than 65536 bytes"),
            "{api:?}: {text}"
        );
    }
}
