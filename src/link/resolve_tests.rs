//! Resolution tests over hand-built objects: comdat deduplication, init functions of live
//! inputs, undefined-only signature disagreement, the export and unresolved-symbol options.
//! (Archive loading and real C/C++ objects are tested in `tests/link_resolve.rs`.)

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use indexmap::IndexMap;

use super::fixtures::{MEM, ret, set_func_relocs, sym};
use super::resolve::{MERGE_BITS, Names, resolve, table_of};
use super::*;
use crate::object::*;

/// `() -> i32`
fn ty_i32() -> FuncType {
    FuncType {
        params: Vec::new(),
        results: vec![ValType::I32],
    }
}

/// Adds to `obj` a function calling function symbol `sym`.
fn add_caller(obj: &mut Object<'static>, sym: u32) {
    obj.funcs.push(Func {
        type_index: 0,
        body: Cow::Owned(vec![0, 0x10, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b]),
        relocs: RelocRange::default(),
        input_offset: 0,
        local_names: LocalNames::default(),
    });
    let call = Reloc {
        ty: RelocType::FunctionIndexLeb,
        offset: 2,
        index: sym,
        addend: 0,
    };
    set_func_relocs(obj, obj.funcs.len() - 1, vec![call]);
}

fn wat(bytes: &[u8]) -> String {
    let mut v = wasmparser::Validator::new();
    if let Err(e) = v.validate_all(bytes) {
        panic!("invalid module: {e}");
    }
    wasmprinter::print_bytes(bytes).expect("print")
}

/// An object with an inline function `inl` (returning `v`), its comdat group holding the
/// function, a data segment and a custom section, and an init function in the group.
fn comdat_object(path: &str, v: u8) -> Object<'static> {
    Object {
        path: path.into(),
        types: vec![ty_i32()],
        imports: vec![MEM],
        funcs: vec![ret(v), ret(v + 10)],
        segments: vec![Segment {
            name: Cow::Borrowed(".rodata.inl_data"),
            align_log2: 0,
            flags: 0,
            data: SegmentData::Bytes(Cow::Owned(vec![v; 4])),
            relocs: RelocRange::default(),
        }],
        customs: vec![CustomSection {
            name: Cow::Borrowed(".inl_notes"),
            data: Cow::Owned(vec![v; 3]),
            relocs: Vec::new(),
        }],
        symbols: vec![
            sym("inl", SYM_WEAK | SYM_HIDDEN, SymbolKind::Function(0)),
            sym(
                "inl_data",
                SYM_WEAK,
                SymbolKind::Data(Some(DataDef {
                    segment: 0,
                    offset: 0,
                    size: 4,
                })),
            ),
            sym("inl_ctor", SYM_LOCAL, SymbolKind::Function(1)),
        ],
        init_funcs: vec![InitFunc {
            priority: 65535,
            symbol: 2,
        }],
        comdats: vec![Comdat {
            name: Cow::Borrowed("inl"),
            members: vec![
                ComdatMember::Function(0),
                ComdatMember::Function(1),
                ComdatMember::Data(0),
                ComdatMember::Section(0),
            ],
        }],
        ..Object::default()
    }
}

#[test]
fn comdat_members_of_later_inputs_are_dropped() {
    let a = comdat_object("a.o", 1);
    let b = comdat_object("b.o", 2);
    let opts = LinkOptions {
        gc: false,
        exports: vec!["inl".into(), "inl_data".into()],
        ..LinkOptions::default()
    };
    let out = link(&[a, b], &opts).expect("link");
    let w = wat(&out);
    // a.o's copy of everything: the function returning 1, its ctor (returning 11), its data
    // and its custom section; none of b.o's, even without GC.
    assert!(
        w.contains("i32.const 1\n") && w.contains("i32.const 11"),
        "{w}"
    );
    assert!(
        !w.contains("i32.const 2\n") && !w.contains("i32.const 12"),
        "{w}"
    );
    assert!(w.contains("\\01\\01\\01\\01"), "{w}");
    assert!(!w.contains("\\02\\02\\02\\02"), "{w}");
    assert!(
        w.contains("(@custom \".inl_notes\" (after data) \"\\01\\01\\01\")"),
        "{w}"
    );
    // One init function call: b.o's ctor is in the discarded group.
    assert_eq!(w.matches("call $inl_ctor").count(), 1, "{w}");
}

