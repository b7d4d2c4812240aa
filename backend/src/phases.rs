//! Where a long job's time goes: the phases of an apply, timed and logged at `debug` level
//! (`RUST_LOG=cohortsync_backend=debug`), so that an admin whose apply into a large site is
//! slow can see which part is.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// A stopwatch that records named phases and logs them when dropped.
#[derive(Debug)]
pub struct Phases {
    job: &'static str,
    started: Instant,
    last: Instant,
    phases: Vec<(&'static str, Duration)>,
}

impl Phases {
    /// Starts timing `job`.
    pub fn start(job: &'static str) -> Phases {
        let now = Instant::now();
        Phases {
            job,
            started: now,
            last: now,
            phases: Vec::new(),
        }
    }

    /// Ends the phase `name`: the time since the previous phase ended (or the start).
    pub fn done(&mut self, name: &'static str) {
        let now = Instant::now();
        self.phases.push((name, now - self.last));
        self.last = now;
    }

    /// The phases so far, as `name 12 ms, other 3 ms`.
    pub fn summary(&self) -> String {
        let mut text = String::new();
        for (name, took) in &self.phases {
            if !text.is_empty() {
                text.push_str(", ");
            }
            let _ = write!(text, "{name} {} ms", took.as_millis());
        }
        text
    }
}

impl Drop for Phases {
    fn drop(&mut self) {
        tracing::debug!(
            job = self.job,
            total_ms = self.started.elapsed().as_millis() as u64,
            phases = %self.summary(),
            "phases"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_each_phase_in_order() {
        let mut phases = Phases::start("test");
        phases.done("first");
        phases.done("second");
        let summary = phases.summary();
        assert!(summary.starts_with("first "), "{summary}");
        assert!(summary.contains(" ms, second "), "{summary}");
        assert!(summary.ends_with(" ms"), "{summary}");
    }
}
