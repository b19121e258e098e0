//! Unit tests of the verifier, on modules built through the data structures.

use crate::ir::*;
use crate::testing::Rng;

use super::verify;

/// Declares a defined function.
fn func(m: &mut Module, name: &str, params: &[Type], results: &[Type]) -> FuncRef {
    m.declare_func(FuncDecl {
        name: name.into(),
        sig: Signature {
            params: params.to_vec(),
            results: results.to_vec(),
        },
        linkage: Linkage::Export,
        ctor: None,
        loc: Loc::default(),
    })
}

/// Appends a block with parameters to the layout.
fn block(m: &mut Module, f: FuncRef, params: &[Type]) -> (Block, Vec<Value>) {
    let body = &mut m.bodies[f];
    let b = body.dfg.make_block();
    body.layout.push(b);
    let vs = params
        .iter()
        .map(|&t| body.dfg.append_block_param(b, t))
        .collect();
    (b, vs)
}

/// Appends an instruction to a block, with the results its opcode produces.
fn inst(m: &mut Module, f: FuncRef, b: Block, data: InstData) -> Vec<Value> {
    let Module { decls, bodies, .. } = m;
    let body = &mut bodies[f];
    let i = body.dfg.make_inst(data);
    body.dfg.blocks[b].insts.push(i);
    let mut types = Vec::new();
    inst_result_types(decls, &body.dfg, &data, &mut types);
    types
        .into_iter()
        .map(|t| body.dfg.append_result(i, t))
        .collect()
}

fn list(m: &mut Module, f: FuncRef, vs: &[Value]) -> ValueList {
    m.bodies[f].dfg.make_value_list(vs)
}

fn call(m: &mut Module, f: FuncRef, b: Block, args: &[Value]) -> BlockCall {
    BlockCall {
        block: b,
        args: list(m, f, args),
    }
}

fn ret(m: &mut Module, f: FuncRef, b: Block, vs: &[Value]) {
    let args = list(m, f, vs);
    inst(m, f, b, InstData::Return { args });
}

fn iconst(m: &mut Module, f: FuncRef, b: Block, ty: Type, n: u64) -> Value {
    inst(m, f, b, InstData::Const { ty, bits: n })[0]
}

fn bin(m: &mut Module, f: FuncRef, b: Block, op: BinaryOp, ty: Type, x: Value, y: Value) -> Value {
    inst(
        m,
        f,
        b,
        InstData::Binary {
            op,
            ty,
            args: [x, y],
        },
    )[0]
}

/// The messages of every diagnostic, or nothing if the module verifies.
fn messages(m: &Module) -> Vec<String> {
    match verify(m) {
        Ok(()) => Vec::new(),
        Err(d) => d.0.into_iter().map(|d| d.message).collect(),
    }
}

/// Asserts that exactly one diagnostic is reported and that it contains `needle`.
#[track_caller]
fn expect_one(m: &Module, needle: &str) {
    let msgs = messages(m);
    assert_eq!(
        msgs.len(),
        1,
        "expected one error with {needle:?}, got {msgs:#?}"
    );
    assert!(
        msgs[0].contains(needle),
        "expected {needle:?}, got {msgs:#?}"
    );
}

/// `fib` from the README, which must verify.
fn fib() -> Module {
    let mut m = Module::default();
    let f = func(&mut m, "fib", &[Type::I32], &[Type::I32]);
    let (b0, p) = block(&mut m, f, &[Type::I32]);
    let (b1, _) = block(&mut m, f, &[]);
    let (b2, _) = block(&mut m, f, &[]);
    let v0 = p[0];
    let two = iconst(&mut m, f, b0, Type::I32, 2);
    let c = bin(&mut m, f, b0, BinaryOp::LtU, Type::I32, v0, two);
    let (t, e) = (call(&mut m, f, b1, &[]), call(&mut m, f, b2, &[]));
    inst(
        &mut m,
        f,
        b0,
        InstData::BrIf {
            cond: c,
            then_dest: t,
            else_dest: e,
        },
    );
    ret(&mut m, f, b1, &[v0]);
    let one = iconst(&mut m, f, b2, Type::I32, 1);
    let n1 = bin(&mut m, f, b2, BinaryOp::Sub, Type::I32, v0, one);
    let args = list(&mut m, f, &[n1]);
    let r1 = inst(&mut m, f, b2, InstData::Call { func: f, args })[0];
    let n2 = bin(&mut m, f, b2, BinaryOp::Sub, Type::Ptr, n1, one);
    let args = list(&mut m, f, &[n2]);
    let r2 = inst(&mut m, f, b2, InstData::Call { func: f, args })[0];
    let s = bin(&mut m, f, b2, BinaryOp::Add, Type::I32, r1, r2);
    ret(&mut m, f, b2, &[s]);
    m
}

/// A function `@f(i32) -> i32` with one block, before its terminator.
fn one_block() -> (Module, FuncRef, Block, Value) {
    let mut m = Module::default();
    let f = func(&mut m, "f", &[Type::I32], &[Type::I32]);
    let (b, p) = block(&mut m, f, &[Type::I32]);
    (m, f, b, p[0])
}

#[test]
fn fib_verifies() {
    assert_eq!(messages(&fib()), Vec::<String>::new());
}

#[test]
fn binary_type_mismatch() {
    let (mut m, f, b, v) = one_block();
    let x = iconst(&mut m, f, b, Type::F64, 0);
    let s = bin(&mut m, f, b, BinaryOp::Add, Type::I32, v, x);
    ret(&mut m, f, b, &[s]);
    expect_one(&m, "type mismatch: operand v1 is f64, expected i32");
}