#[test]
fn discarded_definitions_resolve_to_the_kept_copy() {
    // b.o calls its own (discarded) copy of `inl`: the call goes to a.o's.
    let a = comdat_object("a.o", 1);
    let mut b = comdat_object("b.o", 2);
    add_caller(&mut b, 0);
    b.symbols
        .push(sym("use_inl", SYM_EXPORTED, SymbolKind::Function(2)));
    let out = link(&[a, b], &LinkOptions::default()).expect("link");
    let w = wat(&out);
    assert!(w.contains("call $inl"), "{w}");
    assert!(
        w.contains("i32.const 1\n") && !w.contains("i32.const 2\n"),
        "{w}"
    );
}

/// `main.o` exports `f`, which calls undefined `g`; `ctor.o` has only an init function.
fn caller_object(path: &str, g_ty: FuncType) -> Object<'static> {
    let mut o = Object {
        path: path.into(),
        types: vec![ty_i32(), g_ty],
        imports: vec![
            MEM,
            Import {
                module: Cow::Borrowed("env"),
                name: Cow::Borrowed("g"),
                kind: ImportKind::Func(1),
            },
        ],
        symbols: vec![
            sym("f", SYM_EXPORTED, SymbolKind::Function(1)),
            sym("g", SYM_UNDEFINED, SymbolKind::Function(0)),
        ],
        ..Object::default()
    };
    add_caller(&mut o, 1);
    o
}

#[test]
fn undefined_only_signature_disagreement_is_an_error() {
    let a = caller_object("a.o", ty_i32());
    let mut b = caller_object("b.o", ty_i32());
    b.types[1].params.push(ValType::I32);
    b.symbols[0].name = Cow::Borrowed("f2");
    let opts = LinkOptions {
        import_undefined: true,
        ..LinkOptions::default()
    };
    let e = link(&[a, b], &opts).unwrap_err().to_string();
    assert_eq!(
        e,
        "type mismatch for `g`: () -> (i32) in a.o, (i32) -> (i32) in b.o"
    );
}

#[test]
fn ignore_all_makes_trapping_stubs() {
    let a = caller_object("a.o", ty_i32());
    let e = link(std::slice::from_ref(&a), &LinkOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(e, "undefined symbol `g` (referenced by a.o)");
    let opts = LinkOptions {
        unresolved_symbols: UnresolvedSymbols::IgnoreAll,
        ..LinkOptions::default()
    };
    let w = wat(&link(std::slice::from_ref(&a), &opts).expect("ignore-all"));
    assert!(
        w.contains("unreachable") && !w.contains("(import \"env\" \"g\""),
        "{w}"
    );
    let opts = LinkOptions {
        unresolved_symbols: UnresolvedSymbols::ImportDynamic,
        ..LinkOptions::default()
    };
    let w = wat(&link(&[a], &opts).expect("import-dynamic"));
    assert!(w.contains("(import \"env\" \"g\""), "{w}");
}

/// Defines `visible` (default visibility) and `secret` (hidden), neither referenced.
fn two_defs() -> Object<'static> {
    Object {
        path: "d.o".into(),
        types: vec![ty_i32()],
        imports: vec![MEM],
        funcs: vec![ret(1), ret(2), ret(3)],
        symbols: vec![
            sym("visible", 0, SymbolKind::Function(0)),
            sym("secret", SYM_HIDDEN, SymbolKind::Function(1)),
            sym("local", SYM_LOCAL, SymbolKind::Function(2)),
        ],
        ..Object::default()
    }
}

#[test]
fn export_options() {
    let exports = |opts: LinkOptions| -> Vec<String> {
        let w = wat(&link(&[two_defs()], &opts).expect("link"));
        w.lines()
            .filter(|l| l.contains("(export "))
            .map(|l| l.trim().to_string())
            .collect()
    };
    let none = exports(LinkOptions::default());
    assert_eq!(none, ["(export \"memory\" (memory 0))"]);
    let dynamic = exports(LinkOptions {
        export_dynamic: true,
        ..LinkOptions::default()
    });
    assert!(
        dynamic.iter().any(|l| l.contains("\"visible\"")),
        "{dynamic:?}"
    );
    assert!(
        !dynamic.iter().any(|l| l.contains("\"secret\"")),
        "{dynamic:?}"
    );
    let all = exports(LinkOptions {
        export_all: true,
        ..LinkOptions::default()
    });
    for name in [
        "\"visible\"",
        "\"secret\"",
        "\"__heap_base\"",
        "\"__data_end\"",
    ] {
        assert!(all.iter().any(|l| l.contains(name)), "{name}: {all:?}");
    }
    assert!(!all.iter().any(|l| l.contains("\"local\"")), "{all:?}");
    let if_defined = exports(LinkOptions {
        export_if_defined: vec!["secret".into(), "nowhere".into()],
        ..LinkOptions::default()
    });
    assert_eq!(if_defined.len(), 2, "{if_defined:?}");
    assert!(if_defined[1].contains("\"secret\""), "{if_defined:?}");
}

