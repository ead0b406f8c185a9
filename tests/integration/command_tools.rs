//! Command tools running real programs (issue 10, item 3): arguments stay arguments (no
//! injection), a timeout kills the whole process group (forked children included, checked in
//! /proc), 50 MB of output is cut at the cap in bounded memory (in a process of its own), the
//! environment holds only the allowed variables, stdin comes from an argument, a non-zero exit
//! is an output, and every spec problem is reported at once. Then the same tools through a
//! real `Swarm` with a scripted model: the output item, and the timeout case.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::tool::command::{CommandField, CommandSpecError, CommandTool, CommandToolSpec};
use baton::tool::{DynamicTool, ToolContext, ToolError, ToolOptions, ToolOutput};
use baton::{Agent, Swarm};
use serde_json::{Value, json};

use crate::support::{self, output_of};

/// How long a call that should end by itself may take (only a bug reaches it).
const GENEROUS: Duration = Duration::from_secs(30);

/// The timeout of calls that hang on purpose: long enough for `sh` to write its pid file on
/// a loaded machine.
const HANG_TIMEOUT: Duration = Duration::from_secs(2);

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-command-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch directory is made");
    dir
}

/// Baton's environment: the test process's.
fn real_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A spec named `name` running `argv`, whose arguments are `properties` (all strings unless
/// said otherwise), with PATH passed through.
fn spec(name: &str, argv: &[&str], properties: Value) -> CommandToolSpec {
    CommandToolSpec {
        name: name.to_owned(),
        description: format!("The test tool `{name}`."),
        parameters: json!({"type": "object", "properties": properties}),
        argv: argv.iter().map(|s| (*s).to_owned()).collect(),
        env: vec!["PATH".to_owned()],
        ..CommandToolSpec::default()
    }
}

fn build(spec: CommandToolSpec) -> CommandTool {
    CommandTool::new(spec, &real_env).expect("the spec is valid")
}

/// Calls `tool` directly, outside any swarm.
async fn call(tool: &CommandTool, args: Value, timeout: Duration) -> Result<String, ToolError> {
    tool.call(args, ToolContext::detached("call_1", timeout))
        .await
        .map(ToolOutput::into_text)
}

/// The stdout section of an output text (without the newline the format adds).
fn stdout_of(output: &str) -> &str {
    let body = output
        .split_once("--- stdout ---\n")
        .map_or("", |(_, rest)| rest);
    let end = ["[stdout cut", "--- stderr ---"]
        .iter()
        .filter_map(|mark| body.find(mark))
        .min()
        .unwrap_or(body.len());
    body.get(..end).unwrap_or(body)
}

/// The state letter of process `pid` (`R`, `S`, `Z`, ...), or None if there is none.
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) S ...`: the comm may hold spaces and parentheses.
    let (_, after) = stat.rsplit_once(')')?;
    after.trim_start().chars().next()
}

/// Waits (boundedly) until `pid` is gone, or a zombie if `zombie_ok` (an orphan whose reaper
/// is slow: it is dead all the same). Returns its state if it is still there.
async fn wait_gone(pid: u32, zombie_ok: bool) -> Option<char> {
    for _ in 0..500 {
        match process_state(pid) {
            None => return None,
            Some('Z') if zombie_ok => return None,
            Some(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    process_state(pid)
}

/// The pids a hanging script wrote to `file`: its background child's, then its own.
fn pids_in(file: &Path) -> Option<(u32, u32)> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut pids = text.lines().map(|line| line.trim().parse::<u32>());
    match (pids.next(), pids.next()) {
        (Some(Ok(child)), Some(Ok(shell))) => Some((child, shell)),
        _ => None,
    }
}

/// A tool running a shell script (the file author's choice; no argument goes through it)
/// that forks `sleep 300`, writes its pid and the shell's to `file`, then waits for it.
fn hanging_tool(name: &str, file: &Path) -> CommandTool {
    let script = format!(
        "sleep 300 & echo $! > '{file}'; echo $$ >> '{file}'; wait",
        file = file.display()
    );
    build(spec(name, &["sh", "-c", &script], json!({})))
}

/// Asserts that both processes of a hanging script are gone: the shell (Baton's child) reaped,
/// the forked `sleep` dead.
async fn assert_killed(file: &Path) {
    let (child, shell) = pids_in(file).expect("the script wrote both pids");
    assert_eq!(
        wait_gone(shell, false).await,
        None,
        "the shell {shell} is still there"
    );
    assert_eq!(
        wait_gone(child, true).await,
        None,
        "its child {child} is still alive"
    );
}

// ===== arguments stay arguments =====

// See: issue 10
#[tokio::test]
async fn shell_syntax_in_an_argument_reaches_the_program_as_plain_text() {
    let dir = scratch("injection");
    let marker = dir.join("marker");
    let m = marker.display();
    let attempts = [
        format!("; rm -rf {}; touch {m}", dir.display()),
        format!("$(touch {m})"),
        format!("`touch {m}`"),
        format!("x && touch {m} || touch {m} | cat > {m}"),
        format!("'\"; touch {m}; echo \"'\n$HOME ${{PATH}} * ~"),
    ];
    let printf = build(spec(
        "printf",
        &["printf", "%s", "{text}"],
        json!({"text": {}}),
    ));
    let echo = build(spec("echo", &["echo", "{text}"], json!({"text": {}})));
    // Even a shell the file chose is safe when the argument is a positional parameter.
    let sh = build(spec(
        "sh_printf",
        &["sh", "-c", "printf '%s' \"$1\"", "sh", "{text}"],
        json!({"text": {}}),
    ));
    for text in &attempts {
        let args = json!({ "text": text });
        let out = call(&printf, args.clone(), GENEROUS)
            .await
            .expect("printf runs");
        assert_eq!(out, format!("exit code: 0\n--- stdout ---\n{text}\n"));
        let out = call(&echo, args.clone(), GENEROUS)
            .await
            .expect("echo runs");
        assert_eq!(stdout_of(&out), format!("{text}\n"));
        let out = call(&sh, args, GENEROUS).await.expect("sh runs");
        assert_eq!(stdout_of(&out), format!("{text}\n"));
    }
    assert!(!marker.exists(), "an injected command ran");
    assert!(dir.exists(), "an injected rm ran");
    let _ = std::fs::remove_dir_all(&dir);
}

// See: issue 10
#[tokio::test]
async fn arrays_spread_into_arguments_and_absent_arguments_are_dropped() {
    let tool = build(spec(
        "list",
        &["printf", "[%s]", "{words}", "--n={n}", "{maybe}"],
        json!({"words": {"type": "array"}, "n": {"type": "integer"}, "maybe": {}}),
    ));
    let out = call(&tool, json!({"words": ["a b", "c"], "n": 3}), GENEROUS)
        .await
        .expect("runs");
    assert_eq!(stdout_of(&out), "[a b][c][--n=3]\n");
    let out = call(&tool, json!({"words": ["only"]}), GENEROUS)
        .await
        .expect("runs");
    assert_eq!(stdout_of(&out), "[only]\n");
}

// ===== ending the process group =====

// See: issue 10
#[tokio::test]
async fn a_hanging_command_is_killed_with_its_forked_child_at_the_timeout() {
    let dir = scratch("hang");
    let file = dir.join("pids");
    let tool = hanging_tool("hang", &file);
    let error = call(&tool, json!({}), HANG_TIMEOUT)
        .await
        .expect_err("it times out");
    assert!(
        matches!(&error, ToolError::TimedOut { tool, .. } if tool == "hang"),
        "{error:?}"
    );
    assert_killed(&file).await;
    let _ = std::fs::remove_dir_all(&dir);
}

// See: issue 10
#[tokio::test]
async fn a_cancelled_call_kills_its_process_group() {
    let dir = scratch("cancel");
    let file = dir.join("pids");
    let tool = hanging_tool("hang", &file);
    let context = ToolContext::detached("call_1", GENEROUS);
    let signal = context.clone();
    let mut running = tool.call(json!({}), context);
    wait_for_pids(&mut running, &file).await;
    signal.cancel();
    let ended = tokio::time::timeout(GENEROUS, running)
        .await
        .expect("a cancelled call ends");
    assert!(ended.is_err(), "{ended:?}");
    assert_killed(&file).await;
    let _ = std::fs::remove_dir_all(&dir);
}

// See: issue 10
#[tokio::test]
async fn dropping_a_running_call_kills_its_process_group() {
    let dir = scratch("drop");
    let file = dir.join("pids");
    let tool = hanging_tool("hang", &file);
    let mut running = tool.call(json!({}), ToolContext::detached("call_1", GENEROUS));
    wait_for_pids(&mut running, &file).await;
    drop(running);
    let (child, shell) = pids_in(&file).expect("the script wrote both pids");
    // tokio reaps the dropped shell in the background: a zombie for a moment is fine.
    assert_eq!(
        wait_gone(shell, true).await,
        None,
        "the shell {shell} is alive"
    );
    assert_eq!(
        wait_gone(child, true).await,
        None,
        "its child {child} is alive"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Polls `running` (which must not end) until the script has written its pids.
async fn wait_for_pids<F>(running: &mut F, file: &Path)
where
    F: std::future::Future<Output = Result<ToolOutput, ToolError>> + Unpin,
{
    for _ in 0..1500 {
        tokio::select! {
            ended = &mut *running => panic!("the hanging call ended: {ended:?}"),
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        if pids_in(file).is_some() {
            return;
        }
    }
    panic!("the script never wrote its pids to {}", file.display());
}

// See: issue 10
#[tokio::test]
async fn what_a_command_leaves_in_the_background_is_killed_when_it_exits() {
    let dir = scratch("background");
    let file = dir.join("pids");
    // The background `sleep` holds stdout open: unless it is killed, the call cannot end.
    let script = format!(
        "sleep 300 & echo $! > '{f}'; echo $$ >> '{f}'; echo done",
        f = file.display()
    );
    let tool = build(spec("bg", &["sh", "-c", &script], json!({})));
    let out = call(&tool, json!({}), GENEROUS)
        .await
        .expect("it ends by itself");
    assert_eq!(out, "exit code: 0\n--- stdout ---\ndone\n");
    assert_killed(&file).await;
    let _ = std::fs::remove_dir_all(&dir);
}

// ===== output caps =====

/// Parent of [`fifty_megabytes_in_a_process_of_its_own`]: runs it in a fresh copy of this
/// test binary, so no other test's allocations move the memory it measures.
// See: issue 10
#[test]
fn fifty_megabytes_of_stdout_are_cut_at_the_cap_without_memory_growing() {
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = std::process::Command::new(exe)
        .args([
            "command_tools::fifty_megabytes_in_a_process_of_its_own",
            "--exact",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .output()
        .expect("the test binary runs");
    let stdout = support::text(&out.stdout);
    let stderr = support::text(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "the test did not run:\n{stdout}"
    );
}

/// A `/proc/self/status` field in KiB (`VmHWM`: the peak resident set).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

// See: issue 10
#[tokio::test]
#[ignore = "run by fifty_megabytes_of_stdout_are_cut_at_the_cap_without_memory_growing, alone"]
async fn fifty_megabytes_in_a_process_of_its_own() {
    const FIFTY_MB: u64 = 50 * 1024 * 1024;
    const CAP: usize = 1024 * 1024;
    let tool = build(CommandToolSpec {
        max_stdout_bytes: CAP,
        ..spec(
            "flood",
            &["sh", "-c", "head -c 52428800 /dev/zero | tr '\\0' a"],
            json!({}),
        )
    });
    let before = status_kib("VmHWM");
    let out = call(&tool, json!({}), GENEROUS).await.expect("it runs");
    let after = status_kib("VmHWM");
    assert!(
        out.ends_with(&format!("[stdout cut at {CAP} bytes of {FIFTY_MB}]\n")),
        "{}",
        out.get(out.len().saturating_sub(200)..).unwrap_or(&out)
    );
    let kept = stdout_of(&out);
    assert_eq!(kept.len(), CAP + 1, "the kept bytes and the newline");
    assert!(kept.trim_end().bytes().all(|b| b == b'a'));
    let grown_mib = after.saturating_sub(before) / 1024;
    println!("VmHWM before {before} KiB, after {after} KiB");
    assert!(grown_mib < 30, "the peak memory grew by {grown_mib} MiB");
}

// See: issue 10
#[tokio::test]
async fn stderr_has_its_own_cap_and_section() {
    let tool = build(CommandToolSpec {
        max_stdout_bytes: 8,
        max_stderr_bytes: 4,
        ..spec(
            "noisy",
            &["sh", "-c", "printf 0123456789; printf abcdefgh >&2"],
            json!({}),
        )
    });
    let out = call(&tool, json!({}), GENEROUS).await.expect("it runs");
    assert_eq!(
        out,
        "exit code: 0\n--- stdout ---\n01234567\n[stdout cut at 8 bytes of 10]\n\
         --- stderr ---\nabcd\n[stderr cut at 4 bytes of 8]\n"
    );
}

// ===== environment, stdin, exit codes =====

// See: issue 10
#[tokio::test]
async fn the_command_sees_only_the_allowed_and_the_fixed_variables() {
    let path = real_env("PATH").expect("the tests run with a PATH");
    // The test process has more than PATH (HOME, CARGO_*): none of it may leak.
    let inherited = std::env::vars().filter(|(name, _)| name != "PATH").count();
    assert!(inherited > 0, "nothing to leak: the test proves nothing");
    // Baton's environment as the tool sees it: the real one plus a secret.
    let env = |name: &str| match name {
        "BATON_TEST_SECRET" => Some("hunter2".to_owned()),
        other => std::env::var(other).ok(),
    };
    let tool = CommandTool::new(
        CommandToolSpec {
            env: vec!["PATH".to_owned(), "BATON_TEST_UNSET_VARIABLE".to_owned()],
            set_env: vec![("GREETING".to_owned(), "hello world".to_owned())],
            ..spec("env", &["env"], json!({}))
        },
        &env,
    )
    .expect("the spec is valid");
    assert!(!format!("{tool:?}").contains(&path), "Debug shows values");
    let out = call(&tool, json!({}), GENEROUS).await.expect("env runs");
    let mut seen: Vec<&str> = stdout_of(&out).lines().collect();
    seen.sort_unstable();
    assert_eq!(seen, ["GREETING=hello world", &format!("PATH={path}")]);
    assert!(!out.contains("hunter2"));
}

// See: issue 10
#[tokio::test]
async fn stdin_comes_from_an_argument_and_is_dev_null_otherwise() {
    let text = "line one\nline two with ünïcode\n".repeat(10_000); // past a pipe's buffer
    let cat = build(CommandToolSpec {
        stdin: Some("{text}".to_owned()),
        ..spec("cat", &["cat"], json!({"text": {"type": "string"}}))
    });
    let out = call(&cat, json!({ "text": text }), GENEROUS)
        .await
        .expect("cat runs");
    assert_eq!(stdout_of(&out), text);
    // Without a stdin template, `cat` reads end of file at once instead of hanging.
    let bare = build(spec("cat", &["cat"], json!({})));
    let out = call(&bare, json!({}), GENEROUS).await.expect("cat runs");
    assert_eq!(out, "exit code: 0\n--- stdout ---\n");
}

// See: issue 10
#[tokio::test]
async fn a_non_zero_exit_is_an_output_the_model_reads() {
    let tool = build(spec(
        "fail",
        &[
            "sh",
            "-c",
            "echo partial; echo \"$1 is missing\" >&2; exit 3",
            "sh",
            "{file}",
        ],
        json!({"file": {"type": "string"}}),
    ));
    let out = call(&tool, json!({"file": "a.txt"}), GENEROUS)
        .await
        .expect("a failing command is still an output");
    assert_eq!(
        out,
        "exit code: 3\n--- stdout ---\npartial\n--- stderr ---\na.txt is missing\n"
    );
    let killed = build(spec("suicide", &["sh", "-c", "kill -9 $$"], json!({})));
    let out = call(&killed, json!({}), GENEROUS).await.expect("an output");
    assert_eq!(out, "killed by signal 9\n--- stdout ---\n");
}

// See: issue 10
#[tokio::test]
async fn the_working_directory_is_where_the_command_runs() {
    let dir = scratch("cwd");
    std::fs::write(dir.join("here.txt"), "x").expect("a file is written");
    let tool = build(CommandToolSpec {
        working_dir: Some(dir.clone()),
        ..spec("ls", &["ls"], json!({}))
    });
    let out = call(&tool, json!({}), GENEROUS).await.expect("ls runs");
    assert_eq!(stdout_of(&out), "here.txt\n");
    let _ = std::fs::remove_dir_all(&dir);
}

// ===== bad specs =====

fn problems(spec: CommandToolSpec) -> Vec<CommandSpecError> {
    CommandTool::new(spec, &real_env).expect_err("the spec is rejected")
}

fn fields(problems: &[CommandSpecError]) -> Vec<CommandField> {
    problems.iter().map(|p| p.field.clone()).collect()
}

// See: issue 10
#[tokio::test]
async fn every_problem_of_a_spec_is_reported_at_once_with_its_field() {
    let found = problems(CommandToolSpec {
        argv: ["baton-no-such-program", "{fiel}", "a}b", "{file}"]
            .map(String::from)
            .to_vec(),
        working_dir: Some(PathBuf::from("/baton/no/such/dir")),
        env: vec!["BAD-NAME".to_owned(), "BATON_FINE_BUT_UNSET".to_owned()],
        set_env: vec![("1X".to_owned(), "v".to_owned())],
        stdin: Some("{file".to_owned()),
        ..spec("bad", &[], json!({"file": {"type": "string"}}))
    });
    assert_eq!(
        fields(&found),
        [
            CommandField::WorkingDir,
            CommandField::Argv(0),
            CommandField::Argv(1),
            CommandField::Argv(2),
            CommandField::Stdin,
            CommandField::Env("BAD-NAME".to_owned()),
            CommandField::SetEnv("1X".to_owned()),
        ],
        "{found:#?}"
    );
    let text: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(
        text[1].contains("`baton-no-such-program` was not found on PATH"),
        "{}",
        text[1]
    );
    assert!(text[2].contains("`{fiel}`"), "{}", text[2]);
    assert_eq!(
        found[2].hint.as_deref(),
        Some("did you mean `file`? known arguments: file")
    );
    assert!(text[3].contains("unbalanced `}`"), "{}", text[3]);
    assert!(text[4].contains("unbalanced `{`"), "{}", text[4]);
    // Values read from the environment (PATH here) stay out of messages and hints.
    let path = real_env("PATH").expect("the tests run with a PATH");
    assert!(!format!("{found:?}").contains(&path), "{found:#?}");
}

// See: issue 10
#[tokio::test]
async fn empty_argv_placeholder_programs_and_non_object_schemas_are_rejected() {
    let empty = problems(CommandToolSpec {
        parameters: json!(["not", "a", "schema"]),
        ..spec("empty", &[], json!({}))
    });
    assert_eq!(
        fields(&empty),
        [CommandField::Parameters, CommandField::Argv(0)]
    );
    assert!(empty[1].message.contains("argv is empty"));

    let templated = problems(spec(
        "templated",
        &["{program}", "x"],
        json!({"program": {}}),
    ));
    assert_eq!(fields(&templated), [CommandField::Argv(0)]);

    let stringly = problems(CommandToolSpec {
        parameters: json!({"type": "string"}),
        ..spec("stringly", &["true"], json!({}))
    });
    assert_eq!(fields(&stringly), [CommandField::Parameters]);

    let dir = scratch("spec");
    let script = dir.join("script.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").expect("a file is written");
    let not_executable = problems(spec("plain", &[&script.display().to_string()], json!({})));
    assert_eq!(fields(&not_executable), [CommandField::Argv(0)]);
    assert!(
        not_executable[0].message.contains("script.sh")
            && not_executable[0].message.contains("is not executable"),
        "{}",
        not_executable[0]
    );
    let file_as_dir = problems(CommandToolSpec {
        working_dir: Some(script.clone()),
        ..spec("cwd", &["true"], json!({}))
    });
    assert_eq!(fields(&file_as_dir), [CommandField::WorkingDir]);
    assert!(file_as_dir[0].message.contains("is not a directory"));
    let no_path = CommandTool::new(spec("nopath", &["true"], json!({})), &|_| None)
        .expect_err("no PATH to look `true` up on");
    assert!(
        no_path[0].message.contains("PATH is not set"),
        "{}",
        no_path[0]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ===== through a real swarm =====

/// A swarm with `tool` (timeout `timeout`) and an agent `a` that calls it once as `c1`
/// with `args`, then answers `done`.
fn swarm_with(tool: CommandTool, args: Value, timeout: Duration) -> Swarm {
    let name = tool.name().to_owned();
    let model = Arc::new(ScriptedModel::new().with_agent(
        "a",
        vec![
            ScriptedTurn::calls([ScriptedCall::tool(&name, args).with_id("c1")]),
            ScriptedTurn::text("done"),
        ],
    ));
    let options = ToolOptions {
        timeout: Some(timeout),
        ..ToolOptions::default()
    };
    support::start(
        Swarm::builder()
            .worker_threads(1)
            .dynamic_tool(Arc::new(tool), options)
            .agent(Agent::new("a").with_tools([name])),
        &model,
    )
}

// See: issue 10
#[tokio::test]
async fn a_call_from_the_model_runs_the_command_and_its_output_is_in_the_transcript() {
    let dir = scratch("swarm");
    let marker = dir.join("marker");
    let text = format!("$(touch {m}); `touch {m}`", m = marker.display());
    let tool = build(spec(
        "shout",
        &["printf", "%s", "{text}"],
        json!({"text": {"type": "string"}}),
    ));
    let swarm = swarm_with(tool, json!({ "text": text }), GENEROUS);
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    swarm.shutdown().await;
    assert_eq!(
        output_of(&result.transcript, "c1"),
        format!("exit code: 0\n--- stdout ---\n{text}\n")
    );
    assert_eq!(result.final_output, "done");
    assert!(!marker.exists(), "an injected command ran");
    let _ = std::fs::remove_dir_all(&dir);
}

// See: issue 10
#[tokio::test]
async fn a_command_past_its_timeout_in_a_swarm_is_killed_with_its_child() {
    let dir = scratch("swarm-hang");
    let file = dir.join("pids");
    let swarm = swarm_with(hanging_tool("hang", &file), json!({}), HANG_TIMEOUT);
    let result = swarm.run("a", "go").await.expect("the run succeeds");
    assert_eq!(
        output_of(&result.transcript, "c1"),
        format!(
            "error: tool `hang` timed out after {} ms",
            HANG_TIMEOUT.as_millis()
        )
    );
    // The worker kills the group within its grace once the caller gave up.
    assert_killed(&file).await;
    swarm.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
