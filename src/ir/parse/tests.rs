//! Parser and printer tests: canonical round trips, normalization, comments, errors with
//! their exact locations, and size (no recursion on long inputs).

use cranelift_entity::EntityRef;

use crate::ir::*;

const ALL: &str = include_str!("testdata/all.ir");

/// Parses, panicking with the rendered diagnostics on failure.
fn p(text: &str) -> Module {
    match parse(text) {
        Ok(m) => m,
        Err(e) => panic!("parse failed:\n{}\n--- text:\n{text}", e.render("t.ir")),
    }
}

/// `print(parse(text))`, checking that it is a fixed point.
fn fmt(text: &str) -> String {
    let once = print(&p(text));
    let twice = print(&p(&once));
    assert_eq!(twice, once, "printing is not a fixed point");
    once
}

/// Checks that canonical text prints as itself.
fn canonical(text: &str) {
    assert_eq!(fmt(text), text);
}

/// The diagnostics of a text that must fail, as `line:col: message`.
fn errs(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(m) => panic!("parse succeeded:\n{}", print(&m)),
        Err(d) => d.0.iter().map(|d| d.to_string()).collect(),
    }
}

fn err1(text: &str) -> String {
    let e = errs(text);
    assert_eq!(e.len(), 1, "{e:?}");
    e[0].clone()
}

fn func_body(text: &str) -> String {
    format!("func @f(i32, i64) -> i32 {{\nblock0(v0: i32, v1: i64):\n{text}}}\n")
}

#[test]
fn corpus_file_is_canonical() {
    canonical(ALL);
}

#[test]
fn module_contents() {
    let m = p(ALL);
    let main = m.func_by_name("main").unwrap();
    let d = &m.decls.funcs[main];
    assert_eq!(d.linkage, Linkage::Export);
    assert_eq!(
        d.sig.params,
        vec![Type::I32, Type::I64, Type::F32, Type::F64]
    );
    let host = m.func_by_name("host").unwrap();
    assert_eq!(
        m.decls.funcs[host].linkage,
        Linkage::Extern(Some(Import {
            module: "env".into(),
            name: "host".into()
        }))
    );
    let init = m.func_by_name("init").unwrap();
    assert_eq!(m.decls.funcs[init].ctor, Some(DEFAULT_CTOR_PRIORITY));
    assert_eq!(m.decls.funcs[init].linkage, Linkage::Public);
    let f = &m.bodies[main];
    let v = |n: usize| Value::new(n);
    // Numbers are kept; select results take their second operand's type, even forward.
    assert_eq!(f.dfg.value_type(v(24)), Type::I32);
    assert_eq!(f.dfg.value_type(v(61)), Type::I64);
    assert_eq!(f.dfg.value_type(v(40)), Type::F32);
    assert_eq!(f.dfg.value_type(v(41)), Type::F64);
    assert_eq!(f.dfg.value_type(v(9)), Type::Ptr);
    assert_eq!(f.dfg.values[v(56)].def, ValueDef::Param(Block::new(3), 0));
    assert_eq!(f.layout.len(), 4);
    assert_eq!(f.stack_slots.len(), 2);
    let line_of =
        |prefix: &str| 1 + ALL.lines().position(|l| l.starts_with(prefix)).unwrap() as u32;
    let at = |line, col| Loc { line, col };
    assert_eq!(f.slot_locs[StackSlot::new(1)], at(line_of("    ss1 ="), 5));
    assert_eq!(f.block_locs[Block::new(0)], at(line_of("block0(v0"), 1));
    let first = f.dfg.blocks[Block::new(0)].insts[0];
    assert_eq!(f.inst_locs[first], at(line_of("    v4 ="), 5));
    assert_eq!(m.decls.funcs[main].loc, at(line_of("func @main"), 1));
    assert_eq!(
        m.decls.enums[EnumRef::new(0)].loc,
        at(line_of("enum %Color"), 1)
    );
    assert_eq!(
        m.decls.globals[GlobalRef::new(1)].loc,
        at(line_of("extern global @__stack"), 1)
    );
    assert_eq!(
        m.decls.data[DataRef::new(1)].loc,
        at(line_of("data @table"), 1)
    );
    // Memory args: natural alignment is stored as 0.
    let loads: Vec<MemArg> = f
        .dfg
        .insts
        .values()
        .filter_map(|i| match i {
            InstData::Load { mem, .. } => Some(*mem),
            _ => None,
        })
        .collect();
    assert_eq!(
        loads,
        vec![
            MemArg::default(),
            MemArg {
                offset: 4,
                align: 0
            },
            MemArg {
                offset: 2,
                align: 1
            },
            MemArg {
                offset: 0,
                align: 4
            },
        ]
    );
    let color = &m.decls.enums[EnumRef::new(0)];
    let vals: Vec<(i128, bool)> = color
        .variants
        .iter()
        .map(|v| (v.value, v.explicit))
        .collect();
    assert_eq!(vals, vec![(0, false), (5, true), (6, false), (200, true)]);
    assert_eq!(color.variants[3].name, "light blue");
    let table = &m.decls.data[DataRef::new(1)];
    assert_eq!(
        table.items[0],
        DataItem::Int {
            bytes: 1,
            value: 0xff
        }
    );
    assert_eq!(
        table.items[11],
        DataItem::FuncAddr(m.func_by_name("later").unwrap())
    );
    assert_eq!(
        table.items[9],
        DataItem::DataAddr {
            data: DataRef::new(0),
            offset: -1
        }
    );
    let msg = &m.decls.data[DataRef::new(0)];
    assert_eq!(
        msg.items,
        vec![DataItem::Bytes(b"hello\n\0\xff\"\\ \xc3\xa9".to_vec())]
    );
    let qnan = &m.decls.globals[GlobalRef::new(6)];
    assert_eq!(qnan.init, 0xff80_0000 | 0x1234);
}

