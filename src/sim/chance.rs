//! Keyed chance: every random choice of a simulation is a function of the seed and of what
//! it is for (which conversation, which agent turn, which call, which attempt), never of the
//! order things happen in.
//!
//! So the same seed gives the same conversations whatever the concurrency, the number of
//! worker threads or the interleaving, and conversation `K` rerun alone takes the path it
//! took among a million others.

use crate::clock::{key, splitmix64};

/// The seed of one simulation run, and the draws made from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chance {
    seed: u64,
}

impl Chance {
    pub(crate) fn new(seed: u64) -> Self {
        Chance { seed }
    }

    /// A number in `[0, 1)` for `parts`: the same seed and parts give the same number.
    pub(crate) fn unit(&self, parts: &[&[u8]]) -> f64 {
        let bits = splitmix64(self.seed ^ key(parts));
        (bits >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// The trace id of conversation `index`: 32 hex digits, a function of the seed and the
    /// index alone. Every run of the conversation carries it, and the scripted models and
    /// tool stand-ins key their draws by it.
    pub(crate) fn trace_id(&self, index: u32) -> String {
        let n = index.to_le_bytes();
        let high = splitmix64(self.seed ^ key(&[b"trace-high", &n]));
        let low = splitmix64(self.seed ^ key(&[b"trace-low", &n]));
        format!("{high:016x}{low:016x}")
    }

    /// Picks an index of `weights` (all positive) with probability proportional to its
    /// weight, by the draw `u` in `[0, 1)`.
    pub(crate) fn pick(weights: impl Iterator<Item = f64> + Clone, u: f64) -> usize {
        let total: f64 = weights.clone().sum();
        let mut left = u * total;
        let mut last = 0;
        for (index, weight) in weights.enumerate() {
            if left < weight {
                return index;
            }
            left -= weight;
            last = index;
        }
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_depend_on_the_seed_and_the_key_only() {
        let a = Chance::new(7);
        assert_eq!(a.unit(&[b"x", b"1"]), Chance::new(7).unit(&[b"x", b"1"]));
        assert_ne!(a.unit(&[b"x", b"1"]), a.unit(&[b"x", b"2"]));
        assert_ne!(a.unit(&[b"x", b"1"]), Chance::new(8).unit(&[b"x", b"1"]));
        assert_eq!(a.trace_id(3), Chance::new(7).trace_id(3));
        assert_ne!(a.trace_id(3), a.trace_id(4));
        assert_eq!(a.trace_id(3).len(), 32);
    }

    #[test]
    fn picks_follow_the_weights() {
        let weights = [70.0, 30.0];
        assert_eq!(Chance::pick(weights.iter().copied(), 0.0), 0);
        assert_eq!(Chance::pick(weights.iter().copied(), 0.69), 0);
        assert_eq!(Chance::pick(weights.iter().copied(), 0.71), 1);
        assert_eq!(Chance::pick(weights.iter().copied(), 0.999_999), 1);
    }
}
