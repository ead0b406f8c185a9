//! Tools that ship with Baton, one file each, and their registration by name (for YAML).
//!
//! - arithmetic (the lesson's calculator): `add`, `subtract`, `multiply`, `divide`, `power`,
//!   `sqrt`, async;
//! - `sleep_ms`: async, waits (stands in for I/O);
//! - `burn_ms`: blocking, calibrated CPU work, on a thread pool.

mod arithmetic;
mod burn;
mod sleep;

pub use arithmetic::{
    Add, ArithmeticError, BinaryArgs, Divide, Multiply, Power, PowerArgs, Sqrt, SqrtArgs, Subtract,
};
pub use burn::{Burn, BurnArgs, Calibration, calibration};
pub use sleep::{Sleep, SleepArgs};

use crate::swarm::SwarmBuilder;
use crate::tool::ToolOptions;

/// The names of the built-in tools, as YAML topologies refer to them.
pub const NAMES: &[&str] = &[
    "add", "subtract", "multiply", "divide", "power", "sqrt", "sleep_ms", "burn_ms",
];

/// Adds one built-in tool to a swarm builder, with the given options.
pub type Register = fn(SwarmBuilder, ToolOptions) -> SwarmBuilder;

/// Finds the built-in tool called `name`.
///
/// # Examples
///
/// ```
/// use baton::{Swarm, tool::{ToolOptions, builtin}};
///
/// let register = builtin::find("sqrt").unwrap();
/// let builder = register(Swarm::builder(), ToolOptions::default());
/// assert!(builtin::find("nope").is_none());
/// ```
pub fn find(name: &str) -> Option<Register> {
    Some(match name {
        "add" => |b: SwarmBuilder, o| b.tool_with(Add, o),
        "subtract" => |b: SwarmBuilder, o| b.tool_with(Subtract, o),
        "multiply" => |b: SwarmBuilder, o| b.tool_with(Multiply, o),
        "divide" => |b: SwarmBuilder, o| b.tool_with(Divide, o),
        "power" => |b: SwarmBuilder, o| b.tool_with(Power, o),
        "sqrt" => |b: SwarmBuilder, o| b.tool_with(Sqrt, o),
        "sleep_ms" => |b: SwarmBuilder, o| b.tool_with(Sleep, o),
        "burn_ms" => |b: SwarmBuilder, o| b.blocking_tool(|| Burn, o),
        _ => return None,
    })
}
