//! The OpenAI Responses API over real HTTP: `agents/math.yaml`'s shape (a handoff, then
//! parallel tool calls) against the mock model server, plain and streamed.

use crate::http_support::{Api, full_math_run, streamed_math_run_matches};

#[tokio::test]
async fn math_runs_over_the_responses_api_with_parallel_calls_and_a_handoff() {
    let result = full_math_run(Api::Responses).await;
    // Items that came from the API keep their ids, so they can go back as the same items.
    let ids: Vec<Option<&str>> = result.transcript.iter().map(|i| i.id()).collect();
    assert_eq!(ids[1], Some("fc_call_triage_1_1"));
    assert_eq!(ids.last().copied().flatten(), Some("msg_calculator_3_1"));
}

#[tokio::test]
async fn streaming_over_the_responses_api_assembles_the_same_transcript() {
    streamed_math_run_matches(Api::Responses).await;
}

#[tokio::test]
async fn reasoning_items_go_back_unchanged_and_in_place() {
    use baton::Item;
    use baton::mock::MockServer;

    use crate::http_support::{ANSWER, KEY, QUESTION, Settings, fixture, model, served, swarm};

    // The mock acts as a reasoning model: each answer starts with a reasoning item, and it
    // refuses (with the API's words) any request that drops one, moves it, or strips the ids
    // that tie it to the item after it.
    let topology = fixture("math.yaml");
    let server = MockServer::builder(&topology)
        .reasoning(true)
        .start()
        .expect("the mock starts");
    let swarm = swarm(
        &topology,
        model(&server, Settings::new(Api::Responses), KEY),
    );
    let result = swarm
        .run("triage", QUESTION)
        .await
        .expect("the run succeeds");
    swarm.shutdown().await;
    assert_eq!(result.final_output, ANSWER);
    assert!(served(&server).iter().all(|(_, _, status)| *status == 200));
    let reasoning: Vec<(usize, &str)> = result
        .transcript
        .iter()
        .enumerate()
        .filter(|(_, item)| matches!(item, Item::Reasoning { .. }))
        .map(|(i, item)| (i, item.id().unwrap_or_default()))
        .collect();
    assert_eq!(
        reasoning,
        [
            (1, "rs_triage_1"),
            (4, "rs_calculator_1"),
            (9, "rs_calculator_2"),
            (12, "rs_calculator_3")
        ]
    );
    let Item::Reasoning { fields } = &result.transcript[1] else {
        unreachable!()
    };
    assert_eq!(fields["encrypted_content"], "mock-reasoning:triage:1");
}
