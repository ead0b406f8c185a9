//! Real servers' quirks, played by the mock server, and what Baton does about each (see: issue
//! 8): `content: null` beside tool calls refused (llama-cpp-python), a streamed tool turn
//! answered with an empty body (streaming falls back, once), answers with nothing in them
//! (a clear error, not retried, never a blank answer), `extra` fields that would override
//! what Baton sets.

use baton::RunError;
use baton::mock::{Fault, MockServer};
use baton::model::{
    ApiKey, Compat, ModelConfig, ModelError, ModelLimits, ModelSettings, Provider, SharedModel,
    Streaming, ToolCallContent, build_model,
};
use baton::stream::StreamEvent;
use futures::StreamExt as _;

use crate::http_support::{ANSWER, KEY, QUESTION, fixture, swarm};

/// A model entry named `local` at `server`, built as a topology's would be, without retries.
fn entry(
    server: &MockServer,
    provider: Provider,
    stream: Streaming,
    compat: Compat,
) -> ModelConfig {
    ModelConfig {
        name: "local".to_owned(),
        provider,
        model: Some("llama3.1:8b".to_owned()),
        base_url: Some(server.base_url()),
        api_key_env: "BATON_TEST_UNUSED".to_owned(),
        settings: ModelSettings::default(),
        limits: ModelLimits {
            max_retries: Some(0),
            ..ModelLimits::default()
        },
        stream,
        compat,
        images: false,
    }
}

fn build(config: &ModelConfig) -> SharedModel {
    build_model(config, Some(ApiKey::new(KEY)), None).expect("the model builds")
}

/// The math fixture served by a mock that refuses what llama-cpp-python refuses.
fn strict_mock() -> (baton::topology::Topology, MockServer) {
    let topology = fixture("math.yaml");
    let server = MockServer::builder(&topology)
        .refuse_null_content(true)
        .start()
        .expect("the mock starts");
    (topology, server)
}

// See: issue 8
#[tokio::test]
async fn null_content_beside_tool_calls_is_refused_and_the_chat_default_no_longer_sends_it() {
    let (topology, server) = strict_mock();
    let null = Compat {
        tool_call_content: Some(ToolCallContent::Null),
        ..Compat::default()
    };
    let config = entry(&server, Provider::Chat, Streaming::Auto, null);
    let swarm_null = swarm(&topology, build(&config));
    let error = swarm_null
        .run("triage", QUESTION)
        .await
        .expect_err("null content is refused");
    swarm_null.shutdown().await;
    let RunError::Model { error, turn, .. } = error else {
        panic!("expected a model error, got {error:?}");
    };
    // The handoff's call goes back in the second request, and is refused there.
    assert_eq!(turn, 2);
    assert_eq!(error.status(), Some(500));
    assert!(
        error.to_string().contains("7 validation errors:"),
        "{error}"
    );

    server.reset();
    for compat in [
        Compat::default(),
        Compat {
            tool_call_content: Some(ToolCallContent::Empty),
            ..Compat::default()
        },
    ] {
        let config = entry(&server, Provider::Chat, Streaming::Auto, compat);
        let swarm_default = swarm(&topology, build(&config));
        let result = swarm_default
            .run("triage", QUESTION)
            .await
            .expect("the default content is accepted");
        swarm_default.shutdown().await;
        assert_eq!(result.final_output, ANSWER);
    }
    assert!(server.records().iter().all(|r| r.status == 200));
}