#[test]
fn comments_are_anchored() {
    let m = p(ALL);
    let main = m.func_by_name("main").unwrap();
    let find = |text: &str| {
        m.comments
            .iter()
            .find(|c| c.text == text)
            .map(|c| (c.anchor, c.placement))
            .unwrap_or_else(|| panic!("no comment {text:?}"))
    };
    use Placement::*;
    assert_eq!(
        find(" head comment: stays at the top"),
        (Anchor::FileStart, Leading)
    );
    assert_eq!(
        find(" leads the enum"),
        (Anchor::Item(Item::Enum(EnumRef::new(0))), Leading)
    );
    assert_eq!(
        find(" colors"),
        (Anchor::Item(Item::Enum(EnumRef::new(0))), Trailing)
    );
    assert_eq!(find(" header"), (Anchor::Item(Item::Func(main)), Trailing));
    assert_eq!(
        find(" leads ss0"),
        (Anchor::Slot(main, StackSlot::new(0)), Leading)
    );
    assert_eq!(
        find(" slot"),
        (Anchor::Slot(main, StackSlot::new(0)), Trailing)
    );
    assert_eq!(
        find(" leads block0"),
        (Anchor::Block(main, Block::new(0)), Leading)
    );
    assert_eq!(
        find(" block0 header"),
        (Anchor::Block(main, Block::new(0)), Trailing)
    );
    assert!(matches!(find(" a call"), (Anchor::Inst(f, _), Trailing) if f == main));
    assert!(matches!(find(" leads return"), (Anchor::Inst(f, _), Leading) if f == main));
    assert_eq!(
        find(" leads the closing brace"),
        (Anchor::FuncEnd(main), Leading)
    );
    assert_eq!(find(" after the brace"), (Anchor::FuncEnd(main), Trailing));
    assert_eq!(find(" at the end of the file"), (Anchor::FileEnd, Leading));
}

#[test]
fn comment_edge_cases() {
    // No blank line after the head comment: it leads the first item.
    canonical("; leads\nglobal @g: i32 = 0\n");
    // Only comments.
    canonical("; a\n; b\n");
    // Comments inside a multi-line item trail it; text is kept exactly.
    assert_eq!(
        fmt("enum %E: u8 {  ;x\n  A, ;  y \n  B\n}\n"),
        "enum %E: u8 { A, B }  ;x  ;  y \n"
    );
    // A comment before the first item but after a blank line still leads it.
    assert_eq!(
        fmt("\n; c\n\n\nglobal @g: i32 = 0\n"),
        "; c\n\nglobal @g: i32 = 0\n"
    );
    assert_eq!(
        fmt("\n\n; c\nglobal @g: i32 = 0\n"),
        "; c\nglobal @g: i32 = 0\n"
    );
    // Comment between items leads the next one.
    canonical("global @a: i32 = 0\n\n; b\nglobal @b: i32 = 0\n");
    // Comment inside an empty function.
    canonical("func @f() {\n    ; nothing\n}\n");
    // Trailing comment on an extern item.
    canonical("extern func @f()  ; ext\n");
}

