//! Writes two tools in Rust, one async and one CPU-bound, and gives them to an agent.
//!
//! Run with:
//!
//! ```console
//! cargo run --example custom_tool
//! ```
//!
//! `Tool` is for I/O-bound work: calls run as tasks, many at once. `BlockingTool` is for
//! CPU-bound work: calls run on a pool of OS threads, one call per thread, so the calls of one
//! turn use every core. Arguments are typed; their JSON Schema (from `schemars`) is what the
//! model sees, and every call is checked against it before it reaches the tool.

use std::sync::Arc;

use baton::model::{ScriptedCall, ScriptedModel, ScriptedTurn};
use baton::tool::{BlockingTool, Tool, ToolOptions};
use baton::{Agent, Swarm};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

/// Arguments of `lookup_price`.
#[derive(Deserialize, JsonSchema)]
struct PriceArgs {
    /// The product's SKU.
    sku: String,
}

/// An async tool: pretends to ask a pricing service.
#[derive(Clone)]
struct LookupPrice;

impl Tool for LookupPrice {
    type Args = PriceArgs;
    type Output = serde_json::Value;
    type Error = String;

    fn name(&self) -> &str {
        "lookup_price"
    }
    fn description(&self) -> &str {
        "Returns the price of a product, in cents."
    }
    async fn call(&self, args: PriceArgs) -> Result<serde_json::Value, String> {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        match args.sku.as_str() {
            "A-1" => Ok(json!({ "sku": "A-1", "cents": 1250 })),
            "B-2" => Ok(json!({ "sku": "B-2", "cents": 399 })),
            other => Err(format!("no product with SKU {other}")),
        }
    }
}

/// Arguments of `count_primes`.
#[derive(Deserialize, JsonSchema)]
struct PrimeArgs {
    /// Count the primes below this number.
    below: u64,
}

/// A CPU-bound tool: counts primes by trial division.
struct CountPrimes;

impl BlockingTool for CountPrimes {
    type Args = PrimeArgs;
    type Output = u64;
    type Error = std::convert::Infallible;

    fn name(&self) -> &str {
        "count_primes"
    }
    fn description(&self) -> &str {
        "Counts the prime numbers below a bound."
    }
    fn call(&mut self, args: PrimeArgs) -> Result<u64, Self::Error> {
        let is_prime = |n: u64| {
            n >= 2
                && (2..)
                    .take_while(|d| d * d <= n)
                    .all(|d| !n.is_multiple_of(d))
        };
        Ok((0..args.below).filter(|&n| is_prime(n)).count() as u64)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = ScriptedModel::new().with_agent(
        "shop",
        [
            ScriptedTurn::calls([
                ScriptedCall::tool("lookup_price", json!({ "sku": "A-1" })).with_id("a"),
                ScriptedCall::tool("lookup_price", json!({ "sku": "Z-9" })).with_id("z"),
                ScriptedCall::tool("count_primes", json!({ "below": 200_000 })).with_id("p1"),
                ScriptedCall::tool("count_primes", json!({ "below": 100_000 })).with_id("p2"),
            ]),
            ScriptedTurn::text(
                "A-1: {{output:a}}; Z-9: {{output:z}}; primes below 200000: {{output:p1}}, below 100000: {{output:p2}}",
            ),
        ],
    );
    let swarm = Swarm::builder()
        .tool(LookupPrice)
        .blocking_tool(
            || CountPrimes,
            ToolOptions {
                max_concurrency: Some(2), // two threads
                ..ToolOptions::default()
            },
        )
        .agent(Agent::new("shop").with_tools(["lookup_price", "count_primes"]))
        .model(Arc::new(model))
        .start()?;

    let result = swarm
        .run("shop", "Price of A-1 and Z-9, and some primes?")
        .await?;
    println!("{}", result.final_output);
    swarm.shutdown().await;
    Ok(())
}
