//! Property test of lowering: random well-typed IR programs (tests/common/gen.rs) are built
//! and linked, validated, and run under wasmtime and under the interpreter; both must give
//! the same results or both trap. One program in four is lowered with node splitting
//! (`LowerOptions::split_budget`).

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::irgen;
use common::wasm::{Outcome, Runner, same_val, validate};
use kiln::interp::{Instance, Val};
use kiln::lower::LowerOptions;
use kiln::target::Features;

/// How many programs the property test builds and runs (`KILN_PROP_CASES` overrides it).
const PROP_CASES: u64 = 2000;

/// How many generated programs the generator self-test runs.
const GEN_CASES: u64 = 2000;

/// The generator's output verifies and runs in the interpreter (that tests the generator).
#[test]
fn generated_programs_verify_and_run() {
    let (mut ok, mut trapped) = (0, 0);
    let (mut funcs, mut irreducible, mut blocks) = (0, 0, 0);
    for seed in 0..GEN_CASES {
        let p = irgen::generate(seed);
        let module = match kiln::ir::parse(&p.text) {
            Ok(m) => m,
            Err(d) => panic!(
                "seed {seed}: does not parse:\n{}\n{}",
                d.render("gen.ir"),
                p.text
            ),
        };
        if let Err(d) = kiln::verify::verify(&module) {
            panic!(
                "seed {seed}: does not verify:\n{}\n{}",
                d.render("gen.ir"),
                p.text
            );
        }
        for body in module.bodies.values().filter(|b| !b.layout.is_empty()) {
            funcs += 1;
            blocks += body.layout.len();
            if kiln::lower::reducible::make_reducible(body).is_some() {
                irreducible += 1;
            }
        }
        let mut inst = Instance::new(&module).expect("instantiate");
        inst.set_fuel(10_000_000);
        match inst.call("main", &p.args) {
            Ok(_) => ok += 1,
            Err(t) => {
                assert!(
                    !t.message.contains("fuel"),
                    "seed {seed}: ran out of fuel: the budget should bound it\n{}",
                    p.text
                );
                trapped += 1;
            }
        }
    }
    println!(
        "generator: {GEN_CASES} programs, {ok} returned, {trapped} trapped; \
         {funcs} functions, {blocks} blocks, {irreducible} functions irreducible"
    );
    assert!(
        irreducible > funcs / 10,
        "too few irreducible functions: {irreducible}"
    );
    assert!(ok > GEN_CASES / 2, "too few programs return: {ok}");
}

/// Writes the program of `KILN_GEN_SEED` to `KILN_GEN_OUT` (a debugging aid; does nothing
/// when they are unset).
#[test]
fn dump_generated_program() {
    let (Ok(seed), Ok(out)) = (
        std::env::var("KILN_GEN_SEED"),
        std::env::var("KILN_GEN_OUT"),
    ) else {
        return;
    };
    let seed: u64 = seed.parse().expect("KILN_GEN_SEED is a number");
    let p = irgen::generate(seed);
    std::fs::write(&out, &p.text).expect("write KILN_GEN_OUT");
    println!("args: {:?}", p.args);
}

fn show(outcome: &Result<Vec<Val>, String>) -> String {
    match outcome {
        Ok(v) => format!("{v:?}"),
        Err(t) => format!("trap ({t})"),
    }
}