#[test]
fn normalization() {
    let t = "func @f(i32) -> i32 {\nblock0(v0: i32):\n    v1 = i32.const 0xffffffff\n    v2 = i32.load v0 offset=0 align=4\n    v3 = i64.const 0x8000000000000000\n    v4 = f64.const 1e3\n    v5 = f32.const -2e-3\n    jump block1()\nblock1():\n    return v1\n}\n";
    assert_eq!(
        fmt(t),
        "func @f(i32) -> i32 {\nblock0(v0: i32):\n    v1 = i32.const -1\n    v2 = i32.load v0\n    v3 = i64.const -9223372036854775808\n    v4 = f64.const 1000.0\n    v5 = f32.const -0.002\n    jump block1\n\nblock1:\n    return v1\n}\n"
    );
    assert_eq!(
        fmt("data @d: data = { i8 255, i16 0xffff, \"x\", }\ndata @e: rodata = { \"y\" }\n"),
        "data @d: data align 1 = { i8 -1, i16 -1, \"x\" }\n\ndata @e: rodata align 1 = \"y\"\n"
    );
    assert_eq!(
        fmt("func @c() ctor 65535 {\nblock0:\n return\n}"),
        "func @c() ctor {\nblock0:\n    return\n}\n"
    );
    assert_eq!(
        fmt("enum %E: i8 { A = 0, B = 1, C = -1, D = 0, }"),
        "enum %E: i8 { A, B, C = -1, D }\n"
    );
    assert_eq!(fmt("global @g: f64 = 3"), "global @g: f64 = 3.0\n");
    assert_eq!(
        fmt("global @g: f32 = nan:0x400000"),
        "global @g: f32 = nan\n"
    );
    assert_eq!(fmt("global @g: f64 = -nan"), "global @g: f64 = -nan\n");
    assert_eq!(fmt("global @g: ptr = 0xffffffff"), "global @g: ptr = -1\n");
}

#[test]
fn names() {
    canonical(
        "extern func @\"operator new\"(ptr) -> ptr\n\nextern global @\"a\\\"b\\\\c\\n\": i32\n\nextern data @\"\"\n\nextern data @0abc.$_\n",
    );
    assert_eq!(fmt("extern data @\"plain\""), "extern data @plain\n");
    // Variant names that are not plain words, and enum names with dots.
    canonical(
        "enum %a.b: u8 { c, \"0x\", d.e, .f }\n\nfunc @f() {\nblock0:\n    v0 = enum_const %a.b.c\n    v1 = enum_const %a.b.\"0x\"\n    v2 = enum_const %a.b.\"d.e\"\n    v3 = enum_const %a.b.\".f\"\n    return\n}\n",
    );
    let m = p(
        "enum %a: u8 { x }\nenum %a.b: u8 { c }\nfunc @f() {\nblock0:\n    v0 = enum_const %a.b.c\n    return\n}\n",
    );
    let f = m.func_by_name("f").unwrap();
    let inst = m.bodies[f].dfg.blocks[Block::new(0)].insts[0];
    assert_eq!(print_inst(&m, f, inst), "v0 = enum_const %a.b.c");
    assert!(matches!(
        m.bodies[f].dfg.insts[inst],
        InstData::EnumConst { enum_ref, variant: 0 } if enum_ref == EnumRef::new(1)
    ));
    canonical(
        "enum %\"a b\": u8 { \"c d\" }\n\nfunc @f() {\nblock0:\n    v0 = enum_const %\"a b\".\"c d\"\n    v1, v2 = tag_name %\"a b\"(v0)\n    return\n}\n",
    );
}

