//! Phase timings for measuring the pipeline: with `KILN_TIMINGS` set in the environment,
//! [`phase`] writes `kiln: PHASE TIME` to standard error after each phase it wraps, with the
//! CPU time all threads spent in it (less than twice the wall time on two cores means the
//! phase is partly serial) and the process's resident memory at its end.
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
    let cpu_start = cpu_time();
    let result = f();
    let elapsed = start.elapsed();
    let cpu = cpu_time() - cpu_start;
    eprintln!(
        "kiln: {name:<14} {:>8.2} ms  cpu {:>7.2} ms{}",
        elapsed.as_secs_f64() * 1e3,
        cpu * 1e3,
        resident().map_or(String::new(), |(anon, file)| format!(
            "   resident {anon:>6.1} MiB anonymous, {file:>6.1} MiB file"
        ))
    );
    result
}

/// CPU time of the whole process (all threads, user and system) in seconds; 0 where the
/// clock is missing.
#[cfg(unix)]
#[allow(unsafe_code)]
fn cpu_time() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) } != 0 {
        return 0.0;
    }
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

#[cfg(not(unix))]
fn cpu_time() -> f64 {
    0.0
}

/// The process's resident memory after a phase, in MiB: anonymous (the heap) and mapped
/// files (the inputs); Linux only.
fn resident() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = |key: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        let n: f64 = line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(n / 1024.0)
    };
    Some((kib("RssAnon:")?, kib("RssFile:")?))
}