/// Lowered and linked, every generated program validates and, under wasmtime, returns what
/// the interpreter returns, or traps where it traps.
#[test]
fn lowered_programs_match_the_interpreter() {
    let cases: u64 = std::env::var("KILN_PROP_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(PROP_CASES);
    let first: u64 = std::env::var("KILN_PROP_FIRST")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut runner = Runner::new();
    runner.fuel = 200_000_000;
    let save_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("lower_props");
    let mut failures = Vec::new();
    let (mut returned, mut trapped, mut bytes) = (0u64, 0u64, 0usize);
    // Time spent building (lower + link + validate), compiling with wasmtime, and running.
    let mut times = [std::time::Duration::ZERO; 3];
    for seed in first..first + cases {
        let p = irgen::generate(seed);
        let module = kiln::ir::parse(&p.text)
            .unwrap_or_else(|d| panic!("seed {seed}: {}", d.render("gen.ir")));
        if let Err(d) = kiln::verify::verify(&module) {
            panic!(
                "seed {seed}: generator output does not verify: {}",
                d.render("gen.ir")
            );
        }
        let problem = (|| -> Result<(), String> {
            let t = std::time::Instant::now();
            // One program in four is lowered with node splitting before the dispatch blocks.
            let lopts = LowerOptions {
                split_budget: if seed % 4 == 3 { 64 } else { 0 },
                ..LowerOptions::default()
            };
            let wasm = catch_unwind(AssertUnwindSafe(|| common::build_lowered(&module, &lopts)))
                .map_err(|_| "lowering or linking panicked".to_string())??;
            bytes += wasm.len();
            validate(&wasm, &Features::default())?;
            times[0] += t.elapsed();
            let t = std::time::Instant::now();
            let prepared = runner.prepare(&wasm)?;
            times[1] += t.elapsed();
            let t_run = std::time::Instant::now();
            let mut inst = Instance::new(&module).map_err(|t| format!("interpreter: {t}"))?;
            inst.set_fuel(50_000_000);
            let want = inst.call("main", &p.args).map_err(|t| t.to_string());
            if want.as_ref().is_err_and(|t| t.contains("fuel")) {
                return Err("the interpreter ran out of fuel".into());
            }
            let got = match runner.call(&prepared, "main", &p.args)? {
                Outcome::Returned(v) => Ok(v),
                Outcome::Trapped(t) => Err(t),
            };
            times[2] += t_run.elapsed();
            let same = match (&want, &got) {
                (Err(_), Err(_)) => true,
                (Ok(w), Ok(g)) => {
                    w.len() == g.len() && w.iter().zip(g).all(|(&a, &b)| same_val(a, b))
                }
                _ => false,
            };
            if got.as_ref().is_err_and(|t| t.contains("fuel")) {
                return Err(format!(
                    "wasmtime ran out of fuel; interpreter: {}",
                    show(&want)
                ));
            }
            if !same {
                return Err(format!(
                    "interpreter {}, wasmtime {}",
                    show(&want),
                    show(&got)
                ));
            }
            if want.is_ok() {
                returned += 1;
            } else {
                trapped += 1;
            }
            Ok(())
        })();
        if let Err(e) = problem {
            let _ = std::fs::create_dir_all(&save_dir);
            let file = save_dir.join(format!("seed-{seed}.ir"));
            let _ = std::fs::write(&file, &p.text);
            failures.push(format!(
                "seed {seed} (args {:?}, saved to {}): {e}",
                p.args,
                file.display()
            ));
        }
    }
    println!(
        "time: build+validate {:.2} s, wasmtime compile {:.2} s, run both {:.2} s",
        times[0].as_secs_f64(),
        times[1].as_secs_f64(),
        times[2].as_secs_f64()
    );
    println!(
        "property: {cases} programs, {returned} returned, {trapped} trapped, {} failed, {bytes} bytes of wasm",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} failed:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Prints the WAT of the module `KILN_WAT_IN` to `KILN_WAT_OUT` (a debugging aid; does
/// nothing when they are unset).
#[test]
fn dump_wat() {
    let (Ok(input), Ok(out)) = (std::env::var("KILN_WAT_IN"), std::env::var("KILN_WAT_OUT")) else {
        return;
    };
    let wasm = std::fs::read(&input).expect("read KILN_WAT_IN");
    let text = common::wasm::print_wat(&wasm).expect("printable module");
    std::fs::write(&out, text).expect("write KILN_WAT_OUT");
}