#[test]
fn every_opcode_round_trips() {
    let mut body = String::new();
    let mut n = 10;
    for ty in Type::ALL {
        body.push_str(&format!("    v{n} = {ty}.const 1\n"));
        let x = n;
        n += 1;
        for &op in UnaryOp::ALL.iter().filter(|o| o.valid_for(ty)) {
            body.push_str(&format!("    v{n} = {ty}.{} v{x}\n", op.name()));
            n += 1;
        }
        for &op in BinaryOp::ALL.iter().filter(|o| o.valid_for(ty)) {
            body.push_str(&format!("    v{n} = {ty}.{} v{x}, v{x}\n", op.name()));
            n += 1;
        }
        for kind in LoadKind::ALL.into_iter().filter(|k| k.valid_for(ty)) {
            body.push_str(&format!(
                "    v{n} = {ty}.{} v0 offset=3 align=1\n",
                kind.name()
            ));
            n += 1;
        }
        for width in StoreWidth::ALL.into_iter().filter(|k| k.valid_for(ty)) {
            body.push_str(&format!("    {ty}.{} v0, v{x} offset=1\n", width.name()));
        }
    }
    for &op in ConvertOp::ALL {
        body.push_str(&format!("    v{n} = {} v{n}\n", op.name()));
        n += 1;
    }
    for &i in Intrinsic::ALL {
        let args: Vec<String> = (0..i.params().len()).map(|k| format!("v{k}")).collect();
        let res: Vec<String> = (0..i.results().len())
            .map(|k| format!("v{}", n + k))
            .collect();
        n += res.len();
        let lhs = if res.is_empty() {
            String::new()
        } else {
            format!("{} = ", res.join(", "))
        };
        body.push_str(&format!(
            "    {lhs}intrinsic {}({})\n",
            i.name(),
            args.join(", ")
        ));
    }
    body.push_str("    return v0\n");
    let text = func_body(&body);
    let printed = fmt(&text);
    canonical(&printed);
    assert!(printed.contains("v43 = i32.load8_s v0 offset=3\n"));
    assert!(printed.contains("v42 = i32.load v0 offset=3 align=1\n"));
    assert!(printed.contains("v87 = f32.const 1.0\n"));
    let m = p(&text);
    let f = m.func_by_name("f").unwrap();
    // Every result got the type the instruction gives it.
    let dfg = &m.bodies[f].dfg;
    let mut types = Vec::new();
    for (inst, data) in dfg.insts.iter() {
        inst_result_types(&m.decls, dfg, data, &mut types);
        let got: Vec<Type> = dfg
            .inst_results(inst)
            .iter()
            .map(|&v| dfg.value_type(v))
            .collect();
        assert_eq!(got, types, "{}", print_inst(&m, f, inst));
    }
}

#[test]
fn print_function_and_inst() {
    let m = p(ALL);
    let later = m.func_by_name("later").unwrap();
    assert_eq!(
        print_function(&m, later),
        "func @later() {\nblock0:\n    unreachable\n}\n"
    );
    let main = m.func_by_name("main").unwrap();
    let b0 = &m.bodies[main].dfg.blocks[Block::new(0)];
    assert_eq!(print_inst(&m, main, b0.insts[0]), "v4 = i32.const -1");
    assert_eq!(format!("{m}"), print(&m));
}

#[test]
fn results_as_written() {
    // Too many and too few results are kept as written, for the verifier.
    let m = p(&func_body(
        "    v2, v3 = i32.add v0, v0\n    call @f(v0, v1)\n    return v2\n",
    ));
    let f = m.func_by_name("f").unwrap();
    let dfg = &m.bodies[f].dfg;
    let insts = &dfg.blocks[Block::new(0)].insts;
    assert_eq!(dfg.inst_results(insts[0]).len(), 2);
    assert_eq!(dfg.value_type(Value::new(3)), Type::I32);
    assert_eq!(dfg.inst_results(insts[1]).len(), 0);
    // Used but never defined: a placeholder; gaps too.
    let m = p(&func_body("    return v9\n"));
    let dfg = &m.bodies[FuncRef::new(0)].dfg;
    assert_eq!(dfg.values.len(), 10);
    assert_eq!(dfg.values[Value::new(9)].def, ValueDef::None);
    assert_eq!(dfg.values[Value::new(5)].def, ValueDef::None);
}

#[test]
fn sparse_numbers_are_kept() {
    canonical(
        "func @f() {\n    ss0 = stack_slot 8 align 4\nblock5:\n    v7 = stack_addr ss0 + 4\n    jump block3(v7)\n\nblock3(v100: ptr):\n    return\n}\n",
    );
    // Gaps in slot numbers are filled with empty slots, which print.
    assert_eq!(
        fmt("func @f() {\n    ss1 = stack_slot 8\nblock0:\n    return\n}\n"),
        "func @f() {\n    ss0 = stack_slot 0 align 1\n    ss1 = stack_slot 8 align 1\nblock0:\n    return\n}\n"
    );
    let m = p("func @f() {\n    ss2 = stack_slot 8 align 4\nblock5:\n    return\n}\n");
    let f = &m.bodies[FuncRef::new(0)];
    assert_eq!(f.layout, vec![Block::new(5)]);
    assert_eq!(f.dfg.blocks.len(), 6);
}

