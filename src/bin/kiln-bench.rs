//! kiln-bench: the lowering and link throughput benchmark of BENCHMARKS.md.
//!
//! Generates a large IR module with the test suite's random program generator
//! (`tests/common/gen.rs`: realistic mixed code, random CFGs, calls, memory, floats), parses
//! and verifies it, then times `lower_module` and `link` over it several times and reports
//! MB/s of wasm produced and peak memory. The thread count is rayon's: set
//! `RAYON_NUM_THREADS`. Also the CPU time of the timed runs (all threads, 10 ms ticks from
//! `/proc/self/stat`), which a loaded machine disturbs less than the wall time.
//!
//! Peak memory is read from `/proc/self/status` (`VmHWM`); before timing, the peak is reset
//! through `/proc/self/clear_refs` so that the figure covers lowering and linking only (the
//! input module stays resident and is included, as it would be in `kiln build`).
//!
//! Each round's wall time is kept; the median and the best round are reported.
//!
//! `--binaryen` measures Binaryen on the same machine in the same run, the yardstick:
//! after each of kiln's rounds, `wasm-opt` (on `PATH`; Debian's package `binaryen`) reads
//! kiln's output and writes it back (`--all-features --no-validation`, no passes, as many
//! threads as kiln through `BINARYEN_CORES`). Reported: its median MB/s and the median of the
//! per-round ratios, kiln's rate over Binaryen's, which the machine's drift moves less than
//! either figure alone.
//!
//! Usage: `kiln-bench [--funcs N (default 6500)] [--seed S] [--repeat R] [--out FILE.wasm]
//! [--stats] [--binaryen]`; `--stats` also prints the shape of the module (blocks,
//! instructions, how many functions are irreducible and what making them reducible adds).

use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use kiln::link::{LinkOptions, link};
use kiln::lower::{LowerOptions, lower_module};

#[allow(dead_code)]
#[path = "../../tests/common/gen.rs"]
mod irgen;

struct Args {
    funcs: usize,
    seed: u64,
    repeat: usize,
    out: Option<String>,
    stats: bool,
    binaryen: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        funcs: 6_500,
        seed: 1,
        repeat: 3,
        out: None,
        stats: false,
        binaryen: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--funcs" => args.funcs = value()?.parse().map_err(|e| format!("--funcs: {e}"))?,
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--repeat" => args.repeat = value()?.parse().map_err(|e| format!("--repeat: {e}"))?,
            "--out" => args.out = Some(value()?),
            "--stats" => args.stats = true,
            "--binaryen" => args.binaryen = true,
            "--bench" => {} // passed by `cargo bench`
            _ => return Err(format!("unknown argument `{a}`")),
        }
    }
    Ok(args)
}

/// A field of `/proc/self/status` in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of the process so far (all threads, user and system), from `/proc/self/stat`
/// (fields 14 and 15, in clock ticks of 1/100 s on Linux).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

