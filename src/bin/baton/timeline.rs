//! Renders a run's timeline for stderr: one line per model request, tool call and handoff,
//! with start and end offsets in milliseconds and a bar, so calls that overlapped in time
//! visibly overlap on screen.

use std::fmt::Write as _;
use std::time::Duration;

use baton::{Event, EventKind};

/// Width of the bar column, in characters.
const BAR: usize = 24;

pub(crate) fn render(events: &[Event]) -> String {
    let total = events.iter().map(|e| e.end).max().unwrap_or_default();
    let agent_width = events
        .iter()
        .map(|e| e.agent.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<agent_width$}  turn  {:<28} {:>9} {:>9}  timeline",
        "agent", "step", "start ms", "end ms"
    );
    for event in events {
        let step = match &event.kind {
            EventKind::Model => "model".to_owned(),
            EventKind::Tool {
                name, call_id, ok, ..
            } => {
                format!("{name} [{call_id}]{}", if *ok { "" } else { " error" })
            }
            EventKind::Handoff { to } => format!("handoff -> {to}"),
            _ => "other".to_owned(),
        };
        let _ = writeln!(
            out,
            "  {:<agent_width$}  {:>4}  {:<28} {:>9.2} {:>9.2}  {}",
            event.agent,
            event.turn,
            step,
            ms(event.start),
            ms(event.end),
            bar(event.start, event.end, total)
        );
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `....####......`: where the step falls in the run.
fn bar(start: Duration, end: Duration, total: Duration) -> String {
    if total.is_zero() {
        return String::new();
    }
    let scale =
        |d: Duration| ((d.as_secs_f64() / total.as_secs_f64()) * BAR as f64).round() as usize;
    let from = scale(start).min(BAR - 1);
    let to = scale(end).clamp(from + 1, BAR);
    let mut bar = String::with_capacity(BAR);
    for i in 0..BAR {
        bar.push(if (from..to).contains(&i) { '#' } else { '.' });
    }
    bar
}
