//! MCP tool servers (issue 11) against real servers the project did not write, installed by
//! `.ci/mcp-servers` (which `.ci/run` runs and whose paths it exports as
//! `BATON_MCP_NODE_MODULES` and `BATON_MCP_PYTHON`): the reference `server-everything` and
//! `server-filesystem` from npm, `mcp-server-time` from PyPI, and a probe server written on the
//! official Python SDK (`tests/fixtures/mcp/probe_server.py`) that reports from the server's
//! side how many calls were in flight, which calls were cancelled, and its pid. Without the
//! variables the tests say loudly that they were skipped; under `CI=true` they fail instead.
#![cfg(unix)]

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::tool::mcp::{McpServer, McpSource};
use baton::tool::{ToolOptions, ToolSource};
use baton::{Agent, Swarm};
use serde_json::{Value, json};

use crate::support::{self, output_of};

/// The variable holding the npm folder with the reference servers.
const NODE_MODULES_ENV: &str = "BATON_MCP_NODE_MODULES";
/// The variable holding the Python with `mcp-server-time` and the `mcp` SDK.
const PYTHON_ENV: &str = "BATON_MCP_PYTHON";
/// How long anything that should happen may take (only a bug reaches it).
const GENEROUS: Duration = Duration::from_secs(60);

/// Where the installed servers are.
struct Servers {
    node_modules: PathBuf,
    python: PathBuf,
}

impl Servers {
    /// The servers, or `None` (skipped, said loudly) when not installed; a panic under
    /// `CI=true`.
    fn find(test: &str) -> Option<Servers> {
        let (Some(node_modules), Some(python)) = (
            std::env::var_os(NODE_MODULES_ENV).filter(|v| !v.is_empty()),
            std::env::var_os(PYTHON_ENV).filter(|v| !v.is_empty()),
        ) else {
            let message = format!(
                "{test}: skipped: MCP servers not installed; run .ci/mcp-servers and set \
                 {NODE_MODULES_ENV} and {PYTHON_ENV} (.ci/run does)"
            );
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{message} (CI=true: this is a failure)"
            );
            let _ = writeln!(std::io::stderr(), "\n!!!!! {message} !!!!!\n");
            return None;
        };
        support::trace_init();
        Some(Servers {
            node_modules: node_modules.into(),
            python: python.into(),
        })
    }

    /// The entry script of an npm server (`server-everything`).
    fn npm(&self, package: &str) -> String {
        self.node_modules
            .join("@modelcontextprotocol")
            .join(package)
            .join("dist/index.js")
            .display()
            .to_string()
    }

    fn everything(&self) -> McpServer {
        McpServer::stdio("node", [self.npm("server-everything")])
    }

    fn filesystem(&self, root: &Path) -> McpServer {
        McpServer::stdio(
            "node",
            [self.npm("server-filesystem"), root.display().to_string()],
        )
    }

    fn time(&self) -> McpServer {
        let bin = self.python.with_file_name("mcp-server-time");
        McpServer::stdio(bin.display().to_string(), ["--local-timezone", "UTC"])
    }

    /// The probe server, writing its marker files into `markers`.
    fn probe(&self, markers: &Path) -> McpServer {
        McpServer::stdio(
            self.python.display().to_string(),
            [probe_script(), markers.display().to_string()],
        )
    }
}

fn probe_script() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mcp/probe_server.py")
        .display()
        .to_string()
}

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-mcp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch directory is made");
    dir
}

/// A swarm whose agent `a` names the source `name` of `server` and makes `turns`, then
/// answers `done`.
fn swarm_of(name: &str, server: McpServer, turns: Vec<ScriptedTurn>) -> Swarm {
    let mut turns = turns;
    turns.push(ScriptedTurn::text("done"));
    let model = Arc::new(ScriptedModel::new().with_agent("a", turns));
    support::start(
        Swarm::builder()
            .worker_threads(1)
            .tool_source(Arc::new(McpSource::new(name, server)))
            .agent(Agent::new("a").with_tools([name])),
        &model,
    )
}