#[test]
fn init_functions_of_lazy_members_wait_for_liveness() {
    // ctor.o has only a constructor. Given directly it runs; loaded as a lazy archive member
    // that nothing else in it is live, it does not.
    let main = Object {
        path: "main.o".into(),
        types: vec![ty_i32()],
        imports: vec![MEM],
        funcs: vec![ret(7)],
        symbols: vec![sym("main", SYM_EXPORTED, SymbolKind::Function(0))],
        ..Object::default()
    };
    let ctor = Object {
        path: "lib.a(ctor.o)".into(),
        types: vec![ty_i32()],
        imports: vec![MEM],
        funcs: vec![ret(9), ret(10)],
        symbols: vec![
            sym("ctor", SYM_LOCAL, SymbolKind::Function(0)),
            sym("other", 0, SymbolKind::Function(1)),
        ],
        init_funcs: vec![InitFunc {
            priority: 1,
            symbol: 0,
        }],
        ..Object::default()
    };
    let inputs = [main, ctor];
    let opts = LinkOptions::default();
    let direct = link_objects(&inputs, &[false, false], &opts, None).expect("link");
    assert!(wat(&direct.wasm).contains("call $ctor"));
    let lazy = link_objects(&inputs, &[false, true], &opts, None).expect("link");
    assert!(!wat(&lazy.wasm).contains("$ctor"));
    // Once something in the member is live, its constructor is too.
    let opts = LinkOptions {
        exports: vec!["other".into()],
        ..LinkOptions::default()
    };
    let live = link_objects(&inputs, &[false, true], &opts, None).expect("link");
    assert!(wat(&live.wasm).contains("call $ctor"));
}

/// An object using (`+`), disallowing (`-`) or requiring (`=`) the features listed.
fn with_features(path: &str, list: &[(u8, &str)]) -> Object<'static> {
    Object {
        path: path.into(),
        types: vec![ty_i32()],
        imports: vec![MEM],
        features: list
            .iter()
            .map(|&(prefix, name)| Feature {
                prefix,
                name: name.into(),
            })
            .collect(),
        ..Object::default()
    }
}

/// The `target_features` section of a module: `+name` entries in order (`None`: no section).
fn output_features(wasm: &[u8]) -> Option<Vec<String>> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CustomSection(c)) = payload
            && c.name() == "target_features"
        {
            let mut r = wasmparser::BinaryReader::new(c.data(), 0);
            let n = r.read_var_u32().expect("count");
            let list = (0..n)
                .map(|_| {
                    let prefix = r.read_u8().expect("prefix") as char;
                    format!("{prefix}{}", r.read_string().expect("name"))
                })
                .collect();
            return Some(list);
        }
    }
    None
}

#[test]
fn output_features_are_the_union_of_the_inputs_unless_given() {
    let a = with_features("a.o", &[(b'+', "atomics"), (b'+', "foo")]);
    let b = with_features("b.o", &[(b'+', "bulk-memory"), (b'+', "atomics")]);
    let none = with_features("none.o", &[]);
    let infer = LinkOptions {
        entry: None,
        infer_features: true,
        ..LinkOptions::default()
    };
    let out = link(&[a.clone(), b.clone(), none.clone()], &infer).expect("link");
    assert_eq!(
        output_features(&out),
        Some(vec![
            "+atomics".into(),
            "+bulk-memory".into(),
            "+foo".into()
        ])
    );
    // No input uses a feature: no section, as wasm-ld.
    let out = link(std::slice::from_ref(&none), &infer).expect("link");
    assert_eq!(output_features(&out), None);
    // Given features are exactly the output's; one an input uses outside them is an error
    // naming it and the file, unless checks are off.
    let given = LinkOptions {
        features: crate::target::Features::MVP,
        extra_features: vec!["foo".into(), "quux".into()],
        infer_features: false,
        ..infer.clone()
    };
    let err = link(&[a.clone(), b.clone()], &given).expect_err("atomics is not allowed");
    assert_eq!(
        err.to_string(),
        "Target feature 'atomics' used by a.o is not allowed."
    );
    let unchecked = LinkOptions {
        check_features: false,
        ..given
    };
    let out = link(&[a.clone(), b.clone()], &unchecked).expect("link");
    assert_eq!(
        output_features(&out),
        Some(vec!["+foo".into(), "+quux".into()])
    );
}

