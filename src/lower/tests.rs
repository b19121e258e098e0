//! Tests of lowering: small functions checked instruction by instruction (printed as WAT
//! from a module that wraps the object without linking), and the whole corpus validated
//! under several feature sets.

use super::*;
use crate::ir::Type;
use crate::object::{ConstExpr, ImportKind, LocalNames, Object, RelocType, ValType};
use crate::testing::Rng;

fn vt(t: &ValType) -> wasm_encoder::ValType {
    match t {
        ValType::I32 => wasm_encoder::ValType::I32,
        ValType::I64 => wasm_encoder::ValType::I64,
        ValType::F32 => wasm_encoder::ValType::F32,
        ValType::F64 => wasm_encoder::ValType::F64,
        ValType::V128 => wasm_encoder::ValType::V128,
        ValType::FuncRef => wasm_encoder::ValType::FUNCREF,
        ValType::ExternRef => wasm_encoder::ValType::EXTERNREF,
    }
}

/// A module with the object's types, imports, functions and globals. Relocation sites keep
/// their placeholders, which are the object's own indices, so the module validates as is.
pub(crate) fn wrap(obj: &Object) -> Vec<u8> {
    use wasm_encoder as we;
    let mut module = we::Module::new();
    let mut types = we::TypeSection::new();
    for t in &obj.types {
        types
            .ty()
            .function(t.params.iter().map(vt), t.results.iter().map(vt));
    }
    module.section(&types);
    let mut imports = we::ImportSection::new();
    for imp in &obj.imports {
        let ty = match imp.kind {
            ImportKind::Func(t) => we::EntityType::Function(t),
            ImportKind::Global { ty, mutable } => we::EntityType::Global(we::GlobalType {
                val_type: vt(&ty),
                mutable,
                shared: false,
            }),
            ImportKind::Table { .. } => we::EntityType::Table(we::TableType {
                element_type: we::RefType::FUNCREF,
                minimum: 0,
                maximum: None,
                table64: false,
                shared: false,
            }),
            ImportKind::Memory { .. } => we::EntityType::Memory(we::MemoryType {
                minimum: 1,
                maximum: None,
                memory64: false,
                shared: false,
                page_size_log2: None,
            }),
            ImportKind::Tag(_) => continue,
        };
        imports.import(&imp.module, &imp.name, ty);
    }
    module.section(&imports);
    let mut funcs = we::FunctionSection::new();
    for f in &obj.funcs {
        funcs.function(f.type_index);
    }
    module.section(&funcs);
    let mut globals = we::GlobalSection::new();
    for g in &obj.globals {
        let init = match g.init {
            ConstExpr::I32(x) => we::ConstExpr::i32_const(x),
            ConstExpr::I64(x) => we::ConstExpr::i64_const(x),
            ConstExpr::F32(x) => we::ConstExpr::f32_const(we::Ieee32::new(x)),
            ConstExpr::F64(x) => we::ConstExpr::f64_const(we::Ieee64::new(x)),
            ConstExpr::RefNull => we::ConstExpr::ref_null(we::HeapType::FUNC),
        };
        globals.global(
            we::GlobalType {
                val_type: vt(&g.ty),
                mutable: g.mutable,
                shared: false,
            },
            &init,
        );
    }
    module.section(&globals);
    let mut exports = we::ExportSection::new();
    for sym in &obj.symbols {
        if sym.flags & crate::object::SYM_EXPORTED != 0
            && let crate::object::SymbolKind::Function(index) = sym.kind
        {
            exports.export(&sym.name, we::ExportKind::Func, index);
        }
    }
    module.section(&exports);
    let mut code = we::CodeSection::new();
    for f in &obj.funcs {
        code.raw(&f.body);
    }
    module.section(&code);
    module.finish()
}

/// wasmparser features for a target feature set.
pub(crate) fn wasm_features(f: Features) -> wasmparser::WasmFeatures {
    use wasmparser::WasmFeatures as W;
    let mut w = W::WASM1;
    for (on, flag) in [
        (f.sign_ext, W::SIGN_EXTENSION),
        (f.nontrapping_fptoint, W::SATURATING_FLOAT_TO_INT),
        (f.bulk_memory, W::BULK_MEMORY),
        (f.multivalue, W::MULTI_VALUE),
        (f.reference_types, W::REFERENCE_TYPES),
    ] {
        if on {
            w |= flag;
        }
    }
    w
}

fn lower_text(text: &str, features: Features) -> Result<Object<'static>, LowerError> {
    let module = crate::ir::parse(text).expect("parses");
    crate::verify::verify(&module).expect("verifies");
    lower_module(
        &module,
        &LowerOptions {
            features,
            path: "test.ir".into(),
            split_budget: 0,
        },
    )
}

/// Lowers, validates, and prints the code section as WAT.
fn wat(text: &str, features: Features) -> String {
    let obj = lower_text(text, features).expect("lowers");
    let bytes = wrap(&obj);
    wasmparser::Validator::new_with_features(wasm_features(features))
        .validate_all(&bytes)
        .unwrap_or_else(|e| {
            panic!(
                "invalid: {e}\n{}",
                wasmprinter::print_bytes(&bytes).unwrap_or_default()
            )
        });
    let full = wasmprinter::print_bytes(&bytes).expect("prints");
    // Keep the function bodies only.
    full.lines()
        .skip_while(|l| !l.trim_start().starts_with("(func"))
        .filter(|l| {
            let t = l.trim_start();
            !t.starts_with("(type") && !t.starts_with("(import") && !t.starts_with("(global")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// No `local.set x` right before `local.get x` (a tee or the stack does that).
fn assert_no_set_get_pairs(wat: &str) {
    let lines: Vec<&str> = wat.lines().map(str::trim).collect();
    for w in lines.windows(2) {
        if let Some(x) = w[0].strip_prefix("local.set ") {
            assert_ne!(w[1], format!("local.get {x}"), "{wat}");
        }
    }
}

#[test]
fn fib_stackifies_and_reuses_the_parameter_local() {
    let text = "\
func @fib(i32) -> i32 export {
block0(v0: i32):
    v1 = i32.const 2
    v2 = i32.lt_u v0, v1
    br_if v2, block1, block2
block1:
    return v0
block2:
    v3 = i32.const 1
    v4 = i32.sub v0, v3
    v5 = call @fib(v4)
    v6 = i32.sub v4, v3
    v7 = call @fib(v6)
    v8 = i32.add v5, v7
    return v8
}
";
    let out = wat(text, Features::default());
    assert_eq!(
        out,
        "  (func (;0;) (type 0) (param i32) (result i32)
    local.get 0
    i32.const 2
    i32.lt_u
    if ;; label = @1
      local.get 0
      return
    else
      local.get 0
      i32.const 1
      i32.sub
      local.tee 0
      call 0
      local.get 0
      i32.const 1
      i32.sub
      call 0
      i32.add
      return
    end
    unreachable
  )
)"
    );
    let obj = lower_text(text, Features::default()).unwrap();
    let f = &obj.funcs[0];
    // v4 reuses the parameter's local once v0 is dead.
    assert_eq!(f.local_names.iter().collect::<Vec<_>>(), vec![(0, "v0")]);
    // Two calls, each a padded FunctionIndexLeb.
    assert_eq!(obj.func_relocs(0).len(), 2);
    for r in obj.func_relocs(0) {
        assert_eq!(r.ty, RelocType::FunctionIndexLeb);
        let at = r.offset as usize;
        assert_eq!(f.body[at - 1], 0x10);
        assert_eq!(&f.body[at..at + 5], &[0x80, 0x80, 0x80, 0x80, 0x00]);
    }
}

