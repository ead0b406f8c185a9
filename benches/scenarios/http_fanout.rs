//! S1 fanout over loopback HTTP: the S1 conversation (the model asks for K=8 calls of an
//! async tool that sleeps L=100 ms, then answers; median of 20), with its model behind the
//! OpenAI Responses API: the mock model server serves `fanout.yaml`'s scripted turns on
//! 127.0.0.1 and the agent talks to it through `OpenAiResponses` with the usual retry,
//! timeout and in-flight wrappers. Ideal: L.
//!
//! `extra` reports, per model request: what the turn loop waited for the model
//! (`model_ms_per_req`, from the run's timeline), what the server spent answering
//! (`server_ms_per_req`, from its records), and the difference, the orchestrator's own
//! overhead per request (`overhead_ms_per_req`: building the body, handing it to the HTTP
//! runtime, loopback HTTP, reading the answer back into items).

use baton::EventKind;
use baton::mock::MockServer;
use baton::model::{ModelConfig, ModelLimits, ModelSettings, Provider, build_model};

use crate::support::{fail, line, median, ms, runs};

const K: usize = 8;
const L_MS: f64 = 100.0;
const REPS: usize = 20;

pub async fn run() -> String {
    let topology = baton::topology::load(crate::topology("fanout.yaml"))
        .unwrap_or_else(|e| fail(e.to_string()));
    let server = MockServer::start(&topology).unwrap_or_else(|e| fail(e.to_string()));
    let config = ModelConfig {
        name: "bench".to_owned(),
        provider: Provider::Openai,
        model: Some("gpt-4.1-mini".to_owned()),
        base_url: Some(server.base_url()),
        api_key_env: "BATON_BENCH_KEY".to_owned(),
        settings: ModelSettings::default(),
        limits: ModelLimits::default(),
        stream: Default::default(),
        compat: Default::default(),
        images: false,
    };
    let model = build_model(&config, None, None).unwrap_or_else(|e| fail(e.to_string()));
    // fanout.yaml names no model: the HTTP model replaces the scripted one as the default.
    let swarm = topology
        .builder()
        .model(model)
        .start()
        .unwrap_or_else(|e| fail(e.to_string()));

    let done = |input: &str| format!("done: {input}");
    runs(&swarm, topology.entry(), 1, done).await; // warm-up (connections, runtimes)
    server.reset();
    let samples = runs(&swarm, topology.entry(), REPS, done).await;
    swarm.shutdown().await;
    let peak = samples.peak_in_flight();
    if peak != K {
        fail(format!(
            "peak tool calls in flight was {peak}, expected {K}"
        ));
    }
    let mut model_ms: Vec<f64> = samples
        .results
        .iter()
        .flat_map(|r| &r.timeline)
        .filter(|event| matches!(event.kind, EventKind::Model))
        .map(|event| ms(event.end - event.start))
        .collect();
    let records = server.records();
    if records.len() != 2 * REPS || records.iter().any(|r| r.status != 200) {
        fail(format!(
            "the server saw {} requests, not all accepted",
            records.len()
        ));
    }
    let mut server_ms: Vec<f64> = records.iter().map(|r| ms(r.took)).collect();
    let model_per_req = median(&mut model_ms);
    let server_per_req = median(&mut server_ms);
    let wall = samples.median();
    line(
        "http_fanout",
        wall,
        L_MS,
        &[
            ("peak_in_flight", peak.to_string()),
            ("overhead_ms", format!("{:.3}", wall - L_MS)),
            ("model_requests", "2".to_owned()),
            ("model_ms_per_req", format!("{model_per_req:.3}")),
            ("server_ms_per_req", format!("{server_per_req:.3}")),
            (
                "overhead_ms_per_req",
                format!("{:.3}", model_per_req - server_per_req),
            ),
        ]
        .into_iter()
        .chain(samples.spread())
        .collect::<Vec<_>>(),
    )
}
