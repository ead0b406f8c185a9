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

/// Registers the built-in tool called `name`; `None` if there is no such built-in.
///
/// # Examples
///
/// ```
/// use baton::{Swarm, tool::{ToolOptions, builtin}};
///
/// let builder = builtin::register(Swarm::builder(), "sqrt", ToolOptions::default());
/// assert!(builder.is_some());
/// assert!(builtin::register(Swarm::builder(), "nope", ToolOptions::default()).is_none());
/// ```
pub fn register(builder: SwarmBuilder, name: &str, options: ToolOptions) -> Option<SwarmBuilder> {
    Some(match name {
        "add" => builder.tool_with(Add, options),
        "subtract" => builder.tool_with(Subtract, options),
        "multiply" => builder.tool_with(Multiply, options),
        "divide" => builder.tool_with(Divide, options),
        "power" => builder.tool_with(Power, options),
        "sqrt" => builder.tool_with(Sqrt, options),
        "sleep_ms" => builder.tool_with(Sleep, options),
        "burn_ms" => builder.blocking_tool(|| Burn, options),
        _ => return None,
    })
}
