//! Property test of lowering: random well-typed IR programs (tests/common/gen.rs) are built
//! and linked, validated, and run under wasmtime and under the interpreter; both must give
//! the same results or both trap.

mod common;

use common::irgen;
use kiln::interp::Instance;

/// How many generated programs the generator self-test runs.
const GEN_CASES: u64 = 2000;

/// The generator's output verifies and runs in the interpreter (that tests the generator).
#[test]
fn generated_programs_verify_and_run() {
    let (mut ok, mut trapped) = (0, 0);
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
    println!("generator: {GEN_CASES} programs, {ok} returned, {trapped} trapped");
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
