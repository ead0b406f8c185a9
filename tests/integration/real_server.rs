//! Every shipped topology against a real OpenAI-compatible server: llama-cpp-python's server
//! with SmolLM2-135M-Instruct, installed by `.ci/model-server` (which `.ci/run` runs and whose
//! paths it exports as `BATON_MODEL_SERVER_PYTHON` and `BATON_MODEL_SERVER_MODEL`).
//!
//! What is asserted is Baton's behaviour, never the small model's arithmetic or wording: every
//! request Baton sent was accepted (the server's own access log holds no status but 200, and
//! no model error with an HTTP status reached the run), every history sent had each call
//! answered by its output, and each run completed or stopped at one of its limits. Without the
//! variables the tests say loudly that they were skipped; under `CI=true` they fail instead.
//! See: issue 8.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use baton::model::{
    Model, ModelError, ModelRequest, ModelResponse, SharedModel, build_model, check_history,
};
use baton::{Item, RunError};
use futures::future::BoxFuture;

/// The variable holding the server's Python interpreter.
const PYTHON_ENV: &str = "BATON_MODEL_SERVER_PYTHON";
/// The variable holding the GGUF model file.
const MODEL_ENV: &str = "BATON_MODEL_SERVER_MODEL";
/// How long the server may take to load the model and answer `GET /v1/models`.
const STARTUP: Duration = Duration::from_secs(120);
/// The question every topology is asked.
const QUESTION: &str = "What is 12 + 30? Use your tools or hand off if you can.";

/// One real server at a time: the machine has two cores, and each server uses both.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A running llama-cpp-python server; killed (and reaped) when dropped, even by a panic.
struct RealServer {
    child: Child,
    port: u16,
    log: PathBuf,
    dir: PathBuf,
    _turn: MutexGuard<'static, ()>,
}

