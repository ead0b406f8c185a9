//! The `baton` command line.
//!
//! ```console
//! $ baton run agents/math.yaml "What is (12 + 30) * 2, and the square root of 144?"
//! ```
//!
//! The answer goes to stdout; notes, the run's timeline and errors go to stderr. Exit codes:
//! 0 success, 1 the run failed, 2 bad usage or a bad file. This is the only place that uses
//! `anyhow` and installs a tracing subscriber (`RUST_LOG`, default `warn`).

mod inspect;
mod mock_model;
mod run;
mod timeline;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Baton: an actor-based multi-agent orchestrator.
#[derive(Debug, Parser)]
#[command(name = "baton", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs one conversation through a topology and prints the answer.
    Run(run::RunArgs),
    /// Checks a topology and reports every problem (file:line:col).
    Check(inspect::CheckArgs),
    /// Draws a topology's agents, tools and handoffs (Mermaid, DOT).
    Graph(inspect::GraphArgs),
    /// Prints the JSON Schema of the topology format.
    Schema(inspect::SchemaArgs),
    /// Serves a topology's scripted turns as an OpenAI-compatible HTTP API on loopback.
    MockModel(mock_model::MockModelArgs),
}

/// How a command ended, mapped to the exit code.
#[derive(Debug)]
enum Failure {
    /// Bad usage or a bad file (exit 2).
    Input(anyhow::Error),
    /// The run itself failed (exit 1).
    Run(anyhow::Error),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => inspect::check(args),
        Command::Graph(args) => inspect::graph(args),
        Command::Schema(args) => inspect::schema(args),
        Command::MockModel(args) => mock_model::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Run(e)) => {
            eprintln!("baton: error: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Input(e)) => {
            eprintln!("baton: error: {e}");
            ExitCode::from(2)
        }
    }
}
