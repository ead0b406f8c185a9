//! The lesson's calculator tools: add, subtract, multiply, divide, power, sqrt.
//!
//! Plain async [`Tool`]s (the work is trivial). Results that are whole numbers print without a
//! fraction (`42`, not `42.0`); division by zero, the square root of a negative number and
//! non-finite results are clear tool errors.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::tool::Tool;

/// Two operands.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BinaryArgs {
    /// The first operand.
    pub a: f64,
    /// The second operand.
    pub b: f64,
}

/// A base and an exponent.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerArgs {
    /// The base.
    pub base: f64,
    /// The exponent.
    pub exponent: f64,
}

/// One number.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqrtArgs {
    /// The number to take the square root of.
    pub x: f64,
}

/// Why an arithmetic tool refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ArithmeticError {
    /// `divide` with `b = 0`.
    #[error("division by zero ({a} / 0)")]
    DivisionByZero {
        /// The dividend.
        a: f64,
    },
    /// `sqrt` of a negative number.
    #[error("square root of a negative number ({x})")]
    NegativeSqrt {
        /// The operand.
        x: f64,
    },
    /// The result overflowed or is undefined.
    #[error("the result is not a finite number")]
    NotFinite,
}

/// Returns `x` as JSON: an integer when it is whole and exactly representable, else a float.
fn number(x: f64) -> Result<Value, ArithmeticError> {
    if !x.is_finite() {
        return Err(ArithmeticError::NotFinite);
    }
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if x.fract() == 0.0 && x.abs() < EXACT {
        Ok(Value::from(x as i64))
    } else {
        Ok(Value::from(x))
    }
}

macro_rules! binary_tool {
    ($ty:ident, $name:literal, $doc:literal, |$a:ident, $b:ident| $body:expr) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $ty;

        impl Tool for $ty {
            type Args = BinaryArgs;
            type Output = Value;
            type Error = ArithmeticError;

            fn name(&self) -> &str {
                $name
            }
            fn description(&self) -> &str {
                $doc
            }
            async fn call(&self, args: BinaryArgs) -> Result<Value, ArithmeticError> {
                let BinaryArgs { a: $a, b: $b } = args;
                $body
            }
        }
    };
}

binary_tool!(Add, "add", "Adds two numbers: a + b.", |a, b| number(a + b));
binary_tool!(
    Subtract,
    "subtract",
    "Subtracts b from a: a - b.",
    |a, b| number(a - b)
);
binary_tool!(
    Multiply,
    "multiply",
    "Multiplies two numbers: a * b.",
    |a, b| number(a * b)
);
binary_tool!(Divide, "divide", "Divides a by b: a / b.", |a, b| {
    if b == 0.0 {
        Err(ArithmeticError::DivisionByZero { a })
    } else {
        number(a / b)
    }
});

/// Raises a base to an exponent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Power;

impl Tool for Power {
    type Args = PowerArgs;
    type Output = Value;
    type Error = ArithmeticError;

    fn name(&self) -> &str {
        "power"
    }
    fn description(&self) -> &str {
        "Raises base to the power exponent: base ^ exponent."
    }
    async fn call(&self, args: PowerArgs) -> Result<Value, ArithmeticError> {
        number(args.base.powf(args.exponent))
    }
}

/// Takes a square root.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sqrt;

impl Tool for Sqrt {
    type Args = SqrtArgs;
    type Output = Value;
    type Error = ArithmeticError;

    fn name(&self) -> &str {
        "sqrt"
    }
    fn description(&self) -> &str {
        "Returns the square root of x."
    }
    async fn call(&self, args: SqrtArgs) -> Result<Value, ArithmeticError> {
        if args.x < 0.0 {
            return Err(ArithmeticError::NegativeSqrt { x: args.x });
        }
        number(args.x.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T: Tool>(tool: T, args: T::Args) -> Result<T::Output, T::Error> {
        futures::executor::block_on(tool.call(args))
    }

    #[test]
    fn results_are_numbers_with_whole_numbers_printed_as_integers() {
        assert_eq!(
            run(Add, BinaryArgs { a: 12.0, b: 30.0 }).unwrap(),
            Value::from(42)
        );
        assert_eq!(
            run(Subtract, BinaryArgs { a: 1.0, b: 3.0 }).unwrap(),
            Value::from(-2)
        );
        assert_eq!(
            run(Multiply, BinaryArgs { a: 1.5, b: 3.0 }).unwrap(),
            Value::from(4.5)
        );
        assert_eq!(
            run(Divide, BinaryArgs { a: 1.0, b: 4.0 }).unwrap(),
            Value::from(0.25)
        );
        assert_eq!(
            run(
                Power,
                PowerArgs {
                    base: 2.0,
                    exponent: 10.0
                }
            )
            .unwrap(),
            Value::from(1024)
        );
        assert_eq!(run(Sqrt, SqrtArgs { x: 144.0 }).unwrap(), Value::from(12));
    }

    #[test]
    fn bad_operations_are_clear_errors() {
        assert_eq!(
            run(Divide, BinaryArgs { a: 7.0, b: 0.0 })
                .unwrap_err()
                .to_string(),
            "division by zero (7 / 0)"
        );
        assert_eq!(
            run(Sqrt, SqrtArgs { x: -4.0 }).unwrap_err().to_string(),
            "square root of a negative number (-4)"
        );
        assert_eq!(
            run(
                Power,
                PowerArgs {
                    base: 10.0,
                    exponent: 400.0
                }
            )
            .unwrap_err(),
            ArithmeticError::NotFinite
        );
    }
}
