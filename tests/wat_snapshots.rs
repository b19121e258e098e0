//! The printed WAT of every corpus program's built module, as insta snapshots in
//! `snapshots/wat@FILE.ir.snap`, so that a change of the generated code shows in review.
//!
//! Also the code-quality figures of the corpus (functions, code bytes, locals per function),
//! printed by `cargo test --test wat_snapshots -- --nocapture code_quality`, and checks the
//! emitter must keep: no declared local that is never used, and no `local.set X` directly
//! followed by `local.get X` when X is read nowhere else (stackification removes those).

mod common;

use std::collections::HashMap;
use std::fs;

use wasmparser::{Operator, Parser, Payload};

#[test]
fn wat() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!("../ir", "*.ir", |path| {
            let name = format!(
                "ir/{}",
                path.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            );
            let source = fs::read_to_string(path).expect("readable corpus file");
            let module = common::load(&name, &source).unwrap_or_else(|e| panic!("{e}"));
            let wasm = common::build(&module).unwrap_or_else(|e| panic!("{name}: {e}"));
            let text = common::wasm::print_wat(&wasm).unwrap_or_else(|e| panic!("{name}: {e}"));
            insta::assert_snapshot!("wat", text);
        });
    });
}

/// Figures of one module's code section.
#[derive(Default, Debug)]
pub struct CodeFigures {
    /// Defined functions.
    pub funcs: usize,
    /// Bytes of the code section's function bodies.
    pub code_bytes: u64,
    /// Declared locals (not parameters) of each function.
    pub locals: Vec<usize>,
    /// Problems found: unused locals, removable set/get pairs.
    pub issues: Vec<String>,
}

/// Reads the code section of `wasm`.
pub fn code_figures(wasm: &[u8]) -> Result<CodeFigures, String> {
    let mut fig = CodeFigures::default();
    let mut func_types: Vec<u32> = Vec::new();
    let mut type_params: Vec<usize> = Vec::new();
    let mut imported_funcs = 0u32;
    let mut index = 0u32;
    let err = |e: wasmparser::BinaryReaderError| e.to_string();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(err)? {
            Payload::TypeSection(r) => {
                for group in r {
                    for sub in group.map_err(err)?.into_types() {
                        let params = match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => f.params().len(),
                            _ => 0,
                        };
                        type_params.push(params);
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    if matches!(imp.map_err(err)?.ty, wasmparser::TypeRef::Func(_)) {
                        imported_funcs += 1;
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    func_types.push(t.map_err(err)?);
                }
            }
            Payload::CodeSectionEntry(body) => {
                let fidx = imported_funcs + index;
                let nparams = func_types
                    .get(index as usize)
                    .and_then(|&t| type_params.get(t as usize))
                    .copied()
                    .unwrap_or(0);
                index += 1;
                fig.funcs += 1;
                let r = body.range();
                fig.code_bytes += r.end - r.start;
                let mut nlocals = 0usize;
                for l in body.get_locals_reader().map_err(err)? {
                    nlocals += l.map_err(err)?.0 as usize;
                }
                fig.locals.push(nlocals);
                let mut reads: HashMap<u32, usize> = HashMap::new();
                let mut uses: HashMap<u32, usize> = HashMap::new();
                let mut pairs: Vec<u32> = Vec::new();
                let mut last_set: Option<u32> = None;
                for op in body.get_operators_reader().map_err(err)? {
                    let op = op.map_err(err)?;
                    let mut this_set = None;
                    match op {
                        Operator::LocalGet { local_index } => {
                            *reads.entry(local_index).or_default() += 1;
                            *uses.entry(local_index).or_default() += 1;
                            if last_set == Some(local_index) {
                                pairs.push(local_index);
                            }
                        }
                        Operator::LocalSet { local_index } => {
                            *uses.entry(local_index).or_default() += 1;
                            this_set = Some(local_index);
                        }
                        Operator::LocalTee { local_index } => {
                            *reads.entry(local_index).or_default() += 1;
                            *uses.entry(local_index).or_default() += 1;
                        }
                        _ => {}
                    }
                    last_set = this_set;
                }
                for l in 0..nlocals as u32 {
                    let local = nparams as u32 + l;
                    if !uses.contains_key(&local) {
                        fig.issues
                            .push(format!("func {fidx}: local {local} is never used"));
                    }
                }
                for local in pairs {
                    if reads.get(&local) == Some(&1) {
                        fig.issues.push(format!(
                            "func {fidx}: `local.set {local}` then `local.get {local}`, its only read"
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(fig)
}

#[test]
fn code_quality() {
    let mut rows = Vec::new();
    let mut issues = Vec::new();
    let (mut tf, mut tb, mut tl, mut max_all) = (0, 0u64, 0, 0);
    for path in common::corpus_files() {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let source = fs::read_to_string(&path).expect("readable corpus file");
        let module = common::load(&file, &source).unwrap_or_else(|e| panic!("{e}"));
        let wasm = common::build(&module).unwrap_or_else(|e| panic!("{file}: {e}"));
        let fig = code_figures(&wasm).unwrap_or_else(|e| panic!("{file}: {e}"));
        let total: usize = fig.locals.iter().sum();
        let max = fig.locals.iter().copied().max().unwrap_or(0);
        let mean = if fig.funcs == 0 {
            0.0
        } else {
            total as f64 / fig.funcs as f64
        };
        rows.push(format!(
            "| {file} | {} | {} | {mean:.1} | {max} |",
            fig.funcs, fig.code_bytes
        ));
        tf += fig.funcs;
        tb += fig.code_bytes;
        tl += total;
        max_all = max_all.max(max);
        issues.extend(fig.issues.into_iter().map(|i| format!("{file}: {i}")));
    }
    println!("| program | functions | code bytes | locals/function (mean) | locals (max) |");
    println!("|---|---:|---:|---:|---:|");
    for r in &rows {
        println!("{r}");
    }
    let mean = if tf == 0 { 0.0 } else { tl as f64 / tf as f64 };
    println!("| **total** | {tf} | {tb} | {mean:.1} | {max_all} |");
    assert!(
        issues.is_empty(),
        "{} code-quality issues:\n{}",
        issues.len(),
        issues.join("\n")
    );
}