#[test]
fn invalid_opcode_and_const_width() {
    let (mut m, f, b, v) = one_block();
    let x = bin(&mut m, f, b, BinaryOp::Div, Type::I32, v, v);
    let c = iconst(&mut m, f, b, Type::I32, 1 << 40);
    let y = bin(&mut m, f, b, BinaryOp::Add, Type::I32, x, c);
    ret(&mut m, f, b, &[y]);
    let msgs = messages(&m);
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    assert!(msgs[0].contains("invalid opcode i32.div"));
    assert!(msgs[1].contains("does not fit in i32"));
}

#[test]
fn undefined_and_invalid_values() {
    let (mut m, f, b, v) = one_block();
    let undef = m.bodies[f].dfg.values.push(ValueData {
        ty: Type::I32,
        def: ValueDef::None,
    });
    let x = bin(&mut m, f, b, BinaryOp::Add, Type::I32, v, undef);
    let bogus = Value::from_u32(1000);
    let y = bin(&mut m, f, b, BinaryOp::Add, Type::I32, x, bogus);
    ret(&mut m, f, b, &[y]);
    let msgs = messages(&m);
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    assert!(msgs[0].contains("use of undefined value v1"));
    assert!(msgs[1].contains("use of invalid value v1000"));
}

#[test]
fn dominance() {
    // block0: br_if v0, block1, block2; block1: v1 = ...; jump block2; block2: return v1
    let (mut m, f, b0, v0) = one_block();
    let (b1, _) = block(&mut m, f, &[]);
    let (b2, _) = block(&mut m, f, &[]);
    let t = call(&mut m, f, b1, &[]);
    let e = call(&mut m, f, b2, &[]);
    inst(
        &mut m,
        f,
        b0,
        InstData::BrIf {
            cond: v0,
            then_dest: t,
            else_dest: e,
        },
    );
    let v1 = iconst(&mut m, f, b1, Type::I32, 1);
    let d = call(&mut m, f, b2, &[]);
    inst(&mut m, f, b1, InstData::Jump { dest: d });
    ret(&mut m, f, b2, &[v1]);
    expect_one(&m, "use of v1 is not dominated by its definition in block1");
}

#[test]
fn use_before_def_in_block() {
    let (mut m, f, b, v) = one_block();
    let c = iconst(&mut m, f, b, Type::I32, 1);
    let x = bin(&mut m, f, b, BinaryOp::Add, Type::I32, v, c);
    ret(&mut m, f, b, &[x]);
    assert_eq!(messages(&m), Vec::<String>::new());
    m.bodies[f].dfg.blocks[b].insts.swap(0, 1);
    expect_one(&m, "v1 is used before its definition");
}

#[test]
fn unreachable_blocks_skip_dominance_but_need_definitions() {
    let (mut m, f, b0, v0) = one_block();
    let (b1, _) = block(&mut m, f, &[]);
    let (b2, _) = block(&mut m, f, &[]);
    ret(&mut m, f, b0, &[v0]);
    // block1 (unreachable) uses v2 defined in block2 (also unreachable): fine.
    let v2 = iconst(&mut m, f, b2, Type::I32, 7);
    let d = call(&mut m, f, b1, &[]);
    inst(&mut m, f, b2, InstData::Jump { dest: d });
    ret(&mut m, f, b1, &[v2]);
    assert_eq!(messages(&m), Vec::<String>::new());
    // An undefined value is still an error there.
    let undef = m.bodies[f].dfg.values.push(ValueData {
        ty: Type::I32,
        def: ValueDef::None,
    });
    let last = *m.bodies[f].dfg.blocks[b1].insts.last().unwrap();
    let args = m.bodies[f].dfg.make_value_list(&[undef]);
    m.bodies[f].dfg.insts[last] = InstData::Return { args };
    expect_one(&m, "use of undefined value");
}

#[test]
fn block_arguments() {
    let (mut m, f, b0, v0) = one_block();
    let (b1, p) = block(&mut m, f, &[Type::I32, Type::F32]);
    let d = call(&mut m, f, b1, &[v0]);
    inst(&mut m, f, b0, InstData::Jump { dest: d });
    ret(&mut m, f, b1, &[p[0]]);
    expect_one(
        &m,
        "wrong number of arguments to block1: 1 given, 2 expected",
    );
    let d = call(&mut m, f, b1, &[v0, v0]);
    m.bodies[f].dfg.insts[Inst::from_u32(0)] = InstData::Jump { dest: d };
    expect_one(
        &m,
        "type mismatch: argument 2 of block1 v0 is i32, expected f32",
    );
}

#[test]
fn entry_params() {
    let mut m = Module::default();
    let f = func(&mut m, "f", &[Type::I32, Type::I64], &[]);
    let (b, _) = block(&mut m, f, &[Type::I32]);
    ret(&mut m, f, b, &[]);
    expect_one(&m, "entry block has 1 parameter, but @f takes 2");
    let v = m.bodies[f].dfg.append_block_param(b, Type::F64);
    let _ = v;
    expect_one(
        &m,
        "type mismatch: entry block parameter 2 (v1) is f64, but @f takes i64",
    );
}