#[test]
fn disallowed_and_required_features_name_both_files() {
    let used = with_features("used.o", &[(b'+', "foo")]);
    let disallows = with_features("disallows.o", &[(b'-', "foo")]);
    let requires = with_features("requires.o", &[(b'=', "bar")]);
    let infer = LinkOptions {
        entry: None,
        infer_features: true,
        ..LinkOptions::default()
    };
    let err = link(&[used.clone(), disallows.clone()], &infer).expect_err("disallowed");
    assert_eq!(
        err.to_string(),
        "Target feature 'foo' used in used.o is disallowed by disallows.o. \
         Use --no-check-features to suppress."
    );
    let err = link(&[used.clone(), requires.clone()], &infer).expect_err("required");
    assert_eq!(
        err.to_string(),
        "Missing target feature 'bar' in used.o, required by requires.o. \
         Use --no-check-features to suppress."
    );
    let unchecked = LinkOptions {
        check_features: false,
        ..infer.clone()
    };
    let out = link(&[used, disallows, requires], &unchecked).expect("link");
    assert_eq!(
        output_features(&out),
        Some(vec!["+bar".into(), "+foo".into()])
    );
    // Shared memory needs atomics and bulk memory (checked before the rest of the link).
    let shared = LinkOptions {
        shared_memory: true,
        max_memory: Some(131072),
        ..infer
    };
    let atomics_only = with_features("atomics.o", &[(b'+', "atomics")]);
    let err = resolve::target_features(std::slice::from_ref(&atomics_only), &shared)
        .expect_err("no bulk memory");
    assert_eq!(
        err.to_string(),
        "'bulk-memory' feature must be used in order to use shared memory"
    );
    let no_shared = with_features("old.o", &[(b'+', "atomics"), (b'-', "shared-mem")]);
    let err = resolve::target_features(&[no_shared], &shared).expect_err("disallowed shared-mem");
    assert!(
        err.to_string()
            .starts_with("--shared-memory is disallowed by old.o")
    );
}

/// Adds to `obj` a function of type 1 that pushes `args` i32 constants and calls function
/// symbol `sym`.
fn add_call_with(obj: &mut Object<'static>, args: u8, sym: u32) {
    let mut body = vec![0];
    for k in 0..args {
        body.extend([0x41, k]);
    }
    let offset = body.len() as u32 + 1;
    body.extend([0x10, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b]);
    obj.funcs.push(Func {
        type_index: 1,
        body: Cow::Owned(body),
        relocs: RelocRange::default(),
        input_offset: 0,
        local_names: LocalNames::default(),
    });
    let call = Reloc {
        ty: RelocType::FunctionIndexLeb,
        offset,
        index: sym,
        addend: 0,
    };
    set_func_relocs(obj, obj.funcs.len() - 1, vec![call]);
}