#[test]
fn loop_counter_coalesces_with_its_parameter() {
    let text = "\
func @sum(i32) -> i32 export {
block0(v0: i32):
    v1 = i32.const 0
    jump block1(v1, v1)
block1(v2: i32, v3: i32):
    v4 = i32.lt_s v2, v0
    br_if v4, block2, block3
block2:
    v5 = i32.add v3, v2
    v6 = i32.const 1
    v7 = i32.add v2, v6
    jump block1(v7, v5)
block3:
    return v3
}
";
    let out = wat(text, Features::default());
    // Two locals besides the parameter: the sum shares its parameter's local (no copy).
    assert!(out.contains("(local i32 i32)\n"), "{out}");
    // The incremented counter goes from the stack straight into its parameter's local.
    assert!(
        out.contains("local.get 1\n        i32.const 1\n        i32.add\n"),
        "{out}"
    );
    assert_no_set_get_pairs(&out);
}

#[test]
fn parallel_copy_swaps_through_the_stack() {
    let text = "\
func @swap(i32, i32, i32) -> i32 export {
block0(v0: i32, v1: i32, v2: i32):
    jump block1(v0, v1, v2)
block1(v3: i32, v4: i32, v5: i32):
    v6 = i32.eqz v5
    br_if v6, block3, block2
block2:
    v7 = i32.const 1
    v8 = i32.sub v5, v7
    jump block1(v4, v3, v8)
block3:
    v9 = i32.const 10
    v10 = i32.mul v3, v9
    v11 = i32.add v10, v4
    return v11
}
";
    let out = wat(text, Features::default());
    assert!(out.contains("local.get"), "{out}");
}

#[test]
fn features_change_the_expansion() {
    let text = "\
func @f(i32, f64) -> i32 export {
block0(v0: i32, v1: f64):
    v2 = i32.extend8_s v0
    v3 = i32.trunc_sat_f64_s v1
    v4 = i32.add v2, v3
    return v4
}
";
    let generic = wat(text, Features::default());
    assert!(generic.contains("i32.extend8_s"), "{generic}");
    assert!(generic.contains("i32.trunc_sat_f64_s"), "{generic}");
    let mvp = wat(text, Features::MVP);
    assert!(
        !mvp.contains("extend8_s") && !mvp.contains("trunc_sat"),
        "{mvp}"
    );
    assert!(
        mvp.contains("i32.shr_s") && mvp.contains("i32.trunc_f64_s"),
        "{mvp}"
    );
}

#[test]
fn multivalue_needs_the_feature() {
    let text = "\
func @two() -> i32, i32 export {
block0:
    v0 = i32.const 1
    return v0, v0
}
";
    let f = Features {
        multivalue: false,
        ..Features::default()
    };
    let err = lower_text(text, f).unwrap_err();
    assert_eq!(
        err.to_string(),
        "function @two returns 2 values, which needs the multivalue feature"
    );
    wat(text, Features::default());
}

#[test]
fn stack_slots_use_the_shadow_stack() {
    let text = "\
func @f(i32) -> i32 export {
    ss0 = stack_slot 8 align 4
block0(v0: i32):
    v1 = stack_addr ss0
    i32.store v1, v0 offset=4
    v2 = stack_addr ss0 + 4
    v3 = i32.load v2
    return v3
}
";
    let obj = lower_text(text, Features::default()).unwrap();
    let sp = obj
        .symbols
        .iter()
        .position(|s| s.name == "__stack_pointer")
        .expect("stack pointer symbol") as u32;
    let globals: Vec<_> = obj
        .func_relocs(0)
        .iter()
        .filter(|r| r.ty == RelocType::GlobalIndexLeb)
        .collect();
    assert_eq!(globals.len(), 3, "prologue get/set and epilogue set");
    assert!(globals.iter().all(|r| r.index == sp));
    let out = wat(text, Features::default());
    assert!(out.contains("i32.const 16\n    i32.sub"), "{out}");
}

/// A name lowering needs for what the bodies use, taken by an IR item that does not fit, is
/// an error before any error of the bodies themselves; an item that fits is used, and the
/// bodies (lowered before the needs are known) refer to it.
#[test]
fn needed_names_conflict_or_are_reused() {
    let body = "\
func @f(ptr, ptr, ptr) -> i32 export {
    ss0 = stack_slot 8 align 4
block0(v0: ptr, v1: ptr, v2: ptr):
    intrinsic memcpy(v0, v1, v2)
    v3 = stack_addr ss0
    v4 = i32.load v3
    return v4
}
";
    let bad_sp = format!("global @__stack_pointer: i64 mut = 0\n{body}");
    let err = lower_text(&bad_sp, Features::MVP).unwrap_err().to_string();
    assert!(
        err.contains("__stack_pointer") && err.contains("must be an i32"),
        "{err}"
    );
    let bad_memcpy = format!("func @memcpy() {{\nblock0:\n    return\n}}\n{body}");
    let err = lower_text(&bad_memcpy, Features::MVP)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("memcpy") && err.contains("another kind or type"),
        "{err}"
    );
    // Not needed with bulk memory: no conflict.
    assert!(lower_text(&bad_memcpy, Features::default()).is_ok());

    let good = format!(
        "extern global @__stack_pointer: ptr mut\n\
         func @memcpy(ptr, ptr, ptr) -> ptr {{\nblock0(v0: ptr, v1: ptr, v2: ptr):\n    return v0\n}}\n\
         {body}"
    );
    let obj = lower_text(&good, Features::MVP).unwrap();
    check_relocs(&obj, "reused");
    assert!(
        !obj.symbols
            .iter()
            .any(|s| s.flags & crate::object::SYM_UNDEFINED != 0 && s.name == "memcpy")
    );
    let call = obj
        .func_relocs(1)
        .iter()
        .find(|r| r.ty == RelocType::FunctionIndexLeb)
        .expect("the memcpy call");
    assert_eq!(obj.symbols[call.index as usize].name, "memcpy");
    let sp = obj
        .func_relocs(1)
        .iter()
        .find(|r| r.ty == RelocType::GlobalIndexLeb)
        .expect("the stack pointer");
    assert_eq!(sp.index, 0, "the extern global's symbol");
}