#[test]
fn block_structure() {
    let (mut m, f, b0, v0) = one_block();
    let (b1, _) = block(&mut m, f, &[]);
    let (b2, _) = block(&mut m, f, &[]);
    // block0: return v0; v1 = const (no terminator at the end)
    ret(&mut m, f, b0, &[v0]);
    iconst(&mut m, f, b0, Type::I32, 1);
    // block1 is empty; block2 jumps to a block not in the layout and to one that does not exist
    let out = m.bodies[f].dfg.make_block();
    let d = call(&mut m, f, out, &[]);
    let e = call(&mut m, f, Block::from_u32(99), &[]);
    inst(
        &mut m,
        f,
        b2,
        InstData::BrIf {
            cond: v0,
            then_dest: d,
            else_dest: e,
        },
    );
    m.bodies[f].layout.push(b1);
    let msgs = messages(&m);
    for needle in [
        "terminator return is not the last instruction of block0",
        "block0 does not end with a terminator",
        "block1 is empty",
        "block1 appears twice in the layout",
        "branch to block3, which is not in the layout",
        "branch to block99, which does not exist",
    ] {
        assert!(
            msgs.iter().any(|s| s.contains(needle)),
            "{needle}: {msgs:#?}"
        );
    }
    assert_eq!(msgs.len(), 6, "{msgs:#?}");
}

#[test]
fn functions_and_bodies() {
    let mut m = Module::default();
    func(&mut m, "empty", &[], &[]);
    let e = m.declare_func(FuncDecl {
        name: "ext".into(),
        sig: Signature::default(),
        linkage: Linkage::Extern(None),
        ctor: None,
        loc: Loc::default(),
    });
    let (b, _) = block(&mut m, e, &[]);
    ret(&mut m, e, b, &[]);
    let c = func(&mut m, "ctor", &[Type::I32], &[Type::I32]);
    m.decls.funcs[c].ctor = Some(DEFAULT_CTOR_PRIORITY);
    let (b, p) = block(&mut m, c, &[Type::I32]);
    ret(&mut m, c, b, &[p[0]]);
    let msgs = messages(&m);
    for needle in [
        "function @empty has no blocks",
        "extern function @ext has a body",
        "constructor @ctor must not take parameters",
        "constructor @ctor must not return values",
    ] {
        assert!(
            msgs.iter().any(|s| s.contains(needle)),
            "{needle}: {msgs:#?}"
        );
    }
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
}

#[test]
fn unknown_references() {
    let (mut m, f, b, v) = one_block();
    let args = list(&mut m, f, &[v]);
    inst(
        &mut m,
        f,
        b,
        InstData::Call {
            func: FuncRef::from_u32(7),
            args,
        },
    );
    inst(
        &mut m,
        f,
        b,
        InstData::GlobalGet {
            global: GlobalRef::from_u32(1),
        },
    );
    inst(
        &mut m,
        f,
        b,
        InstData::DataAddr {
            data: DataRef::from_u32(2),
            offset: 0,
        },
    );
    inst(
        &mut m,
        f,
        b,
        InstData::TagName {
            enum_ref: EnumRef::from_u32(3),
            arg: v,
        },
    );
    inst(
        &mut m,
        f,
        b,
        InstData::StackAddr {
            slot: StackSlot::from_u32(4),
            offset: 0,
        },
    );
    let args = list(&mut m, f, &[]);
    inst(
        &mut m,
        f,
        b,
        InstData::CallIndirect {
            sig: SigRef::from_u32(5),
            callee: v,
            args,
        },
    );
    inst(
        &mut m,
        f,
        b,
        InstData::FuncAddr {
            func: FuncRef::from_u32(8),
        },
    );
    inst(
        &mut m,
        f,
        b,
        InstData::BrTable {
            index: v,
            table: JumpTable::from_u32(6),
        },
    );
    let msgs = messages(&m);
    for needle in [
        "unknown function fn7",
        "unknown global global1",
        "unknown data object data2",
        "unknown enum enum3",
        "unknown stack slot ss4",
        "unknown signature sig5",
        "unknown function fn8",
        "unknown jump table jt6",
    ] {
        assert!(
            msgs.iter().any(|s| s.contains(needle)),
            "{needle}: {msgs:#?}"
        );
    }
    assert_eq!(msgs.len(), 8, "{msgs:#?}");
}

#[test]
fn calls() {
    let mut m = fib();
    let f = m.func_by_name("fib").unwrap();
    let g = func(&mut m, "g", &[], &[Type::I64]);
    let (b, _) = block(&mut m, g, &[]);
    let x = iconst(&mut m, g, b, Type::I32, 1);
    let args = list(&mut m, g, &[x, x]);
    let r = inst(&mut m, g, b, InstData::Call { func: f, args })[0];
    let args = list(&mut m, g, &[r, x]);
    inst(
        &mut m,
        g,
        b,
        InstData::Intrinsic {
            intrinsic: Intrinsic::Memcpy,
            args,
        },
    );
    let sig = m.bodies[g].dfg.sigs.push(Signature {
        params: vec![Type::F32],
        results: vec![],
    });
    let args = list(&mut m, g, &[x]);
    inst(
        &mut m,
        g,
        b,
        InstData::CallIndirect {
            sig,
            callee: x,
            args,
        },
    );
    ret(&mut m, g, b, &[x, x]);
    let msgs = messages(&m);
    for needle in [
        "wrong number of arguments to @fib: 2 given, 1 expected",
        "wrong number of arguments to intrinsic memcpy: 2 given, 3 expected",
        "type mismatch: argument 1 of call_indirect v0 is i32, expected f32",
        "wrong number of return values: 2 given, @g returns 1",
        "type mismatch: return value 1 v0 is i32, expected i64",
    ] {
        assert!(
            msgs.iter().any(|s| s.contains(needle)),
            "{needle}: {msgs:#?}"
        );
    }
    assert_eq!(msgs.len(), 5, "{msgs:#?}");
}

