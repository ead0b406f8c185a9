//! `baton sim`: runs a topology's simulation (its `simulation:` section, or its scripted
//! turns) and prints the report; exits 1 when an expectation fails.
//!
//! ```console
//! $ baton sim agents/customer_support.yaml --conversations 10000 --seed 7
//! $ baton sim agents/customer_support.yaml --format json > report.json
//! $ baton sim agents/customer_support.yaml --conversation 17   # one conversation, in full
//! ```
//!
//! While it runs, stderr shows a progress bar on a terminal, a line per tenth otherwise, and
//! nothing with `-q`.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::anyhow;
use baton::model::{ModelChoice, choose_model};
use baton::sim::{Outcome, Report, SimError, Simulation};
use clap::{Args, ValueEnum};

use crate::Failure;

#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    /// The topology file.
    topology: PathBuf,
    /// Conversations to simulate (default: the section's `conversations`, else 1000).
    #[arg(long, short = 'n')]
    conversations: Option<u32>,
    /// The seed (default: the section's `seed`, else 0). The same seed gives the same report.
    #[arg(long)]
    seed: Option<u64>,
    /// Conversations in flight at once: the simulated concurrent users (default: the
    /// section's `concurrency`, else 100).
    #[arg(long)]
    concurrency: Option<u32>,
    /// Worker threads (default 1: exact queueing at the models' in-flight caps; more split
    /// each cap evenly between them).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Rerun this one conversation (its index, as the report lists it) and print its
    /// transcript and timeline.
    #[arg(long, value_name = "INDEX")]
    conversation: Option<u32>,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = SimFormat::Text)]
    format: SimFormat,
    /// No progress and no summary line on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SimFormat {
    Text,
    Json,
}

pub(crate) fn run(args: SimArgs) -> Result<(), Failure> {
    let topology = baton::topology::load(&args.topology).map_err(|e| Failure::Input(e.into()))?;
    let mut simulation = Simulation::from_topology(&topology).worker_threads(args.threads);
    if let Some(n) = args.conversations {
        simulation = simulation.conversations(n);
    }
    if let Some(seed) = args.seed {
        simulation = simulation.seed(seed);
    }
    if let Some(n) = args.concurrency {
        simulation = simulation.concurrency(n);
    }
    simulation = with_persona_models(simulation, &topology)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Run(e.into()))?;
    if let Some(index) = args.conversation {
        let outcome = runtime
            .block_on(simulation.conversation(index))
            .map_err(failure)?;
        print_conversation(&outcome, args.format);
        return Ok(());
    }
    let total = simulation.conversation_count();
    let mut progress = Progress::new(total, args.quiet);
    let began = Instant::now();
    let (report, simulated) = runtime
        .block_on(simulation.run_with_progress(|done, total| progress.update(done, total)))
        .map_err(failure)?;
    progress.finish();
    match args.format {
        SimFormat::Text => print!("{}", report.to_text()),
        SimFormat::Json => println!("{}", report.to_json()),
    }
    if !args.quiet {
        let wall = began.elapsed().as_secs_f64();
        eprintln!(
            "baton: simulated {:.1} s in {wall:.2} s of wall time ({:.0} conversations a second)",
            simulated.as_secs_f64(),
            f64::from(total) / wall.max(1e-9),
        );
    }
    expectations(&report)
}

/// A simulation that cannot be set up is bad input (exit 2); one that stopped, a failed run.
fn failure(error: SimError) -> Failure {
    match error {
        SimError::Behaviour { .. } | SimError::NotSimulated { .. } => Failure::Input(error.into()),
        other => Failure::Run(other.into()),
    }
}

