//! Drawing from a [`Distribution`]: latencies (whole milliseconds, since tokio's timer ticks
//! in milliseconds and a report must not depend on where in a tick a wait began) and token
//! counts.

use std::time::Duration;

use super::spec::{Distribution, Shape};

impl Distribution {
    /// A sample for the draws `u` and `v` in `[0, 1)` (`v` only for the normal shapes),
    /// capped at `max` and at least zero.
    pub(crate) fn sample(&self, u: f64, v: f64) -> f64 {
        let x = match self.shape {
            Shape::Fixed(x) => x,
            Shape::Uniform { min, max } => min + (max - min) * u,
            Shape::Normal { mean, sd } => mean + sd * standard_normal(u, v),
            Shape::LogNormal { median, sigma } => median * (sigma * standard_normal(u, v)).exp(),
        };
        let x = self.max.map_or(x, |max| x.min(max));
        if x.is_finite() { x.max(0.0) } else { 0.0 }
    }

    /// A latency: a sample in milliseconds, rounded to a whole millisecond.
    pub(crate) fn sample_millis(&self, u: f64, v: f64) -> Duration {
        // At most a day, as the topology's durations are.
        let ms = self.sample(u, v).round().min(86_400_000.0);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "rounded, 0 to 86,400,000"
        )]
        Duration::from_millis(ms as u64)
    }

    /// A count (tokens): a sample rounded to a whole number.
    pub(crate) fn sample_count(&self, u: f64, v: f64) -> u64 {
        let n = self.sample(u, v).round().min(u64::from(u32::MAX) as f64);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "rounded, 0 to u32::MAX"
        )]
        let n = n as u64;
        n
    }
}

/// A standard normal variate from two uniform draws (Box-Muller).
fn standard_normal(u: f64, v: f64) -> f64 {
    // 1 - u is in (0, 1], so its logarithm is finite.
    (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_give_what_they_say() {
        assert_eq!(
            Distribution::fixed(500.0).sample_millis(0.3, 0.4),
            Duration::from_millis(500)
        );
        let uniform = Distribution::new(Shape::Uniform {
            min: 100.0,
            max: 300.0,
        });
        assert_eq!(uniform.sample(0.5, 0.0), 200.0);
        let capped = Distribution::new(Shape::LogNormal {
            median: 500.0,
            sigma: 2.0,
        })
        .with_max(800.0);
        assert!((0..100).all(|i| capped.sample(f64::from(i) / 100.0, 0.1) <= 800.0));
        // The median of a log-normal is its `median`.
        let lognormal = Distribution::new(Shape::LogNormal {
            median: 500.0,
            sigma: 0.5,
        });
        let mut samples: Vec<f64> = (0..10_000)
            .map(|i| {
                let u = (f64::from(i) + 0.5) / 10_000.0;
                lognormal.sample(u, (u * 7919.0).fract())
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        let median = samples[5_000];
        assert!((450.0..550.0).contains(&median), "{median}");
        let normal = Distribution::new(Shape::Normal {
            mean: 10.0,
            sd: 100.0,
        });
        assert!((0..1000).all(|i| normal.sample(f64::from(i) / 1000.0, 0.5) >= 0.0));
    }
}