#[test]
fn syntax_errors() {
    let body = |s: &str| func_body(s);
    assert_eq!(
        err1(&body("    call @f(v0 block3)\n")),
        "3:16: expected ',' or ')' after argument, found 'block3'"
    );
    assert_eq!(
        err1(&body("    v2 = i32.ad v0, v0\n")),
        "3:10: unknown opcode 'i32.ad'"
    );
    assert_eq!(
        err1(&body("    v2 = f32.clz v0\n")),
        "3:10: unknown opcode 'f32.clz'"
    );
    assert_eq!(
        err1("data @s: rodata = \"abc\n"),
        "1:19: unterminated string"
    );
    assert_eq!(
        err1("data @s: rodata = \"a\\qc\"\n"),
        "1:21: invalid escape '\\q' in string"
    );
    assert_eq!(
        err1(&body("    v2 = intrinsic nope(v0)\n")),
        "3:20: unknown intrinsic 'nope'"
    );
    assert_eq!(
        err1(&body("    v2 = i32.add v0, v0 v1\n")),
        "3:25: expected end of line after the instruction, found 'v1'"
    );
    assert_eq!(
        err1(&body("    v16777216 = i32.const 0\n")),
        "3:5: value number 16777216 is too large (the limit is 16777215)"
    );
    assert_eq!(
        err1(&body("    jump block16777216\n")),
        "3:10: block number 16777216 is too large (the limit is 16777215)"
    );
    assert_eq!(
        err1("func @f() {\n    ss99999999999999999999 = stack_slot 4\n}"),
        "2:5: stack slot number 99999999999999999999 is too large (the limit is 16777215)"
    );
    assert_eq!(
        err1("func @f() {\nblock0:\n    return\n"),
        "4:1: expected an instruction, a block header or '}', found end of file"
    );
    assert_eq!(
        err1("foo"),
        "1:1: expected an item (func, global, data or enum), found 'foo'"
    );
    assert_eq!(
        err1("extern enum %E: u8 {}"),
        "1:8: expected 'func', 'global' or 'data' after 'extern', found 'enum'"
    );
    assert_eq!(
        err1("global @g: i32 = 1.5"),
        "1:18: expected integer, found '1.5'".replace("integer", "an i32 constant")
    );
    assert_eq!(
        err1("global @g: f64 = nan:0x0"),
        "1:22: invalid NaN payload '0x0' for f64"
    );
    assert_eq!(err1("global @g: i32 = 12ab"), "1:18: invalid number '12ab'");
    assert_eq!(err1("global @g: i32 = #"), "1:18: unexpected character '#'");
    assert_eq!(
        err1("func @f() {\n    v1 = i32.const 0\n}"),
        "2:5: expected a block header before the first instruction, found 'v1'"
    );
    assert_eq!(
        err1("func @f() {\nblock0:\n    return\n    ss0 = stack_slot 4\n}"),
        "4:5: stack slots must be declared before the first block"
    );
    // A syntax error in an early body is reported before a later header error.
    assert_eq!(
        err1("func @f() {\nblock0:\n    bogus\n}\nglobal @g i32 = 0\n"),
        "3:5: unknown opcode 'bogus'"
    );
    assert_eq!(
        err1("func @f() {\nblock0:\n    return\n}\nglobal @g i32 = 0\n"),
        "5:11: expected ':' after the global name, found 'i32'"
    );
    // Resolution errors before the first syntax error are reported with it; none after.
    assert_eq!(
        errs(&body(
            "    call @nope()\n    v2 = i32.const\n    call @nope2()\n"
        )),
        vec![
            "3:10: unknown function @nope",
            "4:19: expected an i32 constant, found end of line"
        ]
    );
    // When a header fails, names in earlier bodies are not reported (later items are unknown).
    assert_eq!(
        errs(
            "func @f() {\nblock0:\n    call @g()\n    return\n}\ndata @d: data = { i8 300 }\nfunc @g() bad {\n}\n"
        ),
        vec![
            "6:22: integer 300 does not fit in i8",
            "7:11: expected '{' to start the function body, found 'bad'"
        ]
    );
}