/// Defines weak `foo` taking `params` i32s and `caller` (exported), which calls it.
fn weak_foo(path: &str, params: usize, caller: &'static str) -> Object<'static> {
    let mut o = Object {
        path: path.into(),
        types: vec![
            FuncType {
                params: vec![ValType::I32; params],
                results: Vec::new(),
            },
            FuncType::default(),
        ],
        imports: vec![MEM],
        funcs: vec![Func {
            type_index: 0,
            body: Cow::Owned(vec![0, 0x0b]),
            relocs: RelocRange::default(),
            input_offset: 0,
            local_names: LocalNames::default(),
        }],
        symbols: vec![
            sym("foo", SYM_WEAK, SymbolKind::Function(0)),
            sym(caller, SYM_EXPORTED, SymbolKind::Function(1)),
        ],
        ..Object::default()
    };
    add_call_with(&mut o, params as u8, 0);
    o
}

#[test]
fn a_losing_definition_of_another_type_calls_a_trapping_stub() {
    // wasm-ld's signature-mismatch-debug-info test: two weak definitions of `foo` with
    // different types; b.o's call must not reach a.o's `foo` with the wrong arguments.
    let a = weak_foo("a.o", 1, "test0");
    let b = weak_foo("b.o", 2, "test1");
    let opts = LinkOptions {
        entry: None,
        ..LinkOptions::default()
    };
    let out = link_objects(&[a, b], &[false, false], &opts, None).expect("link");
    assert_eq!(
        out.warnings,
        [
            "function signature mismatch: foo\n>>> defined as (i32, i32) -> void in b.o\n\
          >>> defined as (i32) -> void in a.o"
        ]
    );
    let w = wat(&out.wasm);
    assert!(w.contains("call $signature_mismatch:foo"), "{w}");
    // Only a.o's `foo` is kept (the stub has b.o's type and traps).
    assert_eq!(w.matches("(func $foo").count(), 1, "{w}");
    assert!(w.contains("(param i32))\n  (func $test0"), "{w}");
    assert!(
        w.contains("(func $signature_mismatch:foo (;0;) (type 0) (param i32 i32)\n    unreachable"),
        "{w}"
    );
}

/// `main` (exported) loads from undefined data `ext`; data `foo` lives in a segment named
/// `foo`, which gets `__start_foo` and `__stop_foo`.
fn data_object() -> Object<'static> {
    Object {
        path: "data.o".into(),
        types: vec![ty_i32()],
        imports: vec![MEM],
        funcs: vec![Func {
            type_index: 0,
            // i32.const 0; i32.load ext; end
            body: Cow::Owned(vec![
                0, 0x41, 0, 0x28, 2, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b,
            ]),
            relocs: RelocRange { start: 0, len: 1 },
            input_offset: 0,
            local_names: LocalNames::default(),
        }],
        segments: vec![Segment {
            name: "foo".into(),
            align_log2: 2,
            flags: 0,
            data: SegmentData::Bytes(Cow::Owned(vec![42, 0, 0, 0])),
            relocs: RelocRange::default(),
        }],
        relocs: vec![Reloc {
            ty: RelocType::MemoryAddrLeb,
            offset: 5,
            index: 2,
            addend: 0,
        }],
        symbols: vec![
            sym("main", SYM_EXPORTED, SymbolKind::Function(0)),
            sym(
                "foo",
                SYM_NO_STRIP,
                SymbolKind::Data(Some(DataDef {
                    segment: 0,
                    offset: 0,
                    size: 4,
                })),
            ),
            sym("ext", SYM_UNDEFINED, SymbolKind::Data(None)),
        ],
        ..Object::default()
    }
}

