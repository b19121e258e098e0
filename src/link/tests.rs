//! Link tests over hand-built objects: the output validates with wasmparser, and its printed
//! form, data and errors are what the link stage promises.

use std::borrow::Cow;

use super::fixtures::*;
use super::*;
use crate::ir::TagType;
use crate::object::*;

fn ty(params: &[ValType], results: &[ValType]) -> FuncType {
    FuncType {
        params: params.to_vec(),
        results: results.to_vec(),
    }
}

fn import_func(name: &'static str, t: u32) -> Import<'static> {
    Import {
        module: Cow::Borrowed("env"),
        name: Cow::Borrowed(name),
        kind: ImportKind::Func(t),
    }
}

fn validate(bytes: &[u8]) -> String {
    let mut v = wasmparser::Validator::new();
    if let Err(e) = v.validate_all(bytes) {
        panic!(
            "invalid module: {e}\n{}",
            wasmprinter::print_bytes(bytes).unwrap_or_default()
        );
    }
    wasmprinter::print_bytes(bytes).expect("print")
}

/// The active data segments: (address, bytes).
fn data(bytes: &[u8]) -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let Ok(wasmparser::Payload::DataSection(r)) = payload {
            for d in r {
                let d = d.expect("data");
                let wasmparser::DataKind::Active { offset_expr, .. } = d.kind else {
                    panic!("passive")
                };
                let mut ops = offset_expr.get_operators_reader();
                let wasmparser::Operator::I32Const { value } = ops.read().expect("op") else {
                    panic!("offset")
                };
                out.push((value as u32, d.data.to_vec()));
            }
        }
    }
    out
}

fn read_u32(segs: &[(u32, Vec<u8>)], addr: u32) -> u32 {
    for (a, b) in segs {
        if addr >= *a && (addr - a) as usize + 4 <= b.len() {
            let o = (addr - a) as usize;
            return u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        }
    }
    0
}

fn two_objects() -> (Object<'static>, Object<'static>) {
    let mut a = Object {
        path: "a.o".into(),
        types: vec![ty(&[], &[ValType::I32])],
        imports: vec![MEM, import_func("b", 0)],
        funcs: vec![func(&CALL)],
        symbols: vec![
            sym("f", SYM_EXPORTED | SYM_NO_STRIP, SymbolKind::Function(1)),
            sym("b", SYM_UNDEFINED, SymbolKind::Function(0)),
        ],
        ..Object::default()
    };
    set_func_relocs(&mut a, 0, vec![reloc(RelocType::FunctionIndexLeb, 2, 1, 0)]);
    let mut b = Object {
        path: "b.o".into(),
        types: vec![ty(&[], &[ValType::I32])],
        imports: vec![MEM, import_func("f", 0)],
        funcs: vec![ret(42), func(&CALL)],
        symbols: vec![
            sym("b", SYM_HIDDEN, SymbolKind::Function(1)),
            sym("f", SYM_UNDEFINED, SymbolKind::Function(0)),
            sym("g", SYM_LOCAL, SymbolKind::Function(2)),
        ],
        ..Object::default()
    };
    set_func_relocs(&mut b, 1, vec![reloc(RelocType::FunctionIndexLeb, 2, 1, 0)]);
    (a, b)
}

#[test]
fn two_objects_call_each_other() {
    let (a, b) = two_objects();
    let out = link(&[a, b], &LinkOptions::default()).expect("link");
    let wat = validate(&out);
    assert!(wat.contains("(export \"f\" (func $f))"), "{wat}");
    assert!(wat.contains("call $b"), "{wat}");
    assert!(wat.contains("(export \"memory\" (memory 0))"), "{wat}");
    // The local `g` in b.o is unused and dropped.
    assert!(!wat.contains("$g"), "{wat}");
    assert!(
        wat.contains("(global $__stack_pointer (;0;) (mut i32) i32.const 65536)"),
        "{wat}"
    );
    // As wasm-ld, the linker does not name itself in `producers`; these inputs have none.
    assert!(!wat.contains("producers"), "{wat}");
}

#[test]
fn deterministic() {
    let (a, b) = two_objects();
    let inputs = [a, b];
    let x = link(&inputs, &LinkOptions::default()).expect("link");
    let y = link(&inputs, &LinkOptions::default()).expect("link");
    assert_eq!(x, y);
}

