//! The swarm's clock and chance: whether its shards run in virtual time, and the seed its
//! randomness comes from.
//!
//! **One clock.** Every deadline, backoff, timeout, latency and timestamp in the runtime is a
//! [`tokio::time::Instant`] read on the thread that uses it, never `std::time::Instant`. A
//! swarm started with [`SwarmBuilder::virtual_time`](crate::swarm::SwarmBuilder::virtual_time)
//! builds its shard's tokio runtime with the clock paused: time then stands still while the
//! shard has work to do and jumps to the next timer when it has none, so a 30 s tool call
//! takes no real time, and the timeline records 30 s. Each tokio runtime has a clock of its
//! own, so virtual time is coherent within one shard only (a virtual-time swarm has exactly
//! one); whatever runs on another runtime or thread (blocking tools, tool sources, the HTTP
//! runtime of the API clients) runs in real time.
//!
//! Code that must behave differently under a paused clock asks [`is_virtual`]: tokio has no
//! public "is the clock paused" query, so each swarm thread is told at its start
//! ([`install`]) what its runtime is.
//!
//! **Seeded chance.** Randomness that changes behaviour comes from the swarm's seed
//! ([`SwarmBuilder::seed`](crate::swarm::SwarmBuilder::seed); random by default): trace ids
//! from a counter the swarm's handle owns ([`Chance`]), retry jitter from the seed of the
//! thread the retry runs on, keyed by what it is for ([`unit`]). Both are SplitMix64 over a
//! counter or a key: no allocation, no lock, no crate. The same seed gives the same trace ids
//! in the same order for the same sequence of runs, and the same jitter for the same retry
//! of the same run, whatever else runs meanwhile.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a swarm thread's clock is and where its randomness comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Setting {
    /// Whether the thread's tokio runtime started with its clock paused.
    pub(crate) virtual_time: bool,
    /// The swarm's seed.
    pub(crate) seed: u64,
}

thread_local! {
    /// The setting of the swarm whose thread this is; `None` on every other thread.
    static SETTING: Cell<Option<Setting>> = const { Cell::new(None) };
}

/// Records on the current thread what its runtime's clock is, and the swarm's seed.
pub(crate) fn install(setting: Setting) {
    SETTING.with(|s| s.set(Some(setting)));
}

/// Whether the current thread belongs to a swarm that runs in virtual time (its tokio clock
/// is paused, and only moves when the runtime has nothing to do).
pub(crate) fn is_virtual() -> bool {
    SETTING.with(|s| s.get().is_some_and(|s| s.virtual_time))
}

/// A number in `[0, 1)` for `key`: on a swarm's thread, a function of the swarm's seed and
/// `key` alone (so the same seed and key give the same number); elsewhere a fresh random one.
pub(crate) fn unit(key: u64) -> f64 {
    let bits = match SETTING.with(Cell::get) {
        Some(setting) => nth(setting.seed, splitmix64(key)),
        None => {
            /// Draws made off the swarms' threads, so equal keys still differ there.
            static DRAWS: AtomicU64 = AtomicU64::new(0);
            let n = DRAWS.fetch_add(1, Ordering::Relaxed);
            nth(process_seed(), splitmix64(key ^ n.rotate_left(32)))
        }
    };
    (bits >> 11) as f64 / (1_u64 << 53) as f64
}

/// A stable 64-bit hash of `parts` (FNV-1a, then mixed), for keys of [`unit`]: unlike std's
/// hashers it is the same in every process and every Rust release.
pub(crate) fn key(parts: &[&[u8]]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for part in parts {
        for byte in part.iter().copied().chain([0xff]) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    splitmix64(hash)
}

/// The swarm's own generator: its seed and how many trace ids it has made.
#[derive(Debug)]
pub(crate) struct Chance {
    seed: u64,
    trace_ids: AtomicU64,
}

impl Chance {
    /// A generator seeded by `seed`, or by a fresh random seed.
    pub(crate) fn new(seed: Option<u64>) -> Self {
        Chance {
            seed: seed.unwrap_or_else(random_seed),
            trace_ids: AtomicU64::new(0),
        }
    }

    /// The seed.
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// The next trace id: 32 hex digits (W3C trace-context size; unique per seed, not
    /// secret), the next two outputs of SplitMix64 seeded by the swarm's seed.
    pub(crate) fn trace_id(&self) -> String {
        let n = self.trace_ids.fetch_add(1, Ordering::Relaxed);
        let high = nth(self.seed, n.wrapping_mul(2));
        let low = nth(self.seed, n.wrapping_mul(2).wrapping_add(1));
        format!("{high:016x}{low:016x}")
    }
}

/// The seed of randomness drawn off the swarms' threads, made once per process.
fn process_seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(random_seed)
}

