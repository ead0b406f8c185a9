//! The DESIGN.md performance scenarios, through the public API (a topology, `Swarm`, `run`),
//! with the in-process scripted model. Each prints exactly one line:
//!
//! `scenario=<name> peer=baton wall_ms=<f> ideal_ms=<f> ratio=<wall/ideal> extra=<k=v,...>`
//!
//! Run with:
//!
//! ```console
//! cargo bench --bench scenarios              # all: fanout many cpu handoffs scale http_fanout mcp_stdio sim
//! cargo bench --bench scenarios -- fanout    # some
//! ```
//!
//! Each scenario runs in a child process of its own, so its peak RSS is its own.
//!
//! The benchmark binary, like a server built on Baton would, uses mimalloc as its global
//! allocator: Baton allocates little, but glibc's malloc costs several hundred instructions a
//! call when threads free each other's memory. `--features bench-system-alloc` measures with
//! the system allocator instead; every line says which one it used (`allocator=` in `extra`).

#[cfg(not(feature = "bench-system-alloc"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "scenarios/cpu.rs"]
mod cpu;
#[path = "scenarios/fanout.rs"]
mod fanout;
#[path = "scenarios/handoffs.rs"]
mod handoffs;
#[path = "scenarios/http_fanout.rs"]
mod http_fanout;
#[path = "scenarios/many.rs"]
mod many;
#[cfg(feature = "mcp")]
#[path = "scenarios/mcp_stdio.rs"]
mod mcp_stdio;
#[path = "scenarios/sim.rs"]
mod sim;
mod support;

use std::process::{Command, Stdio};

/// Scenarios in the order they run.
const ALL: [&str; 8] = [
    "fanout",
    "many",
    "cpu",
    "handoffs",
    "scale",
    "http_fanout",
    "mcp_stdio",
    "sim",
];

/// Path of a benchmark topology.
fn topology(file: &str) -> String {
    format!("{}/benches/topologies/{file}", env!("CARGO_MANIFEST_DIR"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--scenario") {
        let name = args.get(i + 1).map_or("", String::as_str);
        println!("{}", run_one(name));
        return;
    }
    // `cargo bench` passes `--bench`; anything else names scenarios to run.
    let chosen: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let exe = std::env::current_exe().unwrap_or_else(|e| support::fail(e.to_string()));
    for name in ALL
        .iter()
        .filter(|n| chosen.is_empty() || chosen.contains(n))
    {
        let out = Command::new(&exe)
            .args(["--scenario", name])
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| support::fail(format!("{name}: {e}")));
        if !out.status.success() {
            support::fail(format!("scenario {name} failed ({})", out.status));
        }
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

fn run_one(name: &str) -> String {
    // The driver is one light thread: the swarm has its own runtime and threads.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| support::fail(e.to_string()));
    runtime.block_on(async {
        match name {
            "fanout" => fanout::run().await,
            "many" => many::run("many", 1_000).await,
            "cpu" => cpu::run().await,
            "handoffs" => handoffs::run().await,
            "scale" => many::run("scale", 100_000).await,
            "sim" => sim::run().await,
            "http_fanout" => http_fanout::run().await,
            #[cfg(feature = "mcp")]
            "mcp_stdio" => mcp_stdio::run().await,
            other => support::fail(format!("unknown scenario `{other}`; scenarios: {ALL:?}")),
        }
    })
}