#[test]
fn gc_off_keeps_unused_local() {
    let (a, b) = two_objects();
    let opts = LinkOptions {
        gc: false,
        ..LinkOptions::default()
    };
    let wat = validate(&link(&[a, b], &opts).expect("link"));
    assert!(wat.contains("$g"), "{wat}");
}

#[test]
fn undefined_names_every_referencing_file() {
    let (a, _) = two_objects();
    let mut c = a.clone();
    c.path = "c.o".into();
    c.symbols[0] = sym("f2", SYM_EXPORTED, SymbolKind::Function(1));
    let err = link(&[a, c], &LinkOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "undefined symbol `b` (referenced by a.o, c.o)"
    );
}

#[test]
fn import_undefined_makes_imports() {
    let (a, _) = two_objects();
    let opts = LinkOptions {
        import_undefined: true,
        ..LinkOptions::default()
    };
    let wat = validate(&link(&[a], &opts).expect("link"));
    assert!(wat.contains("(import \"env\" \"b\" (func $b"), "{wat}");
}

#[test]
fn explicit_import_is_imported_without_option() {
    let (mut a, _) = two_objects();
    a.imports[1].module = Cow::Borrowed("host");
    let wat = validate(&link(&[a], &LinkOptions::default()).expect("link"));
    assert!(wat.contains("(import \"host\" \"b\""), "{wat}");
}

#[test]
fn duplicate_strong_definitions() {
    let (a, b) = two_objects();
    let mut b2 = b.clone();
    b2.path = "b2.o".into();
    let err = link(&[a, b, b2], &LinkOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "duplicate symbol `b`: defined in b.o and in b2.o"
    );
}

#[test]
fn strong_beats_weak_and_first_weak_wins() {
    let (a, b) = two_objects();
    let mut weak1 = b.clone();
    weak1.path = "w1.o".into();
    weak1.funcs[0] = ret(7);
    weak1.symbols[0].flags |= SYM_WEAK;
    let mut weak2 = weak1.clone();
    weak2.path = "w2.o".into();
    weak2.funcs[0] = ret(9);
    let wat =
        validate(&link(&[a.clone(), weak1.clone(), b], &LinkOptions::default()).expect("link"));
    assert!(
        wat.contains("i32.const 42") && !wat.contains("i32.const 7"),
        "{wat}"
    );
    let wat = validate(&link(&[a, weak1, weak2], &LinkOptions::default()).expect("link"));
    assert!(
        wat.contains("i32.const 7") && !wat.contains("i32.const 9"),
        "{wat}"
    );
}

#[test]
fn weak_undefined_function_traps() {
    let (mut a, _) = two_objects();
    a.symbols[1].flags |= SYM_WEAK;
    let wat = validate(&link(&[a], &LinkOptions::default()).expect("link"));
    assert!(wat.contains("unreachable"), "{wat}");
}