/// Gives the personas that a model plays their live model; one that cannot run live is an
/// error before anything runs.
fn with_persona_models(
    mut simulation: Simulation,
    topology: &baton::topology::Topology,
) -> Result<Simulation, Failure> {
    let played: Vec<(String, String)> = simulation
        .spec()
        .personas
        .iter()
        .filter_map(|p| p.model.as_ref().map(|m| (p.name.clone(), m.entry.clone())))
        .collect();
    for (persona, entry) in played {
        let Some(config) = topology.models().iter().find(|m| m.name == entry) else {
            return Err(Failure::Input(anyhow!(
                "persona `{persona}` is played by model `{entry}`, which `models:` does not define"
            )));
        };
        match choose_model(config, false).map_err(|e| Failure::Input(e.into()))? {
            ModelChoice::Http { model, .. } => simulation = simulation.persona_model(&entry, model),
            ModelChoice::Scripted { reason } => {
                return Err(Failure::Input(anyhow!(
                    "persona `{persona}` is played by model `{entry}`, which cannot run live \
                     ({reason}); set its key, or give the persona `replies:` instead"
                )));
            }
            _ => {}
        }
    }
    Ok(simulation)
}

/// Exit 1 naming every expectation that failed, with what was observed.
fn expectations(report: &Report) -> Result<(), Failure> {
    let failed: Vec<String> = report
        .expectations
        .iter()
        .filter(|e| !e.passed)
        .map(|e| format!("{} (observed {})", e.expectation, e.observed))
        .collect();
    match failed.len() {
        0 => Ok(()),
        1 => Err(Failure::Run(anyhow!("expectation failed: {}", failed[0]))),
        n => Err(Failure::Run(anyhow!(
            "{n} expectations failed: {}",
            failed.join("; ")
        ))),
    }
}

fn print_conversation(outcome: &Outcome, format: SimFormat) {
    if let SimFormat::Json = format {
        let json = serde_json::json!({
            "conversation": outcome.index,
            "trace_id": outcome.trace_id,
            "persona": outcome.persona,
            "path": outcome.path,
            "turns": outcome.turns,
            "latency_ms": outcome.runs.iter().map(|d| d.as_millis() as u64).collect::<Vec<_>>(),
            "stop": outcome.stop,
            "transcript": outcome.transcript,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
        return;
    }
    println!(
        "conversation {} (trace {}){}: path {}",
        outcome.index,
        outcome.trace_id,
        outcome
            .persona
            .as_ref()
            .map(|p| format!(", persona {p}"))
            .unwrap_or_default(),
        outcome.path.join(" -> ")
    );
    println!("transcript:");
    print!("{}", crate::run::transcript(&outcome.transcript));
    println!("timeline (virtual time, each run from 0):");
    print!("{}", crate::timeline::render(&outcome.timeline));
    let runs: Vec<String> = outcome
        .runs
        .iter()
        .map(|d| format!("{} ms", d.as_millis()))
        .collect();
    println!("runs: {} ({} turns)", runs.join(", "), outcome.turns);
    if let Some(stop) = &outcome.stop {
        println!("stopped early ({}): {}", stop.kind, stop.message);
    }
}

/// The progress display: a bar on a terminal, a line per tenth otherwise, nothing when quiet.
enum Progress {
    Bar(indicatif::ProgressBar),
    Lines { next: u32 },
    Quiet,
}

impl Progress {
    fn new(total: u32, quiet: bool) -> Self {
        if quiet {
            return Progress::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            return Progress::Lines {
                next: total.div_ceil(10).max(1),
            };
        }
        let bar = indicatif::ProgressBar::new(u64::from(total));
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} simulating [{bar:40}] {pos}/{len} conversations ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress::Bar(bar)
    }

    fn update(&mut self, done: u32, total: u32) {
        match self {
            Progress::Bar(bar) => bar.set_position(u64::from(done)),
            Progress::Lines { next } => {
                if done >= *next || done == total {
                    eprintln!("baton: simulated {done} of {total} conversations");
                    *next = done + total.div_ceil(10).max(1);
                }
            }
            Progress::Quiet => {}
        }
    }

    fn finish(&mut self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