// See: issue 8
#[tokio::test]
async fn a_streamed_tool_turn_with_an_empty_body_is_sent_again_unstreamed_and_said_once() {
    let topology = fixture("math.yaml");
    let server = MockServer::start(&topology).expect("the mock starts");
    let config = entry(&server, Provider::Chat, Streaming::Auto, Compat::default());
    let swarm = swarm(&topology, build(&config));
    server.inject(Fault::Empty);
    let mut run = swarm.run_streamed("triage", QUESTION);
    let mut disabled = Vec::new();
    let mut text = String::new();
    while let Some(event) = run.next().await {
        match event {
            StreamEvent::StreamingDisabled { model, .. } => disabled.push(model.to_string()),
            StreamEvent::TextDelta { delta, .. } => text.push_str(&delta),
            _ => {}
        }
    }
    let result = run.result().await.expect("the run succeeds");
    // A second run on the same model: tool turns no longer stream, and nothing is said.
    let mut again = swarm.run_streamed("triage", QUESTION);
    let mut said_again = 0;
    while let Some(event) = again.next().await {
        said_again += usize::from(matches!(event, StreamEvent::StreamingDisabled { .. }));
    }
    again.result().await.expect("the second run succeeds");
    swarm.shutdown().await;
    assert_eq!(result.final_output, ANSWER);
    assert_eq!(disabled, ["local"]);
    assert_eq!(said_again, 0);
    // The answer still reached the listener, in one piece.
    assert!(text.ends_with(ANSWER), "{text:?}");
    let streams: Vec<(bool, u16)> = server
        .records()
        .iter()
        .map(|r| (r.stream, r.status))
        .collect();
    assert_eq!(
        streams[0],
        (true, 200),
        "the first, streamed request: empty body"
    );
    assert!(
        streams[1..].iter().all(|&s| s == (false, 200)),
        "every later tool turn is plain: {streams:?}"
    );
    assert_eq!(streams.len(), 1 + 4 + 4);
}

// See: issue 8
#[tokio::test]
async fn answers_with_nothing_in_them_fail_the_run_naming_the_model_agent_and_turn() {
    for provider in [Provider::Openai, Provider::Chat] {
        for (fault, stream) in [
            (Fault::Empty, Streaming::Never),
            (Fault::Incomplete, Streaming::Never),
            (Fault::Incomplete, Streaming::Always),
        ] {
            let topology = fixture("math.yaml");
            let server = MockServer::start(&topology).expect("the mock starts");
            let config = ModelConfig {
                // Retries allowed: a non-answer must still not be retried.
                limits: ModelLimits::default(),
                ..entry(&server, provider, stream, Compat::default())
            };
            let swarm = swarm(&topology, build(&config));
            server.inject(fault.clone());
            let error = swarm
                .run("triage", QUESTION)
                .await
                .expect_err("a non-answer fails the run");
            swarm.shutdown().await;
            let case = format!("{provider:?} {fault:?} {stream:?}");
            let RunError::Model {
                agent, turn, error, ..
            } = &error
            else {
                panic!("{case}: expected a model error, got {error:?}");
            };
            assert!(
                matches!(error, ModelError::EmptyAnswer { model, .. } if model == "local"),
                "{case}: {error:?}"
            );
            assert_eq!((agent.as_str(), *turn), ("triage", 1), "{case}");
            let text = error.to_string();
            assert!(
                text.starts_with("model `local` gave no answer (POST http://"),
                "{case}: {text}"
            );
            if matches!(fault, Fault::Incomplete) {
                assert!(
                    text.contains("max_output_tokens") || text.contains("`length`"),
                    "{case}: {text}"
                );
            }
            assert_eq!(
                server.records().len(),
                1,
                "{case}: a non-answer was retried"
            );
        }
    }
}

#[test]
fn extra_fields_that_baton_sets_are_refused_when_a_model_is_built() {
    let topology = fixture("math.yaml");
    let server = MockServer::start(&topology).expect("the mock starts");
    for (provider, key) in [(Provider::Chat, "messages"), (Provider::Openai, "input")] {
        let mut config = entry(&server, provider, Streaming::Auto, Compat::default());
        config
            .settings
            .extra
            .insert(key.to_owned(), serde_json::json!([]));
        let error = build_model(&config, None, None).expect_err("the collision is refused");
        assert_eq!(
            error.to_string(),
            format!(
                "model `local`: `extra` may not set `{key}`: Baton sets it itself (use the conversation and the agent's instructions)"
            )
        );
        // A field Baton does not set is fine.
        config.settings.extra.clear();
        config
            .settings
            .extra
            .insert("seed".to_owned(), serde_json::json!(7));
        build_model(&config, None, None).expect("seed is the caller's");
    }
}