fn data_object() -> Object<'static> {
    // @s: rodata "hello"; @p: data { ptr @s + 2 }; @t: bss 100; f() -> &p; h() -> &fp slot
    let mut o = Object {
        path: "d.o".into(),
        types: vec![ty(&[], &[ValType::I32])],
        imports: vec![MEM],
        funcs: vec![func(&CONST), func(&CONST), ret(5)],
        segments: vec![
            Segment {
                name: Cow::Borrowed(".rodata.s"),
                align_log2: 0,
                flags: 0,
                data: SegmentData::Bytes(Cow::Borrowed(b"hello")),
                relocs: RelocRange::default(),
            },
            Segment {
                name: Cow::Borrowed(".data.p"),
                align_log2: 2,
                flags: 0,
                data: SegmentData::Bytes(Cow::Owned(vec![0; 8])),
                relocs: RelocRange::default(),
            },
            Segment {
                name: Cow::Borrowed(".bss.t"),
                align_log2: 3,
                flags: 0,
                data: SegmentData::Zero(100),
                relocs: RelocRange::default(),
            },
        ],
        symbols: vec![
            sym(
                "s",
                SYM_LOCAL,
                SymbolKind::Data(Some(DataDef {
                    segment: 0,
                    offset: 0,
                    size: 5,
                })),
            ),
            sym(
                "p",
                SYM_HIDDEN,
                SymbolKind::Data(Some(DataDef {
                    segment: 1,
                    offset: 0,
                    size: 8,
                })),
            ),
            sym("f", SYM_EXPORTED, SymbolKind::Function(0)),
            sym("fp", SYM_LOCAL, SymbolKind::Function(2)),
            sym("h", SYM_EXPORTED, SymbolKind::Function(1)),
            sym(
                "t",
                SYM_EXPORTED,
                SymbolKind::Data(Some(DataDef {
                    segment: 2,
                    offset: 0,
                    size: 100,
                })),
            ),
            sym("__heap_base", SYM_UNDEFINED, SymbolKind::Data(None)),
        ],
        ..Object::default()
    };
    set_func_relocs(&mut o, 0, vec![reloc(RelocType::MemoryAddrSleb, 2, 1, 0)]);
    set_func_relocs(&mut o, 1, vec![reloc(RelocType::TableIndexSleb, 2, 3, 0)]);
    set_segment_relocs(
        &mut o,
        1,
        vec![
            reloc(RelocType::MemoryAddrI32, 0, 0, 2),
            reloc(RelocType::TableIndexI32, 4, 3, 0),
        ],
    );
    o
}

#[test]
fn data_relocations_and_layout() {
    let out = link(&[data_object()], &LinkOptions::default()).expect("link");
    let wat = validate(&out);
    let segs = data(&out);
    // .rodata at 65536, .data at 65544 (aligned 4); .bss not written.
    assert_eq!(segs.len(), 2, "{wat}");
    assert_eq!(segs[0], (65536, b"hello".to_vec()));
    assert_eq!(segs[1].0, 65544);
    assert_eq!(read_u32(&segs, 65544), 65538);
    assert_eq!(read_u32(&segs, 65548), 1, "table slot of fp");
    assert!(wat.contains("i32.const 65544"), "{wat}");
    assert!(wat.contains("(table (;0;) 2 2 funcref)"), "{wat}");
    assert!(wat.contains("(elem (;0;) (i32.const 1) func $fp)"), "{wat}");
    // Exported data: a global with its address (bss at 65552, aligned 8).
    assert!(wat.contains("(export \"t\" (global"), "{wat}");
    assert!(wat.contains("i32.const 65552"), "{wat}");
    // 65552 + 100 = 65652 -> heap base 65664; one page... rounded: 2 pages.
    assert!(wat.contains("(memory (;0;) 2)"), "{wat}");
    assert!(wat.contains("(data $.rodata"), "{wat}");
}

#[test]
fn bad_objects_are_errors() {
    let mut o = data_object();
    o.func_relocs_mut(0)[0].offset = 5;
    let e = link(&[o], &LinkOptions::default()).unwrap_err().to_string();
    assert!(e.contains("d.o: invalid object: relocation MemoryAddrSleb at offset 5 runs past the end of function 0"), "{e}");

    let mut o = data_object();
    o.func_relocs_mut(0)[0].index = 99;
    let e = link(&[o], &LinkOptions::default()).unwrap_err().to_string();
    assert!(e.contains("refers to symbol 99"), "{e}");

    let mut o = data_object();
    o.func_relocs_mut(0)[0].ty = RelocType::TagIndexLeb;
    let e = link(&[o], &LinkOptions::default()).unwrap_err().to_string();
    assert_eq!(
        e,
        "unsupported relocation type TagIndexLeb (10) in d.o at offset 2"
    );

    let mut o = data_object();
    o.symbols[1].kind = SymbolKind::Data(Some(DataDef {
        segment: 7,
        offset: 0,
        size: 1,
    }));
    let e = link(&[o], &LinkOptions::default()).unwrap_err().to_string();
    assert!(e.contains("segment 7 out of range"), "{e}");

    let mut o = data_object();
    o.funcs[1].type_index = 3;
    let e = link(&[o], &LinkOptions::default()).unwrap_err().to_string();
    assert!(e.contains("function 1 has type 3"), "{e}");

    let mut o = data_object();
    o.symbols[2].kind = SymbolKind::Function(40);
    let e = link(&[o], &LinkOptions::default()).unwrap_err().to_string();
    assert!(e.contains("function 40 is not a defined function"), "{e}");
}