#[test]
fn collected_errors() {
    let text = "func @f(i32) {
block0(v0: i32):
    call @foo()
    v1 = global.get @nothing
    v2 = data_addr @f
    v3 = enum_const %E.X
    v4 = stack_addr ss3
    v4 = i32.const 300
    v5 = enum_const %K.Z
    jump block7
}
data @d: data = { i8 300, ptr @zz, ptr @f + 1 }
enum %K: u8 { A = 256 }
global @g: i32 = 0x1ffffffff
data @a: data align 3 = {}
";
    assert_eq!(
        errs(text),
        vec![
            "3:10: unknown function @foo",
            "4:21: unknown global @nothing",
            "5:20: @f is a function, not a data object",
            "6:21: unknown enum %E",
            "7:21: unknown stack slot ss3",
            "8:5: value v4 is defined twice",
            "9:21: enum %K has no variant 'Z'",
            "10:10: block7 is used but never defined",
            "12:22: integer 300 does not fit in i8",
            "12:31: unknown data or function @zz",
            "12:40: a function pointer (@f) takes no offset",
            "13:19: integer 256 does not fit in u8",
            "14:18: integer 8589934591 does not fit in i32",
            "15:21: alignment 3 is not a power of two",
        ]
    );
    assert_eq!(
        errs("func @f() {\nblock0:\n    return\n\nblock0:\n    return\n}\n"),
        vec!["5:1: block0 is defined twice"]
    );
}

/// A long chain of blocks parses and prints without deep recursion.
#[test]
fn long_chain() {
    let n = 100_000;
    let mut text = String::from("func @f() {\n");
    for i in 0..n {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&format!("block{i}:\n    jump block{}\n", i + 1));
    }
    text.push_str(&format!("\nblock{n}:\n    return\n}}\n"));
    let m = p(&text);
    assert_eq!(m.bodies[FuncRef::new(0)].layout.len(), n + 1);
    assert_eq!(print(&m), text);
}

