//! `baton mock-model <topology.yaml> --port P`: an OpenAI-compatible HTTP server on loopback
//! that serves a topology's scripted turns (see `baton::mock`).
//!
//! It prints its base URL on stdout (one line, so scripts can read it) and serves until the
//! process is stopped. Point any OpenAI client at it:
//!
//! ```console
//! $ baton mock-model agents/math.yaml --port 8080 &
//! http://127.0.0.1:8080/v1
//! $ OPENAI_API_KEY=test OPENAI_BASE_URL=http://127.0.0.1:8080/v1 baton run agents/math.yaml "..."
//! ```

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use baton::mock::MockServer;

use super::Failure;

/// Arguments of `baton mock-model`.
#[derive(Debug, clap::Args)]
pub(crate) struct MockModelArgs {
    /// The topology whose scripted turns are served.
    topology: PathBuf,
    /// The loopback port to listen on (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Wait this long before answering each request (`200ms`, `1s`).
    #[arg(long, value_parser = humantime::parse_duration)]
    latency: Option<Duration>,
    /// Act as a reasoning model on the Responses API: answers start with a reasoning item,
    /// which requests must send back unchanged and in place.
    #[arg(long)]
    reasoning: bool,
    /// Require `Authorization: Bearer <key>` with the key in this environment variable.
    #[arg(long, value_name = "VAR")]
    require_key_env: Option<String>,
}

pub(crate) fn run(args: MockModelArgs) -> Result<(), Failure> {
    let topology = baton::topology::load(&args.topology).map_err(|e| Failure::Input(e.into()))?;
    let mut builder = MockServer::builder(&topology)
        .port(args.port)
        .reasoning(args.reasoning);
    if let Some(latency) = args.latency {
        builder = builder.latency(latency);
    }
    if let Some(var) = &args.require_key_env {
        let key = match std::env::var(var) {
            Ok(key) if !key.trim().is_empty() => key,
            Ok(_) => return Err(Failure::Input(anyhow!("--require-key-env: {var} is empty"))),
            Err(_) => {
                return Err(Failure::Input(anyhow!(
                    "--require-key-env: {var} is not set"
                )));
            }
        };
        builder = builder.api_key(key);
    }
    let server = builder.start().map_err(|e| Failure::Input(e.into()))?;
    eprintln!(
        "baton: mock model for {} on {} (POST /responses, /chat/completions; GET /_mock/stats)",
        args.topology.display(),
        server.base_url()
    );
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", server.base_url()).map_err(|e| Failure::Run(e.into()))?;
    stdout.flush().map_err(|e| Failure::Run(e.into()))?;
    drop(stdout);
    loop {
        // The server runs on its own threads; this one only keeps the process alive.
        std::thread::park();
    }
}