#[test]
fn result_count() {
    let (mut m, f, b, v) = one_block();
    let x = bin(&mut m, f, b, BinaryOp::Add, Type::I32, v, v);
    let i = Inst::from_u32(0);
    m.bodies[f].dfg.append_result(i, Type::I32);
    ret(&mut m, f, b, &[x]);
    expect_one(&m, "wrong number of results: i32.add produces 1, 2 written");
}

#[test]
fn select_branch_and_globals() {
    let mut m = Module::default();
    let g = m.declare_global(GlobalDecl {
        name: "g".into(),
        ty: Type::I64,
        mutable: false,
        init: 0,
        linkage: Linkage::Local,
        loc: Loc::default(),
    });
    let e = m.declare_enum(EnumDecl {
        name: "E".into(),
        tag: TagType {
            bits: 64,
            signed: false,
        },
        variants: vec![EnumVariant {
            name: "A".into(),
            value: 0,
            explicit: false,
        }],
        loc: Loc::default(),
    });
    let f = func(&mut m, "f", &[Type::I64], &[]);
    let (b, p) = block(&mut m, f, &[Type::I64]);
    let v = p[0];
    let one = iconst(&mut m, f, b, Type::F32, 0);
    inst(&mut m, f, b, InstData::Select { args: [v, v, one] });
    inst(
        &mut m,
        f,
        b,
        InstData::GlobalSet {
            global: g,
            arg: one,
        },
    );
    inst(
        &mut m,
        f,
        b,
        InstData::TagName {
            enum_ref: e,
            arg: one,
        },
    );
    inst(
        &mut m,
        f,
        b,
        InstData::EnumConst {
            enum_ref: e,
            variant: 1,
        },
    );
    let d = call(&mut m, f, b, &[v]);
    let jt = m.bodies[f].dfg.jump_tables.push(JumpTableData {
        targets: vec![],
        default: d,
    });
    inst(
        &mut m,
        f,
        b,
        InstData::BrTable {
            index: v,
            table: jt,
        },
    );
    let msgs = messages(&m);
    for needle in [
        "type mismatch: condition v0 is i64, expected i32",
        "type mismatch: select arms differ: v0 is i64, v1 is f32",
        "global.set of immutable global @g",
        "type mismatch: value for @g v1 is f32, expected i64",
        "type mismatch: tag value of %E v1 is f32, expected i64",
        "enum %E has no variant number 1",
        "type mismatch: index v0 is i64, expected i32",
    ] {
        assert!(
            msgs.iter().any(|s| s.contains(needle)),
            "{needle}: {msgs:#?}"
        );
    }
    assert_eq!(msgs.len(), 7, "{msgs:#?}");
}

#[test]
fn memory_operands() {
    let (mut m, f, b, v) = one_block();
    let x = iconst(&mut m, f, b, Type::I64, 0);
    let mem = MemArg {
        offset: 0,
        align: 3,
    };
    inst(
        &mut m,
        f,
        b,
        InstData::Load {
            ty: Type::I32,
            kind: LoadKind::Full,
            addr: x,
            mem,
        },
    );
    let mem = MemArg {
        offset: 0,
        align: 4,
    };
    inst(
        &mut m,
        f,
        b,
        InstData::Store {
            ty: Type::I32,
            width: StoreWidth::W16,
            args: [v, x],
            mem,
        },
    );
    inst(
        &mut m,
        f,
        b,
        InstData::Load {
            ty: Type::F32,
            kind: LoadKind::S8,
            addr: v,
            mem: MemArg::default(),
        },
    );
    inst(&mut m, f, b, InstData::MemoryFill { args: [v, x, v] });
    inst(&mut m, f, b, InstData::MemoryGrow { arg: x });
    ret(&mut m, f, b, &[v]);
    let msgs = messages(&m);
    for needle in [
        "type mismatch: address v1 is i64, expected ptr",
        "alignment 3 is not a power of two",
        "type mismatch: stored value v1 is i64, expected i32",
        "alignment 4 is larger than the access width (2 bytes)",
        "invalid opcode f32.load8_s",
        "type mismatch: byte value v1 is i64, expected i32",
        "type mismatch: page count v1 is i64, expected ptr",
    ] {
        assert!(
            msgs.iter().any(|s| s.contains(needle)),
            "{needle}: {msgs:#?}"
        );
    }
    assert_eq!(msgs.len(), 7, "{msgs:#?}");
}

