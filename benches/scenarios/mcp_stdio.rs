//! The latency Baton adds to one MCP tool call over stdio: a conversation whose model asks for
//! one call of server-everything's `echo` (the reference server from npm, on Node.js), then
//! answers; the call's duration from the run's timeline (median of 200 runs, one after
//! another), against the same `tools/call` made straight through an `rmcp` client over its own
//! child process (median of 200). Ideal: the straight call. `added_us_per_call` is the
//! difference: the worker actor, argument checks, the session's task hops and the output
//! conversion.
//!
//! The server comes from `BATON_MCP_NODE_MODULES` (`.ci/run` exports it), else from
//! `.ci/mcp-servers`, which installs it once per machine.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::tool::mcp::{McpServer, McpSource};
use baton::{Agent, EventKind, Swarm};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::json;

use crate::support::{fail, line, median, ms};

const REPS: usize = 200;
const WARM_UP: usize = 20;

pub async fn run() -> String {
    let server = server_everything();
    let direct = direct_ms(&server).await;

    let model = ScriptedModel::new().with_agent(
        "a",
        [
            ScriptedTurn::calls(
                [ScriptedCall::tool("echo", json!({"message": "hi"})).with_id("e")],
            ),
            ScriptedTurn::text("{{output:e}}"),
        ],
    );
    let swarm = Swarm::builder()
        .worker_threads(1)
        .tool_source(Arc::new(McpSource::new(
            "everything",
            McpServer::stdio("node", [server.display().to_string()]).allow(["echo"]),
        )))
        .agent(Agent::new("a").with_tools(["everything"]))
        .model(Arc::new(model))
        .start()
        .unwrap_or_else(|e| fail(e.to_string()));
    let mut calls = Vec::with_capacity(REPS);
    for rep in 0..WARM_UP + REPS {
        let result = swarm
            .run("a", "go")
            .await
            .unwrap_or_else(|e| fail(e.to_string()));
        if result.final_output != "Echo: hi" {
            fail(format!("the answer was {:?}", result.final_output));
        }
        if rep >= WARM_UP {
            let call = result
                .timeline
                .iter()
                .find(|e| matches!(e.kind, EventKind::Tool { .. }))
                .unwrap_or_else(|| fail("no tool call in the timeline".to_owned()));
            calls.push(ms(call.end - call.start));
        }
    }
    swarm.shutdown().await;
    let baton = median(&mut calls);
    line(
        "mcp_stdio",
        baton,
        direct,
        &[
            (
                "added_us_per_call",
                format!("{:.1}", (baton - direct) * 1000.0),
            ),
            ("calls", REPS.to_string()),
            ("server", "server-everything-echo".to_owned()),
        ],
    )
}

/// The median of `REPS` `tools/call`s of `echo` through a bare rmcp client.
async fn direct_ms(server: &PathBuf) -> f64 {
    let mut command = tokio::process::Command::new("node");
    command.arg(server);
    let child = TokioChildProcess::new(command).unwrap_or_else(|e| fail(e.to_string()));
    let client = ().serve(child).await.unwrap_or_else(|e| fail(e.to_string()));
    let mut samples = Vec::with_capacity(REPS);
    for rep in 0..WARM_UP + REPS {
        let arguments = json!({"message": "hi"});
        let params = CallToolRequestParams::new("echo")
            .with_arguments(arguments.as_object().cloned().unwrap_or_default());
        let started = Instant::now();
        client
            .call_tool(params)
            .await
            .unwrap_or_else(|e| fail(e.to_string()));
        if rep >= WARM_UP {
            samples.push(ms(started.elapsed()));
        }
    }
    let _ = client.cancel().await;
    median(&mut samples)
}

/// server-everything's entry script.
fn server_everything() -> PathBuf {
    let modules = match std::env::var_os("BATON_MCP_NODE_MODULES").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/mcp-servers");
            let out = std::process::Command::new(script)
                .output()
                .unwrap_or_else(|e| fail(format!("{script}: {e}")));
            let text = String::from_utf8_lossy(&out.stdout);
            let Some(dir) = text.lines().find_map(|l| l.strip_prefix("node_modules=")) else {
                fail(format!("{script} printed no node_modules= line"));
            };
            PathBuf::from(dir)
        }
    };
    modules.join("@modelcontextprotocol/server-everything/dist/index.js")
}
