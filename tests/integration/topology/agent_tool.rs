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
    // See: issue 9. The nested runs count as the run's: 3 + 6 + 1 model requests.
    assert_eq!(result.usage.requests, 10);
    swarm.shutdown().await;
}

// See: issue 9 (nested runs used to start with fresh limits and an unlinked trace)
#[tokio::test(flavor = "multi_thread")]
async fn nested_runs_count_against_the_outer_runs_max_turns() {
    let yaml = "\
entry: lead
limits: { max_turns: 5 }
tools:
  - agent: helper
agents:
  - name: lead
    tools: [helper]
    scripted:
      - calls: [{ tool: helper, args: { input: one }, id: a }]
      - calls: [{ tool: helper, args: { input: two }, id: b }]
      - text: 'done: {{output:a}} / {{output:b}}'
  - name: helper
    scripted:
      - calls: [{ tool: nothing, args: {}, id: n }]
      - text: 'helped'
";
    let topology = topology::parse(yaml, std::path::Path::new("budget.yaml")).unwrap();
    let swarm = topology.start().unwrap();
    let outcome = swarm.run("lead", "go").await;
    swarm.shutdown().await;
    // lead 1 (1) + helper 2 (3) + lead 2 (4) + helper: 1 turn left, so it stops after one
    // and its call fails (5) -> the lead has no turn left for its answer.
    let error = outcome.unwrap_err();
    let baton::RunError::MaxTurnsExceeded {
        max_turns, partial, ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(*max_turns, 5);
    assert_eq!(partial.usage.requests, 5, "{partial:#?}");
    let outputs: Vec<String> = partial
        .transcript
        .iter()
        .filter_map(|i| match i {
            baton::Item::FunctionCallOutput {
                call_id, output, ..
            } if call_id == "b" => Some(output.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(outputs.len(), 1);
    assert!(
        outputs[0].contains("max_turns (1) exceeded"),
        "the second nested run had one turn left: {}",
        outputs[0]
    );
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
