//! Phase timings for measuring the pipeline: with `KILN_TIMINGS` set in the environment,
//! [`phase`] writes `kiln: PHASE TIME` to standard error after each phase it wraps.
//!
//! Off by default and then one relaxed load per phase; the output format is for people
//! and benchmarks, not a stable interface.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var_os("KILN_TIMINGS").is_some())
}

/// Runs `f`; when timings are on, reports how long it took under `name`.
pub fn phase<T>(name: &str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let start = Instant::now();
    let result = f();
    eprintln!(
        "kiln: {name:<14} {:>8.2} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    result
}