/// What only unreachable blocks need is still imported (the reachable code's needs are found
/// with the code, the other blocks of the layout are read apart), in a reducible function
/// and in an irreducible one (whose reducible copy is what gets lowered), as when the code
/// reads it.
#[test]
fn unreachable_code_keeps_its_needs() {
    let needy = "\
    v10 = i64.const 3
    v11, v12 = intrinsic i128.mul(v10, v10, v10, v10)
    v13, v14 = tag_name %Color(v9)
    v15 = tls_addr @tl
    v16 = func_addr @g
    v17 = call_indirect (i32) -> i32 v16(v9)
    memory.fill v15, v9, v17
    return v17
";
    let head = "\
enum %Color: u8 { Red, Green }
data @tl: tdata align 4 = { i32 1 }
func @g(i32) -> i32 export {
block0(v0: i32):
    return v0
}
";
    // Block 9 only in the layout, after a reducible body and after an irreducible one.
    let reducible = "\
func @f(i32, i32) -> i32 export {
block0(v0: i32, v1: i32):
    br_if v0, block1, block2
block1:
    return v1
block2:
    return v0
";
    let irreducible = "\
func @f(i32, i32) -> i32 export {
block0(v0: i32, v1: i32):
    br_if v0, block1, block2
block1:
    br_if v1, block2, block3
block2:
    jump block1
block3:
    return v1
";
    let imports = |obj: &Object<'_>| -> Vec<String> {
        obj.imports
            .iter()
            .map(|i| format!("{}.{}", i.module, i.name))
            .collect()
    };
    let expected = [
        "env.__linear_memory",
        "env.__multi3",
        "env.memset",
        "env.__kiln_tag_name.Color",
        "env.__stack_pointer",
        "env.__tls_base",
        "env.__indirect_function_table",
    ];
    for body in [reducible, irreducible] {
        let reached = format!("{head}{body}block9(v9: i32):\n{needy}}}\n")
            .replace("    return v1\n", "    jump block9(v1)\n");
        let unreached = format!("{head}{body}block9(v9: i32):\n{needy}}}\n");
        for text in [&reached, &unreached] {
            let obj = lower_text(text, Features::MVP).expect("lowers");
            check_relocs(&obj, "needs");
            let mut got = imports(&obj);
            got.sort();
            let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
            want.sort();
            assert_eq!(got, want, "{text}");
        }
    }
    // Nothing needy anywhere: only the memory (for the data object).
    let plain = format!("{head}{irreducible}}}\n");
    let obj = lower_text(&plain, Features::MVP).expect("lowers");
    assert_eq!(imports(&obj), ["env.__linear_memory"]);
}

/// A body that fails to lower still has its needs read (all of it), so a conflicting
/// needed name is the error, as it comes before the bodies' own errors.
#[test]
fn needs_of_a_body_that_fails_to_lower_still_count() {
    let body = "\
func @f(ptr, ptr, ptr) export {
    ss0 = stack_slot 3000000000 align 4
block0(v0: ptr, v1: ptr, v2: ptr):
    intrinsic memcpy(v0, v1, v2)
    v3 = stack_addr ss0
    return
}
";
    let err = lower_text(body, Features::MVP).unwrap_err().to_string();
    assert!(err.contains("frame"), "{err}");
    let bad_memcpy = format!("func @memcpy() {{\nblock0:\n    return\n}}\n{body}");
    let err = lower_text(&bad_memcpy, Features::MVP)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("memcpy") && err.contains("another kind or type"),
        "{err}"
    );
}

#[test]
fn data_and_function_addresses_are_relocated() {
    let text = "\
data @msg: rodata align 1 = \"hi\"
func @g() {
block0:
    return
}
func @f() -> i32 export {
block0:
    v0 = data_addr @msg + 1
    v1 = func_addr @g
    v2 = i32.add v0, v1
    return v2
}
";
    let obj = lower_text(text, Features::default()).unwrap();
    assert_eq!(obj.segments.len(), 1);
    assert_eq!(obj.segments[0].name, ".rodata.msg");
    let kinds: Vec<_> = obj
        .func_relocs(1)
        .iter()
        .map(|r| (r.ty, r.addend))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (RelocType::MemoryAddrSleb, 1),
            (RelocType::TableIndexSleb, 0)
        ]
    );
    wat(text, Features::default());
}

#[test]
fn corpus_lowers_and_validates() {
    let mut rows = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir("ir")
        .expect("ir/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ir"))
        .collect();
    paths.sort();
    for path in &paths {
        eprintln!("{}", path.display());
        let text = std::fs::read_to_string(path).unwrap();
        let module = crate::ir::parse(&text).unwrap();
        crate::verify::verify(&module).unwrap();
        for features in [Features::default(), Features::MVP] {
            let opts = LowerOptions {
                features,
                path: path.display().to_string(),
                split_budget: 0,
            };
            let obj = match lower_module(&module, &opts) {
                Ok(o) => o,
                Err(e) => {
                    assert!(
                        !features.multivalue && e.to_string().contains("multivalue"),
                        "{}: {e}",
                        path.display()
                    );
                    continue;
                }
            };
            let bytes = wrap(&obj);
            if let Err(e) = wasmparser::Validator::new_with_features(wasm_features(features))
                .validate_all(&bytes)
            {
                panic!(
                    "{} ({features}): {e}\n{}",
                    path.display(),
                    wasmprinter::print_bytes(&bytes).unwrap_or_default()
                );
            }
            // Deterministic: the same bytes again.
            let again = lower_module(&module, &opts).unwrap();
            assert_eq!(wrap(&again), bytes);
            check_relocs(&obj, &format!("{} ({features})", path.display()));
            for f in &obj.funcs {
                let (declared, code) = check_locals(&f.body, &obj.types[f.type_index as usize]);
                if features == Features::default() {
                    rows.push((path.display().to_string(), declared, code));
                }
            }
        }
    }
    assert!(!rows.is_empty());
    // Per file: functions, body bytes, locals besides parameters.
    let mut i = 0;
    while i < rows.len() {
        let file = &rows[i].0;
        let same: Vec<_> = rows[i..].iter().take_while(|r| &r.0 == file).collect();
        let (l, c): (usize, usize) = same.iter().fold((0, 0), |(l, c), r| (l + r.1, c + r.2));
        eprintln!(
            "{file:40} {:4} functions {:6} bytes {:4} locals",
            same.len(),
            c,
            l
        );
        i += same.len();
    }
    let n = rows.len();
    let locals: usize = rows.iter().map(|r| r.1).sum();
    let code: usize = rows.iter().map(|r| r.2).sum();
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0);
    eprintln!(
        "corpus: {n} functions, {code} body bytes, {locals} locals besides parameters \
         ({:.2} per function, at most {max})",
        locals as f64 / n as f64
    );
}