fn call(tool: &str, id: &str, args: Value) -> ScriptedCall {
    ScriptedCall::tool(tool, args).with_id(id)
}

/// Waits until `path` exists; false if it did not within [`GENEROUS`].
async fn appears(path: &Path) -> bool {
    let until = tokio::time::Instant::now() + GENEROUS;
    while tokio::time::Instant::now() < until {
        if path.exists() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Whether process `pid` has ended (gone, or a zombie nobody waits for yet).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Waits until process `pid` has ended; false if it did not within [`GENEROUS`].
async fn ends(pid: u32) -> bool {
    let until = tokio::time::Instant::now() + GENEROUS;
    while tokio::time::Instant::now() < until {
        if ended(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

// See: issue 11
#[tokio::test]
async fn the_reference_servers_list_their_tools_and_answer_calls() {
    let Some(servers) = Servers::find("the_reference_servers_list_their_tools_and_answer_calls")
    else {
        return;
    };
    let source = McpSource::new("everything", servers.everything().deny(["get-env"]));
    source.start().await.expect("server-everything starts");
    let notes = source.notes();
    source.stop().await;
    for expected in [
        "echo -> echo",
        "get-sum -> get-sum",
        "get-tiny-image -> get-tiny-image",
        "get-env: left out by the filter",
    ] {
        assert!(
            notes.iter().any(|n| n == expected),
            "{expected} in {notes:#?}"
        );
    }
    assert_eq!(
        notes.iter().filter(|n| n.contains(" -> ")).count(),
        12,
        "{notes:#?}"
    );

    let swarm = swarm_of(
        "everything",
        servers.everything(),
        vec![ScriptedTurn::calls([
            call("echo", "c1", json!({"message": "hi"})),
            call("get-sum", "c2", json!({"a": 2, "b": 40})),
            call("get-tiny-image", "c3", json!({})),
            call(
                "get-structured-content",
                "c4",
                json!({"location": "Chicago"}),
            ),
            call(
                "get-resource-reference",
                "c5",
                json!({"resourceType": "Blob", "resourceId": 2}),
            ),
        ])],
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    swarm.shutdown().await;
    let t = &result.transcript;
    assert_eq!(output_of(t, "c1"), "Echo: hi");
    assert!(output_of(t, "c2").contains("42"), "{}", output_of(t, "c2"));
    // The image is a reference with its type and size, never base64.
    let image = output_of(t, "c3");
    assert!(image.contains("[image: image/png, "), "{image}");
    assert!(image.len() < 400, "{image}");
    let structured = output_of(t, "c4");
    assert!(structured.contains("temperature"), "{structured}");
    let blob = output_of(t, "c5");
    assert!(
        blob.contains("[resource ") && blob.contains(" bytes]"),
        "{blob}"
    );
    assert_eq!(result.final_output, "done");

    let swarm = swarm_of(
        "time",
        servers.time().prefix("time_"),
        vec![ScriptedTurn::calls([call(
            "time_get_current_time",
            "c1",
            json!({"timezone": "Europe/Paris"}),
        )])],
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    swarm.shutdown().await;
    let now = output_of(&result.transcript, "c1");
    assert!(now.contains("Europe/Paris"), "{now}");
}

// See: issue 11
#[tokio::test]
async fn a_turns_calls_are_in_flight_at_once_on_one_server() {
    let Some(servers) = Servers::find("a_turns_calls_are_in_flight_at_once_on_one_server") else {
        return;
    };
    let markers = scratch("rendezvous");
    // Each call waits on the server until all four are there: they can only all answer if
    // all four were in flight at once, over the one session.
    let calls: Vec<ScriptedCall> = (1..=4)
        .map(|i| {
            call(
                "rendezvous",
                &format!("c{i}"),
                json!({"key": "k", "count": 4}),
            )
        })
        .collect();
    let swarm = swarm_of(
        "probe",
        servers.probe(&markers),
        vec![
            ScriptedTurn::calls(calls),
            ScriptedTurn::calls([call("peak", "p", json!({}))]),
        ],
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    swarm.shutdown().await;
    for i in 1..=4 {
        assert_eq!(
            output_of(&result.transcript, &format!("c{i}")),
            "met 4 at k"
        );
    }
    assert_eq!(output_of(&result.transcript, "p"), "4");
    let _ = std::fs::remove_dir_all(&markers);
}

// See: issue 11
#[tokio::test]
async fn a_call_past_its_timeout_is_cancelled_on_the_server_too() {
    let Some(servers) = Servers::find("a_call_past_its_timeout_is_cancelled_on_the_server_too")
    else {
        return;
    };
    let markers = scratch("cancel");
    let server = servers.probe(&markers).tool_options(ToolOptions {
        timeout: Some(Duration::from_millis(1500)),
        ..ToolOptions::default()
    });
    let swarm = swarm_of(
        "probe",
        server,
        vec![ScriptedTurn::calls([call(
            "sleep",
            "c1",
            json!({"seconds": 120, "marker": "long"}),
        )])],
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    assert_eq!(
        output_of(&result.transcript, "c1"),
        "error: tool `sleep` timed out after 1500 ms"
    );
    // The server's handler was cancelled (by `notifications/cancelled`), long before its
    // two minutes were up.
    assert!(
        appears(&markers.join("long.cancelled")).await,
        "the server never saw the cancellation"
    );
    swarm.shutdown().await;
    let _ = std::fs::remove_dir_all(&markers);
}

// See: issue 11
#[tokio::test]
async fn a_server_killed_mid_call_is_restarted_the_call_gets_an_error_and_the_next_succeeds() {
    let Some(servers) = Servers::find("a_server_killed_mid_call_is_restarted") else {
        return;
    };
    let markers = scratch("restart");
    let model = Arc::new(
        ScriptedModel::new()
            .with_agent(
                "pid",
                vec![
                    ScriptedTurn::calls([call("pid", "p", json!({}))]),
                    ScriptedTurn::text("{{output:p}}"),
                ],
            )
            .with_agent(
                "sleeper",
                vec![
                    ScriptedTurn::calls([call(
                        "sleep",
                        "s",
                        json!({"seconds": 120, "marker": "m"}),
                    )]),
                    ScriptedTurn::text("woke"),
                ],
            ),
    );
    let swarm = support::start(
        Swarm::builder()
            .worker_threads(1)
            .tool_source(Arc::new(McpSource::new("probe", servers.probe(&markers))))
            .agent(Agent::new("pid").with_tools(["probe"]))
            .agent(Agent::new("sleeper").with_tools(["probe"])),
        &model,
    );
    let first: u32 = swarm
        .run("pid", "go")
        .await
        .expect("a run")
        .final_output
        .parse()
        .expect("a pid");
    let sleeper = {
        let swarm = swarm.clone();
        tokio::spawn(async move { swarm.run("sleeper", "go").await })
    };
    assert!(
        appears(&markers.join("m.started")).await,
        "the sleep call never reached the server"
    );
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(first as i32).expect("a pid"),
        rustix::process::Signal::KILL,
    )
    .expect("the server is killed");
    let result = sleeper.await.expect("the task").expect("the run succeeds");
    let output = output_of(&result.transcript, "s");
    assert!(
        output.contains("closed its session during the call"),
        "{output}"
    );
    assert_eq!(result.final_output, "woke");
    // The next call goes to a new server process.
    let second: u32 = swarm
        .run("pid", "go")
        .await
        .expect("a run")
        .final_output
        .parse()
        .expect("a pid");
    assert_ne!(first, second);
    swarm.shutdown().await;
    assert!(
        ends(second).await,
        "the restarted server outlived the swarm"
    );
    let _ = std::fs::remove_dir_all(&markers);
}

// See: issue 11
#[tokio::test]
async fn arguments_are_checked_against_the_listed_schema_and_server_refusals_are_outputs() {
    let Some(servers) = Servers::find("arguments_are_checked_against_the_listed_schema") else {
        return;
    };
    let markers = scratch("refusals");
    let swarm = swarm_of(
        "probe",
        servers.probe(&markers).prefix("p_"),
        vec![ScriptedTurn::calls([
            call("p_positive", "ok", json!({"n": 7})),
            call("p_positive", "negative", json!({"n": -1})),
            call("p_positive", "wrong_type", json!({"n": "seven"})),
            call("p_probe_dotted_name", "dotted", json!({})),
        ])],
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    swarm.shutdown().await;
    let t = &result.transcript;
    assert_eq!(output_of(t, "ok"), "7");
    // The server ran the call and flagged it `isError`.
    let negative = output_of(t, "negative");
    assert!(
        negative.starts_with("error: tool `p_positive` failed: "),
        "{negative}"
    );
    assert!(negative.contains("-1 is negative"), "{negative}");
    // Refused by the schema the server listed, before any request.
    let wrong = output_of(t, "wrong_type");
    assert!(
        wrong.starts_with("error: invalid arguments for tool `p_positive`"),
        "{wrong}"
    );
    // A name the OpenAI API refuses (`probe.dotted/name`) is mapped, and still reaches it.
    assert_eq!(output_of(t, "dotted"), "dotted");
    let _ = std::fs::remove_dir_all(&markers);
}

// See: issue 11
#[tokio::test]
async fn the_filesystem_server_refusing_a_path_outside_its_root_is_an_output() {
    let Some(servers) = Servers::find("the_filesystem_server_refusing_a_path") else {
        return;
    };
    let root = scratch("fs-root");
    std::fs::write(root.join("notes.txt"), "inside the root\n").expect("a file");
    let inside = root.join("notes.txt").display().to_string();
    let swarm = swarm_of(
        "files",
        servers
            .filesystem(&root)
            .allow(["read_text_file", "list_directory"])
            .prefix("fs_"),
        vec![ScriptedTurn::calls([
            call("fs_read_text_file", "inside", json!({"path": inside})),
            call(
                "fs_read_text_file",
                "outside",
                json!({"path": "/etc/hostname"}),
            ),
        ])],
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    swarm.shutdown().await;
    let t = &result.transcript;
    assert_eq!(output_of(t, "inside"), "inside the root\n");
    let outside = output_of(t, "outside");
    assert!(
        outside.starts_with("error: tool `fs_read_text_file` failed: "),
        "{outside}"
    );
    assert!(
        outside.contains("outside allowed directories") || outside.contains("Access denied"),
        "{outside}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

// See: issue 11
#[tokio::test]
async fn an_allow_list_naming_a_tool_the_server_lacks_fails_the_start() {
    let Some(servers) = Servers::find("an_allow_list_naming_a_tool_the_server_lacks") else {
        return;
    };
    let error = Swarm::builder()
        .tool_source(Arc::new(McpSource::new(
            "time",
            servers.time().allow(["get_current_tme"]),
        )))
        .agent(Agent::new("a").with_tools(["time"]))
        .model(Arc::new(ScriptedModel::new()))
        .start()
        .expect_err("the start fails");
    let text = error.to_string();
    assert!(
        text.contains("tool source `time` could not start"),
        "{text}"
    );
    assert!(text.contains("`allow` names `get_current_tme`"), "{text}");
    assert!(text.contains("`get_current_time`"), "{text}");
}

// See: issue 11
#[tokio::test]
async fn shutdown_ends_the_server_and_the_children_it_started() {
    let Some(servers) = Servers::find("shutdown_ends_the_server_and_the_children_it_started")
    else {
        return;
    };
    let markers = scratch("orphans");
    // `sh` runs the probe as its child (not `exec`): the probe's pid is a grandchild of Baton.
    let script = "\"$0\" \"$@\"; echo done".to_owned();
    let server = McpServer::stdio(
        "sh",
        [
            "-c".to_owned(),
            script,
            servers.python.display().to_string(),
            probe_script(),
            markers.display().to_string(),
        ],
    );
    let swarm = swarm_of(
        "probe",
        server,
        vec![ScriptedTurn::calls([call("pid", "p", json!({}))])],
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    let pid: u32 = output_of(&result.transcript, "p").parse().expect("a pid");
    assert!(!ended(pid));
    swarm.shutdown().await;
    assert!(ends(pid).await, "the server's child outlived the swarm");
    let _ = std::fs::remove_dir_all(&markers);
}

/// server-everything over streamable HTTP on a loopback port; killed when dropped.
struct HttpEverything {
    child: Child,
    port: u16,
}

impl Drop for HttpEverything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl HttpEverything {
    async fn start(servers: &Servers) -> HttpEverything {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("node")
            .arg(servers.npm("server-everything"))
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .env("HOST", "127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let server = HttpEverything { child, port };
        let until = tokio::time::Instant::now() + GENEROUS;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < until,
                "server-everything never listened"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }
}

// See: issue 11
#[tokio::test]
async fn server_everything_over_streamable_http_on_loopback_answers_calls() {
    let Some(servers) = Servers::find("server_everything_over_streamable_http") else {
        return;
    };
    let http = HttpEverything::start(&servers).await;
    let url = format!("http://127.0.0.1:{}/mcp", http.port);
    let swarm = swarm_of(
        "everything",
        McpServer::http(url).allow(["echo", "get-sum"]),
        vec![ScriptedTurn::calls([
            call("echo", "c1", json!({"message": "over http"})),
            call("get-sum", "c2", json!({"a": 1, "b": 2})),
        ])],
    );
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    swarm.shutdown().await;
    assert_eq!(output_of(&result.transcript, "c1"), "Echo: over http");
    assert!(output_of(&result.transcript, "c2").contains('3'));
}

// See: issue 11
#[test]
fn baton_check_connect_shows_the_mapping_and_reports_a_server_that_cannot_start() {
    let Some(servers) = Servers::find("baton_check_connect_shows_the_mapping") else {
        return;
    };
    let dir = scratch("check-connect");
    let file = dir.join("probe.yaml");
    std::fs::write(
        &file,
        format!(
            r#"entry: a
tools:
  - name: probe
    mcp:
      command: "{python}"
      args: ["{script}", "{dir}"]
      deny: [sleep]
      prefix: p_
  - name: broken
    mcp:
      command: baton-no-such-mcp-server-xyz
agents:
  - name: a
    tools: [probe, broken]
    scripted: [{{ text: hi }}]
"#,
            python = servers.python.display(),
            script = probe_script(),
            dir = dir.display(),
        ),
    )
    .expect("the topology is written");
    let out = support::baton_command()
        .args(["check", "--connect"])
        .arg(&file)
        .output()
        .expect("baton runs");
    let stdout = support::text(&out.stdout);
    let stderr = support::text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    for expected in [
        "tool source `probe`: 5 tools exposed",
        "    probe.dotted/name -> p_probe_dotted_name",
        "    pid -> p_pid",
        "    sleep: left out by the filter",
        "tool source `broken` could not start: MCP server (stdio: baton-no-such-mcp-server-xyz): could not run `baton-no-such-mcp-server-xyz`",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} in\n{stdout}\n{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scripted model that says whether it takes images and keeps the input of each request.
#[derive(Debug)]
struct Eyes {
    scripted: Arc<ScriptedModel>,
    images: bool,
    seen: std::sync::Mutex<Vec<Vec<baton::Item>>>,
}

impl baton::model::Model for Eyes {
    fn respond<'a>(
        &'a self,
        request: baton::model::ModelRequest<'a>,
    ) -> futures::future::BoxFuture<'a, Result<baton::model::ModelResponse, baton::model::ModelError>>
    {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(request.input.to_vec());
        self.scripted.respond(request)
    }

    fn takes_images(&self) -> bool {
        self.images
    }
}

// See: issue 11
#[tokio::test]
async fn an_image_reaches_only_a_model_that_takes_images_and_the_text_names_it() {
    let Some(servers) = Servers::find("an_image_reaches_only_a_model_that_takes_images") else {
        return;
    };
    for images in [false, true] {
        let scripted = Arc::new(ScriptedModel::new().with_agent(
            "a",
            vec![
                ScriptedTurn::calls([call("get-tiny-image", "img", json!({}))]),
                ScriptedTurn::text("seen"),
            ],
        ));
        let model = Arc::new(Eyes {
            scripted,
            images,
            seen: std::sync::Mutex::new(Vec::new()),
        });
        support::trace_init();
        let swarm = Swarm::builder()
            .worker_threads(1)
            .tool_source(Arc::new(McpSource::new(
                "everything",
                servers.everything().allow(["get-tiny-image"]),
            )))
            .agent(Agent::new("a").with_tools(["everything"]))
            .model(Arc::clone(&model) as _)
            .start()
            .expect("the swarm starts");
        let result = swarm.run("a", "go").await.expect("the run succeeds");
        swarm.shutdown().await;
        let sent = model
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let output = sent[1]
            .iter()
            .find_map(|item| match item {
                baton::Item::FunctionCallOutput { output, images, .. } => Some((output, images)),
                _ => None,
            })
            .expect("the second request holds the output");
        assert!(output.0.contains("[image: image/png, "), "{}", output.0);
        if images {
            assert_eq!(output.1.len(), 1);
            assert_eq!(output.1[0].mime_type, "image/png");
            assert!(output.1[0].data.len() > 100, "{:?}", output.1);
        } else {
            assert!(output.1.is_empty(), "{:?}", output.1);
            // Not in the transcript either: no base64 anywhere in it.
            let transcript = serde_json::to_string(&result.transcript).expect("json");
            assert!(!transcript.contains("iVBORw0KGgo"), "{transcript}");
        }
    }
}

// See: issue 11
#[tokio::test]
async fn a_server_that_will_not_start_is_reported_with_the_end_of_its_stderr() {
    let Some(_servers) = Servers::find("a_server_that_will_not_start") else {
        return;
    };
    // 200 kB without a newline, then a last line, then exit before the handshake.
    let script =
        "head -c 200000 /dev/zero | tr '\\0' x >&2; echo >&2; echo 'no config found' >&2; exit 3";
    let source = McpSource::new("broken", McpServer::stdio("sh", ["-c", script]));
    let error = source.start().await.expect_err("it cannot start");
    let text = error.to_string();
    assert!(
        text.starts_with("tool source `broken` could not start: MCP server (stdio: sh -c "),
        "{text}"
    );
    assert!(text.contains("did not complete MCP's handshake"), "{text}");
    assert!(
        text.contains("(a line longer than 65536 bytes) | no config found"),
        "{text}"
    );
    assert!(text.len() < 2_000, "{}", text.len());
}

// See: issue 11
#[tokio::test]
async fn header_secrets_never_show_in_logs_or_outputs() {
    let Some(servers) = Servers::find("header_secrets_never_show_in_logs_or_outputs") else {
        return;
    };
    let http = HttpEverything::start(&servers).await;
    let dir = scratch("secrets");
    let file = dir.join("secret.yaml");
    std::fs::write(
        &file,
        format!(
            r#"entry: a
tools:
  - name: everything
    mcp:
      url: http://127.0.0.1:{port}/mcp
      headers: {{ Authorization: "Bearer {{env:BATON_TEST_MCP_TOKEN}}" }}
      allow: [echo, get-env]
agents:
  - name: a
    tools: [everything]
    scripted:
      - calls: [{{ id: e, tool: echo, args: {{ message: hi }} }}]
      - text: "{{{{output:e}}}}"
"#,
            port = http.port
        ),
    )
    .expect("the topology is written");
    let secret = "mcp-secret-4b1d7f";
    for args in [vec!["check", "--connect"], vec!["run", "--offline"]] {
        let mut command = support::baton_command();
        command.args(&args).arg(&file);
        if args[0] == "run" {
            command.arg("go");
        }
        let out = command
            .env("BATON_TEST_MCP_TOKEN", secret)
            .env("RUST_LOG", "trace")
            .output()
            .expect("baton runs");
        let stdout = support::text(&out.stdout);
        let stderr = support::text(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stdout}\n{stderr}");
        assert!(stderr.len() > 1_000, "trace logs were written: {stderr}");
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{args:?} showed the secret"
        );
        if args[0] == "run" {
            assert!(stdout.contains("Echo: hi"), "{stdout}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