impl Drop for RealServer {
    fn drop(&mut self) {
        // Closing the wrapper's stdin stops the server (see `start`); then reap the wrapper.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl RealServer {
    /// Starts the server, or says why not: `None` (skipped) when it is not installed, a panic
    /// under `CI=true`.
    fn start(test: &str) -> Option<RealServer> {
        let (Some(python), Some(model)) = (
            std::env::var_os(PYTHON_ENV).filter(|v| !v.is_empty()),
            std::env::var_os(MODEL_ENV).filter(|v| !v.is_empty()),
        ) else {
            let message = format!(
                "{test}: skipped: real model server not installed; run .ci/model-server \
                 and set {PYTHON_ENV} and {MODEL_ENV} (.ci/run does)"
            );
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{message} (CI=true: this is a failure)"
            );
            // Straight to stderr, past the test harness's capture, so a skip is never silent.
            let _ = writeln!(std::io::stderr(), "\n!!!!! {message} !!!!!\n");
            return None;
        };
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("baton-real-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let log = dir.join("server.log");
        let out = std::fs::File::create(&log).expect("the server log");
        // A shell wrapper stops the server when its stdin closes: when this guard drops, and
        // also when the test process dies without unwinding (a signal, a timeout), so no
        // server outlives its test.
        let child = Command::new("sh")
            .args([
                "-c",
                r#""$@" & pid=$!; read -r _; kill $pid; wait $pid"#,
                "sh",
            ])
            .arg(&python)
            .args(["-m", "llama_cpp.server", "--model"])
            .arg(&model)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            // Tool calls need this chat format: without it the model is never shown the tools.
            .args(["--chat_format", "chatml-function-calling"])
            .args([
                "--n_ctx",
                "8192",
                "--n_threads",
                "2",
                "--n_threads_batch",
                "2",
            ])
            .args(["--seed", "7", "--verbose", "false"])
            .stdin(Stdio::piped())
            .stdout(out.try_clone().expect("the server log"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", Path::new(&python).display()));
        let server = RealServer {
            child,
            port,
            log,
            dir,
            _turn: turn,
        };
        server.wait_ready();
        Some(server)
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// Polls `GET /v1/models` until it answers 200, for at most [`STARTUP`].
    fn wait_ready(&self) {
        let deadline = std::time::Instant::now() + STARTUP;
        while std::time::Instant::now() < deadline {
            if get_status(self.port, "/v1/models") == Some(200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!(
            "the real server did not answer within {STARTUP:?}; its log:\n{}",
            self.log_text()
        );
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The statuses of the model requests in the server's access log.
    fn posted_statuses(&self) -> Vec<u16> {
        self.log_text()
            .lines()
            .filter(|l| l.contains("\"POST /v1/chat/completions"))
            .filter_map(|l| l.split("HTTP/1.1\" ").nth(1))
            .filter_map(|rest| rest.split_whitespace().next())
            .filter_map(|status| status.parse().ok())
            .collect()
    }

    /// Asserts that every model request got a 200, and returns how many there were.
    fn assert_every_request_accepted(&self) -> usize {
        let statuses = self.posted_statuses();
        assert!(
            statuses.iter().all(|&s| s == 200),
            "the server refused requests ({statuses:?}); its log:\n{}",
            self.log_text()
        );
        statuses.len()
    }

    /// A copy of `topology` (a shipped file) whose every model entry is this server, written
    /// next to the log; the agents' own settings stay as they are.
    fn topology_copy(&self, topology: &Path) -> PathBuf {
        let text = std::fs::read_to_string(topology).expect("the topology reads");
        let copy = self.dir.join(topology.file_name().expect("a file name"));
        let text = absolute_working_dirs(&text, topology.parent().expect("a folder"));
        std::fs::write(&copy, with_models(&text, &self.base_url())).expect("the copy writes");
        copy
    }
}

/// `text` with each relative `working_dir:` (relative to the topology file) made absolute
/// against `folder`, the original's, so the copy elsewhere runs its tools where it would.
fn absolute_working_dirs(text: &str, folder: &Path) -> String {
    text.lines()
        .map(|line| match line.split_once("working_dir: ") {
            Some((indent, dir)) if indent.trim().is_empty() && !dir.starts_with('/') => {
                format!("{indent}working_dir: {}", folder.join(dir.trim()).display())
            }
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `GET path` on 127.0.0.1:`port`: the status, if anything answered.
fn get_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// At most this many model requests per run in the copies: enough for a call, its output fed
/// back and an answer, and a limit that is really met when the model keeps calling.
const MAX_TURNS: u32 = 3;

/// `text` with its top-level `models:` section replaced by one `chat` entry per model name
/// it defined, all at `base_url`: small answers, no retries (so a refused request is seen,
/// not retried away), a generous timeout for a model on two cores; and the run's
/// `max_turns` lowered to [`MAX_TURNS`], so that the tests take minutes, not hours.
fn with_models(text: &str, base_url: &str) -> String {
    let mut out = String::with_capacity(text.len() + 512);
    let mut lines = text.lines().peekable();
    let mut replaced = false;
    while let Some(line) = lines.next() {
        if line.starts_with("  max_turns:") {
            out.push_str(&format!("  max_turns: {MAX_TURNS}\n"));
            continue;
        }
        if line.trim_end() != "models:" {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut names = Vec::new();
        while let Some(next) = lines.peek() {
            if !next.is_empty() && !next.starts_with([' ', '#']) {
                break;
            }
            if let Some(name) = next.trim().strip_prefix("- name:") {
                names.push(name.trim().to_owned());
            }
            lines.next();
        }
        out.push_str("models:\n");
        for name in names {
            out.push_str(&format!(
                "  - name: {name}\n    provider: chat\n    model: smollm2\n    base_url: {base_url}\n    \
                 api_key_env: BATON_REAL_SERVER_KEY\n    \
                 settings: {{ temperature: 0, max_output_tokens: 24 }}\n    \
                 limits: {{ timeout: 180s, max_retries: 0 }}\n\n"
            ));
        }
        replaced = true;
    }
    assert!(replaced, "the topology has no top-level `models:` section");
    out
}

/// The shipped topologies, in name order.
fn shipped() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("agents");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("agents/ reads")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

/// What a [`Recorder`] saw of one request.
#[derive(Debug)]
struct Seen {
    agent: String,
    /// The history sent broke the call/output pairing (the API would refuse it).
    history_error: Option<String>,
    /// Function calls in the history sent, and outputs.
    calls_sent: usize,
    outputs_sent: usize,
    /// The answer: calls asked for, or the error.
    calls_answered: usize,
    error: Option<ModelError>,
}

/// Wraps a model and records every request and its outcome, as Baton saw them.
#[derive(Debug)]
struct Recorder {
    inner: SharedModel,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Model for Recorder {
    fn respond<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> BoxFuture<'a, Result<ModelResponse, ModelError>> {
        Box::pin(async move {
            let count = |f: fn(&Item) -> bool| request.input.iter().filter(|i| f(i)).count();
            let history_error = check_history(request.input).err().map(|e| e.to_string());
            let calls_sent = count(|i| matches!(i, Item::FunctionCall { .. }));
            let outputs_sent = count(|i| matches!(i, Item::FunctionCallOutput { .. }));
            let result = self.inner.respond(request).await;
            let calls_answered = result.as_ref().map_or(0, |r| {
                r.output
                    .iter()
                    .filter(|i| matches!(i, Item::FunctionCall { .. }))
                    .count()
            });
            self.seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Seen {
                    agent: request.context.agent.to_owned(),
                    history_error,
                    calls_sent,
                    outputs_sent,
                    calls_answered,
                    error: result.as_ref().err().cloned(),
                });
            result
        })
    }
}

#[test]
fn every_shipped_topology_runs_against_a_real_server_with_every_request_accepted() {
    let Some(server) = RealServer::start("real_server::every_shipped_topology") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let mut summary = Vec::new();
    for file in shipped() {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let topology = baton::topology::load(server.topology_copy(&file))
            .unwrap_or_else(|e| panic!("{name}: the copy loads: {e}"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let swarm = topology
            .builder_with(|config| {
                build_model(config, None, None).map(|inner| {
                    Arc::new(Recorder {
                        inner,
                        seen: Arc::clone(&seen),
                    }) as SharedModel
                })
            })
            .unwrap_or_else(|e| panic!("{name}: the models build: {e}"))
            .start()
            .unwrap_or_else(|e| panic!("{name}: the swarm starts: {e}"));
        let (outcome, continued) = runtime.block_on(async {
            let outcome = swarm.run(topology.entry(), QUESTION).await;
            // See: issue 8. One conversation goes on with a second user message, through
            // `RunInput::Items`: the ids of both user turns stay unique and the server takes it.
            let mut continued = None;
            if name == "math" {
                let first = match &outcome {
                    Ok(result) => Some(result.transcript.clone()),
                    Err(error) => error.partial().map(|p| p.transcript.clone()),
                };
                if let Some(mut items) = first {
                    items.push(Item::user("And once more: what is 7 + 5?"));
                    continued = Some(swarm.run(topology.entry(), items).await);
                }
            }
            swarm.shutdown().await;
            (outcome, continued)
        });
        if let Some(continued) = &continued {
            let transcript = match continued {
                Ok(result) => &result.transcript,
                Err(
                    RunError::MaxTurnsExceeded { partial, .. }
                    | RunError::AgentTurnsExceeded { partial, .. }
                    | RunError::HandoffLoop { partial, .. },
                ) => &partial.transcript,
                Err(other) => panic!("{name}: the second user turn failed: {other}"),
            };
            baton::model::check_history(transcript)
                .unwrap_or_else(|e| panic!("{name}: the continued transcript: {e}"));
            let ids: Vec<&str> = transcript
                .iter()
                .filter_map(|i| match i {
                    Item::FunctionCall { call_id, .. } => Some(call_id.as_str()),
                    _ => None,
                })
                .collect();
            let unique: std::collections::HashSet<&&str> = ids.iter().collect();
            assert_eq!(unique.len(), ids.len(), "{name}: repeated call ids {ids:?}");
            let users = transcript
                .iter()
                .filter(|i| {
                    matches!(
                        i,
                        Item::Message {
                            role: baton::Role::User,
                            ..
                        }
                    )
                })
                .count();
            assert_eq!(users, 2, "{name}: both user turns are in the transcript");
        }
        let seen = std::mem::take(&mut *seen.lock().unwrap());
        assert!(!seen.is_empty(), "{name}: no request reached the model");
        for (k, s) in seen.iter().enumerate() {
            assert_eq!(
                s.history_error, None,
                "{name}: request {k} ({}) broke the history",
                s.agent
            );
            assert_eq!(
                s.calls_sent, s.outputs_sent,
                "{name}: request {k}: a call went unanswered"
            );
            if let Some(error) = &s.error {
                assert_eq!(
                    error.status(),
                    None,
                    "{name}: request {k} was refused: {error}"
                );
            }
        }
        // Calls were executed and their outputs fed back to the model.
        let asked: usize = seen.iter().map(|s| s.calls_answered).sum();
        let transcript: &[Item] = match &outcome {
            Ok(result) => {
                assert!(
                    !result.final_output.trim().is_empty(),
                    "{name}: a run that succeeds has an answer"
                );
                &result.transcript
            }
            Err(
                RunError::MaxTurnsExceeded { partial, .. }
                | RunError::AgentTurnsExceeded { partial, .. }
                | RunError::HandoffLoop { partial, .. },
            ) => &partial.transcript,
            Err(other) => {
                panic!("{name}: the run neither completed nor stopped at a limit: {other}")
            }
        };
        baton::model::check_history(transcript)
            .unwrap_or_else(|e| panic!("{name}: the transcript breaks the pairing: {e}"));
        let outputs = transcript
            .iter()
            .filter(|i| matches!(i, Item::FunctionCallOutput { .. }))
            .count();
        if outputs > 0 && outcome.is_ok() {
            assert!(
                seen.iter().any(|s| s.outputs_sent > 0),
                "{name}: no request carried a call's output back to the model"
            );
        }
        summary.push(format!(
            "{name}: {} requests, {asked} calls asked, {outputs} outputs, {}",
            seen.len(),
            match &outcome {
                Ok(_) => "completed".to_owned(),
                Err(e) => format!("stopped: {e}"),
            }
        ));
    }
    let requests = server.assert_every_request_accepted();
    eprintln!(
        "real server: {requests} requests, all 200\n  {}",
        summary.join("\n  ")
    );
    assert!(requests > 0);
}

#[test]
fn baton_run_streams_against_a_real_server_and_says_once_that_tool_turns_no_longer_stream() {
    let Some(server) = RealServer::start("real_server::baton_run_streams") else {
        return;
    };
    let file = shipped()
        .into_iter()
        .find(|f| f.ends_with("math.yaml"))
        .expect("agents/math.yaml ships");
    let copy = server.topology_copy(&file);
    let output = Command::new(env!("CARGO_BIN_EXE_baton"))
        .arg("run")
        .arg(&copy)
        .arg(QUESTION)
        .arg("--stream")
        .env("BATON_REAL_SERVER_KEY", "none")
        .env_remove("OPENAI_BASE_URL")
        .output()
        .expect("baton runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    assert!(
        stderr.contains("baton: live: model `default`: chat completions"),
        "{stderr}"
    );
    // The server answers a streamed request that offers tools with an empty body: Baton
    // sends it again without streaming and says so once.
    let notices = stderr
        .lines()
        .filter(|l| l.starts_with("baton: model `default`:") && l.contains("no longer stream"))
        .count();
    assert_eq!(notices, 1, "{stderr}");
    match code {
        Some(0) => assert!(!stdout.trim().is_empty(), "exit 0 without an answer"),
        // A limit stops the run: exit 1, with the limit named.
        Some(1) => assert!(
            stderr.contains("max_turns") || stderr.contains("handoff loop"),
            "{stderr}"
        ),
        other => panic!("baton run exited with {other:?}:\n{stderr}"),
    }
    assert!(
        !stderr.contains("HTTP "),
        "a request was refused:\n{stderr}"
    );
    server.assert_every_request_accepted();
}
