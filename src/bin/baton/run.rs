//! `baton run <topology.yaml> "<input>"`: one conversation, answer on stdout, timeline on
//! stderr. The input may also come from stdin (`-`, or no input when stdin is not a
//! terminal: `baton run t.yaml < question.txt`) or a file (`--input-file F`), for messages
//! too long for an argument list.
//!
//! Each agent's model is live when the key variable of its model (`api_key_env`, default
//! `OPENAI_API_KEY`) is set, at `OPENAI_BASE_URL` when that is set; otherwise, or with
//! `--offline`, the topology's scripted turns answer. One line on stderr says which, and
//! never shows a key. `--stream` prints the answer as the model writes it. `--model`,
//! `--provider` and `--base-url` override every model entry, for a quick try against another
//! server without editing the file. `--record FILE` keeps every model exchange of the run in
//! a cassette; `--replay FILE` answers every model from one, with no key and no server.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::anyhow;
use baton::model::{
    ApiKey, Cassette, ModelChoice, ModelConfig, Provider, choose_model, live_model,
};
use baton::stream::StreamEvent;
use baton::topology::{ModelUse, Topology};
use baton::{Item, RunError, RunResult};
use futures::StreamExt as _;

use super::Failure;
use super::{cassette, timeline};

/// Arguments of `baton run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The topology file (`agents/*.yaml`).
    topology: PathBuf,
    /// The user's message; `-` reads it from stdin, as does giving none when stdin is not a
    /// terminal (`baton run t.yaml < question.txt`).
    input: Option<String>,
    /// Read the user's message from this file.
    #[arg(long, value_name = "FILE", conflicts_with = "input")]
    input_file: Option<PathBuf>,
    /// Start at this agent instead of the topology's entry agent.
    #[arg(long)]
    agent: Option<String>,
    /// Also print the full transcript on stderr.
    #[arg(long)]
    transcript: bool,
    /// Print only the answer: no model line, no timeline, no logs (unless `RUST_LOG` asks
    /// for them); on failure, only the one-line error.
    #[arg(long, short)]
    quiet: bool,
    /// Use the scripted turns even when a model's key is set.
    #[arg(long)]
    offline: bool,
    /// Print the answer as it arrives.
    #[arg(long)]
    stream: bool,
    /// Overrides the provider's model name of every model entry (`gpt-4.1`, `qwen2.5:7b`).
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// Overrides the API of every model entry: `openai` (Responses API) or `chat`.
    #[arg(long, value_parser = ["openai", "chat"])]
    provider: Option<String>,
    /// Overrides where every model entry is reached (beats `OPENAI_BASE_URL`); the key is
    /// then optional, for local servers that need none.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Records every model exchange of the run (live or scripted) in this cassette file,
    /// written when the run ends, also when it fails.
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    record: Option<PathBuf>,
    /// Answers every model request from this cassette (`--record`'s file): no key, no
    /// server. A request that differs from the recorded one fails the run, saying what
    /// changed.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["model", "provider", "base_url"])]
    replay: Option<PathBuf>,
}

impl RunArgs {
    /// Whether `--quiet` was given.
    pub(crate) fn quiet(&self) -> bool {
        self.quiet
    }

    /// `config` with the command line's `--model`, `--provider` and `--base-url` laid over it.
    fn overridden(&self, config: &ModelConfig) -> ModelConfig {
        let mut config = config.clone();
        if let Some(model) = &self.model {
            config.model = Some(model.clone());
        }
        match self.provider.as_deref() {
            Some("chat") => config.provider = Provider::Chat,
            Some("openai") => config.provider = Provider::Openai,
            _ => {}
        }
        if let Some(url) = &self.base_url {
            config.base_url = Some(url.clone());
        }
        config
    }

    /// The model for `config`: as `choose_model` picks it, except that an explicit
    /// `--base-url` makes it live with or without a key.
    fn choose(&self, config: &ModelConfig) -> Result<ModelChoice, baton::model::ModelError> {
        let config = self.overridden(config);
        match &self.base_url {
            Some(url) if !self.offline && config.provider != Provider::Scripted => {
                let key = ApiKey::from_env(&config.api_key_env);
                let (model, description) = live_model(&config, key, Some(url))?;
                Ok(ModelChoice::Http {
                    model,
                    description: format!("{description} (--base-url)"),
                })
            }
            _ => choose_model(&config, self.offline),
        }
    }
}