#[test]
fn symbols_enums_data_globals() {
    let mut m = fib();
    let loc = |line| Loc { line, col: 1 };
    m.declare_global(GlobalDecl {
        name: "fib".into(),
        ty: Type::I32,
        mutable: true,
        init: 1 << 33,
        linkage: Linkage::Local,
        loc: loc(5),
    });
    m.declare_enum(EnumDecl {
        name: "E".into(),
        tag: TagType {
            bits: 8,
            signed: false,
        },
        variants: vec![
            EnumVariant {
                name: "A".into(),
                value: 0,
                explicit: false,
            },
            EnumVariant {
                name: "B".into(),
                value: 256,
                explicit: true,
            },
            EnumVariant {
                name: "C".into(),
                value: 0,
                explicit: true,
            },
            EnumVariant {
                name: "A".into(),
                value: 1,
                explicit: false,
            },
        ],
        loc: loc(6),
    });
    let tls = m.declare_data(DataDecl {
        name: "t".into(),
        section: DataSection::Tbss,
        align: 3,
        linkage: Linkage::Local,
        items: vec![DataItem::Zero(4)],
        zero_size: 4,
        loc: loc(7),
    });
    m.declare_data(DataDecl {
        name: "d".into(),
        section: DataSection::Data,
        align: 1 << 20,
        linkage: Linkage::Local,
        items: vec![
            DataItem::Int {
                bytes: 1,
                value: 300,
            },
            DataItem::DataAddr {
                data: tls,
                offset: 0,
            },
            DataItem::FuncAddr(FuncRef::from_u32(9)),
        ],
        zero_size: 0,
        loc: loc(8),
    });
    let f = m.func_by_name("fib").unwrap();
    let b = m.bodies[f].layout[1];
    let i = m.bodies[f].dfg.make_inst(InstData::DataAddr {
        data: tls,
        offset: 0,
    });
    m.bodies[f].dfg.append_result(i, Type::Ptr);
    m.bodies[f].dfg.blocks[b].insts.insert(0, i);
    m.bodies[f].inst_locs[i] = loc(9);
    let d = verify(&m).unwrap_err();
    let got: Vec<(u32, &str)> =
        d.0.iter()
            .map(|d| (d.loc.line, d.message.as_str()))
            .collect();
    let want = [
        (5, "duplicate symbol @fib"),
        (
            5,
            "initial value 0x200000000 of global @fib does not fit in i32",
        ),
        (
            6,
            "enum value 256 of variant B is out of range for u8 (0 to 255)",
        ),
        (6, "duplicate enum value 0: variants A and C have it"),
        (6, "duplicate variant name A"),
        (7, "alignment 3 is not a power of two"),
        (7, "tbss data object @t cannot have contents"),
        (8, "alignment 1048576 is too large"),
        (8, "data item i8 0x12c does not fit in 1 byte"),
        (
            8,
            "data item: cannot take the address of thread-local data @t",
        ),
        (8, "data item: unknown function fn9"),
        (9, "data_addr of thread-local data @t; use tls_addr"),
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for ((gl, gm), (wl, wm)) in got.iter().zip(want) {
        assert_eq!(*gl, wl, "{got:#?}");
        assert!(gm.contains(wm), "{wm}: {got:#?}");
    }
    // The duplicate names both places.
    assert!(
        d.0[0]
            .notes
            .iter()
            .any(|n| n.contains("first defined as a function"))
    );
}

#[test]
fn slots_and_notes() {
    let (mut m, f, b, v) = one_block();
    let ss = m.bodies[f]
        .stack_slots
        .push(StackSlotData { size: 8, align: 6 });
    inst(
        &mut m,
        f,
        b,
        InstData::StackAddr {
            slot: ss,
            offset: 9,
        },
    );
    let x = iconst(&mut m, f, b, Type::F32, 0);
    ret(&mut m, f, b, &[x]);
    let _ = v;
    let d = verify(&m).unwrap_err();
    let msgs: Vec<&str> = d.0.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(msgs.len(), 3, "{msgs:#?}");
    assert!(msgs[0].contains("stack slot ss0: alignment 6 is not a power of two"));
    assert!(msgs[1].contains("offset 9 is past the end of ss0 (8 bytes)"));
    assert!(msgs[2].contains("type mismatch: return value 1 v2 is f32, expected i32"));
    assert!(
        d.0[2].notes.iter().any(|n| n == "in function @f, block0"),
        "{:?}",
        d.0[2]
    );
    assert_eq!(d.0[2].notes.len(), 2);
}

#[test]
fn broken_references_do_not_panic() {
    let (mut m, f, b, v) = one_block();
    // A value list from a much larger pool: out of bounds here.
    let mut other = Function::default();
    let many: Vec<Value> = (0..200).map(Value::from_u32).collect();
    let mut lists = Vec::new();
    for _ in 0..10 {
        lists.push(other.dfg.make_value_list(&many));
    }
    let foreign = *lists.last().unwrap();
    inst(
        &mut m,
        f,
        b,
        InstData::Call {
            func: f,
            args: foreign,
        },
    );
    // Results that point nowhere, a block param of another block, values of another function.
    let i = m.bodies[f].dfg.make_inst(InstData::Const {
        ty: Type::I32,
        bits: 0,
    });
    m.bodies[f].dfg.results[i] = foreign;
    m.bodies[f].dfg.blocks[b].insts.push(i);
    let ghost = Block::from_u32(1234);
    m.bodies[f].layout.push(ghost);
    let jt = m.bodies[f].dfg.jump_tables.push(JumpTableData {
        targets: vec![BlockCall {
            block: ghost,
            args: foreign,
        }],
        default: BlockCall {
            block: b,
            args: ValueList::default(),
        },
    });
    inst(
        &mut m,
        f,
        b,
        InstData::BrTable {
            index: Value::from_u32(77),
            table: jt,
        },
    );
    m.items.push(Item::Data(DataRef::from_u32(3)));
    m.items.push(Item::Func(f));
    m.bodies[FuncRef::from_u32(40)].layout.push(b);
    ret(&mut m, f, b, &[v]);
    let msgs = messages(&m);
    for needle in [
        "the layout lists block1234, which does not exist",
        "use of invalid value v77",
        "the item list names data3, which does not exist",
        "the item list names fn0 twice",
        "a body is given for fn40, which is not a declared function",
        "terminator br_table is not the last instruction of block0",
    ] {
        assert!(
            msgs.iter().any(|s| s.contains(needle)),
            "{needle}: {msgs:#?}"
        );
    }
}

/// A list of another pool whose start lies inside this pool but whose end does not.
#[test]
fn foreign_value_list() {
    let mut m = Module::default();
    let f = func(&mut m, "f", &[], &[]);
    // This pool: one list of 12 at index 1, so element 8 (= v100000) sits where a list
    // starting at index 9 would keep its length.
    let big = m.bodies[f]
        .dfg
        .make_value_list(&[Value::from_u32(100_000); 12]);
    let _ = big;
    let mut other = Function::default();
    let mut foreign = ValueList::default();
    for _ in 0..3 {
        foreign = other.dfg.make_value_list(&[Value::from_u32(0)]);
    }
    let (b, _) = block(&mut m, f, &[]);
    inst(&mut m, f, b, InstData::Return { args: foreign });
    let i = m.bodies[f].dfg.make_inst(InstData::MemorySize);
    m.bodies[f].dfg.results[i] = foreign;
    m.bodies[f].dfg.blocks[b].insts.insert(0, i);
    m.bodies[f].dfg.blocks[b].params = foreign;
    let msgs = messages(&m);
    for needle in [
        "the parameter list of block0 is not a valid value list",
        "the result list of inst1 is not a valid value list",
        "an operand list is not a valid value list",
    ] {
        assert!(
            msgs.iter().any(|s| s.contains(needle)),
            "{needle}: {msgs:#?}"
        );
    }
}

#[test]
fn list_probe_reads_pool_and_list() {
    let mut f = Function::default();
    let a = f
        .dfg
        .make_value_list(&[Value::from_u32(1), Value::from_u32(2)]);
    let b = f.dfg.make_value_list(&[Value::from_u32(3); 9]);
    let lists = super::func::Lists::new(&f.dfg.value_lists);
    assert_eq!(
        lists.get(a),
        Some(&[Value::from_u32(1), Value::from_u32(2)][..])
    );
    assert_eq!(lists.get(b).map(<[Value]>::len), Some(9));
    assert_eq!(lists.get(ValueList::default()), Some(&[][..]));
    let empty = Function::default();
    let none = super::func::Lists::new(&empty.dfg.value_lists);
    assert_eq!(none.get(b), Some(&[][..]));
}

#[test]
fn all_errors_reported_in_location_order() {
    let (mut m, f, b, v) = one_block();
    let x = iconst(&mut m, f, b, Type::F64, 0);
    let y = bin(&mut m, f, b, BinaryOp::Add, Type::I32, v, x);
    let z = bin(&mut m, f, b, BinaryOp::Mul, Type::I64, y, v);
    ret(&mut m, f, b, &[z]);
    let insts = m.bodies[f].dfg.blocks[b].insts.clone();
    for (n, &i) in insts.iter().enumerate() {
        m.bodies[f].inst_locs[i] = Loc {
            line: 10 - n as u32,
            col: 5,
        };
    }
    let d = verify(&m).unwrap_err();
    let lines: Vec<u32> = d.0.iter().map(|d| d.loc.line).collect();
    assert_eq!(lines, vec![7, 8, 8, 9], "{:#?}", d.0);
}

/// A straight chain of 100,000 blocks, each passing a value on and using one from the entry.
#[test]
fn hundred_thousand_blocks() {
    let (mut m, f, b0, v0) = one_block();
    let n = 100_000;
    let mut prev = b0;
    let mut carried = v0;
    for _ in 0..n {
        let (b, p) = block(&mut m, f, &[Type::I32]);
        let d = call(&mut m, f, b, &[carried]);
        inst(&mut m, f, prev, InstData::Jump { dest: d });
        carried = bin(&mut m, f, b, BinaryOp::Add, Type::I32, p[0], v0);
        prev = b;
    }
    ret(&mut m, f, prev, &[carried]);
    assert_eq!(messages(&m), Vec::<String>::new());
    // The entry passing on a value of block3 is caught.
    let jump = m.bodies[f].dfg.blocks[b0].insts[0];
    let b1 = m.bodies[f].layout[1];
    let d = call(&mut m, f, b1, &[Value::from_u32(5)]);
    m.bodies[f].dfg.insts[jump] = InstData::Jump { dest: d };
    expect_one(&m, "use of v5 is not dominated by its definition in block3");
}

/// 10,000 nested diamonds-with-loops: each level branches into the next level or skips to its
/// own exit, and each exit loops back to its header.
#[test]
fn ten_thousand_deep_nest() {
    let (mut m, f, b0, v0) = one_block();
    let depth = 10_000;
    let mut heads = Vec::new();
    let mut exits = Vec::new();
    for _ in 0..depth {
        heads.push(block(&mut m, f, &[]).0);
    }
    for _ in 0..depth {
        exits.push(block(&mut m, f, &[]).0);
    }
    let (done, _) = block(&mut m, f, &[]);
    let d = call(&mut m, f, heads[0], &[]);
    inst(&mut m, f, b0, InstData::Jump { dest: d });
    for k in 0..depth {
        let inner = if k + 1 < depth {
            heads[k + 1]
        } else {
            exits[k]
        };
        let t = call(&mut m, f, inner, &[]);
        let e = call(&mut m, f, exits[k], &[]);
        inst(
            &mut m,
            f,
            heads[k],
            InstData::BrIf {
                cond: v0,
                then_dest: t,
                else_dest: e,
            },
        );
        let outer = if k == 0 { done } else { exits[k - 1] };
        let t = call(&mut m, f, heads[k], &[]);
        let e = call(&mut m, f, outer, &[]);
        inst(
            &mut m,
            f,
            exits[k],
            InstData::BrIf {
                cond: v0,
                then_dest: t,
                else_dest: e,
            },
        );
    }
    ret(&mut m, f, done, &[v0]);
    assert_eq!(messages(&m), Vec::<String>::new());
    // A value from the innermost header used after the nest is not dominated.
    let deep = iconst(&mut m, f, heads[depth - 1], Type::I32, 1);
    let insts = &mut m.bodies[f].dfg.blocks[heads[depth - 1]].insts;
    let c = insts.pop().unwrap();
    insts.insert(0, c);
    let last = *m.bodies[f].dfg.blocks[done].insts.last().unwrap();
    let args = m.bodies[f].dfg.make_value_list(&[deep]);
    m.bodies[f].dfg.insts[last] = InstData::Return { args };
    expect_one(&m, "is not dominated by its definition");
}

impl Rng {
    fn u32(&mut self, n: u32) -> u32 {
        self.below(u64::from(n)) as u32
    }

    fn ty(&mut self) -> Type {
        Type::ALL[self.below(5) as usize]
    }
}

/// Random modules with references in and out of range, random layouts and value lists,
/// some from another pool: the verifier must return, never panic.
#[test]
fn random_modules_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut foreign_fn = Function::default();
    let foreign: Vec<ValueList> = (0..8)
        .map(|k| {
            let vs: Vec<Value> = (0..(k * 5 + 1)).map(|_| Value::from_u32(90_000)).collect();
            foreign_fn.dfg.make_value_list(&vs)
        })
        .collect();
    let mut found = 0;
    for _ in 0..2000 {
        let mut m = Module::default();
        let nfuncs = 1 + rng.u32(3);
        for k in 0..nfuncs {
            let params: Vec<Type> = (0..rng.u32(3)).map(|_| rng.ty()).collect();
            let results: Vec<Type> = (0..rng.u32(3)).map(|_| rng.ty()).collect();
            let f = func(&mut m, &format!("f{}", k % 2), &params, &results);
            if rng.below(8) == 0 {
                m.decls.funcs[f].ctor = Some(1);
            }
        }
        m.declare_global(GlobalDecl {
            name: "g".into(),
            ty: rng.ty(),
            mutable: rng.below(2) == 0,
            init: rng.next(),
            linkage: Linkage::Local,
            loc: Loc::default(),
        });
        m.declare_enum(EnumDecl {
            name: "E".into(),
            tag: TagType {
                bits: [0, 8, 16, 32, 64, 7][rng.below(6) as usize],
                signed: rng.below(2) == 0,
            },
            variants: (0..rng.u32(4))
                .map(|k| EnumVariant {
                    name: format!("V{}", k % 2),
                    value: rng.below(300) as i128 - 5,
                    explicit: true,
                })
                .collect(),
            loc: Loc::default(),
        });
        m.declare_data(DataDecl {
            name: "d".into(),
            section: [DataSection::Data, DataSection::Tbss, DataSection::Tdata]
                [rng.below(3) as usize]
                .clone(),
            align: rng.u32(20),
            linkage: Linkage::Local,
            items: vec![
                DataItem::Int {
                    bytes: rng.below(9) as u8,
                    value: rng.next() >> rng.below(64),
                },
                DataItem::DataAddr {
                    data: DataRef::from_u32(rng.u32(3)),
                    offset: 0,
                },
                DataItem::FuncAddr(FuncRef::from_u32(rng.u32(5))),
            ],
            zero_size: 0,
            loc: Loc::default(),
        });
        for f in m.decls.funcs.keys().collect::<Vec<_>>() {
            let nblocks = rng.u32(5);
            let mut blocks = Vec::new();
            for _ in 0..nblocks {
                let params: Vec<Type> = (0..rng.u32(3)).map(|_| rng.ty()).collect();
                blocks.push(block(&mut m, f, &params).0);
            }
            if rng.below(6) == 0 {
                m.bodies[f].layout.push(Block::from_u32(rng.u32(10)));
            }
            m.bodies[f].stack_slots.push(StackSlotData {
                size: rng.u32(64),
                align: rng.u32(9),
            });
            m.bodies[f].dfg.sigs.push(Signature {
                params: vec![rng.ty()],
                results: vec![rng.ty()],
            });
            for &b in &blocks {
                for _ in 0..rng.u32(6) {
                    let nvals = m.bodies[f].dfg.values.len() as u32 + 3;
                    let mut v = || Value::from_u32(rng.u32(nvals));
                    let (a, b2, c) = (v(), v(), v());
                    let l = |rng: &mut Rng, m: &mut Module| {
                        if rng.below(5) == 0 {
                            foreign[rng.below(8) as usize]
                        } else {
                            let vs: Vec<Value> = (0..rng.u32(4))
                                .map(|_| Value::from_u32(rng.u32(nvals)))
                                .collect();
                            m.bodies[f].dfg.make_value_list(&vs)
                        }
                    };
                    let target = |rng: &mut Rng| Block::from_u32(rng.u32(nblocks + 2));
                    let data = match rng.below(16) {
                        0 => InstData::Const {
                            ty: rng.ty(),
                            bits: rng.next() >> rng.below(64),
                        },
                        1 => InstData::Binary {
                            op: BinaryOp::ALL[rng.below(BinaryOp::ALL.len() as u64) as usize],
                            ty: rng.ty(),
                            args: [a, b2],
                        },
                        2 => InstData::Unary {
                            op: UnaryOp::ALL[rng.below(UnaryOp::ALL.len() as u64) as usize],
                            ty: rng.ty(),
                            arg: a,
                        },
                        3 => InstData::Select { args: [a, b2, c] },
                        4 => InstData::Load {
                            ty: rng.ty(),
                            kind: LoadKind::ALL[rng.below(7) as usize],
                            addr: a,
                            mem: MemArg {
                                offset: 0,
                                align: rng.u32(17),
                            },
                        },
                        5 => InstData::Store {
                            ty: rng.ty(),
                            width: StoreWidth::ALL[rng.below(4) as usize],
                            args: [a, b2],
                            mem: MemArg::default(),
                        },
                        6 => InstData::Call {
                            func: FuncRef::from_u32(rng.u32(nfuncs + 1)),
                            args: l(&mut rng, &mut m),
                        },
                        7 => InstData::CallIndirect {
                            sig: SigRef::from_u32(rng.u32(2)),
                            callee: a,
                            args: l(&mut rng, &mut m),
                        },
                        8 => InstData::Intrinsic {
                            intrinsic: Intrinsic::ALL
                                [rng.below(Intrinsic::ALL.len() as u64) as usize],
                            args: l(&mut rng, &mut m),
                        },
                        9 => InstData::TagName {
                            enum_ref: EnumRef::from_u32(rng.u32(2)),
                            arg: a,
                        },
                        10 => InstData::EnumConst {
                            enum_ref: EnumRef::from_u32(rng.u32(2)),
                            variant: rng.u32(5),
                        },
                        11 => InstData::Jump {
                            dest: BlockCall {
                                block: target(&mut rng),
                                args: l(&mut rng, &mut m),
                            },
                        },
                        12 => InstData::BrIf {
                            cond: a,
                            then_dest: BlockCall {
                                block: target(&mut rng),
                                args: l(&mut rng, &mut m),
                            },
                            else_dest: BlockCall {
                                block: target(&mut rng),
                                args: l(&mut rng, &mut m),
                            },
                        },
                        13 => {
                            let jt = JumpTableData {
                                targets: vec![BlockCall {
                                    block: target(&mut rng),
                                    args: l(&mut rng, &mut m),
                                }],
                                default: BlockCall {
                                    block: target(&mut rng),
                                    args: l(&mut rng, &mut m),
                                },
                            };
                            let table = m.bodies[f].dfg.jump_tables.push(jt);
                            InstData::BrTable {
                                index: a,
                                table: JumpTable::from_u32(table.as_u32() + rng.u32(2)),
                            }
                        }
                        14 => InstData::Return {
                            args: l(&mut rng, &mut m),
                        },
                        _ => InstData::GlobalSet {
                            global: GlobalRef::from_u32(rng.u32(2)),
                            arg: a,
                        },
                    };
                    let results = inst(&mut m, f, b, data);
                    if rng.below(10) == 0 {
                        let i = *m.bodies[f].dfg.blocks[b].insts.last().unwrap();
                        m.bodies[f].dfg.results[i] = l(&mut rng, &mut m);
                    }
                    let _ = results;
                }
                if rng.below(3) != 0 {
                    ret(&mut m, f, b, &[]);
                }
            }
            if rng.below(10) == 0 {
                let b = Block::from_u32(rng.u32(nblocks + 1));
                if let Some(bd) = m.bodies[f].dfg.blocks.get_mut(b) {
                    bd.insts.push(Inst::from_u32(rng.u32(40)));
                }
            }
        }
        if rng.below(5) == 0 {
            m.items.push(Item::Enum(EnumRef::from_u32(rng.u32(3))));
        }
        if let Err(d) = verify(&m) {
            found += d.0.len();
        }
    }
    assert!(found > 10_000, "{found}");
}