#[test]
fn ctors_run_by_priority_from_start() {
    let o = Object {
        path: "c.o".into(),
        types: vec![ty(&[], &[]), ty(&[], &[ValType::I32])],
        imports: vec![MEM],
        funcs: vec![
            func(&[0x0b]),
            Func {
                type_index: 1,
                ..ret(3)
            },
        ],
        symbols: vec![
            sym("late", SYM_LOCAL, SymbolKind::Function(0)),
            sym("early", SYM_LOCAL, SymbolKind::Function(1)),
        ],
        init_funcs: vec![
            InitFunc {
                priority: 200,
                symbol: 0,
            },
            InitFunc {
                priority: 100,
                symbol: 1,
            },
        ],
        ..Object::default()
    };
    let wat = validate(&link(std::slice::from_ref(&o), &LinkOptions::default()).expect("link"));
    let body = wat.split("(func $__wasm_call_ctors").nth(1).expect("ctors");
    let early = body.find("call $early").expect("early");
    let late = body.find("call $late").expect("late");
    assert!(early < late, "{wat}");
    assert!(body.contains("drop"), "{wat}");
    assert!(wat.contains("(start $__wasm_call_ctors)"), "{wat}");
    // With an entry, no start function.
    let mut o2 = o.clone();
    o2.symbols.push(sym("_start", 0, SymbolKind::Function(0)));
    let opts = LinkOptions {
        entry: Some("_start".into()),
        ..LinkOptions::default()
    };
    let wat = validate(&link(&[o2], &opts).expect("link"));
    assert!(!wat.contains("(start"), "{wat}");
    assert!(wat.contains("(export \"_start\""), "{wat}");
}

fn enum_object(tag: TagType, variants: &[(&str, i128)]) -> Object<'static> {
    let t = if tag.bits == 64 {
        ValType::I64
    } else {
        ValType::I32
    };
    let mut o = Object {
        path: "e.o".into(),
        types: vec![ty(&[t], &[ValType::I32])],
        imports: vec![MEM, import_func("__kiln_tag_name.E", 0)],
        funcs: vec![func(&[
            0x20, 0x00, 0x10, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b,
        ])],
        symbols: vec![
            sym("name_of", SYM_EXPORTED, SymbolKind::Function(1)),
            sym("__kiln_tag_name.E", SYM_UNDEFINED, SymbolKind::Function(0)),
        ],
        enums: vec![EnumInfo {
            symbol: 1,
            tag,
            variants: variants.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
        }],
        ..Object::default()
    };
    set_func_relocs(&mut o, 0, vec![reloc(RelocType::FunctionIndexLeb, 4, 1, 0)]);
    o
}

/// Links an enum user; returns the WAT and the (name, len) of each table entry in value order.
fn tag_table(tag: TagType, variants: &[(&str, i128)], features: Features) -> (String, Vec<String>) {
    let opts = LinkOptions {
        features,
        ..LinkOptions::default()
    };
    let out = link(&[enum_object(tag, variants)], &opts).expect("link");
    let wat = validate(&out);
    let segs = data(&out);
    let (addr, bytes) = segs.last().expect("name table").clone();
    let names_len = (variants.iter().map(|v| v.0.len()).sum::<usize>()).next_multiple_of(4);
    let mut names = Vec::new();
    for k in 0..(bytes.len() - names_len) / 8 {
        let e = addr + (names_len + 8 * k) as u32;
        let p = read_u32(&segs, e) - addr;
        let n = read_u32(&segs, e + 4);
        names.push(String::from_utf8_lossy(&bytes[p as usize..(p + n) as usize]).into_owned());
    }
    (wat, names)
}

#[test]
fn tag_names_dense() {
    let (wat, names) = tag_table(
        TagType {
            bits: 8,
            signed: false,
        },
        &[("a", 0), ("bb", 1), ("c", 2)],
        Features::default(),
    );
    assert_eq!(names, ["a", "bb", "c"]);
    assert!(
        wat.contains("i32.const 255") && wat.contains("i32.lt_u"),
        "{wat}"
    );
}