#[test]
fn linker_symbols_are_exported_as_wasm_ld_exports_them() {
    let obj = data_object();
    let base = LinkOptions {
        entry: None,
        unresolved_symbols: UnresolvedSymbols::IgnoreAll,
        import_undefined: true,
        ..LinkOptions::default()
    };
    let exports = |opts: &LinkOptions| -> String {
        let w = wat(&link(std::slice::from_ref(&obj), opts).expect("link"));
        w.lines()
            .filter(|l| l.contains("(export ") || l.contains("(global "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // --allow-undefined (import + ignore): undefined data is address 0, as wasm-ld.
    let plain = exports(&base);
    assert!(!plain.contains("ext"), "{plain}");
    // `__start_SEG` / `__stop_SEG` exist when --export names them.
    let start = exports(&LinkOptions {
        exports: vec!["__start_foo".into(), "__stop_foo".into()],
        ..base.clone()
    });
    assert!(start.contains("(export \"__start_foo\""), "{start}");
    assert!(start.contains("(export \"__stop_foo\""), "{start}");
    assert!(
        start.contains("i32.const 65536") && start.contains("i32.const 65540"),
        "{start}"
    );
    // `__stack_pointer` has default visibility: --export-dynamic exports it when the output
    // may export mutable globals.
    let dynamic = |features| {
        exports(&LinkOptions {
            export_dynamic: true,
            features,
            ..base.clone()
        })
    };
    let with = dynamic(crate::target::Features::GENERIC);
    assert!(with.contains("(export \"__stack_pointer\""), "{with}");
    assert!(!with.contains("__data_end"), "{with}");
    let without = dynamic(crate::target::Features::MVP);
    assert!(!without.contains("__stack_pointer\""), "{without}");
    // --export-all: `__memory_base` is 0 in a static link; no table unless something has one.
    let all = exports(&LinkOptions {
        export_all: true,
        ..base.clone()
    });
    assert!(!all.contains("__indirect_function_table"), "{all}");
    assert!(all.contains("(export \"__memory_base\""), "{all}");
    assert!(
        all.lines()
            .any(|l| l.contains("(global $__memory_base") && l.ends_with("i32 i32.const 0)")),
        "{all}"
    );
    // Without --allow-undefined, the undefined data is an error naming the file.
    let strict = LinkOptions {
        unresolved_symbols: UnresolvedSymbols::ReportAll,
        ..base
    };
    let err = link(std::slice::from_ref(&obj), &strict).expect_err("undefined data");
    assert_eq!(
        err.to_string(),
        "undefined symbol `ext` (referenced by data.o)"
    );
}

#[test]
fn wrap_redirects_references_and_real_reaches_the_original() {
    // foo returns 1; __wrap_foo calls __real_foo; main calls foo.
    let mut obj = Object {
        path: "w.o".into(),
        types: vec![ty_i32()],
        imports: vec![
            MEM,
            Import {
                module: Cow::Borrowed("env"),
                name: Cow::Borrowed("__real_foo"),
                kind: ImportKind::Func(0),
            },
        ],
        funcs: vec![ret(1)],
        symbols: vec![
            sym("foo", 0, SymbolKind::Function(1)),
            sym("__wrap_foo", 0, SymbolKind::Function(2)),
            sym("main", SYM_EXPORTED, SymbolKind::Function(3)),
            sym("__real_foo", SYM_UNDEFINED, SymbolKind::Function(0)),
        ],
        ..Object::default()
    };
    add_caller(&mut obj, 3);
    add_caller(&mut obj, 0);
    let opts = LinkOptions {
        entry: None,
        wrap: vec!["foo".into(), "nosuchsym".into()],
        ..LinkOptions::default()
    };
    let w = wat(&link(std::slice::from_ref(&obj), &opts).expect("link"));
    let body = |f: &str| -> String {
        let start = w
            .find(&format!("(func ${f} "))
            .unwrap_or_else(|| panic!("{f}: {w}"));
        w[start..].lines().take(3).collect::<Vec<_>>().join("\n")
    };
    assert!(body("main").contains("call $__wrap_foo"), "{w}");
    assert!(body("__wrap_foo").contains("call $foo"), "{w}");
    // Without --wrap, main calls foo and __real_foo stays undefined.
    let plain = LinkOptions {
        entry: None,
        ..LinkOptions::default()
    };
    assert!(
        link(std::slice::from_ref(&obj), &plain).is_ok_and(|out| wat(&out).contains("call $foo"))
    );
    // A wrapped name whose `__wrap_` nothing defines is undefined, named as such.
    let mut only_main = Object {
        funcs: vec![ret(1)],
        relocs: Vec::new(),
        symbols: vec![
            sym("foo", 0, SymbolKind::Function(0)),
            sym("main", SYM_EXPORTED, SymbolKind::Function(1)),
        ],
        imports: vec![MEM],
        ..obj
    };
    add_caller(&mut only_main, 0);
    let err = link(&[only_main], &opts).expect_err("__wrap_foo is undefined");
    assert!(
        err.to_string().starts_with("undefined symbol `__wrap_foo`"),
        "{err}"
    );
}

#[test]
fn import_table_only_when_something_uses_the_table() {
    let has_table = |opts: &LinkOptions, objs: &[Object<'static>]| {
        let w = wat(&link(objs, opts).expect("link"));
        (
            w.contains("(import \"env\" \"__indirect_function_table\" (table"),
            w.contains("(export \"__indirect_function_table\""),
        )
    };
    let import = LinkOptions {
        import_table: true,
        ..LinkOptions::default()
    };
    // Nothing uses a table: --import-table imports none (wasm-ld 22).
    assert_eq!(has_table(&import, &[two_defs()]), (false, false));
    // An LLVM 14 object imports the table without a symbol: imported, and --export-all does
    // not export what is imported (nor clash with --import-table).
    let mvp = Object {
        imports: vec![
            MEM,
            Import {
                module: Cow::Borrowed("env"),
                name: Cow::Borrowed("__indirect_function_table"),
                kind: ImportKind::Table {
                    elem: ValType::FuncRef,
                    min: 0,
                    max: None,
                },
            },
        ],
        ..two_defs()
    };
    let all = LinkOptions {
        export_all: true,
        ..import.clone()
    };
    assert_eq!(has_table(&all, std::slice::from_ref(&mvp)), (true, false));
    // Without --import-table, --export-all exports the table such an object makes exist.
    let all_defined = LinkOptions {
        export_all: true,
        ..LinkOptions::default()
    };
    assert_eq!(has_table(&all_defined, &[mvp]), (false, true));
    assert_eq!(has_table(&all_defined, &[two_defs()]), (false, false));
}

#[test]
fn allow_multiple_definition_keeps_the_first() {
    let first = two_defs();
    let mut second = two_defs();
    second.path = "e.o".into();
    second.funcs[0] = ret(5);
    let opts = |allow| LinkOptions {
        entry: None,
        exports: vec!["visible".into()],
        allow_multiple_definition: allow,
        ..LinkOptions::default()
    };
    let err = link(&[first.clone(), second.clone()], &opts(false)).expect_err("duplicate");
    assert_eq!(
        err.to_string(),
        "duplicate symbol `visible`: defined in d.o and in e.o"
    );
    for (inputs, kept) in [([first.clone(), second.clone()], 1), ([second, first], 5)] {
        let w = wat(&link(&inputs, &opts(true)).expect("link"));
        let body = w
            .split("(func $visible (;0;)")
            .nth(1)
            .expect("visible kept");
        assert!(
            body.starts_with(&format!(" (type 0) (result i32)\n    i32.const {kept}\n")),
            "{w}"
        );
    }
}

#[test]
fn print_gc_sections_lists_what_is_removed() {
    let opts = LinkOptions {
        entry: None,
        exports: vec!["visible".into()],
        print_gc_sections: true,
        ..LinkOptions::default()
    };
    let mut obj = data_object();
    obj.symbols[0].flags = 0;
    let out = link_objects(&[two_defs(), obj], &[false, false], &opts, None).expect("link");
    assert_eq!(
        out.removed,
        [
            "removing unused section d.o:(secret)",
            "removing unused section d.o:(local)",
            "removing unused section data.o:(main)",
        ]
    );
    let quiet = LinkOptions {
        print_gc_sections: false,
        ..opts
    };
    let out = link_objects(&[two_defs()], &[false], &quiet, None).expect("link");
    assert!(out.removed.is_empty());
}

/// An input that defines a name the linker defines is an error naming both; the symbols
/// after the bad one (whose records resolution fills with placeholders) and the inputs
/// after it change nothing.
#[test]
fn defining_a_linker_symbol_is_an_error() {
    let mut bad = data_object();
    bad.path = "bad.o".into();
    // `foo`, the second symbol, is renamed `__heap_base`; `ext` follows it.
    bad.symbols[1].name = "__heap_base".into();
    let err = link(&[bad, data_object()], &LinkOptions::default())
        .expect_err("`__heap_base` is the linker's")
        .to_string();
    assert_eq!(
        err,
        "symbol `__heap_base` is defined by the linker; bad.o must not define it"
    );
}

/// An input with enough symbols to have its records made in parallel chunks (three symbols
/// each under test): of two bad symbols in different chunks, the first is reported.
#[test]
fn the_first_bad_symbol_of_a_chunked_input_is_reported() {
    let mut bad = data_object();
    bad.path = "bad.o".into();
    for k in 0..9 {
        let mut alias = sym(
            "",
            0,
            SymbolKind::Data(Some(DataDef {
                segment: 0,
                offset: 0,
                size: 4,
            })),
        );
        alias.name = format!("alias{k}").into();
        bad.symbols.push(alias);
    }
    // Symbols 3 to 11 are the aliases: 7 and 10 are in different chunks of three.
    bad.symbols[7].name = "__heap_end".into();
    bad.symbols[10].name = "__data_end".into();
    let err = link(&[bad, data_object()], &LinkOptions::default())
        .expect_err("`__heap_end` and `__data_end` are the linker's")
        .to_string();
    assert_eq!(
        err,
        "symbol `__heap_end` is defined by the linker; bad.o must not define it"
    );
}

/// An object whose data symbols are given as (name, flags): each defined one has its own
/// four bytes in one segment.
fn data_symbols(path: &str, list: &[(String, u32)]) -> Object<'static> {
    let mut obj = Object {
        path: path.into(),
        imports: vec![MEM],
        segments: vec![Segment {
            name: ".data".into(),
            align_log2: 2,
            flags: 0,
            data: SegmentData::Bytes(Cow::Owned(vec![0; 4 * list.len()])),
            relocs: RelocRange::default(),
        }],
        ..Object::default()
    };
    for (k, (name, flags)) in list.iter().enumerate() {
        let def = (flags & SYM_UNDEFINED == 0).then_some(DataDef {
            segment: 0,
            offset: 4 * k as u64,
            size: 4,
        });
        obj.symbols.push(Symbol {
            name: Cow::Owned(name.clone()),
            flags: *flags,
            kind: SymbolKind::Data(def),
        });
    }
    obj
}

/// The merge by name against a serial model, over more symbols than the parallel
/// threshold (under test, global names spread over four tables and read in chunks of five):
/// symbol numbers in order of first appearance with locals interleaved, each name's
/// definition from the first strong definer (else the first weak one), the names' order.
#[test]
fn the_parallel_merge_numbers_symbols_as_a_serial_pass() {
    let names: Vec<String> = (0..13).map(|i| format!("n{i}")).collect();
    let tables: BTreeSet<usize> = names
        .iter()
        .map(|n| table_of(Names::hash(n), MERGE_BITS))
        .collect();
    assert!(tables.len() > 2, "the names spread over tables: {tables:?}");
    let mut inputs = Vec::new();
    let mut strong = HashMap::new();
    for i in 0..6 {
        let mut list = Vec::new();
        for k in 0..9 {
            let name = names[(i * 5 + k * 3) % names.len()].clone();
            let flags = match (i + k) % 4 {
                0 => SYM_LOCAL,
                1 => SYM_UNDEFINED,
                2 => SYM_WEAK,
                _ if !strong.contains_key(&name) => {
                    strong.insert(name.clone(), i as u32);
                    0
                }
                _ => SYM_WEAK,
            };
            list.push((name, flags));
        }
        inputs.push(data_symbols(&format!("in{i}.o"), &list));
    }
    let opts = LinkOptions::default();
    let db = resolve(&inputs, &opts, &[]).expect("resolve");
    // The model: sids in order of first appearance; a name's definer.
    let mut model: IndexMap<&str, u32> = IndexMap::new();
    let mut weak_definer: HashMap<&str, u32> = HashMap::new();
    let mut next = 0;
    for (i, obj) in inputs.iter().enumerate() {
        let mut want = Vec::new();
        for s in &obj.symbols {
            let sid = if s.is_local() {
                let got = &db.syms[next as usize];
                assert!(got.local && got.name == s.name, "{} in input {i}", s.name);
                next += 1;
                next - 1
            } else {
                if !s.is_undefined() {
                    weak_definer.entry(&s.name).or_insert(i as u32);
                }
                *model.entry(&s.name).or_insert_with(|| {
                    next += 1;
                    next - 1
                })
            };
            want.push(sid);
        }
        assert_eq!(db.inputs[i].syms, want, "input {i}");
    }
    assert!(db.syms.len() >= next as usize);
    assert!(model.len() < inputs.len() * 9 / 2, "names repeat");
    for (&name, &sid) in &model {
        assert_eq!(db.globals.get(name), Some(&sid), "{name}");
        let s = &db.syms[sid as usize];
        assert_eq!(s.name, name);
        match (strong.get(name), weak_definer.get(name)) {
            (Some(&i), _) => assert_eq!((s.file, s.weak_def), (i, false), "{name}"),
            (None, Some(&i)) => assert_eq!((s.file, s.weak_def), (i, true), "{name}"),
            (None, None) => assert!(s.def.is_undefined(), "{name}"),
        }
    }
    let order: Vec<u32> = db.globals.values().copied().collect();
    assert_eq!(
        order[..model.len()],
        model.values().copied().collect::<Vec<_>>()
    );
}

/// Of several errors, the one at the first read position is reported, whichever tables
/// and chunks the names fall in: two duplicate definitions in both orders, and a symbol
/// `prepare` rejects before or after a duplicate in the same input.
#[test]
fn the_first_error_in_read_order_is_reported() {
    let names: Vec<String> = (0..12).map(|i| format!("d{i}")).collect();
    let first = data_symbols(
        "a.o",
        &names.iter().map(|n| (n.clone(), 0)).collect::<Vec<_>>(),
    );
    let table = |n: &str| table_of(Names::hash(n), MERGE_BITS);
    let (x, y) = names
        .iter()
        .flat_map(|x| names.iter().map(move |y| (x, y)))
        .find(|(x, y)| table(x) != table(y))
        .expect("two names in different tables");
    let link_err = |second: Vec<(String, u32)>| {
        let mut filler: Vec<(String, u32)> = (0..7).map(|k| (format!("f{k}"), SYM_LOCAL)).collect();
        filler.extend(second);
        let inputs = [first.clone(), data_symbols("b.o", &filler)];
        resolve(&inputs, &LinkOptions::default(), &[])
            .expect_err("an error")
            .to_string()
    };
    let dup = |n: &str| format!("duplicate symbol `{n}`: defined in a.o and in b.o");
    for (p, q) in [(x, y), (y, x)] {
        assert_eq!(link_err(vec![(p.clone(), 0), (q.clone(), 0)]), dup(p));
    }
    let heap = "symbol `__heap_base` is defined by the linker; b.o must not define it";
    assert_eq!(
        link_err(vec![(x.clone(), 0), ("__heap_base".into(), 0)]),
        dup(x)
    );
    assert_eq!(
        link_err(vec![("__heap_base".into(), 0), (x.clone(), 0)]),
        heap
    );
}
