//! `SimTool`: the stand-in a simulation puts in front of a tool's body (see
//! `tool::stand_in`). It waits the declared latency on the shard's virtual clock, fails or
//! hangs (until the tool's timeout) at the declared rates, then answers with the declared
//! output, or lets the real body run (pure built-ins and agents used as tools).
//!
//! Draws are keyed by the conversation's trace id, the call id, the tool and the attempt.

use std::sync::Arc;

use dashmap::DashMap;
use futures::future::BoxFuture;
use serde_json::Value;

use super::chance::Chance;
use super::counts::Counts;
use super::spec::ToolSim;
use crate::clock::key;
use crate::tool::stand_in::StandIn;
use crate::tool::{ToolContext, ToolError, ToolOutput};

/// The stand-in of one tool.
pub(crate) struct SimTool {
    name: String,
    sim: ToolSim,
    chance: Chance,
    /// Attempts per call, so a retried call draws again; removed once it succeeded.
    attempts: DashMap<u64, u32>,
    counts: Arc<Counts>,
}

impl SimTool {
    pub(crate) fn new(name: &str, sim: ToolSim, chance: Chance, counts: Arc<Counts>) -> Self {
        SimTool {
            name: name.to_owned(),
            sim,
            chance,
            attempts: DashMap::new(),
            counts,
        }
    }
}

impl StandIn for SimTool {
    fn before<'a>(
        &'a self,
        args: Option<&'a Value>,
        context: &'a ToolContext,
    ) -> BoxFuture<'a, Result<Option<ToolOutput>, ToolError>> {
        Box::pin(async move {
            let call_key = key(&[
                context.trace_id().as_bytes(),
                context.call_id().as_bytes(),
                self.name.as_bytes(),
            ]);
            // Only failures make a call be tried again; without them every call is a first.
            let faulty = self.sim.failure_rate > 0.0 || self.sim.timeout_rate > 0.0;
            let attempt = if faulty {
                let mut entry = self.attempts.entry(call_key).or_insert(0);
                *entry += 1;
                *entry
            } else {
                1_u32
            };
            let (call_key, attempt_bytes) = (call_key.to_le_bytes(), attempt.to_le_bytes());
            let draw = |what: &[u8]| self.chance.unit(&[&call_key, what, &attempt_bytes]);
            if let Some(latency) = &self.sim.latency {
                tokio::time::sleep(latency.sample_millis(draw(b"latency"), draw(b"latency-2")))
                    .await;
            }
            let u = draw(b"fault");
            if u < self.sim.failure_rate {
                self.counts.tool_failure();
                let error = self.sim.error.as_deref().unwrap_or("simulated failure");
                return Err(ToolError::failed(&self.name, error));
            }
            if u < self.sim.failure_rate + self.sim.timeout_rate {
                self.counts.tool_timeout();
                // The tool's timeout ends the call.
                std::future::pending::<()>().await;
            }
            if faulty {
                self.attempts.remove(&u64::from_le_bytes(call_key));
            }
            Ok(self
                .sim
                .output
                .as_deref()
                .map(|template| ToolOutput::from(fill(template, args))))
        })
    }
}

/// Replaces `{{args.<name>}}` in `template` with that argument (a string as it is, anything
/// else as JSON); unknown references are left as written.
fn fill(template: &str, args: Option<&Value>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{args.") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "{{args.".len()..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = after[..end].trim();
        match args.and_then(|a| a.get(name)) {
            Some(Value::String(text)) => out.push_str(text),
            Some(value) => out.push_str(&value.to_string()),
            None => out.push_str(&rest[start..start + "{{args.".len() + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_quote_the_arguments() {
        let args = serde_json::json!({"order": "A-17", "qty": 2});
        assert_eq!(
            fill(
                "order {{args.order}} x{{args.qty}} {{args.nope}}",
                Some(&args)
            ),
            "order A-17 x2 {{args.nope}}"
        );
    }
}
