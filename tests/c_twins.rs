//! C twins of corpus programs: `tests/c_twins/NAME.c` defines the functions of `ir/NAME.ir`
//! under the same names, written as a C programmer would (functions returning two values
//! return a struct, which the wasm32 C ABI returns through a pointer).
//!
//! `code_quality_c_twins` compiles each twin with `clang --target=wasm32 -c -O0` and `-O2`,
//! checks that the objects define exactly the IR program's functions, and prints the
//! code-quality table of BENCHMARKS.md: per program, the functions, the code bytes (function
//! bodies with their local declarations, relocatable immediates padded as in any object
//! file) and the declared locals per function (parameters excluded) of kiln's object and of
//! the two C objects, counted over the same functions. Run it with
//! `cargo test --test c_twins -- --nocapture`. It needs clang with the wasm32 target and
//! fails when clang is missing.
//!
//! `c_twins_pass_the_run_lines` checks that the twins are equivalent: each is compiled at
//! `-O0` and `-O2`, linked by `wasm-ld --no-entry --export-all`, and every run line of its
//! corpus program whose function has the IR signature in C (all but the two-result ones,
//! which take a return pointer in C) must give the expected result under wasmtime, after
//! the constructors ran. It needs clang and wasm-ld and fails when they are missing.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::wasm::{from_wasm, to_wasm};
use kiln::lower::{LowerOptions, lower_module};
use kiln::object::{Object, SYM_UNDEFINED, SymbolKind, read_object};
use kiln::runtest::{Expect, parse_run_lines, parse_val, val_matches};

/// Figures of one function.
#[derive(Clone, Copy, Debug)]
struct FuncFigures {
    /// Body bytes (local declarations and code).
    bytes: usize,
    /// Declared locals, parameters excluded.
    locals: u64,
}

/// Reads the local declarations at the start of a function body: the number of locals.
fn declared_locals(body: &[u8]) -> Result<u64, String> {
    let mut reader = wasmparser::BinaryReader::new(body, 0);
    let groups = reader.read_var_u32().map_err(|e| e.to_string())?;
    let mut total = 0u64;
    for _ in 0..groups {
        total += u64::from(reader.read_var_u32().map_err(|e| e.to_string())?);
        reader
            .read::<wasmparser::ValType>()
            .map_err(|e| e.to_string())?;
    }
    Ok(total)
}

/// The defined functions of an object by symbol name.
fn functions(obj: &Object<'_>) -> Result<BTreeMap<String, FuncFigures>, String> {
    let imported = obj.num_imported_funcs();
    let mut out = BTreeMap::new();
    for sym in &obj.symbols {
        let SymbolKind::Function(index) = sym.kind else {
            continue;
        };
        if sym.flags & SYM_UNDEFINED != 0 {
            continue;
        }
        let func = index
            .checked_sub(imported)
            .and_then(|i| obj.funcs.get(i as usize))
            .ok_or_else(|| {
                format!(
                    "{}: symbol {} names no defined function",
                    obj.path, sym.name
                )
            })?;
        let locals = declared_locals(&func.body)
            .map_err(|e| format!("{}: function {}: {e}", obj.path, sym.name))?;
        out.insert(
            sym.name.to_string(),
            FuncFigures {
                bytes: func.body.len(),
                locals,
            },
        );
    }
    Ok(out)
}