/// Starts the swarm with a live or scripted model per agent (`Topology::start_live`'s
/// choice, with the command line's overrides), recording into `cassette` when given, or
/// answered by the `--replay` cassette; says which in one line each, unless `--quiet`.
fn start(
    topology: &Topology,
    args: &RunArgs,
    cassette: Option<&Cassette>,
) -> Result<baton::Swarm, Failure> {
    if let Some(path) = &args.replay {
        let (swarm, exchanges) =
            cassette::start_replaying(topology, path).map_err(Failure::Input)?;
        if !args.quiet {
            eprintln!(
                "baton: replay: every model answered by {} ({exchanges} recorded exchange(s))",
                path.display()
            );
        }
        return Ok(swarm);
    }
    let (swarm, models) = match cassette {
        Some(cassette) => {
            cassette::start_recording(topology, |config| args.choose(config), cassette)
        }
        None => topology.start_choosing(|config| args.choose(config)),
    }
    .map_err(|e| Failure::Input(e.into()))?;
    let (mut live, mut reasons) = (Vec::new(), Vec::new());
    for model in models {
        match model {
            ModelUse::Scripted { reason } => reasons.push(reason),
            other => live.push(other.to_string()),
        }
    }
    if args.quiet {
        return Ok(swarm);
    }
    for line in live {
        eprintln!("baton: {line}");
    }
    if !reasons.is_empty() {
        eprintln!(
            "baton: offline: running the scripted turns of {} ({})",
            args.topology.display(),
            reasons.join("; ")
        );
    }
    if let Some(path) = &args.record {
        eprintln!(
            "baton: recording every model exchange to {}",
            path.display()
        );
    }
    Ok(swarm)
}

pub(crate) fn run(args: RunArgs) -> Result<(), Failure> {
    let topology = baton::topology::load(&args.topology).map_err(|e| Failure::Input(e.into()))?;
    let input = input(&args)?;
    let cassette = args.record.as_ref().map(|_| Cassette::new());
    let swarm = start(&topology, &args, cassette.as_ref())?;
    let agent = args.agent.as_deref().unwrap_or(topology.entry()).to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Run(e.into()))?;
    let mut streamed = None;
    let outcome = runtime.block_on(async {
        let outcome = if args.stream {
            let (outcome, text) = stream(&swarm, &agent, &input).await;
            streamed = Some(text);
            outcome
        } else {
            swarm.run(&agent, input.as_str()).await
        };
        swarm.shutdown().await;
        outcome
    });
    // Written whatever the outcome: a failed run's exchanges are what one wants to see.
    let saved = match (&cassette, &args.record) {
        (Some(cassette), Some(path)) => cassette::save(cassette, path),
        _ => Ok(()),
    };
    // Said after the answer's last line, so a streamed answer is not run into.
    let say_saved = || {
        if let (Some(cassette), Some(path), false) = (&cassette, &args.record, args.quiet) {
            eprintln!(
                "baton: recorded {} model exchange(s) to {}",
                cassette.len(),
                path.display()
            );
        }
    };

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
            saved.map_err(Failure::Run)?;
            say_saved();
            Ok(())
        }
        Err(error) => {
            if streamed.is_some() {
                println!();
            }
            match saved {
                Ok(()) => say_saved(),
                Err(unsaved) => eprintln!("baton: error: {unsaved}"),
            }
            if let Some(partial) = error.partial().filter(|_| !args.quiet) {
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

/// The most bytes of input read from stdin or `--input-file`.
const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// The user's message: the argument, or stdin (`-`, or no argument and stdin not a
/// terminal), or `--input-file`. A message too long for an argument list fits these.
fn input(args: &RunArgs) -> Result<String, Failure> {
    use std::io::{IsTerminal as _, Read as _};
    let (reader, name): (Box<dyn std::io::Read>, String) = match (&args.input, &args.input_file) {
        (Some(text), None) if text != "-" => return Ok(text.clone()),
        (_, Some(path)) => (
            Box::new(
                std::fs::File::open(path)
                    .map_err(|e| Failure::Input(anyhow!("--input-file {}: {e}", path.display())))?,
            ),
            format!("--input-file {}", path.display()),
        ),
        (None, None) if std::io::stdin().is_terminal() => {
            return Err(Failure::Input(anyhow!(
                "no input: give the message as an argument, `-` to read it from stdin, or --input-file FILE"
            )));
        }
        _ => (Box::new(std::io::stdin()), "stdin".to_owned()),
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::Input(anyhow!("cannot read the input from {name}: {e}")))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(Failure::Input(anyhow!(
            "the input from {name} is over {MAX_INPUT_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes)
        .map_err(|e| Failure::Input(anyhow!("the input from {name} is not UTF-8: {e}")))
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
            StreamEvent::Restarted { attempt, .. } => {
                // A retry wrote another text: what is on screen of this turn is void.
                let _ = stdout.write_all(b"\n");
                let _ = stdout.flush();
                eprintln!(
                    "baton: the model's answer broke off and attempt {attempt} wrote another; the text below replaces the text above"
                );
                current.clear();
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
pub(crate) fn transcript(items: &[Item]) -> String {
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
            Item::FunctionCallOutput {
                call_id, output, ..
            } => format!("output {call_id}: {output}"),
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
