//! `baton run <topology.yaml> "<input>"`: one conversation, answer on stdout, timeline on
//! stderr.
//!
//! The topology's scripted turns answer when no real model is available, and the command says
//! so in one line.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::anyhow;
use baton::{Item, RunError, RunResult};

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
}

pub(crate) fn run(args: RunArgs) -> Result<(), Failure> {
    let topology = baton::topology::load(&args.topology).map_err(|e| Failure::Input(e.into()))?;
    if topology.scripted_model().is_none() {
        return Err(Failure::Input(anyhow!(
            "{}: no agent has `scripted:` turns, and this build has no other model to run them",
            args.topology.display()
        )));
    }
    let why = if std::env::var_os("OPENAI_API_KEY").is_some() {
        "it configures no HTTP model"
    } else {
        "OPENAI_API_KEY is not set"
    };
    eprintln!(
        "baton: offline: running the scripted turns of {} ({why})",
        args.topology.display()
    );

    let swarm = topology.start().map_err(|e| Failure::Input(e.into()))?;
    let agent = args.agent.as_deref().unwrap_or(topology.entry()).to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Run(e.into()))?;
    let outcome = runtime.block_on(async {
        let outcome = swarm.run(&agent, args.input.as_str()).await;
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
            writeln!(stdout, "{}", result.final_output).map_err(|e| Failure::Run(e.into()))?;
            Ok(())
        }
        Err(error) => {
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
