//! The mock model server as another application sees it: plain JSON over HTTP, no Baton
//! client. It refuses what the real API refuses, with the API's error shape, and serves each
//! agent's scripted turns to whoever sends that agent's instructions, working out the turn
//! from the request alone.

use baton::mock::{Fault, MockServer};
use serde_json::{Value, json};

use crate::http_support::fixture;

async fn post(server: &MockServer, path: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.base_url()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the mock answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// An agent's instructions, as the fixture file writes them (what an application would send).
fn instructions(agent: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/http/math.yaml");
    let text = std::fs::read_to_string(path).expect("the fixture reads");
    let yaml: Value = serde_saphyr::from_str(&text).expect("the fixture parses");
    yaml["agents"]
        .as_array()
        .and_then(|agents| agents.iter().find(|a| a["name"] == agent))
        .and_then(|a| a["instructions"].as_str())
        .expect("the agent has instructions")
        .to_owned()
}

fn handoff_tool() -> Value {
    json!({"type": "function", "name": "handoff", "description": "Hand off.", "strict": true,
           "parameters": {"type": "object", "properties": {"agent": {"type": "string", "enum": ["calculator"]}},
                          "required": ["agent"], "additionalProperties": false}})
}

#[tokio::test]
async fn requests_the_api_would_refuse_get_its_error_shape_and_words() {
    let server = MockServer::start(&fixture("math.yaml")).expect("the mock starts");
    let cases = [
        (
            json!({"model": "m", "input": "hi", "temprature": 0.5}),
            "Unknown parameter: 'temprature'.",
        ),
        (
            json!({"model": "m", "input": [
                {"type": "function_call", "call_id": "c1", "name": "add", "arguments": "{}"},
                {"role": "user", "content": "go on"}]}),
            "No tool output found for function call c1.",
        ),
        (
            json!({"model": "m", "input": [
                {"type": "function_call_output", "call_id": "c9", "output": "3"}]}),
            "No tool call found for function call output with call_id c9.",
        ),
        (
            json!({"model": "m", "input": "hi", "tools": [{"type": "function", "name": "add numbers"}]}),
            "Invalid 'tools[0].name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
        ),
    ];
    for (body, message) in cases {
        let (status, answer) = post(&server, "/responses", body).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["message"], message);
        assert_eq!(answer["error"]["type"], "invalid_request_error");
    }
    let (status, answer) = post(
        &server,
        "/chat/completions",
        json!({"model": "m", "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}]},
            {"role": "user", "content": "and?"}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("The following tool_call_ids did not have response messages: c1"),
        "{answer}"
    );
    let (status, answer) = post(&server, "/nope", json!({})).await;
    assert_eq!(
        (status, &answer["error"]["message"]),
        (404, &json!("Invalid URL (POST /v1/nope)"))
    );
}

#[tokio::test]
async fn an_application_gets_each_agents_turns_from_its_instructions_and_history() {
    let server = MockServer::start(&fixture("math.yaml")).expect("the mock starts");
    let triage = instructions("triage");
    let calculator = instructions("calculator");
    let tools: Vec<Value> = ["add", "subtract", "multiply", "divide", "power", "sqrt"]
        .iter()
        .map(|n| json!({"type": "function", "name": n, "parameters": {"type": "object"}}))
        .collect();

    // Triage's first turn: a handoff, through the function the request offers.
    let mut input = vec![json!({"role": "user", "content": "What is (12 + 30) * 2?"})];
    let (status, answer) = post(
        &server,
        "/responses",
        json!({"model": "any", "instructions": triage, "input": input, "tools": [handoff_tool()]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let call = &answer["output"][0];
    assert_eq!(
        (&call["name"], &call["arguments"]),
        (&json!("handoff"), &json!("{\"agent\":\"calculator\"}"))
    );
    assert_eq!(call["call_id"], "call_triage_1_1");
    input.push(call.clone());
    input.push(
        json!({"type": "function_call_output", "call_id": "call_triage_1_1", "output": "ok"}),
    );

    // The calculator's first turn, then (after its outputs) its second, then its answer,
    // which quotes the outputs the application sent.
    let mut outputs = vec![("sum", "42"), ("root", "12")].into_iter();
    for (turn, expected) in [(0, vec!["add", "sqrt"]), (1, vec!["multiply"])] {
        let (status, answer) = post(
            &server,
            "/responses",
            json!({"model": "any", "instructions": calculator, "input": input, "tools": tools}),
        )
        .await;
        assert_eq!(status, 200, "turn {turn}: {answer}");
        let calls = answer["output"].as_array().unwrap();
        let names: Vec<&str> = calls.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, expected);
        for call in calls {
            input.push(call.clone());
        }
        for call in calls {
            let id = call["call_id"].as_str().unwrap().to_owned();
            let output = if id == "product" {
                "84"
            } else {
                outputs.next().map_or("?", |(_, o)| o)
            };
            input.push(json!({"type": "function_call_output", "call_id": id, "output": output}));
        }
    }
    let (status, answer) = post(
        &server,
        "/responses",
        json!({"model": "any", "instructions": calculator, "input": input, "tools": tools}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["output"][0]["content"][0]["text"],
        "(12 + 30) * 2 = 84, and the square root of 144 is 12."
    );
    let turns: Vec<(Option<String>, Option<u32>)> = server
        .records()
        .into_iter()
        .map(|r| (r.agent, r.turn))
        .collect();
    assert_eq!(
        turns,
        [
            (Some("triage".into()), Some(0)),
            (Some("calculator".into()), Some(0)),
            (Some("calculator".into()), Some(1)),
            (Some("calculator".into()), Some(2)),
        ]
    );
}

#[tokio::test]
async fn unknown_instructions_and_spent_scripts_are_clear_refusals() {
    let server = MockServer::start(&fixture("math.yaml")).expect("the mock starts");
    let (status, answer) = post(
        &server,
        "/responses",
        json!({"model": "m", "instructions": "You are someone else.", "input": "hi"}),
    )
    .await;
    assert_eq!(status, 400);
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("mock model: no agent of this topology"),
        "{message}"
    );
    assert!(message.contains("triage, calculator"), "{message}");

    // An explicit agent header, past the end of its script.
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", server.base_url()))
        .header("x-baton-agent", "triage")
        .body(
            json!({"model": "m", "messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_triage_1_1", "type": "function", "function": {"name": "handoff", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_triage_1_1", "content": "ok"}]})
            .to_string(),
        )
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json_or_text().await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("scripted model has 1 turn(s) for agent `triage`, but turn 2 was requested"),
        "{body}"
    );
}

#[tokio::test]
async fn a_reasoning_model_refuses_histories_that_drop_or_move_its_reasoning() {
    let topology = fixture("math.yaml");
    let server = MockServer::builder(&topology)
        .reasoning(true)
        .start()
        .expect("the mock starts");
    let call = json!({"type": "function_call", "id": "fc_call_triage_1_1", "call_id": "call_triage_1_1",
                      "name": "handoff", "arguments": "{\"agent\":\"calculator\"}"});
    let output =
        json!({"type": "function_call_output", "call_id": "call_triage_1_1", "output": "ok"});
    let reasoning = json!({"type": "reasoning", "id": "rs_triage_1", "summary": []});
    let user = json!({"role": "user", "content": "q"});
    let cases = [
        (
            vec![user.clone(), call.clone(), output.clone()],
            "Item 'fc_call_triage_1_1' of type 'function_call' was provided without its required 'reasoning' item: 'rs_triage_1'.",
        ),
        (
            vec![user.clone(), reasoning.clone()],
            "Item 'rs_triage_1' of type 'reasoning' was provided without its required following item.",
        ),
    ];
    for (input, message) in cases {
        let (status, answer) = post(
            &server,
            "/responses",
            json!({"model": "m", "instructions": instructions("calculator"), "input": input}),
        )
        .await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["message"], message);
    }
    let (status, answer) = post(
        &server,
        "/responses",
        json!({"model": "m", "instructions": instructions("calculator"),
               "input": [user, reasoning, call, output]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["output"][0]["type"], "reasoning");
}

#[tokio::test]
async fn faults_can_be_queued_over_http_and_stats_read_back() {
    let server = MockServer::start(&fixture("math.yaml")).expect("the mock starts");
    let (status, _) = post(
        &server,
        "/_mock/faults",
        json!({"kind": "status", "status": 503, "retry_after": 2, "count": 2}),
    )
    .await;
    assert_eq!(status, 200);
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let response = client
            .post(format!("{}/responses", server.base_url()))
            .body(json!({"model": "m", "input": "hi"}).to_string())
            .send()
            .await
            .expect("the mock answers");
        assert_eq!(response.status().as_u16(), 503);
        assert_eq!(response.headers()["retry-after"], "2");
    }
    let stats: Value = client
        .get(format!("{}/_mock/stats", server.base_url()))
        .send()
        .await
        .expect("stats")
        .json_or_text()
        .await;
    assert_eq!(stats["requests"], 2);
    assert_eq!(
        stats["records"][0]["fault"],
        json!({"kind": "status", "status": 503, "retry_after": 2})
    );
    server.inject(Fault::status(500));
    server.reset();
    assert!(server.records().is_empty());
}

/// Reads a body as JSON (reqwest's `json` feature is off: the library does not need it).
trait JsonOrText {
    async fn json_or_text(self) -> Value;
}

impl JsonOrText for reqwest::Response {
    async fn json_or_text(self) -> Value {
        let text = self.text().await.expect("a body");
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }
}