/// A fresh random seed: the standard library's random hash keys over the time and the
/// process id (enough for ids and jitter; no RNG crate needed).
fn random_seed() -> u64 {
    use std::hash::{BuildHasher as _, RandomState};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    RandomState::new().hash_one((nanos, std::process::id()))
}

/// Output `n` (0-based) of SplitMix64 started at `seed`: its state after `n + 1` steps,
/// mixed. Random access, so a counter needs no lock.
fn nth(seed: u64, n: u64) -> u64 {
    splitmix64(seed.wrapping_add(n.wrapping_mul(GOLDEN)))
}

/// SplitMix64's increment (2^64 over the golden ratio).
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a cheap, well-mixed bijection of 64-bit values.
pub(crate) fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(GOLDEN);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` on a thread of its own that carries `setting`.
    fn on_thread<R: Send + 'static>(setting: Option<Setting>, f: fn() -> R) -> R {
        std::thread::spawn(move || {
            if let Some(setting) = setting {
                install(setting);
            }
            f()
        })
        .join()
        .expect("the thread ends")
    }

    fn seeded(seed: u64) -> Option<Setting> {
        Some(Setting {
            virtual_time: false,
            seed,
        })
    }

    #[test]
    fn the_same_seed_gives_the_same_trace_ids_in_the_same_order() {
        let ids = |seed| {
            let chance = Chance::new(Some(seed));
            (0..4).map(|_| chance.trace_id()).collect::<Vec<_>>()
        };
        let first = ids(42);
        assert_eq!(ids(42), first);
        assert!(first.iter().all(|id| id.len() == 32));
        assert!(
            first
                .iter()
                .all(|id| id.chars().all(|c| c.is_ascii_hexdigit()))
        );
        let mut distinct = first.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 4);
        // Neighbouring seeds share no id and no half of one.
        let halves = |ids: &[String]| -> Vec<String> {
            ids.iter()
                .flat_map(|id| [id[..16].to_owned(), id[16..].to_owned()])
                .collect()
        };
        let other = halves(&ids(43));
        assert!(halves(&first).iter().all(|h| !other.contains(h)));
    }

    #[test]
    fn unseeded_generators_differ() {
        assert_ne!(Chance::new(None).trace_id(), Chance::new(None).trace_id());
    }

    #[test]
    fn on_a_swarm_thread_a_key_always_draws_the_same_number_for_its_seed() {
        let draws = || [unit(1), unit(1), unit(2)];
        let five = on_thread(seeded(5), draws);
        assert_eq!(five[0], five[1]);
        assert_ne!(five[0], five[2]);
        assert_eq!(on_thread(seeded(5), draws), five);
        assert_ne!(on_thread(seeded(6), draws), five);
        assert!(five.iter().all(|x| (0.0..1.0).contains(x)));
    }

    #[test]
    fn off_the_swarms_threads_equal_keys_draw_different_numbers() {
        let [a, b] = on_thread(None, || [unit(1), unit(1)]);
        assert_ne!(a, b);
    }

    #[test]
    fn only_a_thread_installed_as_virtual_says_so() {
        assert!(!on_thread(None, is_virtual));
        assert!(!on_thread(seeded(1), is_virtual));
        let virtual_thread = Some(Setting {
            virtual_time: true,
            seed: 1,
        });
        assert!(on_thread(virtual_thread, is_virtual));
    }

    #[test]
    fn keys_are_stable_and_tell_their_parts_apart() {
        // Stable: the same value in every process and release (a changed hash would change
        // every seeded simulation's retry waits).
        assert_eq!(key(&[b"trace", b"agent"]), key(&[b"trace", b"agent"]));
        assert_eq!(key(&[b"ab"]), 0xf35c_1011_c045_ae57);
        assert_ne!(key(&[b"ab", b"c"]), key(&[b"a", b"bc"]));
    }
}
