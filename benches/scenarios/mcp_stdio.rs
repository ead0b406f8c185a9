//! The latency Baton adds to one MCP tool call over stdio: a conversation whose model asks for
//! one call of server-everything's `echo` (the reference server from npm, on Node.js), then
//! answers; the call's duration from the run's timeline (median of 200 runs, one after
//! another), against the same `tools/call` made straight through an `rmcp` client over its own
//! child process (median of 200, each just before one of the runs, so both see the same
//! machine). Ideal: the straight call. `added_us_per_call` is the
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
    let direct = Direct::start(&server).await;

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
    // Interleaved, one straight call then one through Baton, so both see the same machine.
    let (mut baton, mut straight) = (Vec::with_capacity(REPS), Vec::with_capacity(REPS));
    for rep in 0..WARM_UP + REPS {
        let direct_ms = direct.call().await;
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
            baton.push(ms(call.end - call.start));
            straight.push(direct_ms);
        }
    }
    swarm.shutdown().await;
    direct.stop().await;
    let (baton, straight) = (median(&mut baton), median(&mut straight));
    line(
        "mcp_stdio",
        baton,
        straight,
        &[
            (
                "added_us_per_call",
                format!("{:.1}", (baton - straight) * 1000.0),
            ),
            ("calls", REPS.to_string()),
            ("server", "server-everything-echo".to_owned()),
        ],
    )
}

/// A bare rmcp client over its own child process.
struct Direct {
    client: rmcp::service::RunningService<rmcp::RoleClient, ()>,
}

impl Direct {
    async fn start(server: &PathBuf) -> Direct {
        let mut command = tokio::process::Command::new("node");
        command.arg(server).stderr(std::process::Stdio::null());
        let child = TokioChildProcess::new(command).unwrap_or_else(|e| fail(e.to_string()));
        let client = ().serve(child).await.unwrap_or_else(|e| fail(e.to_string()));
        Direct { client }
    }

    /// One `tools/call` of `echo`, in ms.
    async fn call(&self) -> f64 {
        let arguments = json!({"message": "hi"});
        let params = CallToolRequestParams::new("echo")
            .with_arguments(arguments.as_object().cloned().unwrap_or_default());
        let started = Instant::now();
        self.client
            .call_tool(params)
            .await
            .unwrap_or_else(|e| fail(e.to_string()));
        ms(started.elapsed())
    }

    async fn stop(self) {
        let _ = self.client.cancel().await;
    }
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
