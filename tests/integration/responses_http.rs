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