/// Prints the shape of the module's functions: blocks and instructions, and for the
/// irreducible ones what the dispatch blocks add.
fn print_stats(module: &kiln::ir::Module) {
    let shape = |f: &kiln::ir::Function| {
        let insts: usize = f.dfg.blocks.values().map(|b| b.insts.len()).sum();
        (f.dfg.blocks.len(), insts, f.dfg.values.len())
    };
    // Totals of (bodies, blocks, instructions, values).
    let add = |total: &mut [usize; 4], (b, i, v): (usize, usize, usize)| {
        for (x, y) in total.iter_mut().zip([1, b, i, v]) {
            *x += y;
        }
    };
    let mut all = [0usize; 4];
    let mut irreducible = [0usize; 4];
    let mut reduced = [0usize; 4];
    for body in module.bodies.values().filter(|f| !f.dfg.blocks.is_empty()) {
        add(&mut all, shape(body));
        if let Some(r) = kiln::lower::reducible::make_reducible(body) {
            add(&mut irreducible, shape(body));
            add(&mut reduced, shape(&r));
        }
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!(
        "shape: {} bodies, {} blocks, {} instructions, {} values ({:.1} instructions a body)",
        all[0],
        all[1],
        all[2],
        all[3],
        all[2] as f64 / all[0].max(1) as f64
    );
    println!(
        "irreducible: {} bodies ({:.0}%) with {:.0}% of the blocks and {:.0}% of the \
         instructions; made reducible they have {:.0}% more blocks, {:.0}% more instructions",
        irreducible[0],
        pct(irreducible[0], all[0]),
        pct(irreducible[1], all[1]),
        pct(irreducible[2], all[2]),
        pct(reduced[1], irreducible[1]) - 100.0,
        pct(reduced[2], irreducible[2]) - 100.0
    );
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The wall times of one round.
struct Round {
    lower: Duration,
    link: Duration,
    /// `wasm-opt` reading and writing kiln's output, with `--binaryen`.
    binaryen: Option<Duration>,
}

/// Runs `wasm-opt` over `dir/in.wasm` into `dir/out.wasm` and returns its wall time.
fn run_binaryen(dir: &std::path::Path, cores: &str) -> Result<Duration, String> {
    let t = Instant::now();
    let output = Command::new("wasm-opt")
        .args(["--all-features", "--no-validation"])
        .arg(dir.join("in.wasm"))
        .arg("-o")
        .arg(dir.join("out.wasm"))
        .env("BINARYEN_CORES", cores)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run wasm-opt (install Debian's `binaryen`): {e}"))?;
    let elapsed = t.elapsed();
    if !output.status.success() {
        return Err(format!(
            "wasm-opt failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(elapsed)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kiln-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into());
    let t0 = Instant::now();
    let mut rng = irgen::Rng::new(args.seed);
    let config = irgen::Config {
        funcs: args.funcs,
        min_blocks: 2,
        max_blocks: 24,
        max_insts: 14,
        max_params: 3,
        trap_percent: 2,
        budget: 1000,
        main: true,
        local_edges: true,
    };
    let text = irgen::generate_with(&mut rng, &config).text;
    let gen_time = t0.elapsed();
    let t1 = Instant::now();
    let module = match kiln::ir::parse(&text) {
        Ok(m) => m,
        Err(d) => {
            eprintln!("{}", d.render("bench.ir"));
            return ExitCode::FAILURE;
        }
    };
    let parse_time = t1.elapsed();
    if let Err(d) = kiln::verify::verify(&module) {
        eprintln!("{}", d.render("bench.ir"));
        return ExitCode::FAILURE;
    }
    let ir_bytes = text.len();
    drop(text);
    println!(
        "input: {} functions, {:.1} MB of IR text (generated in {:.2} s, parsed in {:.2} s)",
        module.decls.funcs.len(),
        mb(ir_bytes),
        secs(gen_time),
        secs(parse_time)
    );
    if args.stats {
        print_stats(&module);
    }
    let rss_before = status_kib("VmRSS:").unwrap_or(0);
    let peak_reset = reset_peak();
    // Binaryen's input is kiln's output, written once after the first round.
    let scratch = std::env::temp_dir().join(format!("kiln-bench-{}", std::process::id()));
    let binaryen_cores = rayon::current_num_threads().to_string();
    let mut rounds: Vec<Round> = Vec::new();
    let mut cpu_runs: Vec<Duration> = Vec::new();
    let mut wasm = Vec::new();
    for round in 0..args.repeat.max(1) {
        let cpu0 = cpu_time();
        let t = Instant::now();
        let object = match lower_module(&module, &LowerOptions::default()) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("lower: {e}");
                return ExitCode::FAILURE;
            }
        };
        let lower = t.elapsed();
        let t = Instant::now();
        // No garbage collection: most generated functions are not reachable from `@main`,
        // and the benchmark is about producing all of them.
        let opts = LinkOptions {
            import_undefined: true,
            gc: false,
            ..LinkOptions::default()
        };
        wasm = match link(&[object], &opts) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("link: {e}");
                return ExitCode::FAILURE;
            }
        };
        let link = t.elapsed();
        if let (Some(a), Some(b)) = (cpu0, cpu_time()) {
            cpu_runs.push(b.saturating_sub(a));
        }
        let binaryen = if args.binaryen {
            if round == 0
                && let Err(e) = std::fs::create_dir_all(&scratch)
                    .and_then(|()| std::fs::write(scratch.join("in.wasm"), &wasm))
            {
                eprintln!("kiln-bench: {}: {e}", scratch.display());
                return ExitCode::FAILURE;
            }
            match run_binaryen(&scratch, &binaryen_cores) {
                Ok(d) => Some(d),
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&scratch);
                    eprintln!("kiln-bench: {e}");
                    return ExitCode::FAILURE;
                }
            }
        } else {
            None
        };
        rounds.push(Round {
            lower,
            link,
            binaryen,
        });
    }
    if args.binaryen {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    let peak = status_kib("VmHWM:").unwrap_or(0);
    let out = wasm.len();
    let rate = |seconds: f64| mb(out) / seconds.max(1e-9);
    let best = rounds
        .iter()
        .min_by_key(|r| r.lower + r.link)
        .expect("at least one round");
    let median_total = median(rounds.iter().map(|r| secs(r.lower + r.link)));
    let median_lower = median(rounds.iter().map(|r| secs(r.lower)));
    println!("threads (RAYON_NUM_THREADS): {threads}");
    println!("output: {out} bytes ({:.2} MB) of wasm", mb(out));
    println!(
        "best of {}: lower {:.3} s, link {:.3} s, total {:.3} s",
        rounds.len(),
        secs(best.lower),
        secs(best.link),
        secs(best.lower + best.link)
    );
    println!(
        "throughput: {:.1} MB/s of wasm (lower + link), lower alone {:.1} MB/s",
        rate(secs(best.lower + best.link)),
        rate(secs(best.lower))
    );
    println!(
        "median of {}: total {:.3} s = {:.1} MB/s of wasm (lower + link), lower alone {:.1} MB/s",
        rounds.len(),
        median_total,
        rate(median_total),
        rate(median_lower)
    );
    if args.binaryen {
        let times: Vec<f64> = rounds.iter().filter_map(|r| r.binaryen).map(secs).collect();
        let med = median(times.iter().copied());
        let ratios = rounds
            .iter()
            .filter_map(|r| Some(secs(r.binaryen?) / secs(r.lower + r.link).max(1e-9)));
        println!(
            "binaryen (wasm-opt read and write, BINARYEN_CORES={binaryen_cores}): median {:.3} s \
             = {:.1} MB/s, best {:.1} MB/s; kiln is {:.2}x as fast (median of the per-round \
             ratios)",
            med,
            rate(med),
            rate(times.iter().copied().fold(f64::INFINITY, f64::min)),
            median(ratios)
        );
    }
    if !cpu_runs.is_empty() {
        cpu_runs.sort();
        let cpu = cpu_runs[cpu_runs.len() / 2];
        println!(
            "cpu time (all threads, median of {}): {:.2} s = {:.1} MB of wasm per CPU second",
            cpu_runs.len(),
            secs(cpu),
            rate(secs(cpu))
        );
    }
    let peak_bytes = peak as usize * 1024;
    let extra = peak.saturating_sub(rss_before) as usize * 1024;
    println!(
        "memory: resident before lowering {:.1} MB; peak{} {:.1} MB = {:.1}x output; \
         peak above the input module {:.1} MB = {:.1}x output",
        mb(rss_before as usize * 1024),
        if peak_reset {
            " during lower+link"
        } else {
            " of the process"
        },
        mb(peak_bytes),
        peak_bytes as f64 / out.max(1) as f64,
        mb(extra),
        extra as f64 / out.max(1) as f64
    );
    if let Some(path) = args.out
        && let Err(e) = std::fs::write(&path, &wasm)
    {
        eprintln!("kiln-bench: {path}: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
