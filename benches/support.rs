//! Measuring helpers shared by the scenarios: repeated runs with their wall times, the DESIGN
//! line printer, medians, overlap of tool calls from a run's timeline, and the process's
//! resident memory from `/proc`.

use std::time::{Duration, Instant};

use baton::{Event, EventKind, RunResult, Swarm};

/// The global allocator of this benchmark binary.
pub const ALLOCATOR: &str = if cfg!(feature = "bench-system-alloc") {
    "system"
} else {
    "mimalloc"
};

/// One DESIGN.md result line:
/// `scenario=<name> peer=baton wall_ms=<f> ideal_ms=<f> ratio=<wall/ideal> extra=<k=v,...>`.
pub fn line(name: &str, wall_ms: f64, ideal_ms: f64, extra: &[(&str, String)]) -> String {
    let ratio = if ideal_ms > 0.0 {
        format!("{:.3}", wall_ms / ideal_ms)
    } else {
        "inf".to_owned()
    };
    let mut extra: Vec<String> = extra.iter().map(|(k, v)| format!("{k}={v}")).collect();
    extra.push(format!("allocator={ALLOCATOR}"));
    format!(
        "scenario={name} peer=baton wall_ms={wall_ms:.3} ideal_ms={ideal_ms:.3} ratio={ratio} extra={}",
        extra.join(",")
    )
}

/// Milliseconds, as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The median of `samples` (sorted in place).
pub fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

/// The largest number of tool calls of a run that were in flight at the same instant.
pub fn peak_in_flight(timeline: &[Event]) -> usize {
    let mut edges: Vec<(Duration, i32)> = Vec::new();
    for event in timeline {
        if let EventKind::Tool { .. } = event.kind {
            edges.push((event.start, 1));
            edges.push((event.end, -1));
        }
    }
    // At equal instants, count ends before starts: touching is not overlapping.
    edges.sort();
    let (mut now, mut peak) = (0_i32, 0_i32);
    for (_, delta) in edges {
        now += delta;
        peak = peak.max(now);
    }
    peak as usize
}

/// Reads a `kB` field (`VmRSS`, `VmHWM`) of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Resident memory now, in KiB.
pub fn rss_kib() -> u64 {
    status_kib("VmRSS").unwrap_or(0)
}

/// Peak resident memory of this process so far, in KiB.
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM").unwrap_or(0)
}

/// Fails the benchmark loudly: a fast wrong result must not pass.
pub fn fail(message: String) -> ! {
    eprintln!("benchmark failed: {message}");
    std::process::exit(1)
}

/// Wall times and results of repeated runs.
pub struct Samples {
    /// Each run's wall time, in ms.
    pub walls: Vec<f64>,
    /// Each run's result.
    pub results: Vec<RunResult>,
}

impl Samples {
    /// The median wall time, in ms.
    pub fn median(&self) -> f64 {
        median(&mut self.walls.clone())
    }

    /// `reps`, `min_ms` and `max_ms`, for a line's `extra`.
    pub fn spread(&self) -> [(&'static str, String); 3] {
        let min = self.walls.iter().copied().fold(f64::MAX, f64::min);
        let max = self.walls.iter().copied().fold(0.0, f64::max);
        [
            ("reps", self.walls.len().to_string()),
            ("min_ms", format!("{min:.3}")),
            ("max_ms", format!("{max:.3}")),
        ]
    }

    /// The fewest tool calls any run had in flight at its busiest moment.
    pub fn peak_in_flight(&self) -> usize {
        self.results
            .iter()
            .map(|r| peak_in_flight(&r.timeline))
            .min()
            .unwrap_or(0)
    }
}

/// Runs `entry` `reps` times, one after another, with inputs `rep 0`, `rep 1`, ...; fails the
/// benchmark unless every answer is `expect(input)`.
pub async fn runs(
    swarm: &Swarm,
    entry: &str,
    reps: usize,
    expect: impl Fn(&str) -> String,
) -> Samples {
    let mut samples = Samples {
        walls: Vec::with_capacity(reps),
        results: Vec::with_capacity(reps),
    };
    for rep in 0..reps {
        let input = format!("rep {rep}");
        let started = Instant::now();
        let result = swarm
            .run(entry, input.as_str())
            .await
            .unwrap_or_else(|e| fail(e.to_string()));
        samples.walls.push(ms(started.elapsed()));
        if result.final_output != expect(&input) {
            fail(format!(
                "wrong answer {:?} via {:?}",
                result.final_output, result.path
            ));
        }
        samples.results.push(result);
    }
    samples
}