/// Rough speed check: prints the parse and print times (run with `--nocapture`; set
/// `KILN_PARSE_SPEED_BYTES` for another input size).
#[test]
fn speed() {
    let size: usize = std::env::var("KILN_PARSE_SPEED_BYTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let mut text = String::new();
    let mut f = 0;
    while text.len() < size {
        text.push_str(&format!(
            "func @f{f}(i32, i64) -> i32 {{\nblock0(v0: i32, v1: i64):\n"
        ));
        for i in 2..200 {
            text.push_str(&format!("    v{i} = i32.add v{}, v0  ; c\n", i - 1));
        }
        text.push_str(&format!(
            "    v200 = call @f{f}(v199, v1)\n    return v200\n}}\n\n"
        ));
        f += 1;
    }
    let start = std::time::Instant::now();
    let m = p(&text);
    let parsed = start.elapsed();
    let out = print(&m);
    let printed = start.elapsed() - parsed;
    assert_eq!(out.len(), text.len() - 1);
    println!("{} bytes: parse {parsed:?}, print {printed:?}", text.len());
}

/// Applies random edits to `base`; no parse panics, and whatever parses prints to a fixed
/// point. Returns how many edited texts parsed.
fn mutate_and_check(base: &str, rounds: usize, seed: u64) -> usize {
    const PIECES: &[&str] = &[
        "\n", " ", ";", "; c\n", "}", "{", "(", ")", ",", "=", "\"", "-", "+", "0x", "nan", "inf",
        "@", "%", "v1", "v99", "block0", "block9", "ss0", ":", "[", "]", "->", "1.5", "\\", "é",
        "\n\n", "extern ", "i32", "ctor", "align 4",
    ];
    let mut rng = crate::testing::Rng(seed);
    let mut rand = move |n: usize| rng.below(n as u64) as usize;
    let mut parsed = 0;
    let mut check = |text: &str| {
        if let Ok(m) = parse(text) {
            parsed += 1;
            let once = print(&m);
            match parse(&once) {
                Ok(m2) => assert_eq!(print(&m2), once, "not a fixed point for:\n{text}"),
                Err(e) => panic!("printed text does not parse: {e}\n{once}\n--- from:\n{text}"),
            }
        }
    };
    let boundaries: Vec<usize> = base.char_indices().map(|(i, _)| i).collect();
    for &cut in boundaries.iter().step_by(7) {
        check(&base[..cut]);
    }
    for _ in 0..rounds {
        let mut text = base.to_string();
        for _ in 0..1 + rand(3) {
            let b: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            let at = b[rand(b.len())];
            match rand(3) {
                0 => text.insert_str(at, PIECES[rand(PIECES.len())]),
                1 => {
                    let end = b
                        .iter()
                        .copied()
                        .find(|&e| e > at + rand(12))
                        .unwrap_or(text.len());
                    text.replace_range(at..end, "");
                }
                _ => {
                    let end = b
                        .iter()
                        .copied()
                        .find(|&e| e > at + rand(40))
                        .unwrap_or(text.len());
                    let piece = text[at..end].to_string();
                    let to = b[rand(b.len())];
                    text.insert_str(to, &piece);
                }
            }
        }
        check(&text);
    }
    parsed
}

#[test]
fn mutations_never_panic_and_round_trip() {
    let small = "; head\n\nenum %E: u8 { A, B = 3 }\n\nglobal @g: f32 mut = 1.5  ; g\n\ndata @d: rodata align 2 = { i8 1, ptr @d + 1, \"x\" }\n\nfunc @f(i32) -> i32 {\n    ss0 = stack_slot 4 align 4\nblock0(v0: i32):\n    v1 = enum_const %E.B\n    v2 = select v0, v1, v0\n    br_if v2, block1(v0), block1(v1)\n\nblock1(v3: i32):\n    ; x\n    return v3\n}\n";
    let parsed = mutate_and_check(ALL, 1000, 0x2545_f491_4f6c_dd1d)
        + mutate_and_check(small, 3000, 0x1234_5678_9abc_def1);
    assert!(
        parsed > 150,
        "too few mutations parse ({parsed}) for the test to mean much"
    );
}

/// Comments and blank lines anywhere between lines or at line ends keep the text valid and
/// print to a fixed point.
#[test]
fn comment_placement_round_trips() {
    const AT_START: &[&str] = &["\n", "; c\n", "  ; d\n", "\t\n", "\n;\n\n"];
    const AT_END: &[&str] = &[" ; t", "  ;", " ", ";;x "];
    let mut rng = crate::testing::Rng(0x9e37_79b9_7f4a_7c15);
    let mut rand = move |n: usize| rng.below(n as u64) as usize;
    for _ in 0..400 {
        let mut text = ALL.to_string();
        for _ in 0..1 + rand(4) {
            let starts: Vec<usize> = std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect();
            if rand(2) == 0 {
                text.insert_str(starts[rand(starts.len())], AT_START[rand(AT_START.len())]);
            } else {
                let ends: Vec<usize> = text
                    .match_indices('\n')
                    .map(|(i, _)| i)
                    .filter(|&i| !text[..i].rsplit('\n').next().unwrap_or("").contains(';'))
                    .collect();
                text.insert_str(ends[rand(ends.len())], AT_END[rand(AT_END.len())]);
            }
        }
        let once = fmt(&text);
        let comments = |t: &str| t.matches(';').count();
        assert_eq!(
            comments(&once),
            comments(&text),
            "a comment was lost:\n{text}"
        );
    }
}

/// A module made without the parser (no locations, no comments) prints canonically.
#[test]
fn prints_built_module() {
    let mut m = Module::default();
    let f = m.declare_func(FuncDecl {
        name: "g f".into(),
        sig: Signature {
            params: vec![Type::Ptr],
            results: vec![Type::I64],
        },
        linkage: Linkage::Export,
        ctor: None,
        loc: Loc::default(),
    });
    let mut func = Function::default();
    let b = func.dfg.make_block();
    func.layout.push(b);
    let p0 = func.dfg.append_block_param(b, Type::Ptr);
    let load = func.dfg.make_inst(InstData::Load {
        ty: Type::I64,
        kind: LoadKind::Full,
        addr: p0,
        mem: MemArg {
            offset: 0,
            align: 8,
        },
    });
    let v = func.dfg.append_result(load, Type::I64);
    let args = func.dfg.make_value_list(&[v]);
    let ret = func.dfg.make_inst(InstData::Return { args });
    func.dfg.blocks[b].insts.extend([load, ret]);
    m.bodies[f] = func;
    let text = "func @\"g f\"(ptr) -> i64 export {\nblock0(v0: ptr):\n    v1 = i64.load v0\n    return v1\n}\n";
    assert_eq!(print(&m), text);
    assert_eq!(print_inst(&m, f, load), "v1 = i64.load v0");
    canonical(text);
}