/// Compiles `c` with clang for wasm32 at `opt` into `out_dir`; the object's path.
fn compile(c: &Path, opt: &str, out_dir: &Path) -> PathBuf {
    let stem = c
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let obj_path = out_dir.join(format!("{stem}{opt}.o"));
    let output = Command::new("clang")
        .args([
            "--target=wasm32",
            "-c",
            opt,
            "-nostdlib",
            "-ffreestanding",
            "-fno-builtin",
        ])
        .args(["-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&obj_path)
        .arg(c)
        .output()
        .unwrap_or_else(|e| panic!("cannot run clang (needed for the C twins): {e}"));
    assert!(
        output.status.success(),
        "clang {opt} {} failed:\n{}",
        c.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    obj_path
}

/// Compiles `c` with clang for wasm32 at `opt` and reads the object's functions.
fn clang_functions(c: &Path, opt: &str, out_dir: &Path) -> BTreeMap<String, FuncFigures> {
    let obj_path = compile(c, opt, out_dir);
    let bytes = fs::read(&obj_path).unwrap_or_else(|e| panic!("{}: {e}", obj_path.display()));
    let path = obj_path.display().to_string();
    let obj = read_object(&path, &bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    functions(&obj).unwrap_or_else(|e| panic!("{e}"))
}

/// The twins, sorted by name.
fn twins() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c_twins");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    files.sort();
    files
}

/// One column group of the table: functions, code bytes, mean and max locals per function.
fn cells(figs: &[FuncFigures]) -> (usize, usize, u64, u64) {
    let bytes = figs.iter().map(|f| f.bytes).sum();
    let locals = figs.iter().map(|f| f.locals).sum();
    let max = figs.iter().map(|f| f.locals).max().unwrap_or(0);
    (figs.len(), bytes, locals, max)
}

fn mean(total: u64, n: usize) -> f64 {
    if n == 0 { 0.0 } else { total as f64 / n as f64 }
}

#[test]
fn code_quality_c_twins() {
    let files = twins();
    assert!(
        files.len() >= 10,
        "expected at least 10 C twins, found {}",
        files.len()
    );
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c_twins");
    fs::create_dir_all(&out_dir).unwrap_or_else(|e| panic!("{}: {e}", out_dir.display()));
    let mut rows = Vec::new();
    let mut totals = [(0usize, 0usize, 0u64, 0u64); 3];
    for c in &files {
        let stem = c
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let ir_name = format!("{stem}.ir");
        let ir_path = common::corpus_dir().join(&ir_name);
        let source = fs::read_to_string(&ir_path).unwrap_or_else(|e| {
            panic!("{}: no corpus program for the twin: {e}", ir_path.display())
        });
        let module = common::load(&ir_name, &source).unwrap_or_else(|e| panic!("{e}"));
        let ir_funcs: Vec<String> = module
            .decls
            .funcs
            .values()
            .filter(|d| !d.linkage.is_extern())
            .map(|d| d.name.clone())
            .collect();
        let opts = LowerOptions {
            path: ir_name.clone(),
            ..LowerOptions::default()
        };
        let object = lower_module(&module, &opts).unwrap_or_else(|e| panic!("{ir_name}: {e}"));
        let kiln = functions(&object).unwrap_or_else(|e| panic!("{e}"));
        let o0 = clang_functions(c, "-O0", &out_dir);
        let o2 = clang_functions(c, "-O2", &out_dir);
        let mut groups: [Vec<FuncFigures>; 3] = Default::default();
        for name in &ir_funcs {
            for (k, (what, map)) in [("kiln", &kiln), ("clang -O0", &o0), ("clang -O2", &o2)]
                .into_iter()
                .enumerate()
            {
                let fig = map.get(name.as_str()).unwrap_or_else(|| {
                    panic!(
                        "{}: {what} defines no function `{name}` of {ir_name}",
                        c.display()
                    )
                });
                groups[k].push(*fig);
            }
        }
        for (what, map) in [("clang -O0", &o0), ("clang -O2", &o2)] {
            for name in map.keys() {
                assert!(
                    ir_funcs.contains(name),
                    "{} ({what}) defines `{name}`, which {ir_name} does not",
                    c.display()
                );
            }
        }
        let mut row = format!("| {stem} |");
        let figs: Vec<_> = groups.iter().map(|g| cells(g)).collect();
        for (k, f) in figs.iter().enumerate() {
            let t = &mut totals[k];
            t.0 += f.0;
            t.1 += f.1;
            t.2 += f.2;
            t.3 = t.3.max(f.3);
        }
        row.push_str(&format!(" {} |", figs[0].0));
        for f in &figs {
            row.push_str(&format!(" {} |", f.1));
        }
        for f in &figs {
            row.push_str(&format!(" {:.1} ({}) |", mean(f.2, f.0), f.3));
        }
        rows.push(row);
    }
    println!(
        "| program | functions | code bytes: kiln | clang -O0 | clang -O2 | locals/function mean (max): kiln | clang -O0 | clang -O2 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!("{r}");
    }
    let mut total = format!("| **total** | {} |", totals[0].0);
    for t in &totals {
        total.push_str(&format!(" {} |", t.1));
    }
    for t in &totals {
        total.push_str(&format!(" {:.1} ({}) |", mean(t.2, t.0), t.3));
    }
    println!("{total}");
    // Sanity of the figures themselves: every function has a body, and optimized C is
    // smaller than unoptimized C overall.
    assert!(totals.iter().all(|t| t.1 > 0));
    assert!(
        totals[2].1 < totals[1].1,
        "clang -O2 code is not smaller than -O0"
    );
}

/// Links `obj` with wasm-ld into a module that exports everything.
fn link_wasm_ld(obj: &Path) -> Vec<u8> {
    let out = obj.with_extension("wasm");
    let output = Command::new("wasm-ld")
        .args(["--no-entry", "--export-all", "-o"])
        .arg(&out)
        .arg(obj)
        .output()
        .unwrap_or_else(|e| panic!("cannot run wasm-ld (needed for the C twins): {e}"));
    assert!(
        output.status.success(),
        "wasm-ld {} failed:\n{}",
        obj.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    fs::read(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()))
}

#[test]
fn c_twins_pass_the_run_lines() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c_twins_run");
    fs::create_dir_all(&out_dir).unwrap_or_else(|e| panic!("{}: {e}", out_dir.display()));
    let mut config = wasmtime::Config::new();
    config.consume_fuel(true);
    config.cranelift_opt_level(wasmtime::OptLevel::None);
    let engine = wasmtime::Engine::new(&config).expect("wasmtime engine");
    let (mut checked, mut not_comparable) = (0usize, 0usize);
    let mut failures = Vec::new();
    for c in twins() {
        let stem = c
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let ir_name = format!("{stem}.ir");
        let source = fs::read_to_string(common::corpus_dir().join(&ir_name))
            .unwrap_or_else(|e| panic!("{ir_name}: {e}"));
        let module = common::load(&ir_name, &source).unwrap_or_else(|e| panic!("{e}"));
        let run_lines =
            parse_run_lines(&source).unwrap_or_else(|d| panic!("{}", d.render(&ir_name)));
        assert!(!run_lines.is_empty(), "{ir_name} has no run lines");
        for opt in ["-O0", "-O2"] {
            let wasm = link_wasm_ld(&compile(&c, opt, &out_dir));
            let compiled = wasmtime::Module::new(&engine, &wasm)
                .unwrap_or_else(|e| panic!("{stem}{opt}: wasmtime compile: {e:#}"));
            for rl in &run_lines {
                let at = format!("{stem}.c {opt}, {ir_name}:{}: `{}`", rl.line, rl.text);
                let func = module
                    .func_by_name(&rl.func)
                    .unwrap_or_else(|| panic!("{at}: no function @{}", rl.func));
                let sig = &module.decls.funcs[func].sig;
                let mut store = wasmtime::Store::new(&engine, ());
                store.set_fuel(1 << 32).expect("fuel");
                let instance = wasmtime::Instance::new(&mut store, &compiled, &[])
                    .unwrap_or_else(|e| panic!("{at}: instantiate: {e:#}"));
                let f = instance
                    .get_func(&mut store, &rl.func)
                    .unwrap_or_else(|| panic!("{at}: the twin exports no `{}`", rl.func));
                let ty = f.ty(&store);
                if ty.params().len() != sig.params.len() || ty.results().len() != sig.results.len()
                {
                    not_comparable += 1;
                    continue;
                }
                if let Some(ctors) = instance.get_func(&mut store, "__wasm_call_ctors") {
                    ctors
                        .call(&mut store, &[], &mut [])
                        .unwrap_or_else(|e| panic!("{at}: constructors: {e:#}"));
                }
                let args: Vec<wasmtime::Val> = rl
                    .args
                    .iter()
                    .zip(&sig.params)
                    .map(|(a, &t)| {
                        parse_val(a, t)
                            .map(to_wasm)
                            .unwrap_or_else(|| panic!("{at}: bad argument `{a}`"))
                    })
                    .collect();
                let mut results = vec![wasmtime::Val::I32(0); ty.results().len()];
                let outcome = f.call(&mut store, &args, &mut results);
                checked += 1;
                let problem = match (&rl.expect, outcome) {
                    (Expect::Traps, Err(_)) => None,
                    (Expect::Traps, Ok(())) => Some(format!("expected a trap, got {results:?}")),
                    (_, Err(e)) => Some(format!("unexpected trap: {e:#}")),
                    (Expect::Returns, Ok(())) => None,
                    (Expect::Results(want), Ok(())) => {
                        let got: Vec<_> = results
                            .iter()
                            .map(|v| from_wasm(v).unwrap_or_else(|e| panic!("{at}: {e}")))
                            .collect();
                        let ok = want.len() == got.len()
                            && want.iter().zip(&got).all(|(w, &g)| val_matches(w, g));
                        (!ok).then(|| format!("expected {}, got {got:?}", want.join(", ")))
                    }
                };
                if let Some(p) = problem {
                    failures.push(format!("{at}: {p}"));
                }
            }
        }
    }
    println!(
        "C twins: {checked} run lines checked, {not_comparable} with two results (a return pointer in C) not comparable"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 150, "only {checked} run lines checked");
}