#[test]
fn tag_names_signed_narrow() {
    let (wat, names) = tag_table(
        TagType {
            bits: 8,
            signed: true,
        },
        &[("neg", -2), ("m1", -1), ("zero", 0)],
        Features::default(),
    );
    assert_eq!(names, ["neg", "m1", "zero"]);
    assert!(wat.contains("i32.extend8_s"), "{wat}");
    let (wat, _) = tag_table(
        TagType {
            bits: 16,
            signed: true,
        },
        &[("neg", -2), ("m1", -1)],
        Features::MVP,
    );
    assert!(
        wat.contains("i32.shr_s") && !wat.contains("extend16"),
        "{wat}"
    );
}

#[test]
fn tag_names_sparse() {
    let (wat, names) = tag_table(
        TagType {
            bits: 32,
            signed: false,
        },
        &[("x", 10), ("y", 12), ("z", 15)],
        Features::default(),
    );
    assert_eq!(names, ["x", "y", "z"]);
    assert!(wat.contains("br_table"), "{wat}");
    let (wat, names) = tag_table(
        TagType {
            bits: 32,
            signed: true,
        },
        &[("lo", -100000), ("mid", 7), ("hi", 1 << 30)],
        Features::default(),
    );
    assert_eq!(names, ["lo", "mid", "hi"]);
    assert!(wat.contains("i32.eq") && !wat.contains("br_table"), "{wat}");
}

#[test]
fn tag_names_u64() {
    let (wat, names) = tag_table(
        TagType {
            bits: 64,
            signed: false,
        },
        &[("big", u64::MAX as i128), ("one", 1)],
        Features::default(),
    );
    assert_eq!(names, ["one", "big"]);
    assert!(
        wat.contains("i64.const -1") && wat.contains("(param i64)"),
        "{wat}"
    );
    let (wat, _) = tag_table(
        TagType {
            bits: 64,
            signed: true,
        },
        &[("a", 5), ("b", 6)],
        Features::default(),
    );
    assert!(wat.contains("i64.lt_u"), "{wat}");
    let (wat, _) = tag_table(
        TagType {
            bits: 64,
            signed: true,
        },
        &[("a", 5), ("b", 7), ("c", 8)],
        Features::default(),
    );
    assert!(
        wat.contains("br_table") && wat.contains("i64.ge_u"),
        "{wat}"
    );
}

#[test]
fn enum_descriptions_merge_or_conflict() {
    let tag = TagType {
        bits: 8,
        signed: false,
    };
    let a = enum_object(tag, &[("a", 0)]);
    let mut b = a.clone();
    b.path = "e2.o".into();
    b.symbols[0].name = Cow::Borrowed("other");
    let out = link(&[a.clone(), b.clone()], &LinkOptions::default()).expect("link");
    let wat = validate(&out);
    assert_eq!(wat.matches("(func $__kiln_tag_name.E").count(), 1, "{wat}");
    b.enums[0].variants[0].0 = "z".into();
    let e = link(&[a, b], &LinkOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "enum description mismatch for `__kiln_tag_name.E` between e.o and e2.o"
    );
}

#[test]
fn signature_mismatch_links_a_trapping_stub() {
    let (a, mut b) = two_objects();
    b.types[0] = ty(&[ValType::I32], &[ValType::I32]);
    b.funcs[0] = func(&[0x41, 1, 0x0b]);
    let out = link_inputs_with_warnings(
        vec![Input::Object(a), Input::Object(b)],
        &LinkOptions::default(),
    )
    .expect("link");
    assert_eq!(
        out.warnings,
        [
            "function signature mismatch: b\n>>> defined as () -> i32 in a.o\n>>> defined as (i32) -> i32 in b.o",
            // b.o's changed type 0 is also its import type of `f`.
            "function signature mismatch: f\n>>> defined as (i32) -> i32 in b.o\n>>> defined as () -> i32 in a.o",
        ]
    );
    let wat = validate(&out.wasm);
    // `f` calls the stub (type () -> i32), which traps; b.o's own `b` is not reached.
    assert!(wat.contains("unreachable"), "{wat}");
    assert!(wat.contains("call $signature_mismatch:b"), "{wat}");
}