/// Checks that every relocation of `obj`'s code names a symbol of the right kind and that
/// the index its field holds is that symbol's (the bodies are lowered in a provisional
/// numbering and rewritten to the final one).
fn check_relocs(obj: &Object<'_>, what: &str) {
    use crate::object::SymbolKind;
    for (k, f) in obj.funcs.iter().enumerate() {
        for r in obj.relocs_in(f.relocs) {
            let at = r.offset as usize;
            let field = &f.body[at..at + 5];
            let value = field
                .iter()
                .enumerate()
                .fold(0u32, |v, (i, b)| v | u32::from(b & 0x7f) << (7 * i));
            let kind = obj.symbols.get(r.index as usize).map(|s| &s.kind);
            let ok = match r.ty {
                RelocType::TypeIndexLeb => (value as usize) < obj.types.len() && value == r.index,
                RelocType::FunctionIndexLeb => kind == Some(&SymbolKind::Function(value)),
                RelocType::GlobalIndexLeb => kind == Some(&SymbolKind::Global(value)),
                RelocType::TableNumberLeb => matches!(kind, Some(SymbolKind::Table(_))),
                RelocType::TableIndexSleb => matches!(kind, Some(SymbolKind::Function(_))),
                RelocType::MemoryAddrSleb | RelocType::MemoryAddrTlsSleb => {
                    matches!(kind, Some(SymbolKind::Data(_)))
                }
                _ => false,
            };
            assert!(
                ok,
                "{what}: function {k}: {r:?} (field {value}, symbol {kind:?})"
            );
        }
    }
}

/// Checks that every declared local is written and read, and that no `local.set x` is
/// directly followed by `local.get x`. Returns (declared locals, body size).
fn check_locals(body: &[u8], ty: &crate::object::FuncType) -> (usize, usize) {
    use wasmparser::Operator;
    let fb = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(body, 0));
    let mut declared = 0usize;
    for l in fb.get_locals_reader().unwrap() {
        declared += l.unwrap().0 as usize;
    }
    let params = ty.params.len();
    let mut read = vec![false; params + declared];
    let mut written = vec![false; params + declared];
    let mut prev_set = None;
    for op in fb.get_operators_reader().unwrap() {
        let op = op.unwrap();
        let mut this_set = None;
        match op {
            Operator::LocalGet { local_index } => {
                assert_ne!(prev_set, Some(local_index), "local.set then local.get");
                read[local_index as usize] = true;
            }
            Operator::LocalTee { local_index } => {
                read[local_index as usize] = true;
                written[local_index as usize] = true;
            }
            Operator::LocalSet { local_index } => {
                written[local_index as usize] = true;
                this_set = Some(local_index);
            }
            _ => {}
        }
        prev_set = this_set;
    }
    for l in params..params + declared {
        assert!(
            read[l] && written[l],
            "local {l} is not both written and read"
        );
    }
    (declared, body.len())
}

/// Runs `wasm` under wasmtime, one fresh instance per call: `calls` are (function, typed
/// args, result types). Each outcome is `ok R...` (results as `type:value`, floats as bits)
/// or `trap ...`. The module imports its memory and `__stack_pointer` from `env`, and the
/// runtime functions of [`RUNTIME_FUNCS`], defined here exactly (128-bit arithmetic in
/// `u128`/`i128`).
fn run_in_wasmtime(
    wasm: &[u8],
    calls: &[(String, Vec<crate::interp::Val>, Vec<Type>)],
) -> Option<Vec<String>> {
    use crate::interp::Val;
    use wasmtime::{
        Caller, Engine, Global, GlobalType, Linker, Memory, MemoryType, Module, Mutability, Store,
        Val as W, ValType,
    };
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    let engine = ENGINE.get_or_init(Engine::default);
    let module =
        Module::new(engine, wasm).unwrap_or_else(|e| panic!("wasmtime rejected the module: {e:#}"));
    let u128_of = |lo: i64, hi: i64| u128::from(lo as u64) | (u128::from(hi as u64) << 64);
    let mut outs = Vec::new();
    for (func, args, results) in calls {
        let mut store = Store::new(engine, ());
        let memory = Memory::new(&mut store, MemoryType::new(2, None)).ok()?;
        let sp = Global::new(
            &mut store,
            GlobalType::new(ValType::I32, Mutability::Var),
            W::I32(65536),
        )
        .ok()?;
        let mut linker: Linker<()> = Linker::new(engine);
        linker
            .define(&store, "env", "__linear_memory", memory)
            .ok()?;
        linker.define(&store, "env", "__stack_pointer", sp).ok()?;
        let put = move |c: &mut Caller<'_, ()>, r: i32, x: u128| {
            memory
                .write(c, r as u32 as usize, &x.to_le_bytes())
                .map_err(wasmtime::Error::from)
        };
        let nonzero = |x: u128| {
            if x == 0 {
                Err(wasmtime::Error::msg("integer divide by zero"))
            } else {
                Ok(x)
            }
        };
        type Op = fn(u128, u128) -> u128;
        let binary: [(&str, Op); 5] = [
            ("__multi3", |a, b| a.wrapping_mul(b)),
            ("__divti3", |a, b| {
                (a as i128).wrapping_div(b as i128) as u128
            }),
            ("__udivti3", |a, b| a / b),
            ("__modti3", |a, b| {
                (a as i128).wrapping_rem(b as i128) as u128
            }),
            ("__umodti3", |a, b| a % b),
        ];
        for (name, op) in binary {
            let divides = name != "__multi3";
            linker
                .func_wrap(
                    "env",
                    name,
                    move |mut c: Caller<'_, ()>, r: i32, al: i64, ah: i64, bl: i64, bh: i64| {
                        let b = u128_of(bl, bh);
                        let b = if divides { nonzero(b)? } else { b };
                        put(&mut c, r, op(u128_of(al, ah), b))
                    },
                )
                .ok()?;
        }
        // Shifts by 128 or more give 0 (the sign for an arithmetic shift right).
        type Shift = fn(u128, u32) -> u128;
        let shifts: [(&str, Shift); 3] = [
            ("__ashlti3", |x, n| x.checked_shl(n).unwrap_or(0)),
            ("__ashrti3", |x, n| ((x as i128) >> n.min(127)) as u128),
            ("__lshrti3", |x, n| x.checked_shr(n).unwrap_or(0)),
        ];
        for (name, op) in shifts {
            linker
                .func_wrap(
                    "env",
                    name,
                    move |mut c: Caller<'_, ()>, r: i32, lo: i64, hi: i64, n: i32| {
                        put(&mut c, r, op(u128_of(lo, hi), n as u32))
                    },
                )
                .ok()?;
        }
        let range = |start: i32, len: i32, size: usize| {
            let (start, len) = (start as u32 as usize, len as u32 as usize);
            (start + len <= size)
                .then_some(start..start + len)
                .ok_or_else(|| wasmtime::Error::msg("out of bounds memory access"))
        };
        for name in ["memcpy", "memmove"] {
            linker
                .func_wrap(
                    "env",
                    name,
                    move |mut c: Caller<'_, ()>, d: i32, s: i32, n: i32| {
                        let data = memory.data_mut(&mut c);
                        let from = range(s, n, data.len())?;
                        range(d, n, data.len())?;
                        data.copy_within(from, d as u32 as usize);
                        Ok(d)
                    },
                )
                .ok()?;
        }
        linker
            .func_wrap(
                "env",
                "memset",
                move |mut c: Caller<'_, ()>, d: i32, v: i32, n: i32| {
                    let data = memory.data_mut(&mut c);
                    let to = range(d, n, data.len())?;
                    data[to].fill(v as u8);
                    Ok(d)
                },
            )
            .ok()?;
        linker
            .func_wrap("env", "fmod", |a: f64, b: f64| a % b)
            .ok()?;
        linker
            .func_wrap("env", "fmodf", |a: f32, b: f32| a % b)
            .ok()?;
        let params: Vec<W> = args
            .iter()
            .map(|a| match *a {
                Val::I32(v) => W::I32(v),
                Val::I64(v) => W::I64(v),
                Val::F32(v) => W::F32(v.to_bits()),
                Val::F64(v) => W::F64(v.to_bits()),
            })
            .collect();
        let mut got = vec![W::I32(0); results.len()];
        let outcome = linker
            .instantiate(&mut store, &module)
            .and_then(|inst| {
                inst.get_func(&mut store, func)
                    .ok_or_else(|| wasmtime::Error::msg(format!("no export `{func}`")))
            })
            .and_then(|f| f.call(&mut store, &params, &mut got));
        outs.push(match outcome {
            Ok(()) => {
                let mut line = String::from("ok");
                for v in &got {
                    line.push(' ');
                    line.push_str(&match v {
                        W::I32(x) => format!("i32:{x}"),
                        W::I64(x) => format!("i64:{x}"),
                        W::F32(x) => format!("f32:{x}"),
                        W::F64(x) => format!("f64:{x}"),
                        other => format!("{other:?}"),
                    });
                }
                line
            }
            Err(e) => format!(
                "trap {}",
                format!("{e:#}")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        });
    }
    Some(outs)
}

