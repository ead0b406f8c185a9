//! `baton run <topology.yaml> "<input>"`: one conversation, answer on stdout, timeline on
//! stderr.
//!
//! Each agent's model is live when the key variable of its model (`api_key_env`, default
//! `OPENAI_API_KEY`) is set, at `OPENAI_BASE_URL` when that is set; otherwise, or with
//! `--offline`, the topology's scripted turns answer. One line on stderr says which, and
//! never shows a key. `--stream` prints the answer as the model writes it.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::anyhow;
use baton::model::{ModelChoice, SharedModel, choose_model};
use baton::stream::StreamEvent;
use baton::topology::Topology;
use baton::{Item, RunError, RunResult};
use futures::StreamExt as _;

use super::Failure;
use super::timeline;

/// Arguments of `baton run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The topology file (`agents/*.yaml`).
    topology: PathBuf,
    /// The user's message.
    input: String,
    /// Start at this agent instead of the topology's entry agent.
    #[arg(long)]
    agent: Option<String>,
    /// Also print the full transcript on stderr.
    #[arg(long)]
    transcript: bool,
    /// Print only the answer (no timeline).
    #[arg(long, short)]
    quiet: bool,
    /// Use the scripted turns even when a model's key is set.
    #[arg(long)]
    offline: bool,
    /// Print the answer as it arrives.
    #[arg(long)]
    stream: bool,
}

/// Builds the swarm with a live or scripted model per agent, and says which in one line each.
fn start(topology: &Topology, args: &RunArgs) -> Result<baton::Swarm, Failure> {
    let mut live: Vec<String> = Vec::new();
    let mut offline: Vec<String> = Vec::new();
    let scripted = topology.scripted_model().cloned();
    let file = args.topology.display().to_string();
    let builder = topology.builder_with(|config| -> Result<SharedModel, Failure> {
        match choose_model(config, args.offline).map_err(|e| Failure::Input(e.into()))? {
            ModelChoice::Http { model, description } => {
                live.push(format!("model `{}`: {description}", config.name));
                Ok(model)
            }
            ModelChoice::Scripted { reason } => {
                let Some(scripted) = &scripted else {
                    return Err(Failure::Input(anyhow!(
                        "{file}: model `{}` cannot run ({reason}) and no agent has `scripted:` turns",
                        config.name
                    )));
                };
                if !offline.contains(&reason) {
                    offline.push(reason);
                }
                Ok(scripted.clone() as SharedModel)
            }
            _ => Err(Failure::Input(anyhow!("model `{}`: unsupported choice", config.name))),
        }
    })?;
    let every_agent_named_a_model = topology
        .agents()
        .iter()
        .all(|a| topology.model_of(a.name()).is_some());
    if !every_agent_named_a_model && live.is_empty() && offline.is_empty() {
        // Nothing was resolved at all: no agent names a model, so no key would change that.
        offline.push(if args.offline {
            "--offline".to_owned()
        } else {
            "its agents name no model".to_owned()
        });
    }
    if !every_agent_named_a_model && scripted.is_none() {
        return Err(Failure::Input(anyhow!(
            "{file}: some agents name no model and no agent has `scripted:` turns"
        )));
    }
    for line in &live {
        eprintln!("baton: live: {line}");
    }
    if !offline.is_empty() {
        eprintln!(
            "baton: offline: running the scripted turns of {file} ({})",
            offline.join("; ")
        );
    }
    builder.start().map_err(|e| Failure::Input(e.into()))
}

pub(crate) fn run(args: RunArgs) -> Result<(), Failure> {
    let topology = baton::topology::load(&args.topology).map_err(|e| Failure::Input(e.into()))?;
    let swarm = start(&topology, &args)?;
    let agent = args.agent.as_deref().unwrap_or(topology.entry()).to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Run(e.into()))?;
    let mut streamed = None;
    let outcome = runtime.block_on(async {
        let outcome = if args.stream {
            let (outcome, text) = stream(&swarm, &agent, &args.input).await;
            streamed = Some(text);
            outcome
        } else {
            swarm.run(&agent, args.input.as_str()).await
        };
        swarm.shutdown().await;
        outcome
    });

    match outcome {
        Ok(result) => {
            if !args.quiet {
                report(&result);
                if args.transcript {
                    eprint!("{}", transcript(&result.transcript));
                }
            }
            let mut stdout = std::io::stdout().lock();
            match streamed {
                // The answer is on screen already, unless the last text seen was not it.
                Some(text) if text == result.final_output => writeln!(stdout),
                Some(text) if text.is_empty() => writeln!(stdout, "{}", result.final_output),
                Some(_) => writeln!(stdout, "\n{}", result.final_output),
                None => writeln!(stdout, "{}", result.final_output),
            }
            .map_err(|e| Failure::Run(e.into()))?;
            Ok(())
        }
        Err(error) => {
            if streamed.is_some() {
                println!();
            }
            if let Some(partial) = error.partial() {
                eprint!("{}", timeline::render(&partial.timeline));
                eprintln!("partial transcript:");
                eprint!("{}", transcript(&partial.transcript));
            }
            Err(match error {
                RunError::UnknownAgent { .. } => Failure::Input(error.into()),
                other => Failure::Run(other.into()),
            })
        }
    }
}

/// Runs streamed, printing text as it arrives; returns the outcome and the text written
/// since the last tool call or handoff (the final answer, when the run succeeds).
async fn stream(
    swarm: &baton::Swarm,
    agent: &str,
    input: &str,
) -> (Result<RunResult, RunError>, String) {
    let mut run = swarm.run_streamed(agent, input);
    let mut stdout = std::io::stdout();
    let mut current = String::new();
    while let Some(event) = run.next().await {
        match event {
            StreamEvent::TextDelta { delta, .. } => {
                let _ = stdout.write_all(delta.as_bytes());
                let _ = stdout.flush();
                current.push_str(&delta);
            }
            StreamEvent::StreamingDisabled { model, reason } => {
                eprintln!("baton: model `{model}`: {reason}");
            }
            StreamEvent::ToolCall { .. } | StreamEvent::Handoff { .. } => {
                if !current.is_empty() {
                    let _ = stdout.write_all(b"\n");
                }
                current.clear();
            }
            _ => {}
        }
    }
    (run.result().await, current)
}

/// The timeline and a one-line summary.
fn report(result: &RunResult) {
    eprint!("{}", timeline::render(&result.timeline));
    let total = result
        .timeline
        .last()
        .map_or(0.0, |e| e.end.as_secs_f64() * 1000.0);
    eprintln!(
        "done in {total:.2} ms: path {}, {} model requests, {} tokens, trace {}",
        result.path.join(" -> "),
        result.usage.requests,
        result.usage.total_tokens,
        result.trace_id
    );
}

/// One line per item, long texts shortened.
fn transcript(items: &[Item]) -> String {
    let mut out = String::new();
    for item in items {
        let line = match item {
            Item::Message { role, content, .. } => format!("{}: {content}", role.as_str()),
            Item::FunctionCall {
                call_id,
                name,
                arguments,
                ..
            } => format!("call {call_id}: {name}({arguments})"),
            Item::FunctionCallOutput { call_id, output } => format!("output {call_id}: {output}"),
            other => format!("{other:?}"),
        };
        out.push_str("  ");
        out.push_str(&shorten(&line, 160));
        out.push('\n');
    }
    out
}

fn shorten(text: &str, max: usize) -> String {
    let flat = text.replace('\n', " ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}