/// Parsed IR: every error reported, in line order, with the printed instruction as a note.
#[test]
fn parsed_module_renders_all_errors_in_order() {
    let text = "\
func @g(i32) -> i64 {
block0(v0: i32):
    return v0
}

global @x: i32 = 0

func @f(i32) -> i32 export {
block0(v0: i32):
    v1 = call @g(v0, v0)
    global.set @x, v0
    br_if v0, block1, block2

block1:
    v2 = i32.const 1
    jump block2

block2:
    return v2
}

data @x: rodata align 1 = \"x\"
";
    let m = parse(text).expect("parses");
    let got = verify(&m).unwrap_err().render("t.ir");
    let lines: Vec<&str> = got.lines().filter(|l| !l.starts_with("  note")).collect();
    assert_eq!(
        lines,
        [
            "t.ir:3:5: error: type mismatch: return value 1 v0 is i32, expected i64",
            "t.ir:10:5: error: wrong number of arguments to @g: 2 given, 1 expected",
            "t.ir:11:5: error: global.set of immutable global @x",
            "t.ir:19:5: error: use of v2 is not dominated by its definition in block1",
            "t.ir:22:1: error: duplicate symbol @x",
        ],
        "{got}"
    );
    assert!(
        got.contains("  note: in function @f, block0\n  note: v1 = call @g(v0, v0)\n"),
        "{got}"
    );
    assert!(
        got.contains("  note: @x is first defined as a global at 6:1\n"),
        "{got}"
    );
}

/// The corpus of invalid programs: each file has one `; error:` line, and parsing or
/// verifying reports exactly one error, on that line, containing the text.
#[test]
fn error_corpus_files_report_their_marked_error() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/ir/errors");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("ir/errors exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ir"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 30);
    for p in paths {
        let text = std::fs::read_to_string(&p).expect("readable");
        let marks: Vec<(u32, &str)> = text
            .lines()
            .enumerate()
            .filter_map(|(i, l)| {
                l.split_once("; error: ")
                    .map(|(_, m)| (i as u32 + 1, m.trim()))
            })
            .collect();
        assert_eq!(marks.len(), 1, "{}", p.display());
        let (line, needle) = marks[0];
        let diags = match parse(&text) {
            Err(d) => d,
            Ok(m) => verify(&m).expect_err("the file is invalid"),
        };
        assert_eq!(diags.0.len(), 1, "{}: {diags:#?}", p.display());
        let d = &diags.0[0];
        assert_eq!(d.loc.line, line, "{}: {d:#?}", p.display());
        assert!(d.message.contains(needle), "{}: {d:#?}", p.display());
    }
}
