//! Execution of built modules: every corpus program with `; run:` lines is lowered, linked,
//! validated with wasmparser, and each run line runs in a fresh wasmtime instance and must
//! give the expected result (or trap where a trap is expected). The runtime functions a
//! program imports are host functions (tests/common/wasm.rs).
//!
//! Also the deep tests: a function of 100,000 blocks and a loop nest 10,000 deep go through
//! lowering, linking and validation on a thread with a 2 MiB stack, so structuring and
//! lowering must be iterative.

mod common;

use std::fmt::Write as _;
use std::fs;

use common::wasm::{Outcome, Runner, same_val, validate};
use kiln::lower::LowerOptions;
use kiln::runtest::{Expect, parse_run_lines, parse_val, val_matches};
use kiln::target::Features;

#[test]
fn corpus_run_lines_pass_under_wasmtime() {
    corpus_run_lines_pass(&LowerOptions::default());
}

/// The same with node splitting (`--split-budget`): the irreducible programs whose
/// secondary loop entries can be copied lose their dispatch blocks, and still pass.
#[test]
fn corpus_run_lines_pass_with_node_splitting() {
    corpus_run_lines_pass(&LowerOptions {
        split_budget: 1000,
        ..LowerOptions::default()
    });
}

fn corpus_run_lines_pass(lopts: &LowerOptions) {
    let runner = Runner::new();
    let mut failures = Vec::new();
    let (mut programs, mut lines) = (0, 0);
    for path in common::corpus_files() {
        let name = format!(
            "ir/{}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let source = fs::read_to_string(&path).expect("readable corpus file");
        let run_lines = match parse_run_lines(&source) {
            Ok(l) => l,
            Err(d) => {
                failures.push(d.render(&name));
                continue;
            }
        };
        if run_lines.is_empty() {
            continue;
        }
        programs += 1;
        let module = match common::load(&name, &source) {
            Ok(m) => m,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let wasm = match common::build_lowered(&module, lopts) {
            Ok(w) => w,
            Err(e) => {
                failures.push(format!("{name}: build: {e}"));
                continue;
            }
        };
        if let Err(e) = validate(&wasm, &Features::default()) {
            failures.push(format!("{name}: {e}"));
            continue;
        }
        let prepared = match runner.prepare(&wasm) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        for rl in &run_lines {
            lines += 1;
            let at = format!("{name}:{}: `{}`", rl.line, rl.text);
            let Some(func) = module.func_by_name(&rl.func) else {
                failures.push(format!("{at}: no function @{}", rl.func));
                continue;
            };
            let params = &module.decls.funcs[func].sig.params;
            let args: Option<Vec<_>> = rl
                .args
                .iter()
                .zip(params)
                .map(|(a, &t)| parse_val(a, t))
                .collect();
            let Some(args) = args.filter(|a| a.len() == params.len()) else {
                failures.push(format!("{at}: arguments do not match the signature"));
                continue;
            };
            let outcome = match runner.call(&prepared, &rl.func, &args) {
                Ok(o) => o,
                Err(e) => {
                    failures.push(format!("{at}: {e}"));
                    continue;
                }
            };
            let problem = match (&rl.expect, &outcome) {
                (Expect::Traps, Outcome::Trapped(_)) => None,
                (Expect::Traps, Outcome::Returned(v)) => {
                    Some(format!("expected a trap, got {v:?}"))
                }
                (_, Outcome::Trapped(t)) => Some(format!("unexpected trap: {t}")),
                (Expect::Returns, Outcome::Returned(v)) if v.is_empty() => None,
                (Expect::Returns, Outcome::Returned(v)) => {
                    Some(format!("expected no results, got {v:?}"))
                }
                (Expect::Results(want), Outcome::Returned(got)) => {
                    let ok = want.len() == got.len()
                        && want.iter().zip(got).all(|(w, &g)| val_matches(w, g));
                    (!ok).then(|| format!("expected {}, got {got:?}", want.join(", ")))
                }
            };
            if let Some(p) = problem {
                failures.push(format!("{at}: {p}"));
            }
        }
    }
    println!(
        "wasmtime: {programs} programs, {lines} run lines, {} failures",
        failures.len()
    );
    assert!(
        programs >= 40,
        "only {programs} corpus programs have run lines"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The same programs built for the MVP feature set (no bulk memory, no sign extension, no
/// saturating truncation, no multivalue...) validate under exactly those features and give
/// the interpreter's results. Programs whose signatures need multivalue are left out.
#[test]
fn corpus_runs_with_mvp_features() {
    let runner = Runner::new();
    let features = Features::MVP;
    let mut failures = Vec::new();
    let mut lines = 0;
    for path in common::corpus_files() {
        let name = format!(
            "ir/{}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let source = fs::read_to_string(&path).expect("readable corpus file");
        let Ok(run_lines) = parse_run_lines(&source) else {
            continue;
        };
        let Ok(module) = common::load(&name, &source) else {
            continue;
        };
        if run_lines.is_empty() || module.decls.funcs.values().any(|f| f.sig.results.len() > 1) {
            continue;
        }
        let exports_mutable_global = module
            .decls
            .globals
            .values()
            .any(|g| g.mutable && g.linkage == kiln::ir::Linkage::Export);
        let wasm = match common::build_with(&module, features) {
            Ok(w) if exports_mutable_global => {
                failures.push(format!(
                    "{name} (mvp): exports a mutable global, which needs mutable-globals, but built ({} bytes)",
                    w.len()
                ));
                continue;
            }
            Ok(w) => w,
            // As wasm-ld, exporting a mutable global without the feature is an error.
            Err(e) if exports_mutable_global && e.contains("mutable-globals") => continue,
            Err(e) => {
                failures.push(format!("{name}: build (mvp): {e}"));
                continue;
            }
        };
        if let Err(e) = validate(&wasm, &features) {
            failures.push(format!("{name} (mvp): {e}"));
            continue;
        }
        let prepared = match runner.prepare(&wasm) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{name} (mvp): {e}"));
                continue;
            }
        };
        for rl in &run_lines {
            lines += 1;
            let Some(func) = module.func_by_name(&rl.func) else {
                continue;
            };
            let params = &module.decls.funcs[func].sig.params;
            let Some(args) = rl
                .args
                .iter()
                .zip(params)
                .map(|(a, &t)| parse_val(a, t))
                .collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            let want =
                kiln::interp::Instance::new(&module).and_then(|mut i| i.call_func(func, &args));
            let got = runner.call(&prepared, &rl.func, &args);
            let same = match (&want, &got) {
                (Err(_), Ok(Outcome::Trapped(_))) => true,
                (Ok(w), Ok(Outcome::Returned(g))) => {
                    w.len() == g.len() && w.iter().zip(g).all(|(&a, &b)| same_val(a, b))
                }
                _ => false,
            };
            if !same {
                failures.push(format!(
                    "{name}:{} (mvp): `{}`: interpreter {want:?}, wasmtime {got:?}",
                    rl.line, rl.text
                ));
            }
        }
    }
    println!("mvp: {lines} run lines, {} failures", failures.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs `f` on a thread with a 2 MiB stack; a stack overflow aborts the test binary, which
/// the harness reports as a failure.
fn on_small_stack(
    f: impl FnOnce() -> Result<usize, String> + Send + 'static,
) -> Result<usize, String> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn thread")
        .join()
        .map_err(|_| "panicked".to_string())?
}

/// Parses and verifies `text` on a big stack (the front end is not what this tests), then
/// lowers, links and validates it on a 2 MiB stack; returns the wasm size.
fn deep_build(text: String) -> Result<usize, String> {
    let start = std::time::Instant::now();
    let module = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || common::load("deep.ir", &text))
        .expect("spawn thread")
        .join()
        .map_err(|_| "the front end panicked".to_string())??;
    let front = start.elapsed();
    on_small_stack(move || {
        // The phases of the largest function, timed apart, to show where time goes.
        if let Some(body) = module.bodies.values().max_by_key(|b| b.layout.len()) {
            let start = std::time::Instant::now();
            let reducible = kiln::lower::reducible::make_reducible(body);
            let t_red = start.elapsed();
            let mut nodes = Vec::new();
            let start = std::time::Instant::now();
            kiln::lower::structure::structure(reducible.as_ref().unwrap_or(body), &mut nodes)
                .map_err(|e| format!("structure: {e}"))?;
            let insts = |f: &kiln::ir::Function| -> usize {
                f.layout.iter().map(|&b| f.dfg.blocks[b].insts.len()).sum()
            };
            println!(
                "{} blocks, {} instructions: make_reducible {:.2} s ({}), structure {:.2} s, {} nodes",
                body.layout.len(),
                insts(body),
                t_red.as_secs_f64(),
                match &reducible {
                    Some(f) => format!(
                        "was irreducible; now {} blocks, {} instructions",
                        f.layout.len(),
                        insts(f)
                    ),
                    None => "reducible".to_string(),
                },
                start.elapsed().as_secs_f64(),
                nodes.len()
            );
        }
        let start = std::time::Instant::now();
        let wasm = common::build(&module)?;
        let built = start.elapsed();
        if let Ok(path) = std::env::var("KILN_DEEP_OUT") {
            let _ = std::fs::write(path, &wasm);
        }
        validate(&wasm, &Features::default())?;
        println!(
            "parse+verify {:.2} s, lower+link {:.2} s, validate {:.2} s",
            front.as_secs_f64(),
            built.as_secs_f64(),
            (start.elapsed() - built).as_secs_f64()
        );
        Ok(wasm.len())
    })
}

/// Generates and builds one function of `KILN_DEEP_BLOCKS` (default 100,000) logical
/// blocks; the guards of loop headers and the exit add IR blocks.
fn deep_random(local_edges: bool, what: &str) {
    let n: usize = std::env::var("KILN_DEEP_BLOCKS")
        .ok()
        .and_then(|s| s.parse().ok())
        // Random edges make the whole function one irreducible region, whose dispatch copies
        // make the code grow faster than the block count: at 100,000 blocks it passes wasm's
        // 7.6 MB limit per function body (lowering reports that as an error).
        .unwrap_or(if local_edges { 100_000 } else { 50_000 });
    let mut rng = common::irgen::Rng::new(100_000);
    let config = common::irgen::Config {
        funcs: 1,
        min_blocks: n,
        max_blocks: n,
        max_insts: 3,
        max_params: 2,
        trap_percent: 0,
        budget: 100,
        main: false,
        local_edges,
    };
    let start = std::time::Instant::now();
    let program = common::irgen::generate_with(&mut rng, &config);
    println!(
        "{what}: generated in {:.2} s",
        start.elapsed().as_secs_f64()
    );
    let blocks = program.text.matches("\nblock").count();
    assert!(blocks >= n, "only {blocks} blocks");
    let size = deep_build(program.text).unwrap_or_else(|e| panic!("{what}: {e}"));
    println!("{what}: {size} bytes of wasm");
}

/// A function of 50,000 blocks with edges between any blocks: loops with many side
/// entries, so one large irreducible CFG.
#[test]
fn deep_function_of_50k_blocks_any_edges() {
    deep_random(false, "50k blocks, any edges");
}

/// A function of 100,000 blocks with short loops and short forward jumps, as compiled code
/// has (small irreducible regions remain).
#[test]
fn deep_function_of_100k_blocks_local_edges() {
    deep_random(true, "100k blocks, local edges");
}

/// A loop nest 10,000 deep: `h_i` enters loop `i + 1`; the latch `l_i` goes back to `h_i` or
/// out to `l_(i-1)`. Every loop carries a counter as a block parameter.
#[test]
fn deep_loop_nest_10k() {
    const DEPTH: usize = 10_000;
    let mut t =
        String::from("func @nest(i32) -> i32 export {\nblock0(v0: i32):\n    jump block1(v0)\n\n");
    // Headers: block 1 + i; latches: block 1 + DEPTH + i.
    for i in 0..DEPTH {
        let h = 1 + i;
        let _ = writeln!(t, "block{h}(v{}: i32):", 10 + i);
        let _ = writeln!(t, "    v{} = i32.const 1", 100_000 + i);
        let _ = writeln!(
            t,
            "    v{} = i32.add v{}, v{}",
            200_000 + i,
            10 + i,
            100_000 + i
        );
        if i + 1 < DEPTH {
            let _ = writeln!(t, "    jump block{}(v{})\n", h + 1, 200_000 + i);
        } else {
            let _ = writeln!(t, "    jump block{}(v{})\n", 1 + DEPTH + i, 200_000 + i);
        }
    }
    for i in (0..DEPTH).rev() {
        let l = 1 + DEPTH + i;
        let _ = writeln!(t, "block{l}(v{}: i32):", 300_000 + i);
        let _ = writeln!(t, "    v{} = i32.const 7", 400_000 + i);
        let _ = writeln!(
            t,
            "    v{} = i32.and v{}, v{}",
            500_000 + i,
            300_000 + i,
            400_000 + i
        );
        let _ = writeln!(t, "    v{} = i32.eqz v{}", 600_000 + i, 500_000 + i);
        let out = if i == 0 {
            format!("block{}(v{})", 1 + 2 * DEPTH, 300_000 + i)
        } else {
            format!("block{}(v{})", l - 1, 300_000 + i)
        };
        let _ = writeln!(
            t,
            "    br_if v{}, block{}(v{}), {out}\n",
            600_000 + i,
            1 + i,
            300_000 + i
        );
    }
    let _ = writeln!(t, "block{}(v1: i32):\n    return v1\n}}", 1 + 2 * DEPTH);
    let size = deep_build(t).unwrap_or_else(|e| panic!("loop nest: {e}"));
    println!("loop nest 10,000 deep: {size} bytes of wasm");
}