/// Runtime functions [`run_in_wasmtime`] defines.
const RUNTIME_FUNCS: &[&str] = &[
    "__multi3",
    "__divti3",
    "__udivti3",
    "__modti3",
    "__umodti3",
    "__ashlti3",
    "__ashrti3",
    "__lshrti3",
    "memcpy",
    "memmove",
    "memset",
    "fmod",
    "fmodf",
];

/// Parses `type:value` as [`run_in_wasmtime`] prints it.
fn parse_result_val(s: &str) -> Option<crate::interp::Val> {
    use crate::interp::Val;
    let (t, v) = s.split_once(':')?;
    Some(match t {
        "i32" => Val::I32(v.parse().ok()?),
        "i64" => Val::I64(v.parse().ok()?),
        "f32" => Val::F32(f32::from_bits(v.parse().ok()?)),
        "f64" => Val::F64(f64::from_bits(v.parse().ok()?)),
        _ => return None,
    })
}

/// Corpus programs that need no linking (no data, table, TLS or runtime functions but those
/// the runner defines) run under wasmtime with their run lines, unlinked, under the generic
/// and the MVP feature sets.
#[test]
fn corpus_runs_without_linking_under_wasmtime() {
    use crate::runtest::{Expect, parse_run_lines, parse_val, val_matches};
    let mut paths: Vec<_> = std::fs::read_dir("ir")
        .expect("ir/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ir"))
        .collect();
    paths.sort();
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        let module = crate::ir::parse(&text).unwrap();
        let Ok(lines) = parse_run_lines(&text) else {
            continue;
        };
        for features in [Features::default(), Features::MVP] {
            let opts = LowerOptions {
                features,
                path: path.display().to_string(),
                split_budget: 0,
            };
            let Ok(obj) = lower_module(&module, &opts) else {
                continue;
            };
            let standalone = obj.segments.is_empty()
                && obj.imports.iter().all(|i| match i.kind {
                    ImportKind::Memory { .. } => true,
                    ImportKind::Global { .. } => i.name == "__stack_pointer",
                    ImportKind::Func(_) => RUNTIME_FUNCS.contains(&&*i.name),
                    _ => false,
                });
            if !standalone {
                continue;
            }
            let mut calls = Vec::new();
            for rl in &lines {
                let Some(f) = module.func_by_name(&rl.func) else {
                    continue;
                };
                let sig = &module.decls.funcs[f].sig;
                let args: Option<Vec<_>> = rl
                    .args
                    .iter()
                    .zip(&sig.params)
                    .map(|(a, &t)| parse_val(a, t))
                    .collect();
                calls.push((rl.func.clone(), args.unwrap(), sig.results.clone()));
            }
            let Some(outs) = run_in_wasmtime(&wrap(&obj), &calls) else {
                continue;
            };
            eprintln!("wasmtime: {} ({features})", path.display());
            for (rl, out) in lines.iter().zip(&outs) {
                checked += 1;
                let mut words = out.split(' ');
                let ok = match (words.next(), &rl.expect) {
                    (Some("trap"), Expect::Traps) => true,
                    (Some("ok"), Expect::Returns) => words.next().is_none(),
                    (Some("ok"), Expect::Results(want)) => {
                        let got: Vec<_> = words.filter_map(parse_result_val).collect();
                        got.len() == want.len()
                            && want.iter().zip(&got).all(|(w, &g)| val_matches(w, g))
                    }
                    _ => false,
                };
                if !ok {
                    failures.push(format!(
                        "{}:{} ({features}): {} => {out}",
                        path.display(),
                        rl.line,
                        rl.text
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{checked} run lines checked under wasmtime");
    assert!(checked > 100, "only {checked} run lines checked");
}

/// A loop nest 10,000 deep, each header passing a value to the next and each exit looping
/// back: lowering is iterative, and since each header's parameter is dead once passed on,
/// every value shares the parameter's local.
#[test]
fn deep_loop_nest_lowers_with_one_local() {
    use std::fmt::Write;
    const N: usize = 10_000;
    let mut t =
        String::from("func @deep(i32) -> i32 export {\nblock0(v0: i32):\n    jump block1(v0)\n");
    let mut v = 1;
    for i in 1..=N {
        let _ = writeln!(t, "block{i}(v{v}: i32):");
        if i < N {
            let _ = writeln!(t, "    jump block{}(v{v})", i + 1);
            v += 1;
        } else {
            let _ = writeln!(
                t,
                "    v{a} = i32.const 1\n    v{b} = i32.sub v{v}, v{a}\n    br_if v{b}, block{i}(v{b}), block{x}(v{b})",
                a = v + 1,
                b = v + 2,
                x = N + i
            );
            v += 3;
        }
    }
    for i in (1..=N).rev() {
        let next = if i > 1 { N + i - 1 } else { 3 * N + 1 };
        let _ = writeln!(
            t,
            "block{b}(v{v}: i32):\n    v{a} = i32.const 5\n    v{c} = i32.lt_s v{v}, v{a}\n    br_if v{c}, block{i}(v{v}), block{next}(v{v})",
            b = N + i,
            a = v + 1,
            c = v + 2
        );
        v += 3;
    }
    let _ = writeln!(t, "block{}(v{v}: i32):\n    return v{v}\n}}", 3 * N + 1);
    let obj = lower_text(&t, Features::default()).unwrap();
    let bytes = wrap(&obj);
    wasmparser::Validator::new().validate_all(&bytes).unwrap();
    let f = &obj.funcs[0];
    let (declared, _) = check_locals(&f.body, &obj.types[f.type_index as usize]);
    assert_eq!(declared, 0);
}

/// A slot aligned beyond 16 realigns the frame and restores the caller's stack pointer
/// from a saved copy; run under wasmtime.
#[test]
fn over_aligned_slot_realigns_the_frame() {
    use crate::interp::Val;
    let text = "\
extern global @__stack_pointer: ptr mut

func @f(i32) -> i32 {
    ss0 = stack_slot 4 align 4
    ss1 = stack_slot 64 align 64
block0(v0: i32):
    v2 = stack_addr ss1
    i32.store v2, v0 offset=8
    v3 = i32.load v2 offset=8
    v4 = ptr.const 63
    v5 = ptr.and v2, v4
    v9 = i32.add v5, v3
    return v9
}

func @h(i32) -> i32 export {
block0(v0: i32):
    v1 = global.get @__stack_pointer
    v2 = call @f(v0)
    v3 = global.get @__stack_pointer
    v4 = ptr.eq v1, v3
    v5 = i32.add v2, v4
    return v5
}
";
    let out = wat(text, Features::default());
    assert!(out.contains("i32.const -64\n    i32.and"), "{out}");
    let obj = lower_text(text, Features::default()).unwrap();
    let outs = run_in_wasmtime(
        &wrap(&obj),
        &[("h".into(), vec![Val::I32(41)], vec![Type::I32])],
    )
    .unwrap();
    // Aligned (0) plus the stored 41, and the stack pointer restored (1).
    assert_eq!(outs, vec!["ok i32:42".to_string()]);
}

/// More live values than engines accept locals: an error naming the function.
#[test]
fn too_many_locals_is_an_error() {
    use std::fmt::Write;
    const N: usize = 50_010;
    let mut t = String::from("func @wide(ptr) -> i32 export {\nblock0(v0: ptr):\n");
    for i in 1..=N {
        let _ = writeln!(t, "    v{i} = i32.load v0 offset={i}");
    }
    let mut acc = 1;
    for i in 2..=N {
        let _ = writeln!(t, "    v{} = i32.add v{acc}, v{i}", N + i);
        acc = N + i;
    }
    let _ = writeln!(t, "    return v{acc}\n}}");
    let err = lower_text(&t, Features::default()).unwrap_err();
    assert!(
        matches!(&err, LowerError::Limit { func, .. } if func == "wide"),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("function @wide: needs "),
        "{err}"
    );
}

/// A random function stressing value flow: blocks with many parameters of several types,
/// values used several times and across edges, swaps and rotations of parameters on back
/// edges, `select`, and all kinds of terminators.
fn random_value_func(rng: &mut Rng, name: &str) -> String {
    use std::fmt::Write;
    let types = ["i32", "i64", "f64"];
    let n = 1 + rng.below(8) as usize;
    let sigs: Vec<Vec<&str>> = (0..n)
        .map(|i| {
            if i == 0 {
                vec!["i32", "i32"]
            } else {
                let mut v = vec!["i32", "i32"];
                v.extend((0..rng.below(5)).map(|_| types[rng.below(3) as usize]));
                v
            }
        })
        .collect();
    let mut s = String::new();
    let mut next = 2u32;
    let mut fresh = || {
        next += 1;
        format!("v{next}")
    };
    let _ = writeln!(s, "func @{name}(i32, i32) -> i32 export {{");
    for (i, sig) in sigs.iter().enumerate() {
        let params: Vec<String> = if i == 0 {
            vec!["v0".into(), "v1".into()]
        } else {
            sig.iter().map(|_| fresh()).collect()
        };
        let decl: Vec<String> = params
            .iter()
            .zip(sig)
            .map(|(p, t)| format!("{p}: {t}"))
            .collect();
        let _ = writeln!(s, "block{i}({}):", decl.join(", "));
        // Values available by type.
        let mut avail: [Vec<String>; 3] = Default::default();
        for (p, t) in params.iter().zip(sig) {
            avail[types.iter().position(|x| x == t).unwrap_or(0)].push(p.clone());
        }
        let (st, acc) = (params[0].clone(), params[1].clone());
        let (k1, k2, m, st2) = (fresh(), fresh(), fresh(), fresh());
        let _ = writeln!(
            s,
            "    {k1} = i32.const 1103515245\n    {k2} = i32.const 12345\n    {m} = i32.mul {st}, {k1}\n    {st2} = i32.add {m}, {k2}"
        );
        let mut acc_v = acc.clone();
        for _ in 0..rng.below(6) {
            let t = rng.below(3) as usize;
            let pick = |rng: &mut Rng, avail: &[Vec<String>; 3], t: usize| -> Option<String> {
                let l = &avail[t];
                (!l.is_empty()).then(|| l[rng.below(l.len() as u64) as usize].clone())
            };
            let (Some(a), Some(b)) = (pick(rng, &avail, t), pick(rng, &avail, t)) else {
                continue;
            };
            let x = fresh();
            let op = match (t, rng.below(4)) {
                (2, 0) => "f64.add",
                (2, 1) => "f64.mul",
                (2, _) => "f64.sub",
                (0, 0) => "i32.xor",
                (0, 1) => "i32.mul",
                (0, _) => "i32.add",
                (_, 0) => "i64.xor",
                (_, 1) => "i64.mul",
                _ => "i64.sub",
            };
            let _ = writeln!(s, "    {x} = {op} {a}, {b}");
            if rng.below(3) == 0 {
                let (c, y) = (fresh(), fresh());
                let _ = writeln!(
                    s,
                    "    {c} = i32.and {st2}, {acc_v}\n    {y} = select {c}, {x}, {a}"
                );
                avail[t].push(y);
            }
            avail[t].push(x.clone());
            // Fold into the accumulator.
            let (w, z) = (fresh(), fresh());
            let conv = match t {
                0 => format!("{w} = i32.add {x}, {acc_v}"),
                1 => format!("{w} = i32.wrap_i64 {x}"),
                _ => format!("{w} = i32.trunc_sat_f64_s {x}"),
            };
            let _ = writeln!(s, "    {conv}\n    {z} = i32.xor {acc_v}, {w}");
            acc_v = z;
            avail[0].push(acc_v.clone());
        }
        let bits = fresh();
        let k16 = fresh();
        let _ = writeln!(
            s,
            "    {k16} = i32.const 16\n    {bits} = i32.shr_u {st2}, {k16}"
        );
        let args_for =
            |rng: &mut Rng, s: &mut String, fresh: &mut dyn FnMut() -> String, t: usize| {
                let mut a = vec![st2.clone(), acc_v.clone()];
                for ty in sigs[t].iter().skip(2) {
                    let ti = types.iter().position(|x| x == ty).unwrap_or(0);
                    let l = &avail[ti];
                    if !l.is_empty() && rng.below(4) != 0 {
                        a.push(l[rng.below(l.len() as u64) as usize].clone());
                    } else {
                        let c = fresh();
                        let lit = if ti == 2 { "2.5" } else { "7" };
                        let _ = writeln!(s, "    {c} = {ty}.const {lit}");
                        a.push(c);
                    }
                }
                format!("block{t}({})", a.join(", "))
            };
        let roll = rng.below(100);
        if roll < 10 || (i == n - 1 && roll < 50) {
            let _ = writeln!(s, "    return {acc_v}");
        } else if roll < 40 {
            let t = rng.below(n as u64) as usize;
            let a = args_for(rng, &mut s, &mut fresh, t);
            let _ = writeln!(s, "    jump {a}");
        } else if roll < 80 {
            let (one, c) = (fresh(), fresh());
            let _ = writeln!(
                s,
                "    {one} = i32.const 1\n    {c} = i32.and {bits}, {one}"
            );
            let (t, e) = (rng.below(n as u64) as usize, rng.below(n as u64) as usize);
            let a = args_for(rng, &mut s, &mut fresh, t);
            let b = args_for(rng, &mut s, &mut fresh, e);
            let _ = writeln!(s, "    br_if {c}, {a}, {b}");
        } else {
            let (kc, idx) = (fresh(), fresh());
            let _ = writeln!(
                s,
                "    {kc} = i32.const 3\n    {idx} = i32.rem_u {bits}, {kc}"
            );
            let ts: Vec<String> = (0..3)
                .map(|_| {
                    let t = rng.below(n as u64) as usize;
                    args_for(rng, &mut s, &mut fresh, t)
                })
                .collect();
            let _ = writeln!(s, "    br_table {idx}, [{}, {}], {}", ts[0], ts[1], ts[2]);
        }
    }
    s.push_str("}\n");
    s
}

/// Random value-flow functions: lowered, validated, and run under wasmtime against the
/// interpreter, with generic and MVP features.
#[test]
fn random_value_flow_matches_the_interpreter() {
    use crate::interp::{Instance, Val};
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut compared = 0;
    for round in 0..40 {
        let mut text = String::new();
        for k in 0..25 {
            text.push_str(&random_value_func(&mut rng, &format!("f{k}")));
        }
        let module = crate::ir::parse(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        if let Err(e) = crate::verify::verify(&module) {
            panic!("{}\n{text}", e.render("gen.ir"));
        }
        let mut calls = Vec::new();
        let mut expected = Vec::new();
        for k in 0..25 {
            let args = vec![Val::I32(rng.next() as i32), Val::I32(rng.below(100) as i32)];
            let mut inst = Instance::new(&module).unwrap();
            inst.set_fuel(20_000);
            let Ok(r) = inst.call(&format!("f{k}"), &args) else {
                continue;
            };
            calls.push((format!("f{k}"), args, vec![Type::I32]));
            expected.push(r);
        }
        for features in [Features::default(), Features::MVP] {
            let obj = lower_module(
                &module,
                &LowerOptions {
                    features,
                    path: "gen.ir".into(),
                    split_budget: 0,
                },
            )
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
            let bytes = wrap(&obj);
            for (i, f) in obj.funcs.iter().enumerate() {
                let r = std::panic::catch_unwind(|| {
                    check_locals(&f.body, &obj.types[f.type_index as usize])
                });
                if r.is_err() {
                    let wat = wasmprinter::print_bytes(&bytes).unwrap_or_default();
                    let start = wat.find(&format!("(func (;{i};)")).unwrap_or(0);
                    let func = &wat[start..];
                    let end = func[1..].find("(func ").map_or(func.len(), |e| e + 1);
                    let ir = text.split("func @").nth(i + 1).unwrap_or("");
                    panic!(
                        "round {round} f{i} ({features}):\nfunc @{ir}\n{}",
                        &func[..end]
                    );
                }
            }
            if let Err(e) = wasmparser::Validator::new_with_features(wasm_features(features))
                .validate_all(&bytes)
            {
                panic!("round {round}: {e}\n{text}");
            }
            let outs = run_in_wasmtime(&bytes, &calls).unwrap();
            for ((call, want), got) in calls.iter().zip(&expected).zip(&outs) {
                let Some(Val::I32(w)) = want.first() else {
                    continue;
                };
                assert_eq!(
                    got,
                    &format!("ok i32:{w}"),
                    "round {round} {} {:?} ({features})\n{text}",
                    call.0,
                    call.1
                );
                compared += 1;
            }
        }
    }
    eprintln!("{compared} random calls compared");
    assert!(compared > 500, "{compared}");
}

#[test]
fn local_names_of_values_match_display() {
    use cranelift_entity::EntityRef;
    for n in [
        0usize,
        1,
        9,
        10,
        99,
        100,
        12_345,
        999_999,
        u32::MAX as usize - 1,
    ] {
        let v = crate::ir::Value::new(n);
        let (mut a, mut b) = (LocalNames::default(), LocalNames::default());
        assert!(a.push_numbered(3, "v", v.as_u32()));
        assert!(b.push(3, &v.to_string()));
        assert_eq!(a, b);
        // The order check of `push`.
        assert!(!a.push_numbered(3, "v", v.as_u32()));
    }
}

#[test]
fn opcode_table_matches_wasm_encoder() {
    use wasm_encoder::Encode;
    for (k, &op) in crate::ir::UnaryOp::ALL.iter().enumerate() {
        assert_eq!(op as usize, k);
    }
    for (k, &op) in crate::ir::BinaryOp::ALL.iter().enumerate() {
        assert_eq!(op as usize, k);
    }
    let table = emit::op_bytes();
    let mut single = 0;
    for (c, &ty) in [Type::I32, Type::I64, Type::F32, Type::F64]
        .iter()
        .enumerate()
    {
        for &op in crate::ir::BinaryOp::ALL {
            let mut v = Vec::new();
            if let Some(i) = emit::binary(op, ty) {
                i.encode(&mut v);
            }
            let b = table.binary[op as usize][c];
            if b != 0 {
                single += 1;
                assert_eq!(v, [b], "{op:?} {ty:?}");
            }
        }
        for &op in crate::ir::UnaryOp::ALL {
            let mut v = Vec::new();
            if let Some(i) = emit::unary(op, ty) {
                i.encode(&mut v);
            }
            let b = table.unary[op as usize][c];
            if b != 0 {
                single += 1;
                assert_eq!(v, [b], "{op:?} {ty:?}");
            }
        }
    }
    assert!(single > 100, "only {single} single-byte operations");
    let mut single = 0;
    for (k, &op) in crate::ir::ConvertOp::ALL.iter().enumerate() {
        assert_eq!(op as usize, k);
        let mut v = Vec::new();
        emit::convert(op).encode(&mut v);
        let b = table.convert[k];
        if b != 0 {
            single += 1;
            assert_eq!(v, [b], "{op:?}");
        } else {
            assert!(v.len() > 1, "{op:?}");
        }
    }
    assert!(single > 20, "only {single} single-byte conversions");
}

/// The instructions the emitter writes without wasm-encoder are written as it writes them.
#[test]
fn direct_encodings_match_wasm_encoder() {
    use wasm_encoder::{Encode, Instruction};
    let simple = [
        Instruction::Unreachable,
        Instruction::End,
        Instruction::Return,
        Instruction::Drop,
        Instruction::I32Add,
        Instruction::I32Sub,
        Instruction::I32And,
    ];
    for i in simple {
        let mut v = Vec::new();
        i.encode(&mut v);
        assert_eq!(
            Some(v.as_slice()),
            emit::simple_opcode(&i).as_ref().map(std::slice::from_ref),
            "{i:?}"
        );
    }
    assert_eq!(emit::simple_opcode(&Instruction::I32Or), None);
}

/// `i32` constants of one, two and more bytes are written as wasm-encoder writes them.
#[test]
fn int_constants_match_wasm_encoder() {
    use wasm_encoder::{Encode, Instruction};
    let xs = [
        63,
        -64,
        64,
        -65,
        8191,
        -8192,
        8192,
        -8193,
        i32::MAX,
        i32::MIN,
    ];
    let mut text = String::from("func @f() -> i32 export {\nblock0:\n");
    for (k, x) in xs.iter().enumerate() {
        text.push_str(&format!("    v{k} = i32.const {x}\n"));
    }
    let mut last = 0;
    for k in 1..xs.len() {
        let v = xs.len() + k;
        let prev = if k == 1 { 0 } else { v - 1 };
        text.push_str(&format!("    v{v} = i32.xor v{prev}, v{k}\n"));
        last = v;
    }
    text.push_str(&format!("    return v{last}\n}}\n"));
    let obj = lower_text(&text, Features::default()).expect("lowers");
    let body = &obj.funcs[0].body;
    for x in xs {
        let mut want = Vec::new();
        Instruction::I32Const(x).encode(&mut want);
        assert!(
            body.windows(want.len()).any(|w| w == want),
            "{x}: {want:x?} not in {body:x?}"
        );
    }
}

/// Float constants are written as wasm-encoder writes them.
#[test]
fn float_constants_match_wasm_encoder() {
    use wasm_encoder::{Encode, Instruction};
    let text = "\
func @f() -> f64 export {
block0:
    v0 = f32.const -0.0
    v1 = f32.const 1.5
    v2 = f64.const 1e-300
    v3 = f64.const -inf
    v4 = f64.promote_f32 v0
    v5 = f64.promote_f32 v1
    v6 = f64.add v4, v5
    v7 = f64.add v6, v2
    v8 = f64.add v7, v3
    return v8
}
";
    let obj = lower_text(text, Features::default()).expect("lowers");
    let body = &obj.funcs[0].body;
    let mut want = Vec::new();
    let consts = [
        Instruction::F32Const((-0.0f32).into()),
        Instruction::F32Const(1.5f32.into()),
        Instruction::F64Const(1e-300f64.into()),
        Instruction::F64Const(f64::NEG_INFINITY.into()),
    ];
    for c in consts {
        want.clear();
        c.encode(&mut want);
        assert!(
            body.windows(want.len()).any(|w| w == want),
            "{c:?} not in {body:x?}"
        );
    }
}

#[test]
fn leb_writers_match_wasm_encoder() {
    use wasm_encoder::Encode;
    let mut u = vec![
        0u32,
        1,
        63,
        64,
        127,
        128,
        255,
        16_383,
        16_384,
        1 << 21,
        u32::MAX,
    ];
    u.extend((0..200).map(|i| 1u32.wrapping_shl(i % 32).wrapping_mul(2_654_435_761)));
    for x in u {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        emit::uleb(&mut a, x);
        x.encode(&mut b);
        assert_eq!(a, b, "{x}");
    }
    let mut v = vec![
        0i64,
        1,
        -1,
        63,
        64,
        -64,
        -65,
        127,
        128,
        -128,
        8191,
        8192,
        -8192,
        -8193,
        i64::from(i32::MIN),
        i64::MIN,
        i64::MAX,
    ];
    v.extend((0..200).map(|i| (1i64 << (i % 64)).wrapping_mul(-7_046_029_254_386_353_131)));
    v.extend(-9000..9000);
    for x in v {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        emit::sleb(&mut a, x);
        x.encode(&mut b);
        assert_eq!(a, b, "{x}");
    }
}
