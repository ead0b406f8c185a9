//! OpenAI-compatible Chat Completions over real HTTP: the same math run as the Responses
//! tests, with items mapped to messages with `tool_calls` and `role: tool` replies and back.

use crate::http_support::{Api, full_math_run, streamed_math_run_matches};

#[tokio::test]
async fn math_runs_over_chat_completions_with_parallel_calls_and_a_handoff() {
    let result = full_math_run(Api::Chat).await;
    // Chat Completions has no item ids.
    assert!(result.transcript.iter().all(|i| i.id().is_none()));
}

#[tokio::test]
async fn streaming_over_chat_completions_assembles_the_same_transcript() {
    streamed_math_run_matches(Api::Chat).await;
}
