//! Agents used as tools: a call runs the agent as a nested run and returns its answer.

use baton::topology;

#[tokio::test(flavor = "multi_thread")]
async fn research_fans_out_six_nested_runs_in_one_turn_and_summarizes() {
    let topology = topology::load("agents/research.yaml").unwrap();
    let model = topology.scripted_model().unwrap().clone();
    model.set_recording(true);
    let swarm = topology.start().unwrap();
    let result = swarm.run("lead", "What about Rust?").await.unwrap();
    assert_eq!(
        result.final_output,
        "Brief: Summarize six findings on moving a build to Rust. \
         (from: findings on build times of large Rust projects; \
         findings on teams that moved to Rust and what they report)"
    );
    // The lead kept the conversation: the nested runs are not handoffs.
    assert_eq!(result.path, ["lead"]);
    // Six nested runs of the searcher and one of the summarizer, each one model request.
    let requests = model.requests();
    let count = |agent: &str| requests.iter().filter(|r| r.agent == agent).count();
    assert_eq!(
        (count("lead"), count("searcher"), count("summarizer")),
        (3, 6, 1)
    );
    // The six searches were all asked in the lead's first turn, before any answer came back.
    let second_lead = requests
        .iter()
        .filter(|r| r.agent == "lead")
        .nth(1)
        .unwrap();
    let calls = second_lead
        .input
        .iter()
        .filter(|i| matches!(i, baton::Item::FunctionCall { .. }))
        .count();
    assert_eq!(calls, 6);
    // The searcher was offered no tools (it is a leaf), and saw only its question.
    let search = requests.iter().find(|r| r.agent == "searcher").unwrap();
    assert!(search.tools.is_empty());
    assert_eq!(search.input.len(), 1);
    swarm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_nested_run_is_an_error_output_not_a_failed_run() {
    let yaml = "\
entry: lead
tools:
  - agent: helper
agents:
  - name: lead
    tools: [helper]
    scripted:
      - calls: [{ tool: helper, args: { input: hi }, id: h }]
      - text: 'helper said: {{output:h}}'
  - name: helper
    scripted: []
";
    let topology = topology::parse(yaml, std::path::Path::new("nested.yaml")).unwrap();
    let swarm = topology.start().unwrap();
    let result = swarm.run("lead", "go").await.unwrap();
    assert!(
        result.final_output.starts_with(
            "helper said: error: tool `helper` failed: agent `helper` could not answer:"
        ),
        "{}",
        result.final_output
    );
    swarm.shutdown().await;
}

#[test]
fn an_agent_tool_that_could_call_itself_is_refused_with_the_chain() {
    let yaml = "\
entry: a
tools:
  - agent: b
    name: ask_b
agents:
  - name: a
    tools: [ask_b]
    scripted: [{ text: hi }]
  - name: b
    handoffs: [c]
    scripted: [{ text: hi }]
  - name: c
    tools: [ask_b]
    scripted: [{ text: hi }]
";
    let err = topology::parse(yaml, std::path::Path::new("loop.yaml")).unwrap_err();
    let lines: Vec<String> = err.diagnostics().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "loop.yaml:4:11: agent tool `ask_b` can call itself: it runs b -> c, and c uses `ask_b` \
          (a nested run must not reach the tool that started it; remove the tool from that agent or break the chain)"
        ]
    );
}
