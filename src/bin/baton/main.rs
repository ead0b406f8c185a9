//! The `baton` command line.
//!
//! ```console
//! $ baton run agents/math.yaml "What is (12 + 30) * 2, and the square root of 144?"
//! ```
//!
//! The answer goes to stdout; notes, the run's timeline and errors go to stderr. Exit codes:
//! 0 success, 1 the run failed, 2 bad usage or a bad file. This is the only place that uses
//! `anyhow` and installs a tracing subscriber (`RUST_LOG`, default `warn`, nothing under
//! `run --quiet`), which colours its lines only when stderr is a terminal and `NO_COLOR` is
//! unset or empty (<https://no-color.org>).

mod cassette;
mod connect;
mod inspect;
mod mock_model;
mod run;
mod sim;
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
    /// Simulates many conversations through a topology in virtual time and reports on them.
    Sim(sim::SimArgs),
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
    let quiet = matches!(&cli.command, Command::Run(args) if args.quiet());
    let simulating = matches!(&cli.command, Command::Sim(_));
    let stderr_is_terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                // A simulation injects faults on purpose: their retries are in its report.
                tracing_subscriber::EnvFilter::new(if quiet {
                    "off"
                } else if simulating {
                    "error"
                } else {
                    "warn"
                })
            }),
        )
        .with_ansi(colour(
            stderr_is_terminal,
            std::env::var_os("NO_COLOR").as_deref(),
        ))
        .with_writer(std::io::stderr)
        .init();
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => inspect::check(args),
        Command::Graph(args) => inspect::graph(args),
        Command::Schema(args) => inspect::schema(args),
        Command::MockModel(args) => mock_model::run(args),
        Command::Sim(args) => sim::run(args),
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

/// Whether log lines get ANSI colours: only on a terminal, and never when `NO_COLOR` is set
/// to anything but the empty string.
fn colour(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
}

#[cfg(test)]
mod tests {
    use super::colour;
    use std::ffi::OsStr;

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some(OsStr::new(""))));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, None));
        assert!(!colour(false, Some(OsStr::new("1"))));
    }
}
